"""GPU tests of texture gather (``ImageArray.gather``, ``ia::gather_image``) against
``reference.gather``, exactly, for every channel type and channel count.

What the reference assumes where CUDA's documents are silent, and these tests judge:
the slot order (checked once on an H200 with a raw kernel), clamp-to-edge clamping
each footprint index (not the coordinate), mirror folding as the linear filter does,
and the filter mode not mattering (imagearray itself makes gather textures with
nearest filtering). A mismatch message says which alternative would have matched.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from _spec_kernels import raw_module

import imagearray as ia
from imagearray.testing import reference

pytestmark = pytest.mark.gpu

SHAPE = (7, 9)  # NumPy order (height, width)
MODES = ["none", "repeat", "mirrored_repeat", "clamp_to_edge", "clamp"]


def random_image(rng, ctype: ia.ChannelType, channels: int):
    shape = SHAPE + ((channels,) if channels > 1 else ())
    dt = np.dtype(ctype.dtype_name)
    if dt.kind == "f":
        return rng.standard_normal(shape).astype(dt)
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max, shape, endpoint=True).astype(dt)


def coordinates(rng, normalized: bool, n: int = 301) -> np.ndarray:
    """(n, 2) points over the image and two image sizes around it, with x - 0.5 and
    y - 0.5 at least 0.1 texel from an integer (the footprint's floor is then the same
    in float and in the hardware's fixed point)."""
    size = np.array(SHAPE[::-1], dtype=np.float64)  # texture order (x, y)
    t = rng.integers(-size.astype(int), 2 * size.astype(int), (n, 2)).astype(np.float64)
    t += 0.5 + rng.uniform(0.1, 0.9, (n, 2))
    if normalized:
        t /= size
    return t.astype(np.float32)


def border_colour(ctype: ia.ChannelType):
    # test_sampling_gpu's colours, whose storage in every format is measured
    return (0.25, 0.5, 0.75, 1.0) if ctype.reads_as_float else (0, 0, 0, 0)


def _samplers(ctype):
    for mode in MODES:
        for normalized in (False, True):
            if mode in ("repeat", "mirrored_repeat") and not normalized:
                continue  # refused: CUDA would clamp
            units = "normalized" if normalized else "unnormalized"
            yield ia.Sampler(mode, units, "nearest", border_color=border_colour(ctype))


def _explain(got, want, data, coords, sampler, component, ctype) -> str:
    """What differs, and which alternative model (slot order, clamp-to-edge on the
    coordinate) would have matched."""
    bad = np.any(got != want, axis=-1)
    lines = [f"{int(bad.sum())} of {len(bad)} points differ ({sampler}, component={component})"]
    for i in np.flatnonzero(bad)[:4]:
        lines.append(f"  at {coords[i].tolist()}: got {got[i].tolist()}, want {want[i].tolist()}")
    for perm in itertools.permutations(range(4)):
        if perm != (0, 1, 2, 3) and np.array_equal(got, want[..., list(perm)]):
            lines.append(f"  the slots match the reference in the order {perm}")
    edge = ia.AddressingMode.CLAMP_TO_EDGE
    if sampler.addressing[0] is edge or (
        sampler.addressing[0] is ia.AddressingMode.NONE and not sampler.normalized
    ):
        # clamp-to-edge as the filter clamps: the coordinate to the edge texels' centres
        size = np.array(SHAPE[::-1], np.float32)
        lo, hi = np.float32(0.5), size - np.float32(0.5)
        if sampler.normalized:
            lo, hi = lo / size, hi / size
        alt = reference.gather(data, np.clip(coords, lo, hi), sampler, component, ctype)
        if np.array_equal(got, alt):
            lines.append("  the GPU clamps the coordinate, not each index (clamp-to-edge)")
    return "\n".join(lines)


def _compare(got, want, data, coords, sampler, component, ctype):
    if got.dtype != want.dtype or not np.array_equal(got, want):
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        pytest.fail(_explain(got, want, data, coords, sampler, component, ctype))


@pytest.mark.parametrize("channels", [1, 2, 4])
@pytest.mark.parametrize("ctype", list(ia.ChannelType), ids=lambda c: c.value)
def test_gather_matches_reference(ctype, channels, rng):
    import cupy

    data = random_image(rng, ctype, channels)
    img = ia.asimage(data, channels=channels, normalized=ctype.is_normalized, gather=True)
    assert img.gatherable and img.view_descriptor.channel_type is ctype
    checked = 0
    for sampler in _samplers(ctype):
        c = coordinates(rng, sampler.normalized)
        for component in range(channels):
            got = img.gather(cupy.asarray(c), component, sampler)
            assert got.shape == (len(c), 4)
            want = reference.gather(data, c, sampler, component, ctype)
            _compare(got.get(), want, data, c, sampler, component, ctype)
            checked += 1
    assert checked == 8 * channels


def test_gather_default_sampler_shapes_and_host_coords(rng):
    import cupy

    data = rng.random((5, 6, 2)).astype(np.float32)
    img = ia.asimage(data, channels=2, gather=True)
    c = rng.integers(-2, 8, (3, 4, 2)).astype(np.float32)  # x - 0.5: half-way fractions
    default = ia.Sampler("clamp_to_edge", "unnormalized", "nearest")
    got = img.gather(c, 1)  # NumPy coordinates, the default sampler
    assert got.shape == (3, 4, 4) and got.dtype == np.float32
    np.testing.assert_array_equal(got.get(), reference.gather(data, c, default, 1))
    empty = img.gather(cupy.zeros((0, 2), cupy.float32))
    assert empty.shape == (0, 4)
    # A linear sampler is accepted: the gather texture is made with nearest filtering.
    linear = ia.Sampler("clamp", filtering="linear", border_color=(1, 2, 3, 4))
    np.testing.assert_array_equal(
        img.gather(c, 0, linear).get(), reference.gather(data, c, linear, 0)
    )


def test_gather_rounds_x_to_8_fractional_bits():
    # The programming guide's "Texture Gather" example: x = 2.49805 gathers columns 2
    # and 3 (xB = 1.99805 is stored as 2.0), where float arithmetic would give 1 and 2.
    import cupy

    data = np.arange(20, dtype=np.float32).reshape(4, 5)
    img = ia.asimage(data, gather=True)
    s = ia.Sampler("clamp", border_color=(-1, -1, -1, -1))
    c = np.array([[2.49805, 1.0], [2.5 - 0.75 / 256, 1.0]], np.float32)
    got = img.gather(cupy.asarray(c), 0, s).get()
    np.testing.assert_array_equal(got, reference.gather(data, c, s))
    assert got[0].tolist() == [7, 8, 3, 2] and got[1].tolist() == [6, 7, 2, 1]


_KERNEL = r"""
using T = TYPE;
extern "C" __global__ void gather_k(ia::sampled_image_handle img, const float2 *coords,
                                    int comp, T *out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = ia::gather_image<T>(img, coords[i], comp);
}
"""

# channel type -> the DataT a kernel gathers it as (plain integers: the storage
# 4-vector, as fetch_image reads them; normalized and float: float4)
_DATA_T = {
    "signed_int8": ("char4", np.int8),
    "signed_int16": ("short4", np.int16),
    "signed_int32": ("int4", np.int32),
    "unsigned_int8": ("uchar4", np.uint8),
    "unsigned_int16": ("ushort4", np.uint16),
    "unsigned_int32": ("uint4", np.uint32),
}


# CUDA makes no linear-filtered texture of integer reads: those pair with nearest only.
_USER_CASES = [
    pytest.param(ctype, filtering, id=f"{ctype.value}-{filtering}")
    for ctype in ia.ChannelType
    for filtering in (("nearest", "linear") if ctype.reads_as_float else ("nearest",))
]


@pytest.mark.parametrize("ctype, filtering", _USER_CASES)
def test_gather_image_in_a_user_kernel(ctype, filtering, rng):
    import cupy

    t, dtype = _DATA_T.get(ctype.value, ("float4", np.float32))
    data = random_image(rng, ctype, 4)
    img = ia.asimage(data, channels=4, normalized=ctype.is_normalized, gather=True)
    kernel = raw_module(_KERNEL.replace("TYPE", t)).get_function("gather_k")
    for sampler in _samplers(ctype):
        # The user's own texture. With linear filtering this checks that CUDA ignores
        # the filter mode for gather, which imagearray itself does not rely on.
        sampler = dataclasses.replace(sampler, filtering=filtering)
        c = coordinates(rng, sampler.normalized)
        comp = int(rng.integers(0, 4))
        out = cupy.zeros((len(c), 4), dtype)
        n = np.int32(len(c))
        kernel((2,), (256,), (img.texture(sampler), cupy.asarray(c), np.int32(comp), out, n))
        want = reference.gather(data, c, sampler, comp, ctype)
        _compare(out.get(), want, data, c, sampler, comp, ctype)


def test_gather_image_as_half4(rng):
    import cupy

    data = rng.standard_normal((6, 7, 4)).astype(np.float16)
    img = ia.asimage(data, channels=4, gather=True)
    kernel = raw_module(_KERNEL.replace("TYPE", "ia::half4")).get_function("gather_k")
    s = ia.Sampler("clamp", border_color=(0.25, 0.5, 0.75, 1.0))
    c = coordinates(rng, False)
    out = cupy.zeros((len(c), 4), np.float16)
    kernel((2,), (256,), (img.texture(s), cupy.asarray(c), np.int32(2), out, np.int32(len(c))))
    want = reference.gather(data, c, s, 2).astype(np.float16)  # the texels are halves
    np.testing.assert_array_equal(out.get(), want)


def test_gather_flag_reaches_the_driver_and_copies():
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    plain = ia.asimage(data)
    assert not plain.gatherable and not plain.mem.gatherable
    with pytest.raises(ia.ImageArrayValueError, match="without the gather flag"):
        plain.gather(np.zeros((1, 2), np.float32))
    g = ia.asimage(plain, gather=True)  # a gatherable copy
    assert g is not plain and g.gatherable and g.mem.gatherable
    np.testing.assert_array_equal(g.get(), data)
    assert ia.asimage(g, gather=True) is g
    assert g.copy().gatherable and g.astype(np.float16).gatherable
    assert ia.empty_like(g).gatherable and not ia.empty_like(g, gather=False).gatherable
    assert ia.zeros((4, 4), np.uint8, gather=True).gatherable
    linear = ia.asimage(data, memory="linear")
    with pytest.raises(ia.ImageArrayValueError, match="linear \\(pitched\\) memory"):
        linear.gather(np.zeros((1, 2), np.float32))
    layered = ia.zeros((2, 3, 4), np.float32, layered=True)
    with pytest.raises(ia.ImageArrayValueError, match="2D standard images only"):
        layered.layer(0).gather(np.zeros((1, 2), np.float32))
    too_wide = ia.device_info("max_image_2d_gather")[0] + 1
    with pytest.raises(ia.ImageArrayValueError, match="exceeds this device's limit"):
        ia.empty((1, too_wide), np.uint8, gather=True)
