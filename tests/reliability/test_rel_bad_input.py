"""Bad input, CPU part (runs in CI): hypothesis over descriptors, samplers and copy
offsets/extents/pitches. Each generated case either succeeds and is right (a copy
plan run on the NumPy model of ``cuMemcpy3D`` moves exactly the bytes NumPy slicing
says, touching nothing outside either memory) or raises from the ImageArrayError
family; clearly valid cases must succeed. Example counts: ``IMAGEARRAY_REL_CPU_CASES``
per property (small by default, 1,000 with ``IMAGEARRAY_RELIABILITY_FULL=1``).
"""

from __future__ import annotations

import collections

import numpy as np
import pytest
from _memcpy_sim import HOST, Memcpy3DSim, OutOfBounds
from _rel import count, record
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
    for group in sorted({g for g, _ in CASES}):
        record(
            "cases",
            group=group,
            device="cpu",
            cases=CASES[group, "ok"] + CASES[group, "refused"],
            refused=CASES[group, "refused"],
            crashes=0,
        )


# Values that break naive code: negative, huge, past int64, non-integers, wrong types.
WEIRD = st.one_of(
    st.integers(-3, 70),
    st.sampled_from([-(2**70), -(2**63), 2**31, 2**32, 2**63 - 1, 2**63, 2**64, 2**80]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["4", b"4", None, True, 3.0, 1.5, np.int64(5), np.float32(2), [], {}]),
    st.integers(0, 8).map(np.uint8),
)


def _is_plain_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


# ------------------------------------------------------------------ descriptors
ORDERS = ["r", "rg", "rgb", "rgba", "x", "", 4]
TYPES = ["fp32", "fp16", "unorm_int8", "signed_int32", "unsigned_int16", "bogus", None, 7]
KINDS = ["standard", "mipmap", "array", "cubemap", "mipmap_array", "cubemap_array", "3d"]


@SETTINGS
@given(
    w=WEIRD,
    h=WEIRD,
    d=WEIRD,
    order=st.sampled_from(ORDERS),
    ctype=st.sampled_from(TYPES),
    kind=st.sampled_from(KINDS),
    levels=WEIRD,
    layers=WEIRD,
)
def test_descriptors_are_valid_or_refused_inside_the_family(
    w, h, d, order, ctype, kind, levels, layers
):
    try:
        desc = ia.ImageDescriptor(w, h, d, order, ctype, kind, levels, layers).verify()
    except ia.ImageArrayError:
        CASES["descriptor", "refused"] += 1
        return
    CASES["descriptor", "ok"] += 1
    # a descriptor that verifies is consistent: its host shape holds its bytes
    assert all(_is_plain_int(e) and e >= 0 for e in (desc.width, desc.height, desc.depth))
    if desc.num_levels == 1:
        assert int(np.prod(desc.host_shape)) * desc.dtype.itemsize == desc.nbytes


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


@SETTINGS
@given(
    addressing=st.one_of(st.sampled_from(ADDR), st.lists(st.sampled_from(ADDR), max_size=4)),
    coords=st.sampled_from(["normalized", "unnormalized", "texel", 1, None]),
    filtering=st.sampled_from(["nearest", "linear", "cubic", None, 0]),
    lo=WEIRD,
    hi=WEIRD,
    aniso=WEIRD,
    border=st.one_of(st.lists(WEIRD, max_size=5), WEIRD),
)
def test_samplers_are_valid_or_refused_inside_the_family(
    addressing, coords, filtering, lo, hi, aniso, border
):
    try:
        s = ia.Sampler(
            addressing,
            coords,
            filtering,
            min_mipmap_level_clamp=lo,
            max_mipmap_level_clamp=hi,
            max_anisotropy=aniso,
            border_color=border,
        )
    except ia.ImageArrayError:
        CASES["sampler", "refused"] += 1
        return
    CASES["sampler", "ok"] += 1
    assert len(s.border_color) == 4
    assert hash(s) == hash(s)  # usable as a cache key


# ------------------------------------------------------------------ copy geometry
W, H, T = 24, 16, 4  # the image: 24 x 16 fp32


def _triple_or_weird():
    two = st.tuples(st.integers(-2, 30), st.integers(-2, 20))
    return st.one_of(two, two.map(lambda t: t + (0,)), WEIRD, st.tuples(WEIRD, WEIRD))


def _xy(v) -> tuple[int, int]:
    """An accepted offset as (x, y); an int is x (exactly: 3.0 or 1.5 here would be
    a plan that took a non-integer)."""
    if v is None:  # the default
        return 0, 0
    t = tuple(v) if isinstance(v, tuple) else (v,)
    t = (t + (0, 0))[:2]
    assert all(_is_plain_int(e) for e in t), f"a non-integer offset was accepted: {v!r}"
    return int(t[0]), int(t[1])


@SETTINGS
@given(
    to_image=st.booleans(),
    host_extent=st.one_of(st.tuples(st.integers(1, 30), st.integers(1, 20)), st.just(None)),
    host_offset=_triple_or_weird(),
    image_offset=_triple_or_weird(),
    extent=st.one_of(st.tuples(st.integers(-1, 30), st.integers(-1, 20)), _triple_or_weird()),
)
def test_copy_plans_move_exactly_numpy_s_bytes_or_are_refused(
    to_image, host_extent, host_offset, image_offset, extent
):
    desc = ia.ImageDescriptor(W, H)
    sim = Memcpy3DSim()
    hw, hh = host_extent or (W, H)
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
        clearly_valid = (
            all(
                isinstance(t, tuple) and all(_is_plain_int(v) for v in t)
                for t in (host_offset, image_offset, extent)
            )
            and min(host_offset + image_offset) >= 0
            and min(extent) > 0
            and host_offset[0] + extent[0] <= hw
            and host_offset[1] + extent[1] <= hh
            and image_offset[0] + extent[0] <= W
            and image_offset[1] + extent[1] <= H
            and host_extent is not None
            and len(extent) == 2
        )
        assert not clearly_valid, f"a valid copy was refused: {kw}"
        CASES["copy plan", "refused"] += 1
        return
    try:
        sim.run(plan)
    except OutOfBounds as exc:  # on a GPU: memory corruption or a crash
        raise AssertionError(f"an accepted plan reaches outside memory: {kw}: {exc}") from None
    ex, ey = plan.extent[0] // T, plan.extent[1]
    (hx, hy), (ix, iy) = _xy(host_offset), _xy(image_offset)
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
