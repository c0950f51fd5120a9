"""The reliability suite's own plumbing (CPU): counts from the environment, the
growth thresholds, the figures file and tools/reliability_summary.py's table."""

from __future__ import annotations

import json
import pathlib
import sys

import _rel
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tools"))
import reliability_summary  # noqa: E402


def test_counts_small_full_and_overridden(monkeypatch):
    monkeypatch.setattr(_rel, "FULL", False)
    monkeypatch.delenv("IMAGEARRAY_REL_THINGS", raising=False)
    assert _rel.count("things", 3, 300) == 3
    monkeypatch.setattr(_rel, "FULL", True)
    assert _rel.count("things", 3, 300) == 300
    monkeypatch.setenv("IMAGEARRAY_REL_THINGS", "17")
    assert _rel.count("things", 3, 300) == 17


def test_growth_past_a_threshold_fails_and_below_is_reported():
    before = {"rss": 100, "fds": 10, "live": 50, "device": 1000}
    ok = {"rss": 100 + (1 << 20), "fds": 10, "live": 60, "device": 1000}
    want = {"rss": 1 << 20, "fds": 0, "live": 10, "device": 0}
    assert _rel.check_growth(before, ok, "x", device_alone=True) == want
    with pytest.raises(AssertionError, match="fds"):
        _rel.check_growth(before, {**ok, "fds": 11}, "x")
    big = {**ok, "device": 1000 + _rel.MAX_DEVICE_GROWTH + 1}
    with pytest.raises(AssertionError, match="device"):
        _rel.check_growth(before, big, "x", device_alone=True)
    # beside other processes the device figure is left out, not judged
    assert "device" not in _rel.check_growth(before, big, "x", device_alone=False)


def test_cpu_snapshot_measures_this_process():
    snap = _rel.snapshot(gpu=False)
    assert snap["rss"] > 1 << 20 and snap["fds"] >= 3 and snap["live"] >= 0
    f = open(__file__)  # one more open file is seen
    try:
        assert _rel.open_fds() == snap["fds"] + 1
    finally:
        f.close()


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
