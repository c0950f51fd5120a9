"""The reliability suite's own plumbing (CPU): counts from the environment, the
growth thresholds and the figures file (tools/reliability_summary.py's table is
tested in tests/tools/, which the sdist leaves out with tools/)."""

from __future__ import annotations

import _rel
import pytest


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
