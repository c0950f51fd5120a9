"""tools/plot-benchmarks.py: the benchmark page and plots from the benchmarks' JSON."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location(
        "plot_benchmarks", ROOT / "tools" / "plot-benchmarks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_page_is_made_from_the_committed_json(tmp_path):
    # the page must be regenerated whenever results.json changes
    tool = _tool()
    (tmp_path / "benchmarks").mkdir()
    results = ROOT / "docs" / "benchmarks" / "results.json"
    assert tool.main([str(results), "--docs", str(tmp_path), "--no-plots"]) == 0
    made = (tmp_path / "benchmarks.rst").read_text()
    assert made == (ROOT / "docs" / "benchmarks.rst").read_text()
    data = json.loads(results.read_text())
    for name in data["benchmarks"]:
        assert (ROOT / "docs" / "benchmarks" / f"{name}.png").is_file()


def test_speed_ups_are_other_over_imagearray(tmp_path):
    rows = [
        {"case": "c", "impl": "imagearray", "gpu_ms": 2.0, "cpu_ms": 0.5, "nbytes": 4_000_000},
        {"case": "c", "impl": "cupyx", "gpu_ms": 3.0, "cpu_ms": 7.0, "nbytes": 4_000_000},
        {"case": "d", "impl": "cupyx", "gpu_ms": 1.0, "cpu_ms": 0.0, "nbytes": 0},
    ]
    rows = [r | {"baseline": "", "gbps": 0.0} for r in rows]
    path = tmp_path / "one.json"  # one benchmark's own file: {"meta", "rows", "targets"}
    path.write_text(json.dumps({"meta": {"device": "X"}, "rows": rows, "targets": []}))
    tool = _tool()
    # --no-plots: matplotlib is in the docs extra, not the test one
    assert tool.main([str(path), "--docs", str(tmp_path), "--no-plots"]) == 0
    page = (tmp_path / "benchmarks.rst").read_text()
    cells = re.findall(r"   \* - (\S+)\n     - (\S+)\n     - (\S+)\n     -(.*)\n     -(.*)", page)
    by = {(c, i): (ms, gb.strip(), s.strip()) for c, i, ms, gb, s in cells}
    # time is max(GPU, CPU); GB/s = bytes / time; cupyx 7 ms over imagearray's 2 ms
    assert by["c", "imagearray"] == ("2", "2.0", "")
    assert by["c", "cupyx"] == ("7", "0.6", "3.50x")
    assert by["d", "cupyx"] == ("1", "", "")  # no imagearray row: no speed-up
    assert ".. image:: benchmarks/one.png" in page
    assert "Device: X" in page
