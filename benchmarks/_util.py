"""Timing and reporting shared by the benchmarks."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
from dataclasses import asdict, dataclass

N_REPEAT = 20
N_WARMUP = 3
REFERENCE = "imagearray"


@dataclass
class Row:
    case: str  # what is copied / computed
    impl: str  # who does it
    gpu_ms: float  # median GPU time
    cpu_ms: float  # median CPU (wall) time of the call
    nbytes: int  # bytes moved, for GB/s
    baseline: str = ""  # impl this row is compared with

    @property
    def ms(self) -> float:
        """The time a caller sees: max(GPU, CPU) median."""
        return max(self.gpu_ms, self.cpu_ms)

    @property
    def gbps(self) -> float:
        t = self.ms
        return self.nbytes / (t * 1e-3) / 1e9 if t > 0 else 0.0


def require_gpu() -> None:
    """Exit with one line (status 1) unless imagearray and CuPy can use a CUDA device."""
    try:
        import imagearray as ia
    except ImportError as exc:
        raise SystemExit(f"benchmarks: cannot import imagearray ({exc}); build it first") from None
    if not ia.is_available():
        raise SystemExit(
            "benchmarks: no CUDA device (imagearray.is_available() is False); "
            "they need a GPU and its driver"
        )
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        raise SystemExit(f"benchmarks: CuPy cannot use the CUDA device: {exc}") from None


@contextlib.contextmanager
def settings(changes):
    """Module settings changed for the block (``changes``: ``(module, attribute,
    value)`` each), and put back after it."""
    saved = [(module, attr, getattr(module, attr)) for module, attr, _ in changes]
    for module, attr, value in changes:
        setattr(module, attr, value)
    try:
        yield
    finally:
        for module, attr, value in saved:
            setattr(module, attr, value)


def measure(case: str, impl: str, fn, nbytes: int, baseline: str = "") -> Row:
    """Median GPU and CPU time of ``fn()`` with ``cupyx.profiler.benchmark``.

    GPU time is CUDA events recorded on CuPy's current stream before and after each
    call (``gpu_times`` has shape (n_devices, n_repeat)), so ``fn`` must enqueue its
    work on the current stream."""
    from cupyx.profiler import benchmark

    res = benchmark(fn, n_repeat=N_REPEAT, n_warmup=N_WARMUP)
    gpu = float(statistics.median(res.gpu_times[0])) * 1e3
    cpu = float(statistics.median(res.cpu_times)) * 1e3
    return Row(case, impl, gpu, cpu, nbytes, baseline)


def speedup(rows: list[Row], case: str, other: str, reference: str = REFERENCE) -> float | None:
    """``other``'s time / ``reference``'s time in ``case`` (> 1: reference is faster),
    or None when either row is missing."""
    found = {r.impl: r for r in rows if r.case == case}
    ref, oth = found.get(reference), found.get(other)
    if ref is None or oth is None or ref.ms <= 0:
        return None
    return oth.ms / ref.ms


def target_line(rows: list[Row], case: str, other: str, minimum: float, goal: str) -> str:
    """One line: the speed-up of imagearray over ``other`` in ``case`` against its
    ``minimum`` (``goal`` says what the issue asks, in words)."""
    s = speedup(rows, case, other)
    if s is None:
        return f"{case}: vs {other}: not measured ({goal}): target NOT checked"
    ok = "met" if s >= minimum else "NOT met"
    return f"{case}: vs {other} {s:.2f}x (needs >= {minimum:g}x: {goal}): target {ok}"


def table(rows: list[Row], reference: str = REFERENCE) -> str:
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
            ratio = ""
            if ref is not None and impl != reference and ref.ms > 0:
                ratio = f"{r.ms / ref.ms:.2f}x"
            out.append(
                f"| {case} | {impl} | {r.gpu_ms:.3f} | {r.cpu_ms:.3f} | {r.gbps:.1f} | {ratio} |"
            )
    return "\n".join(out)


def rows_json(rows: list[Row]) -> list[dict]:
    return [asdict(r) | {"gbps": r.gbps} for r in rows]


def write_json(name: str, rows: list[Row], meta: dict, targets: list[str] | None = None) -> str:
    folder = os.environ.get(
        "IMAGEARRAY_BENCH_OUT", os.path.join(os.path.dirname(__file__), "results")
    )
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{name}.json")
    with open(path, "w") as f:
        json.dump({"meta": meta, "rows": rows_json(rows), "targets": targets or []}, f, indent=1)
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
