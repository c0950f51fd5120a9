"""Timing and reporting shared by the benchmarks."""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import asdict, dataclass

N_REPEAT = 20
N_WARMUP = 3


@dataclass
class Row:
    case: str  # what is copied / computed
    impl: str  # who does it
    gpu_ms: float  # median GPU time
    cpu_ms: float  # median CPU (wall) time of the call
    nbytes: int  # bytes moved, for GB/s
    baseline: str = ""  # impl this row is compared with

    @property
    def gbps(self) -> float:
        return self.nbytes / (max(self.gpu_ms, self.cpu_ms) * 1e-3) / 1e9


def measure(case: str, impl: str, fn, nbytes: int, baseline: str = "") -> Row:
    """Median GPU and CPU time of ``fn()`` with ``cupyx.profiler.benchmark``."""
    from cupyx.profiler import benchmark

    res = benchmark(fn, n_repeat=N_REPEAT, n_warmup=N_WARMUP)
    gpu = statistics.median(res.gpu_times[0]) * 1e3
    cpu = statistics.median(res.cpu_times) * 1e3
    return Row(case, impl, gpu, cpu, nbytes, baseline)


def table(rows: list[Row], reference: str = "imagearray") -> str:
    """Markdown table; ``ratio`` = other's time / imagearray's time for the same case
    (> 1: imagearray is faster). Time is max(GPU, CPU) median, as a caller sees it."""
    by_case: dict[str, dict[str, Row]] = {}
    for r in rows:
        by_case.setdefault(r.case, {})[r.impl] = r
    out = [
        "| case | implementation | GPU ms | CPU ms | GB/s | imagearray speed-up |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for case, impls in by_case.items():
        ref = impls.get(reference)
        for impl, r in impls.items():
            t = max(r.gpu_ms, r.cpu_ms)
            ratio = ""
            if ref is not None and impl != reference:
                ratio = f"{t / max(ref.gpu_ms, ref.cpu_ms):.2f}x"
            out.append(
                f"| {case} | {impl} | {r.gpu_ms:.3f} | {r.cpu_ms:.3f} | {r.gbps:.1f} | {ratio} |"
            )
    return "\n".join(out)


def write_json(name: str, rows: list[Row], meta: dict) -> str:
    folder = os.environ.get(
        "IMAGEARRAY_BENCH_OUT", os.path.join(os.path.dirname(__file__), "results")
    )
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{name}.json")
    with open(path, "w") as f:
        json.dump({"meta": meta, "rows": [asdict(r) | {"gbps": r.gbps} for r in rows]}, f, indent=1)
    return path


def device_meta() -> dict:
    import cupy

    import imagearray as ia

    return {
        "device": ia.device_info("name"),
        "driver": ia.device_info("driver_version"),
        "cupy": cupy.__version__,
        "n_repeat": N_REPEAT,
        "n_warmup": N_WARMUP,
    }
