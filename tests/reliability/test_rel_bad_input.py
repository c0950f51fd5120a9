"""Bad input, CPU part (runs in CI): hypothesis over descriptors, samplers and copy
offsets/extents/pitches. Each generated case either succeeds and is right (a copy
plan run on the NumPy model of ``cuMemcpy3D`` moves exactly the bytes NumPy slicing
says, touching nothing outside either memory) or raises from the ImageArrayError
family; clearly valid cases must succeed. Example counts: ``IMAGEARRAY_REL_CPU_CASES``
per property (small by default, 1,000 with ``IMAGEARRAY_RELIABILITY_FULL=1``).
"""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest
from _memcpy_sim import HOST, Memcpy3DSim, OutOfBounds
from _rel import count, record_cases
from _strategies import WEIRD, clearly_valid, copy_boxes, plain_int, xy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import imagearray as ia
from imagearray.copies import HOST as HOST_KIND
from imagearray.copies import IMAGE, Endpoint, plan_copy

N = count("cpu_cases", 150, 1000)
SETTINGS = settings(
    max_examples=N, deadline=None, suppress_health_check=list(HealthCheck), database=None
)

CASES: collections.Counter = collections.Counter()  # (group, outcome) -> cases


@pytest.fixture(scope="module", autouse=True)
def _figures():
    yield
    record_cases(CASES, "cpu")


# ------------------------------------------------------------------ descriptors
ORDERS = ["r", "rg", "rgba", "rgb", "x", "", 4]
TYPES = ["fp32", "fp16", "unorm_int8", "signed_int32", "unsigned_int16", "bogus", None, 7]
KINDS = ["standard", "mipmap", "array", "cubemap", "mipmap_array", "cubemap_array", "3d"]


@st.composite
def descriptor_args(draw):
    """(w, h, d, order, type, kind, levels, layers): a coherent descriptor, then half
    of the time one field replaced by anything."""
    kind = draw(st.sampled_from(["standard", "mipmap", "array", "cubemap"]))
    w = draw(st.integers(4 if kind == "mipmap" else 1, 64))  # room for 2 levels
    h = w if kind == "cubemap" else draw(st.sampled_from([0, 1, 7, 16, 64]))
    d = draw(st.sampled_from([0, 4])) if kind == "standard" and h else 0
    levels = draw(st.integers(2, 3)) if kind == "mipmap" else 1
    layers = {"array": draw(st.integers(2, 4)), "cubemap": 6}.get(kind, 1)
    args = [
        w,
        h,
        d,
        draw(st.sampled_from(ORDERS[:3])),
        draw(st.sampled_from(TYPES[:5])),
        kind,
        levels,
        layers,
    ]
    perturbed = draw(st.booleans())
    if perturbed:
        i = draw(st.integers(0, 7))
        pool = {3: st.sampled_from(ORDERS), 4: st.sampled_from(TYPES), 5: st.sampled_from(KINDS)}
        args[i] = draw(pool.get(i, WEIRD))
    return args, perturbed


@SETTINGS
@given(args=descriptor_args())
def test_descriptors_are_valid_or_refused_inside_the_family(args):
    args, perturbed = args
    try:
        desc = ia.ImageDescriptor(*args).verify()
    except ia.ImageArrayError:
        assert perturbed, f"a coherent descriptor was refused: {args}"
        CASES["descriptor", "refused"] += 1
        return
    CASES["descriptor", "ok"] += 1
    # a descriptor that verifies is consistent: its host shape holds its bytes
    assert all(plain_int(e) and e >= 0 for e in (desc.width, desc.height, desc.depth))
    if desc.num_levels == 1:
        assert math.prod(desc.host_shape) * desc.dtype.itemsize == desc.nbytes


@SETTINGS
@given(
    w=st.integers(1, 64),
    h=st.integers(0, 64),
    kind=st.sampled_from(["standard", "array"]),
)
def test_clearly_valid_descriptors_verify(w, h, kind):
    layers = 3 if kind == "array" else 1
    desc = ia.ImageDescriptor(w, h, 0, "rgba", "fp32", kind, 1, layers).verify()
    assert desc.nbytes == w * max(h, 1) * 16 * layers


# ------------------------------------------------------------------ samplers
ADDR = ["none", "clamp_to_edge", "clamp", "repeat", "mirrored_repeat", "wrap", 3, None]


@st.composite
def sampler_args(draw):
    """Sampler keyword arguments: a coherent sampler, then half of the time one field
    replaced by anything."""
    coords = draw(st.sampled_from(["normalized", "unnormalized"]))
    modes = ADDR[:5] if coords == "normalized" else ADDR[:3]
    lo = draw(st.floats(0, 4))
    kw = {
        "addressing": draw(st.sampled_from(modes)),
        "coordinates": coords,
        "filtering": draw(st.sampled_from(["nearest", "linear"])),
        "min_mipmap_level_clamp": lo,
        "max_mipmap_level_clamp": lo + draw(st.floats(0, 8)),
        "max_anisotropy": draw(st.sampled_from([0.0, 1.0, 4.0, 16.0])),
        "border_color": draw(st.lists(st.floats(-2, 2), min_size=4, max_size=4)),
    }
    perturbed = draw(st.booleans())
    if perturbed:
        key = draw(st.sampled_from(sorted(kw)))
        weird = {
            "addressing": st.one_of(
                st.sampled_from(ADDR), st.lists(st.sampled_from(ADDR), max_size=4)
            ),
            "coordinates": st.sampled_from(["texel", 1, None]),
            "filtering": st.sampled_from(["cubic", None, 0]),
            "border_color": st.one_of(st.lists(WEIRD, max_size=5), WEIRD),
        }.get(key, WEIRD)
        kw[key] = draw(weird)
    return kw, perturbed


@SETTINGS
@given(kw=sampler_args())
def test_samplers_are_valid_or_refused_inside_the_family(kw):
    kw, perturbed = kw
    given_kw = dict(kw)
    try:
        s = ia.Sampler(kw.pop("addressing"), kw.pop("coordinates"), kw.pop("filtering"), **kw)
    except ia.ImageArrayError:
        assert perturbed, f"a coherent sampler was refused: {given_kw}"
        CASES["sampler", "refused"] += 1
        return
    CASES["sampler", "ok"] += 1
    assert len(s.border_color) == 4
    assert hash(s) == hash(s)  # usable as a cache key


# ------------------------------------------------------------------ copy geometry
W, H, T = 24, 16, 4  # the image: 24 x 16 fp32


@SETTINGS
@given(
    to_image=st.booleans(),
    host_extent=st.one_of(
        st.tuples(st.integers(1, 30), st.integers(1, 20)),
        st.tuples(st.integers(1, 30), st.integers(1, 20)),
        st.just(None),
    ),
    data=st.data(),
)
def test_copy_plans_move_exactly_numpy_s_bytes_or_are_refused(to_image, host_extent, data):
    desc = ia.ImageDescriptor(W, H)
    sim = Memcpy3DSim()
    hw, hh = host_extent or (W, H)
    host_offset, image_offset, extent = data.draw(copy_boxes((hw, hh), (W, H)))
    if host_extent is None and data.draw(st.booleans()):
        host_offset = None  # the host box is the extent: no room for an offset
    host = np.random.default_rng(1).integers(0, 2**31, (hh, hw)).astype(np.float32)
    haddr = sim.add_linear(HOST, host)
    harr = sim.add_array(W, H, 0, T)
    image_before = sim.array_bytes(harr).copy()
    host_ep = Endpoint(HOST_KIND, None, haddr, nbytes=host.nbytes)
    image_ep = Endpoint(IMAGE, 0, harr, desc=desc)
    kw = {"extent": extent}
    side = "src" if to_image else "dst"
    other = "dst" if to_image else "src"
    kw[f"{side}_offset"], kw[f"{other}_offset"] = host_offset, image_offset
    if host_extent is not None:
        kw[f"{side}_extent"] = host_extent
    src, dst = (host_ep, image_ep) if to_image else (image_ep, host_ep)
    try:
        plan = plan_copy(src, dst, queue_device=0, **kw)
    except ia.ImageArrayError:
        valid = host_extent is not None and clearly_valid(
            host_offset, image_offset, extent, (hw, hh), (W, H)
        )
        assert not valid, f"a valid copy was refused: {kw}"
        CASES["copy plan", "refused"] += 1
        return
    try:
        sim.run(plan)
    except OutOfBounds as exc:  # on a GPU: memory corruption or a crash
        raise AssertionError(f"an accepted plan reaches outside memory: {kw}: {exc}") from None
    ex, ey = plan.extent[0] // T, plan.extent[1]
    (hx, hy), (ix, iy) = xy(host_offset), xy(image_offset)
    image = sim.array_bytes(harr)[0].view(np.float32)
    before = image_before[0].view(np.float32)
    host_after = sim.linear_bytes(haddr).view(np.float32)
    # the host box: host_extent, else (spec) the copy's extent, tightly packed
    pitch = hw if host_extent is not None else ex
    rows, cols = np.meshgrid(np.arange(ey), np.arange(ex), indexing="ij")
    flat = ((hy + rows) * pitch + hx + cols).ravel()
    if to_image:
        want = before.copy()
        want[iy : iy + ey, ix : ix + ex] = host.ravel()[flat].reshape(ey, ex)
        np.testing.assert_array_equal(image, want)
    else:
        want = host.ravel().copy()
        want[flat] = before[iy : iy + ey, ix : ix + ex].ravel()
        np.testing.assert_array_equal(host_after, want)
    CASES["copy plan", "ok"] += 1
