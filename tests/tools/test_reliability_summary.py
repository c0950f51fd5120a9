"""tools/reliability_summary.py: the reliability run's table from the figures file
that tests/reliability/_rel.py writes. Here, not in tests/reliability/, because the
sdist carries neither tools/ nor tests/tools/."""

from __future__ import annotations

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests" / "reliability"))
import _rel  # noqa: E402
import reliability_summary  # noqa: E402


def test_figures_go_to_the_report_and_into_the_summary(tmp_path, monkeypatch):
    report = tmp_path / "r.jsonl"
    monkeypatch.setenv("IMAGEARRAY_RELIABILITY_REPORT", str(report))
    snap = {"rss": 0, "fds": 12, "live": 40, "device": 3 << 30}
    after = {"rss": 1 << 20, "fds": 12, "live": 41, "device": 3 << 30}
    growth = _rel.check_growth(snap, after, "t")
    _rel.record(
        "lifetime",
        resource="texture handle",
        cycles=100000,
        seconds=3.2,
        before=snap,
        after=after,
        growth=growth,
    )
    _rel.record("cases", group="fetch", device="gpu", cases=3000, refused=1200, crashes=0)
    _rel.record("cases", group="dangerous", device="gpu", cases=1500, refused=1400, crashes=0)
    _rel.record("cases", group="copy plan", device="cpu", cases=1000, refused=600, crashes=0)
    _rel.record("threads", threads=8, rounds=40, identical=True)
    _rel.record("oom", kind="2D", recovered=True, allocations_before_oom=12)
    lines = [json.loads(x) for x in report.read_text().splitlines()]
    text = reliability_summary.summarize(lines, seconds=200, rc=0)
    assert "passed in 200 s" in text
    row = (
        "| texture handle | 100,000 | 3.2 | 3.00 GiB → 3.00 GiB (+0) | +1.0 MiB "
        "| 12 → 12 | 40 → 41 |"
    )
    assert row in text
    assert "Generated cases: 4,500 on the GPU, 1,000 on the CPU; crashes: 0" in text
    assert "8 threads x 40 rounds" in text
    assert "1 kinds: 2D (12 allocations)" in text
