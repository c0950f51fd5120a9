"""The benchmark report: ratios are the alternative's time over imagearray's."""

from __future__ import annotations

from benchmarks._util import Row, table


def test_table_ratios_and_bandwidth():
    rows = [
        Row("h2d", "imagearray", gpu_ms=10.0, cpu_ms=2.0, nbytes=10**9),
        Row("h2d", "cupy texture", gpu_ms=12.0, cpu_ms=15.0, nbytes=10**9),
    ]
    assert rows[0].gbps == 100.0  # 1e9 B in 10 ms
    text = table(rows).splitlines()
    assert text[2] == "| h2d | imagearray | 10.000 | 2.000 | 100.0 |  |"
    assert text[3] == "| h2d | cupy texture | 12.000 | 15.000 | 66.7 | 1.50x |"
