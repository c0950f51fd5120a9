"""Bad input on the GPU (issue 20, "What to build" 2): hypothesis over copy offsets,
extents and host boxes on real memory (NumPy and CuPy sides), fetch/sample
coordinate arrays of every dtype, shape, device and contiguity with out-of-range,
NaN and Inf values, and handles of the wrong kind. Every case either gives the
bytes NumPy computes or raises from the ImageArrayError family; cases that are
clearly valid must succeed. The dangerous ones (bogus stream handles, USM pitches
past the allocation, unaligned external mappings, huge extents) run in
subprocesses, so a crash is counted, not lost. Afterwards a kernel still runs right.

Counts: ``IMAGEARRAY_REL_GPU_CASES`` examples per property and
``IMAGEARRAY_REL_DANGEROUS`` subprocess cases (small by default; with
``IMAGEARRAY_RELIABILITY_FULL=1`` more than 10,000 in all).
"""

from __future__ import annotations

import collections
import json
import textwrap

import numpy as np
import pytest
from _rel import count, record, record_cases, run_python
from _strategies import clearly_valid, copy_boxes, xy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import imagearray as ia

pytestmark = pytest.mark.gpu

N = count("gpu_cases", 60, 3000)
N_DANGEROUS = count("dangerous", 100, 1500)
SETTINGS = settings(
    max_examples=N, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
W, H = 24, 16
DATA = (np.arange(W * H, dtype=np.float32) * 3 + 1).reshape(H, W)  # no texel is 0
CASES: collections.Counter = collections.Counter()


@pytest.fixture(scope="module", autouse=True)
def _figures():
    yield
    record_cases(CASES, "gpu")


@pytest.fixture(scope="module")
def img():
    """Read by fetch/sample cases, never written."""
    im = ia.asimage(DATA)
    yield im
    im.free()


@pytest.fixture(scope="module")
def target():
    """Written by the copy cases (reset to DATA before each)."""
    im = ia.asimage(DATA)
    yield im
    im.free()


# ------------------------------------------------------------------ copies
def _model_extent(kw: dict, to_image: bool, hw: int, hh: int):
    """The box a copy with ``kw`` moves, from the pure plan (whose bytes the CPU part
    checks on the cuMemcpy3D model), or None where the plan refuses it."""
    from imagearray.copies import HOST as HOST_KIND
    from imagearray.copies import IMAGE, Endpoint, plan_copy

    host = Endpoint(HOST_KIND, None, 0x1000, nbytes=hw * hh * 4)
    image = Endpoint(IMAGE, 0, 0xA000, desc=ia.ImageDescriptor(W, H))
    src, dst = (host, image) if to_image else (image, host)
    try:
        plan = plan_copy(src, dst, queue_device=0, **kw)
    except ia.ImageArrayError:
        return None
    return plan.extent[0] // 4, plan.extent[1]


@SETTINGS
@given(
    to_image=st.booleans(),
    on_device=st.booleans(),
    host_box=st.tuples(st.integers(1, 30), st.integers(1, 20)),
    data=st.data(),
)
def test_copies_give_numpy_s_bytes_or_a_family_error(target, to_image, on_device, host_box, data):
    import cupy

    host_offset, image_offset, extent = data.draw(copy_boxes(host_box, (W, H)))
    target.set(DATA)
    hw, hh = host_box  # the NumPy/CuPy side: an (hh, hw) array, its box given
    host = np.random.default_rng(3).standard_normal((hh, hw)).astype(np.float32)
    other = cupy.asarray(host) if on_device else host.copy()
    side, far = ("src", "dst") if to_image else ("dst", "src")
    kw = {"extent": extent, f"{side}_offset": host_offset, f"{far}_offset": image_offset}
    kw[f"{side}_extent"] = host_box
    try:
        ev = ia.copy(other, target, **kw) if to_image else ia.copy(target, other, **kw)
        ev.synchronize()
    except ia.ImageArrayError:
        CASES["copy", "refused"] += 1
        # (a CuPy side may have rules of its own: its pitch, its alignment)
        valid = clearly_valid(host_offset, image_offset, extent, host_box, (W, H))
        assert on_device or not valid, f"a valid copy was refused: {kw}"
        return
    CASES["copy", "ok"] += 1
    box = _model_extent(kw, to_image, hw, hh)
    assert box is not None, f"a copy the plan refuses was run: {kw}"
    ex, ey = box
    (hx, hy), (ix, iy) = xy(host_offset), xy(image_offset)
    if to_image:
        want = DATA.copy()
        want[iy : iy + ey, ix : ix + ex] = host[hy : hy + ey, hx : hx + ex]
        np.testing.assert_array_equal(target.get(), want)
    else:
        want = host.copy()
        want[hy : hy + ey, hx : hx + ex] = DATA[iy : iy + ey, ix : ix + ex]
        np.testing.assert_array_equal(other.get() if on_device else other, want)


# ------------------------------------------------------------------ coordinates
DTYPES = [
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "bool",
    "complex64",
    "object",
    "U2",
]


@st.composite
def coordinate_arrays(draw, integers: bool):
    n = draw(st.integers(1, 12))
    if integers:
        vals = st.one_of(st.integers(-3, 30), st.sampled_from([2**31, 2**32, 2**32 + 1, -(2**33)]))
    else:
        centre = st.tuples(st.integers(-4, 30), st.sampled_from([0.25, 0.5, 0.75]))
        vals = st.one_of(
            centre.map(sum),
            st.sampled_from([np.nan, np.inf, -np.inf, 1e30, -1e30]),
        )
    raw = np.array(draw(st.lists(vals, min_size=2 * n, max_size=2 * n)), dtype=object)
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(st.sampled_from(["n2", "n3", "n", "2n", "k_n2", "scalar"]))
    try:
        with np.errstate(all="ignore"):
            a = raw.astype(dtype) if dtype not in ("object", "U2") else raw.astype(dtype)
    except (OverflowError, ValueError, TypeError):
        a = raw.astype(object)
    a = {
        "n2": a.reshape(n, 2),
        "n3": np.resize(a, (n, 3)),
        "n": a[:n],
        "2n": a.reshape(2, n),
        "k_n2": np.resize(a, (3, n, 2)),
        "scalar": a[0],
    }[shape]
    layout = draw(st.sampled_from(["c", "fortran", "strided", "list", "cupy", "cupy-strided"]))
    if layout == "fortran" and getattr(a, "ndim", 0) > 1:
        a = np.asfortranarray(a)
    elif layout == "strided" and getattr(a, "ndim", 0) > 1:
        a = np.repeat(a, 2, axis=0)[::2]
    elif layout == "list":
        a = a.tolist() if hasattr(a, "tolist") else a
    elif layout.startswith("cupy") and getattr(a, "dtype", np.dtype(object)).kind in "biufc":
        import cupy

        a = cupy.asarray(a)
        if layout == "cupy-strided" and a.ndim > 1:
            a = cupy.repeat(a, 2, axis=0)[::2]
    return a


def _host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


@SETTINGS
@given(idx=coordinate_arrays(integers=True))
def test_fetch_gives_numpy_s_texels_or_a_family_error(img, idx):
    try:
        got = img.fetch(idx).get()
    except ia.ImageArrayError:
        CASES["fetch", "refused"] += 1
        h = _host(idx)
        assert not (h.dtype.kind in "iu" and h.ndim >= 1 and h.shape[-1] == 2), (
            f"valid indices refused: {h!r}"
        )
        return
    CASES["fetch", "ok"] += 1
    h = _host(idx).astype(object)
    if h.ndim == 0 or h.shape[-1] != 2:  # 1 component per point cannot be a 2D index
        raise AssertionError(f"fetch of a 2D image took indices of shape {h.shape}")
    x, y = h[..., 0].astype(np.float64), h[..., 1].astype(np.float64)
    inside = (x >= 0) & (x < W) & (y >= 0) & (y < H)
    want = np.zeros(h.shape[:-1], np.float32)
    want[inside] = DATA[y[inside].astype(int), x[inside].astype(int)]
    np.testing.assert_array_equal(got, want)


NEAREST = ia.Sampler("clamp_to_edge", "unnormalized", "nearest")


@SETTINGS
@given(coords=coordinate_arrays(integers=False))
def test_sample_gives_numpy_s_texels_or_a_family_error(img, coords):
    try:
        got = img.sample(coords, NEAREST).get()
    except ia.ImageArrayError:
        CASES["sample", "refused"] += 1
        h = _host(coords)
        assert not (h.dtype.kind in "iuf" and h.ndim >= 1 and h.shape[-1] == 2), (
            f"valid coordinates refused: {h.dtype} {h.shape}"
        )
        return
    CASES["sample", "ok"] += 1
    h = _host(coords)
    assert h.dtype.kind in "biuf" and h.shape[-1] == 2, f"took {h.dtype} {h.shape}"
    c = h.astype(np.float32).astype(np.float64)
    finite = np.isfinite(c).all(axis=-1)
    x = np.clip(np.floor(c[..., 0][finite]), 0, W - 1).astype(int)
    y = np.clip(np.floor(c[..., 1][finite]), 0, H - 1).astype(int)
    assert got.shape == h.shape[:-1]
    np.testing.assert_array_equal(got[finite], DATA[y, x])  # NaN points: any value


# ------------------------------------------------------------------ wrong kinds
def _misuses(img):
    import cupy

    tex = img.texture()
    surf = img.surface()
    mem = ia.ImageMem(ia.ImageDescriptor(8, 8))
    c = cupy.zeros((1, 2), cupy.float32)
    host = np.zeros((H, W), np.float32)
    return mem, {
        "create_image(texture handle)": lambda: ia.create_image(tex),
        "create_image(sampler=str)": lambda: ia.create_image(mem, sampler="linear"),
        "create_image(desc=Sampler)": lambda: ia.create_image(mem, ia.Sampler()),
        "copy(texture handle, host)": lambda: ia.copy(tex, host),
        "copy(host, surface handle)": lambda: ia.copy(host, surf),
        "copy(str, image)": lambda: ia.copy("pixels", img),
        "destroy_image_handle(memory)": lambda: ia.destroy_image_handle(mem),
        "free_image_mem(texture handle)": lambda: ia.free_image_mem(tex),
        "sample(sampler=descriptor)": lambda: img.sample(c, ia.ImageDescriptor(4)),
        "sample(dx without dy)": lambda: img.sample(c, dx=c),
        "prepare(cupy array)": lambda: ia.prepare_for_device_copy(cupy.zeros(16)),
        "release(never prepared)": lambda: ia.release_from_device_copy(np.zeros(16)),
        "set(float into int image)": lambda: ia.zeros((4, 4), np.int32).set(
            np.ones((4, 4), np.float64)
        ),
        "asimage(object array)": lambda: ia.asimage(np.array([[object()]])),
        "empty(shape=str)": lambda: ia.empty("64"),
        "texture(view of a layer)": lambda: ia.zeros((2, 4, 4), layered=True)[0].texture(),
        "fetch(stream=str)": lambda: img.fetch(np.zeros((1, 2), np.int32), stream="s"),
    }


def test_handles_and_arrays_of_the_wrong_kind_raise_from_the_family(img):
    mem, misuses = _misuses(img)
    outside = {}
    for name, action in misuses.items():
        try:
            action()
        except ia.ImageArrayError:
            continue
        except Exception as exc:
            outside[name] = repr(exc)
        else:
            outside[name] = "accepted"
    CASES["wrong kinds", "refused"] += len(misuses) - len(outside)
    assert not outside, outside
    np.testing.assert_array_equal(img.get(), DATA)  # and nothing was written
    mem.free()


# ------------------------------------------------------------------ dangerous
_DANGEROUS = r"""
import json, sys
import numpy as np
import cupy
import imagearray as ia
from imagearray.interop import exportable as exp

rng = np.random.default_rng(int(sys.argv[1]))
n = int(sys.argv[2])
data = (np.arange(32 * 32, dtype=np.float32) + 1).reshape(32, 32)
img = ia.asimage(data)
arr = cupy.zeros((16, 64), cupy.float32)  # 4 KiB, rows of 256 B
export_ok = exp.exportable_memory_supported()
counts = {"cases": 0, "ok": 0, "refused": 0, "outside": []}

class Proto:
    def __init__(self, h): self.h = h
    def __cuda_stream__(self): return (0, self.h)

def bogus_stream():
    h = int(rng.choice([3, 8, 4096, 0xDEAD_BEE0, 2**40 + 8, int(rng.integers(3, 2**48))]))
    return Proto(h) if rng.random() < 0.5 else h

def case():
    k = int(rng.integers(0, 5))
    if k == 0:
        s = bogus_stream()
        what = rng.integers(0, 3)
        if what == 0:
            ia.copy(img, np.empty_like(data), stream=s)
        elif what == 1:
            img.sample(cupy.zeros((4, 2), cupy.float32), stream=s)
        else:
            img.fetch(cupy.zeros((4, 2), cupy.int32), stream=s)
    elif k == 1:  # USM image past the allocation
        w = int(rng.integers(1, 128)); h = int(rng.integers(1, 64))
        pitch = int(rng.choice([256, 512, 1 << 20, int(rng.integers(1, 1 << 16))]))
        t = ia.create_image(arr, ia.ImageDescriptor(w, h), ia.Sampler(), pitch=pitch)
        t.destroy()
    elif k == 2:  # fetch far out of range
        idx = rng.integers(-2**40, 2**40, (8, 2))
        got = img.fetch(cupy.asarray(idx)).get()
        inside = (idx[:, 0] >= 0) & (idx[:, 0] < 32) & (idx[:, 1] >= 0) & (idx[:, 1] < 32)
        assert (got[~inside] == 0).all()
    elif k == 3:  # copies of huge extents into small memory
        e = (int(rng.integers(1, 2**40)), int(rng.integers(1, 2**20)))
        ia.copy(img, arr, extent=e).synchronize()
    elif k == 4 and export_ok:  # external image mapping at any offset
        from imagearray import interop as ext
        m = exp.alloc_exportable_memory(1 << 21)
        imp = ext.import_external_memory(
            ext.ExternalMemDescriptor(ext.ResourceFD(exp.export_memory_handle(m)), m.size))
        try:
            off = int(rng.choice([1, 3, 255, 4096, int(rng.integers(0, 1 << 21))]))
            mem = ext.map_external_image_memory(imp, ia.ImageDescriptor(64, 64), offset=off)
            ia.copy(np.ones((64, 64), np.float32), mem).synchronize()
        finally:
            imp.release(); m.free()

for i in range(n):
    counts["cases"] += 1
    try:
        case()
        counts["ok"] += 1
    except ia.ImageArrayError:
        counts["refused"] += 1
    except Exception as exc:
        counts["outside"].append(repr(exc)[:200])
# the context is still right: a kernel and copies give the right bytes
got = img.fetch(cupy.asarray([[3, 5], [31, 31]])).get()
assert (got == [data[5, 3], data[31, 31]]).all(), got
cupy.cuda.Device().synchronize()
print("RESULT " + json.dumps(counts))
"""


def test_dangerous_cases_in_subprocesses_never_crash():
    runs = max(1, N_DANGEROUS // 500)
    per = -(-N_DANGEROUS // runs)
    total = {"cases": 0, "ok": 0, "refused": 0, "crashes": 0}
    failures = []
    for seed in range(runs):
        code = textwrap.dedent(_DANGEROUS)
        rc, out, err = run_python(
            f"import sys; sys.argv = ['x', {seed}, {per}]\n" + code, timeout=300
        )
        line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
        if rc != 0 or line is None:
            total["crashes"] += 1
            failures.append(f"seed {seed}: rc={rc}\n{err[-2000:]}")
            continue
        got = json.loads(line[len("RESULT ") :])
        for k in ("cases", "ok", "refused"):
            total[k] += got[k]
        if got["outside"]:
            failures.append(f"seed {seed}: outside the family: {got['outside'][:5]}")
    record(
        "cases",
        group="dangerous (subprocess)",
        device="gpu",
        cases=total["cases"],
        refused=total["refused"],
        crashes=total["crashes"],
    )
    assert not failures, "\n".join(failures)
    assert total["cases"] == runs * per
    # and this process too still runs a kernel right
    img = ia.asimage(DATA)
    np.testing.assert_array_equal(img.fetch(np.array([[1, 2]])).get(), [DATA[2, 1]])
