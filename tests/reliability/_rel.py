"""Shared by the reliability suite: how many cycles/cases to run, what to measure
before and after, and where the figures go.

Counts. The normal suite (CI, plain ``pytest``) runs small counts so it stays fast.
``IMAGEARRAY_RELIABILITY_FULL=1`` (``tools/reliability.sh`` sets it) runs the full
sizes of issue 20; ``IMAGEARRAY_REL_<NAME>=n`` overrides one count either way.

Figures. Each test calls :func:`record` with what it ran and measured; with
``IMAGEARRAY_RELIABILITY_REPORT=path`` set they are appended to that file as JSON
lines, which ``tools/reliability.sh`` turns into the summary.
"""

from __future__ import annotations

import gc
import json
import os
import sys

FULL = os.environ.get("IMAGEARRAY_RELIABILITY_FULL") == "1"

# Thresholds for a lifetime run, after a warm-up round (compiled kernels, pools,
# memos made) and gc.collect():
MAX_DEVICE_GROWTH = 8 << 20  #: device memory in use (cudaMemGetInfo), CuPy pools emptied
MAX_RSS_GROWTH = 32 << 20  #: process resident set
MAX_FD_GROWTH = 0  #: open file descriptors
#: live imagearray objects (instances of its classes): the bounded memos (texture
#: recipes, copy plans, sample plans; each emptied when full) may hold a different
#: number at the two snapshots, never more than this. Every run has more cycles, so a
#: leak of one object per cycle is always caught.
MAX_LIVE_GROWTH = 512
#: cudaMemGetInfo counts every process on the device: its growth is judged only where
#: this process has the GPU alone (tools/reliability.sh sets this; tools/gpu-test.sh
#: runs test files side by side, one of which fills the device on purpose).
DEVICE_ALONE = os.environ.get("IMAGEARRAY_REL_DEVICE_ALONE") == "1"


def count(name: str, small: int, full: int) -> int:
    """How many of ``name`` to run: ``IMAGEARRAY_REL_<NAME>``, else full or small."""
    env = os.environ.get(f"IMAGEARRAY_REL_{name.upper()}")
    if env:
        return int(env)
    return full if FULL else small


def rss() -> int:
    """Resident set size in bytes (Linux ``/proc/self/statm``; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def open_fds() -> int:
    for d in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(d))
        except OSError:
            continue
    return 0


def live_objects() -> int:
    """Instances of imagearray's own classes (Python and Cython) the GC can see."""
    gc.collect()
    n = 0
    for o in gc.get_objects():
        mod = getattr(type(o), "__module__", "")
        if isinstance(mod, str) and mod.startswith("imagearray") and not isinstance(o, type):
            n += 1
    return n


def device_used() -> int:
    """Bytes of device memory in use (total - free from cudaMemGetInfo), after
    emptying CuPy's pools so only live allocations count."""
    import cupy

    cupy.cuda.Device().synchronize()
    cupy.get_default_memory_pool().free_all_blocks()
    cupy.get_default_pinned_memory_pool().free_all_blocks()
    free, total = cupy.cuda.runtime.memGetInfo()
    return int(total - free)


def snapshot(gpu: bool = True) -> dict:
    from imagearray.handles import create

    create._RECIPES.clear()  # a bounded memo: empty at both snapshots
    gc.collect()
    snap = {"rss": rss(), "fds": open_fds(), "live": live_objects()}
    if gpu:
        snap["device"] = device_used()
    return snap


def check_growth(before: dict, after: dict, what: str, device_alone: bool | None = None) -> dict:
    """Assert the thresholds above; the growth per quantity, for the figures (device
    memory only where the process has the GPU alone: :data:`DEVICE_ALONE`)."""
    growth = {k: after[k] - before[k] for k in before}
    if not (DEVICE_ALONE if device_alone is None else device_alone):
        growth.pop("device", None)  # other processes' memory: not ours to judge
    limits = {
        "rss": MAX_RSS_GROWTH,
        "fds": MAX_FD_GROWTH,
        "live": MAX_LIVE_GROWTH,
        "device": MAX_DEVICE_GROWTH,
    }
    over = {k: (growth[k], limits[k]) for k in growth if growth[k] > limits[k]}
    assert not over, f"{what}: grew past the thresholds (growth, limit): {over}"
    return growth


def record(figure: str, **figures) -> None:
    """Append one figure line for tools/reliability.sh (no-op unless the report is on)."""
    path = os.environ.get("IMAGEARRAY_RELIABILITY_REPORT")
    if not path:
        return
    with open(path, "a") as f:
        f.write(json.dumps({"figure": figure, **figures}, default=int) + "\n")


def record_cases(cases, device: str) -> None:
    """One ``cases`` figure per group of ``cases`` (a Counter of (group, "ok" or
    "refused")), run on ``device`` ("cpu" or "gpu"): a crash ends the process before
    this, so those recorded here had none."""
    for group in sorted({g for g, _ in cases}):
        record(
            "cases",
            group=group,
            device=device,
            cases=cases[group, "ok"] + cases[group, "refused"],
            refused=cases[group, "refused"],
            crashes=0,
        )


def run_python(code: str, timeout: float = 120, env: dict | None = None):
    """Run ``code`` in a fresh interpreter (a crash there is counted, not lost):
    ``(returncode, stdout, stderr)``; a timeout reads as returncode None."""
    import subprocess

    try:
        p = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )
    except subprocess.TimeoutExpired as exc:
        return None, exc.stdout or "", exc.stderr or ""
    return p.returncode, p.stdout, p.stderr
