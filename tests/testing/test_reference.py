"""CPU tests of ``imagearray.testing.reference`` against hand-computed values.

Coordinates are in texture order (x = width); images are NumPy arrays in C order.
Every expected value is worked out in a comment from the CUDA Programming Guide's
rules: nearest ``T[floor(x)]``; linear ``xB = x - 0.5``, ``i = floor(xB)``,
``a = round(frac(xB) * 256) / 256``, ``(1 - a) T[i] + a T[i+1]``; normalized
coordinates are multiplied by the extent N after wrap/mirror.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import imagearray as ia
import imagearray.testing
from imagearray._enums import ChannelType
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray._sampler import Sampler
from imagearray.testing import reference
from imagearray.testing.reference import fetch, read_texels, sample
from imagearray.testing.reference.sampling import _quantize_weight

# A 1D image of N = 4 texels used by most 1D cases.
T = np.array([10.0, 20.0, 30.0, 40.0], np.float32)
BORDER = (-1.0, -2.0, -3.0, -4.0)


def s1(x, addressing, normalized, linear, data=T, **kwargs):
    """Sample the 1D image ``data`` at the scalar ``x`` and return a float."""
    sampler = Sampler(
        addressing,
        "normalized" if normalized else "unnormalized",
        "linear" if linear else "nearest",
        **kwargs,
    )
    return float(sample(data, [x], sampler, dims=1))


# --------------------------------------------------------------------------- weights


@pytest.mark.parametrize(
    "frac, expected",
    [
        (0.0, 0.0),
        (0.5, 0.5),  # 128/256 exactly
        (0.3, 77 / 256),  # 0.3 * 256 = 76.8 -> 77 -> 0.30078125
        (0.1, 26 / 256),  # 25.6 -> 26 -> 0.1015625 (the forum's measured tex1D value)
        (0.2, 51 / 256),  # 51.2 -> 51 -> 0.19921875
        (0.8, 205 / 256),  # 204.8 -> 205 -> 0.80078125
        (1 / 512, 1 / 256),  # 0.5 exactly: a tie, rounded half up
        (3 / 512, 2 / 256),  # 1.5 -> 2
        (1 / 512 - 2**-20, 0.0),  # just below the tie -> 0
        (0.999, 1.0),  # 255.744 -> 256: the 9th bit holds 1.0
    ],
)
def test_quantize_weight(frac, expected):
    got = _quantize_weight(np.float32(frac))
    assert got.dtype == np.float32
    assert float(got) == expected


def test_quantized_weight_in_a_filtered_read():
    # x = 0.8 on [0, 1]: xB = 0.3, i = 0, a = 77/256 -> 0.30078125 (not 0.3).
    assert s1(0.8, "clamp_to_edge", False, True, data=np.array([0, 1], np.float32)) == 0.30078125


# --------------------------------------------------------------------------- 1D unnormalized


@pytest.mark.parametrize("mode", ["clamp_to_edge", "none"])
@pytest.mark.parametrize(
    "x, expected",
    [
        (-1.0, 10.0),  # floor(-1) = -1 -> clamped to 0
        (0.0, 10.0),
        (0.5, 10.0),
        (1.0, 20.0),  # floor(1.0) = 1
        (3.99, 40.0),
        (4.0, 40.0),  # index 4 -> clamped to 3
        (1e30, 40.0),
    ],
)
def test_1d_unnormalized_nearest_clamp_to_edge(mode, x, expected):
    # NONE with unnormalized coordinates clamps to the edge (CUDA cannot wrap them).
    assert s1(x, mode, False, False) == expected


@pytest.mark.parametrize(
    "x, expected",
    [
        (-0.5, -1.0),  # index -1 -> border colour r = -1
        (0.0, 10.0),
        (3.5, 40.0),
        (4.0, -1.0),  # index 4 -> border
        (-1e30, -1.0),
    ],
)
def test_1d_unnormalized_nearest_border(x, expected):
    assert s1(x, "clamp", False, False, border_color=BORDER) == expected


@pytest.mark.parametrize("mode", ["clamp_to_edge", "none"])
@pytest.mark.parametrize(
    "x, expected",
    [
        (0.5, 10.0),  # xB = 0, i = 0, a = 0 -> T[0]
        (1.0, 15.0),  # xB = 0.5, i = 0, a = 0.5 -> 0.5*10 + 0.5*20
        (2.0, 25.0),  # xB = 1.5 -> 0.5*20 + 0.5*30
        (0.25, 10.0),  # xB = -0.25, i = -1 (-> 0), a = 0.75 -> 0.25*10 + 0.75*10
        (4.0, 40.0),  # xB = 3.5, i = 3, i+1 = 4 (-> 3) -> 40
        # x = 1.8: xB = 1.3, i = 1, frac = 0.3 -> a = 77/256;
        # (179/256)*20 + (77/256)*30 = (3580 + 2310)/256 = 5890/256 = 23.0078125
        (1.8, 23.0078125),
    ],
)
def test_1d_unnormalized_linear_clamp_to_edge(mode, x, expected):
    assert s1(x, mode, False, True) == expected


@pytest.mark.parametrize(
    "x, expected",
    [
        (1.0, 15.0),  # inside: as clamp-to-edge
        (0.25, 7.25),  # i = -1 is border (-1), a = 0.75: 0.25*(-1) + 0.75*10 = 7.25
        (4.0, 19.5),  # i = 3, i+1 = 4 border: 0.5*40 + 0.5*(-1) = 19.5
        (-0.5, -1.0),  # xB = -1, i = -1, a = 0: border only
        (10.0, -1.0),
    ],
)
def test_1d_unnormalized_linear_border(x, expected):
    assert s1(x, "clamp", False, True, border_color=BORDER) == expected


# --------------------------------------------------------------------------- 1D normalized
# N = 4: a normalized x is x * 4 texels; texel i covers [i/4, (i+1)/4).


@pytest.mark.parametrize(
    "x, expected",
    [
        (0.375, 20.0),  # 1.5 texels -> T[1]
        (-0.25, 10.0),  # -1 -> clamped to 0
        (1.0, 40.0),  # 4 -> clamped to 3
        (1.25, 40.0),
    ],
)
def test_1d_normalized_nearest_clamp_to_edge(x, expected):
    assert s1(x, "clamp_to_edge", True, False) == expected


@pytest.mark.parametrize("mode", ["repeat", "none"])
@pytest.mark.parametrize(
    "x, expected",
    [
        (1.125, 10.0),  # frac = 0.125 -> 0.5 texels -> T[0]
        (-0.125, 40.0),  # frac = 0.875 -> 3.5 -> T[3]
        (2.625, 30.0),  # frac = 0.625 -> 2.5 -> T[2]
        (1.0, 10.0),  # frac = 0 -> T[0]
    ],
)
def test_1d_normalized_nearest_repeat(mode, x, expected):
    # NONE with normalized coordinates is CUDA's default, wrap.
    assert s1(x, mode, True, False) == expected


@pytest.mark.parametrize(
    "x, expected",
    [
        (0.375, 20.0),  # floor 0 (even): 0.375 -> 1.5 -> T[1]
        (1.125, 40.0),  # floor 1 (odd): 1 - 0.125 = 0.875 -> 3.5 -> T[3]
        (1.375, 30.0),  # odd: 1 - 0.375 = 0.625 -> 2.5 -> T[2]
        (-0.125, 10.0),  # floor -1 (odd), frac 0.875: 1 - 0.875 = 0.125 -> 0.5 -> T[0]
        (2.125, 10.0),  # floor 2 (even): 0.125 -> 0.5 -> T[0]
        (1.0, 40.0),  # floor 1 (odd), frac 0: 1.0 -> 4 texels; index 4 mirrors to 3
    ],
)
def test_1d_normalized_nearest_mirror(x, expected):
    assert s1(x, "mirrored_repeat", True, False) == expected


@pytest.mark.parametrize(
    "x, expected",
    [
        (0.875, 40.0),  # 3.5 -> T[3]
        (1.0, -1.0),  # 4 -> border
        (1.125, -1.0),
        (-0.125, -1.0),  # -0.5 -> index -1 -> border
    ],
)
def test_1d_normalized_nearest_border(x, expected):
    assert s1(x, "clamp", True, False, border_color=BORDER) == expected


@pytest.mark.parametrize(
    "x, expected",
    [
        (0.25, 15.0),  # 1.0 texels: xB = 0.5 -> 0.5*10 + 0.5*20
        (0.0, 10.0),  # xB = -0.5, i = -1 (-> 0), a = 0.5 -> 10
        (1.0, 40.0),  # 4: xB = 3.5, i = 3, i+1 -> 3 -> 40
        (0.45, 23.0078125),  # 1.8 texels (float32 0.45*4): as x = 1.8 unnormalized
    ],
)
def test_1d_normalized_linear_clamp_to_edge(x, expected):
    assert s1(x, "clamp_to_edge", True, True) == expected


@pytest.mark.parametrize("mode", ["repeat", "none"])
@pytest.mark.parametrize(
    "x, expected",
    [
        (0.0, 25.0),  # xB = -0.5, i = -1 -> T[3]=40, i+1 = T[0]=10, a = 0.5 -> 25
        (1.0, 25.0),  # frac(1.0) = 0 -> same as 0
        (0.9375, 32.5),  # 3.75: xB = 3.25, i = 3, a = 0.25: 0.75*40 + 0.25*T[4 -> 0]=10
        (2.25, 15.0),  # frac 0.25 -> 1.0 texels -> 0.5*10 + 0.5*20
    ],
)
def test_1d_normalized_linear_repeat(mode, x, expected):
    assert s1(x, mode, True, True) == expected


@pytest.mark.parametrize(
    "x, expected",
    [
        (0.0, 10.0),  # xB = -0.5, i = -1 mirrors to 0, a = 0.5: 0.5*10 + 0.5*10
        (0.25, 15.0),  # inside
        # floor 1 (odd), frac 0.1875: 1 - 0.1875 = 0.8125 -> 3.25 texels;
        # xB = 2.75, i = 2, a = 0.75: 0.25*30 + 0.75*40 = 37.5
        (1.1875, 37.5),
        # 0.9375 -> 3.75: xB = 3.25, i = 3, i+1 = 4 mirrors to 3: 40
        (0.9375, 40.0),
    ],
)
def test_1d_normalized_linear_mirror(x, expected):
    assert s1(x, "mirrored_repeat", True, True) == expected


@pytest.mark.parametrize(
    "x, expected",
    [
        (0.0, 4.5),  # xB = -0.5, i = -1 border (-1), a = 0.5: 0.5*(-1) + 0.5*10 = 4.5
        (1.0, 19.5),  # xB = 3.5: 0.5*40 + 0.5*(-1) = 19.5
        (0.5, 25.0),  # 2.0 texels: 0.5*20 + 0.5*30
    ],
)
def test_1d_normalized_linear_border(x, expected):
    assert s1(x, "clamp", True, True, border_color=BORDER) == expected


def test_default_border_colour_is_zero():
    # xB = 3.5: 0.5*40 + 0.5*0 = 20
    assert s1(4.0, "clamp", False, True) == 20.0


# --------------------------------------------------------------------------- 2D and 3D


def test_2d_bilinear_half_weights():
    image = np.array([[0, 1], [2, 3]], np.float32)  # T[i=x, j=y] = image[y, x]
    # (1.0, 1.0): a = b = 0.5 -> 0.25 * (0 + 1 + 2 + 3) = 1.5
    got = sample(image, [1.0, 1.0], Sampler(filtering="linear"), dims=2)
    assert got.shape == () and got.dtype == np.float32
    assert float(got) == 1.5


def test_2d_bilinear_quantized_weights():
    image = np.array([[0, 1], [2, 3]], np.float32)  # f(x, y) = x + 2y at texel centres
    # x = 1.3: xB = 0.8 (float32 0.79999995), a = round(204.79999) / 256 = 205/256
    # y = 0.8: yB = 0.3 (float32 0.30000001), b = round(76.8) / 256 = 77/256
    # (1-a)(1-b)*0 + a(1-b)*1 + (1-a)b*2 + ab*3 = a + 2b = (205 + 154)/256 = 1.40234375
    got = sample(image, [1.3, 0.8], Sampler(filtering="linear"), dims=2)
    assert float(got) == 1.40234375


def test_2d_axis_order_nearest():
    image = np.arange(6, dtype=np.float32).reshape(2, 3)  # height 2, width 3
    # x picks the column, y the row: (2.5, 0.5) -> image[0, 2] = 2; (0.5, 1.5) -> 3
    got = sample(image, [[2.5, 0.5], [0.5, 1.5]], Sampler(), dims=2)
    np.testing.assert_array_equal(got, [2.0, 3.0])


def test_2d_per_dimension_addressing():
    image = np.array([[0, 1], [2, 3]], np.float32)
    sampler = Sampler(("repeat", "clamp"), "normalized", border_color=BORDER)
    # x = 1.25 wraps to 0.25 -> texel 0; y = 0.75 -> row 1: image[1, 0] = 2
    # x = 0.75 -> texel 1; y = 1.25 -> row 2 is outside: border r = -1
    got = sample(image, [[1.25, 0.75], [0.75, 1.25]], sampler, dims=2)
    np.testing.assert_array_equal(got, [2.0, -1.0])


def test_2d_bilinear_border_corner():
    image = np.array([[4, 8], [12, 16]], np.float32)
    # (0, 0): xB = yB = -0.5, i = j = -1, a = b = 0.5: three border taps (-1) and T[0,0] = 4
    # 0.25*(-1) + 0.25*(-1) + 0.25*(-1) + 0.25*4 = 0.25
    got = sample(
        image, [0.0, 0.0], Sampler("clamp", filtering="linear", border_color=BORDER), dims=2
    )
    assert float(got) == 0.25


def test_3d_trilinear():
    z, y, x = np.meshgrid(np.arange(2), np.arange(2), np.arange(2), indexing="ij")
    image = (x + 2 * y + 4 * z).astype(np.float32)  # linear, so the result is a + 2b + 4c
    sampler = Sampler(filtering="linear")
    # (1, 1, 1): a = b = c = 0.5 -> 0.5 + 1 + 2 = 3.5
    assert float(sample(image, [1.0, 1.0, 1.0], sampler, dims=3)) == 3.5
    # (1.3, 0.8, 1.25): ax = 205, ay = 77, az = 192 (in 1/256). The texture unit's
    # corner weights (rh(n) = n / 256 rounded half up), per z slice wz = 64, 192:
    #   x1 = rh(205 * 64) = 51, x0 = 13; y: rh(51 * 77) = 15 | 36, rh(13 * 179) = 9 | 4
    #   x1 = rh(205 * 192) = 154, x0 = 38; y: rh(154 * 77) = 46 | 108, rh(38 * 179) = 27 | 11
    # sum of w * (x + 2y + 4z): 36 + 8 + 45 + 108 + 540 + 66 + 322 = 1125 -> 1125 / 256,
    # not the product weights' (205 + 154 + 768) / 256 = 1127 / 256.
    assert float(sample(image, [1.3, 0.8, 1.25], sampler, dims=3)) == 1125 / 256


def test_3d_clamp_to_edge_clamps_the_coordinate():
    z, y, x = np.meshgrid(np.arange(2), np.arange(2), np.arange(2), indexing="ij")
    image = (x + 2 * y + 4 * z).astype(np.float32)
    sampler = Sampler("clamp_to_edge", filtering="linear")
    # x = -3 is clamped to the first texel's centre: ax = 0; ay = 77, az = 192.
    # x1 = 0, so per z slice (wz = 64, 192) the x0 column takes it all:
    #   z0: rh(64 * 179) = 45 at y0, 19 at y1; z1: rh(192 * 179) = 134 at y0, 58 at y1
    # values at x = 0: 2y + 4z -> (19 * 2 + 134 * 4 + 58 * 6) / 256 = 922 / 256
    # (without the clamp, ax = 128 would move weight between the y rows: 921 / 256)
    assert float(sample(image, [-3.0, 0.8, 1.25], sampler, dims=3)) == 922 / 256


def test_border_colour_is_stored_in_the_format():
    # unorm8 stores the border 0.25 as round(63.75) = 64 and the tie 0.5 (127.5) as
    # 127; snorm8 0.25 as round(31.75) = 32
    data = np.zeros(2, np.uint8)
    for colour, stored in ((0.25, 64), (0.5, 127)):
        s = Sampler("clamp", border_color=(colour, 0, 0, 0))
        got = sample(data, [-1.0], s, "unorm_int8", dims=1)
        assert float(got) == float(np.float32(stored) / np.float32(255))
    s = Sampler("clamp", border_color=(0.25, 0, 0, 0))
    got = sample(np.zeros(2, np.int8), [5.0], s, "snorm_int8", dims=1)
    assert float(got) == float(np.float32(32) / np.float32(127))
    # linear: x = 2.0 (a = 128) blends texel 1 (0) with the border 0.25 -> 64 -> 64 * 257:
    # 16448 / 2 = 8224 on the 16-bit grid
    s = Sampler("clamp", filtering="linear", border_color=(0.25, 0, 0, 0))
    got = sample(data, [2.0], s, "unorm_int8", dims=1)
    assert float(got) == float(np.float32(8224) / np.float32(65535))


def test_3d_nearest_and_shape():
    image = np.arange(24, dtype=np.float32).reshape(2, 3, 4)  # depth 2, height 3, width 4
    coords = np.array([[[3.5, 2.5, 1.5], [0.5, 0.5, 0.5]]], np.float32)  # shape (1, 2, 3)
    got = sample(image, coords, Sampler(), dims=3)
    # (x=3, y=2, z=1) -> image[1, 2, 3] = 12 + 8 + 3 = 23; (0, 0, 0) -> 0
    assert got.shape == (1, 2)
    np.testing.assert_array_equal(got, [[23.0, 0.0]])


# --------------------------------------------------------------------------- channels


def test_multichannel_linear():
    image = np.array([[0, 10, 20, 30], [100, 110, 120, 130]], np.float32)  # 2 RGBA texels
    # x = 1.0: a = 0.5 -> per channel 0.5 * (T0 + T1)
    got = sample(image, [1.0], Sampler(filtering="linear"), dims=1)
    np.testing.assert_array_equal(got, [50.0, 60.0, 70.0, 80.0])
    assert got.shape == (4,)


def test_multichannel_border_uses_leading_components():
    image = np.ones((2, 2, 2), np.float32)  # 2x2 image, 2 channels
    got = sample(image, [[5.0, 0.5], [0.5, 0.5]], Sampler("clamp", border_color=BORDER), dims=2)
    # outside -> (r, g) of the border colour; inside -> the texel
    np.testing.assert_array_equal(got, [[-1.0, -2.0], [1.0, 1.0]])
    assert got.shape == (2, 2)


def test_single_channel_axis_kept():
    image = np.array([[1.0], [2.0]], np.float32)  # width 2, one channel
    got = sample(image, [1.5], Sampler(), dims=1)
    assert got.shape == (1,)
    assert got[0] == 2.0


# --------------------------------------------------------------------------- channel types


@pytest.mark.parametrize(
    "channel_type, values, expected",
    [
        # unorm8: v / 255
        ("unorm_int8", [0, 51, 255], [0.0, 0.2, 1.0]),
        # snorm8: max(v / 127, -1)
        ("snorm_int8", [-128, -127, 0, 127], [-1.0, -1.0, 0.0, 1.0]),
        # unorm16: v / 65535; 13107 * 5 = 65535
        ("unorm_int16", [0, 13107, 65535], [0.0, 0.2, 1.0]),
        # snorm16: max(v / 32767, -1)
        ("snorm_int16", [-32768, -32767, 32767], [-1.0, -1.0, 1.0]),
    ],
)
def test_normalized_conversion(channel_type, values, expected):
    ct = ChannelType(channel_type)
    got = read_texels(np.array(values, ct.dtype_name), ct)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.array(expected, np.float32))


def test_snorm8_midvalue():
    # 64 / 127 in float32
    got = read_texels(np.array([64], np.int8), "snorm_int8")
    assert got[0] == np.float32(64) / np.float32(127)


def test_fp16_reads_as_float32():
    # float16(0.1) = 0.0999755859375 exactly, widened without change
    got = read_texels(np.array([0.1, -2.5], np.float16), ChannelType.FP16)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [0.0999755859375, -2.5])


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "uint8", "uint16", "uint32"])
def test_integer_types_read_unchanged(dtype):
    data = np.array([0, 1, 100], dtype)
    got = read_texels(data)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, data)
    # nearest sampling keeps the integer type
    sampled = sample(data, [[1.5], [9.0]], Sampler(), dims=1)
    assert sampled.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(sampled, [1, 100])


def test_integer_border_colour_converted_to_the_integer_type():
    data = np.array([7, 8], np.int32)
    got = sample(data, [[-1.0], [0.5]], Sampler("clamp", border_color=(3, 0, 0, 0)), dims=1)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, [3, 7])


def test_normalized_linear():
    # The filter widens unorm8 to 16 bits (255 -> 65535) and rounds its sum half up to
    # that grid: x = 1.0 blends 0 and 65535 half and half: 32767.5 -> 32768 / 65535.
    got = sample(
        np.array([0, 255], np.uint8), [1.0], Sampler(filtering="linear"), "unorm_int8", dims=1
    )
    assert got.dtype == np.float32 and float(got) == float(np.float32(32768) / np.float32(65535))
    # snorm8 sums the raw values as 8.8 fixed point and scales by 1 + 257/32768 in
    # integer steps; x = 0.8: xB = 0.3, a = 77: t = 179 * -128 + 77 * 127 = -13133,
    # k = t + floor((floor(t / 16) * 257 + 1024) / 2048) = -13133 - 103 = -13236
    got = sample(
        np.array([-128, 127], np.int8), [0.8], Sampler(filtering="linear"), "snorm_int8", dims=1
    )
    assert float(got) == float(np.float32(-13236) / np.float32(32767))
    # at the texel centres: 64 -> t = 16384 -> 16513, -64 -> -16512, -128 -> -32767
    data = np.array([64, -64, -128], np.int8)
    got = sample(data, [[0.5], [1.5], [2.5]], Sampler(filtering="linear"), "snorm_int8", dims=1)
    np.testing.assert_array_equal(got, np.float32([16513, -16512, -32767]) / np.float32(32767))
    # unorm16 1000 and 1001 at a = 64/256: 1000.25 -> 1000, at 128/256: 1000.5 -> 1001
    data = np.array([1000, 1001], np.uint16)
    got = sample(data, [[0.75], [1.0]], Sampler(filtering="linear"), "unorm_int16", dims=1)
    np.testing.assert_array_equal(got, np.float32([1000, 1001]) / np.float32(65535))


def test_fp16_linear():
    data = np.array([1.0, 2.0], np.float16)
    # x = 1.0: 0.5*1 + 0.5*2 = 1.5, float32 out
    got = sample(data, [1.0], Sampler(filtering="linear"), "fp16", dims=1)
    assert got.dtype == np.float32 and float(got) == 1.5


@pytest.mark.parametrize(
    "dtype, ulp",
    [(np.float16, 2.0**-15), (np.float32, 2.0**-28)],  # ulps of [2**-5, 2**-4)
)
def test_float_linear_block_sum(dtype, ulp):
    # T0 = 1.5 sets the block exponent 0: taps are cut to 2**-(digits - 1 + 4), one
    # bit above T1 = 2**-5 + ulp's last bit, which is lost. At a = 255 (x = 0.5 +
    # 255.25 / 256): (1 * 1.5 + 255 * 2**-5) / 256 = 0.0369873046875 exactly, where
    # the exact blend (+ 255 * ulp / 256) would round one ulp higher.
    data = np.array([1.5, 2.0**-5 + ulp], dtype)
    x = np.float32(0.5 + 255.25 / 256)
    got = sample(data, [x], Sampler(filtering="linear"), dims=1)
    assert float(got) == 0.0369873046875
    exact = (1.5 + 255 * (2.0**-5 + ulp)) / 256
    assert float(np.array(exact).astype(dtype)) == 0.0369873046875 + ulp
    # The sum is rounded once, ties away from zero: (1, 1 + eps) at a = 128 (x = 1.0)
    # is 1 + eps / 2, halfway between 1 and 1 + eps: 1 + eps (to even would give 1).
    eps = float(np.finfo(dtype).eps)
    for sign in (1.0, -1.0):
        data = np.array([sign, sign * (1 + eps)], dtype)
        got = sample(data, [1.0], Sampler(filtering="linear"), dims=1)
        assert float(got) == sign * (1 + eps)


@pytest.mark.parametrize("channel_type", ["signed_int32", "unsigned_int32"])
def test_linear_of_32bit_integer_channels_refused(channel_type):
    ct = ChannelType(channel_type)
    with pytest.raises(ImageArrayValueError, match="nearest filtering"):
        sample(np.zeros(2, ct.dtype_name), [1.0], Sampler(filtering="linear"), ct, dims=1)


def test_linear_of_8bit_unsigned_integers_hand_computed():
    # uint8 filtered as unorm8: texels 0 and 255 widen to 0 and 65535 (v * 257); at
    # x = 0.75 (xB = 0.25, weight 64/256) the 16-bit sum is 65535 * 64/256 = 16383.75,
    # rounded half up to 16384, read 16384/65535; * 255 = 63.75 -> 64 (unrounded:
    # the float32 of 16384/65535 * 255).
    data = np.array([0, 255], np.uint8)
    s = Sampler(filtering="linear")
    got = sample(data, [0.75], s, dims=1)
    assert got.dtype == np.uint8 and int(got) == 64
    raw = sample(data, [0.75], s, dims=1, rounded=False)
    expected = np.float32(np.float32(16384) / np.float32(65535)) * np.float32(255)
    assert raw.dtype == np.float32 and raw == expected


def test_linear_of_16bit_integers_hand_computed():
    # uint16 filtered as unorm16 (1.0 = 65535): 100 and 200 at weight 128/256 give
    # 150 exactly; int16 as snorm16, -32768 read as -32767: halfway to 0 is
    # -16383.5, rounded half up to -16383, * 32767 / 32767 -> -16383
    s = Sampler(filtering="linear")
    assert int(sample(np.array([100, 200], np.uint16), [1.0], s, dims=1)) == 150
    got = sample(np.array([-32768, 0], np.int16), [1.0], s, dims=1)
    assert got.dtype == np.int16 and int(got) == -16383
    # the -128 of int8 reads -1.0 like -127: a weight of 0 on its neighbour gives -127
    assert int(sample(np.array([-128, 5], np.int8), [0.5], s, dims=1)) == -127


def test_linear_of_8bit_signed_integers_hand_computed():
    # int8 as snorm8: raw values summed in 8.8 fixed point, t = 64 * 256 at weight 0,
    # k = t + ((t >> 4) * 257 + 1024) >> 11 = 16384 + 2056 // 2 ... -> 16513/32767,
    # * 127 = 64.0000... -> 64; halfway between 10 and 20: t = 15 * 256 = 3840,
    # k = 3840 + (240 * 257 + 1024) // 2048 = 3840 + 30 = 3870; 3870/32767 * 127 =
    # 14.9993... -> 15
    s = Sampler(filtering="linear")
    assert int(sample(np.array([64, 0], np.int8), [0.5], s, dims=1)) == 64
    assert int(sample(np.array([10, 20], np.int8), [1.0], s, dims=1)) == 15
    assert int(sample(np.array([-10, -20], np.int8), [1.0], s, dims=1)) == -15


# --------------------------------------------------------------------------- errors


def test_sample_input_errors():
    data = np.zeros((2, 3), np.float32)
    with pytest.raises(ImageArrayTypeError, match="stored as uint8"):
        sample(data, [0.5, 0.5], Sampler(), "unorm_int8", dims=2)
    with pytest.raises(ImageArrayValueError, match="allowed"):
        sample(data, [0.5, 0.5], Sampler(), "float", dims=2)
    with pytest.raises(ImageArrayTypeError, match="float64"):
        sample(data.astype(np.float64), [0.5, 0.5], Sampler(), dims=2)
    with pytest.raises(ImageArrayValueError, match=r"last axis of coords .* \(x, y\)"):
        sample(data, [0.5], Sampler(), dims=2)
    with pytest.raises(ImageArrayValueError, match="dims must be 1, 2 or 3"):
        sample(data, [0.5, 0.5], Sampler(), dims=4)
    with pytest.raises(ImageArrayValueError, match="spatial axes"):
        sample(data, [0.5, 0.5, 0.5], Sampler(), dims=3)
    with pytest.raises(ImageArrayValueError, match="1 to 4 channels"):
        sample(np.zeros((2, 5), np.float32), [0.5], Sampler(), dims=1)  # 5 channels
    with pytest.raises(ImageArrayValueError, match="non-finite"):
        sample(data, [np.nan, 0.5], Sampler(), dims=2)
    with pytest.raises(ImageArrayTypeError, match="Sampler"):
        sample(data, [0.5, 0.5], "linear", dims=2)


def test_fetch():
    image = np.arange(24, dtype=np.uint16).reshape(2, 3, 4)  # depth 2, height 3, width 4
    # (x=3, y=2, z=1) -> image[1, 2, 3] = 23, raw and of the stored dtype
    got = fetch(image, [[3, 2, 1], [0, 0, 0]], 3)
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, [23, 0])
    assert fetch(image, [1, 1, 1], dims=3, channel_type="unorm_int16") == 17


def test_fetch_out_of_range_names_the_index():
    image = np.zeros((3, 4), np.float32)  # height 3, width 4
    with pytest.raises(ImageArrayValueError) as info:
        fetch(image, [[0, 0], [4, 1], [-1, 0]], dims=2)
    message = str(info.value)
    assert "(x=4, y=1)" in message
    assert "(width=4, height=3)" in message
    assert "2 index(es) out of range" in message


def test_fetch_refuses_float_indices():
    with pytest.raises(ImageArrayTypeError, match="integers"):
        fetch(np.zeros(4, np.float32), [1.0], dims=1)


# --------------------------------------------------------------------------- properties

_DTYPES = st.sampled_from(["float32", "float16", "uint8", "int16", "uint32"])


@st.composite
def _images(draw):
    dims = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=dims, max_size=dims)))
    channels = draw(st.sampled_from([None, 1, 2, 4]))
    if channels is not None:
        shape += (channels,)
    dtype = np.dtype(draw(_DTYPES))
    elements = (
        st.floats(width=8 * dtype.itemsize, allow_nan=False, allow_infinity=False)
        if dtype.kind == "f"
        else None
    )
    data = draw(hnp.arrays(dtype, shape, elements=elements))
    return data, dims


@settings(max_examples=200, deadline=None)
@given(
    image=_images(),
    normalized=st.booleans(),
    mode=st.sampled_from(["none", "repeat", "mirrored_repeat", "clamp_to_edge", "clamp"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_nearest_at_texel_centres_returns_the_texel(image, normalized, mode, seed):
    data, dims = image
    if not normalized and mode in ("repeat", "mirrored_repeat"):
        mode = "clamp_to_edge"
    extents = np.array(data.shape[:dims][::-1])  # texture order
    rng = np.random.default_rng(seed)
    index = rng.integers(0, extents, size=(7, dims))
    centres = (index + 0.5).astype(np.float32)
    if normalized:
        centres = (centres / extents).astype(np.float32)
    sampler = Sampler(mode, "normalized" if normalized else "unnormalized")
    got = sample(data, centres, sampler, dims=dims)
    expected = read_texels(fetch(data, index, dims))
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=100, deadline=None)
@given(image=_images(), seed=st.integers(0, 2**32 - 1))
def test_linear_at_texel_centres_returns_the_texel(image, seed):
    # xB = i exactly, a = 0: (1 - 0) T[i] + 0 T[i+1] = T[i] (data is finite)
    data, dims = image
    if data.dtype.kind != "f":
        return
    extents = np.array(data.shape[:dims][::-1])
    index = np.random.default_rng(seed).integers(0, extents, size=(5, dims))
    got = sample(data, (index + 0.5).astype(np.float32), Sampler(filtering="linear"), dims=dims)
    np.testing.assert_array_equal(got, read_texels(fetch(data, index, dims)))


def test_docstring_examples():
    sections = ("texels", "sampling", "gathers", "layers", "cubemaps", "mipmaps", "pyramids")
    for module in (*(getattr(reference, name) for name in sections), imagearray.testing):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0
        assert result.failed == 0


@pytest.mark.parametrize("normalized", [False, True])
def test_huge_coordinates_clamp(normalized):
    # 3e38 * N overflows float32; clamp-to-edge still reads the edge texels.
    sampler = Sampler("clamp_to_edge", "normalized" if normalized else "unnormalized", "linear")
    got = sample(np.array([1.0, 2.0], np.float32), [[3e38], [-3e38]], sampler, dims=1)
    np.testing.assert_array_equal(got, [2.0, 1.0])


# --------------------------------------------------------------------------- tolerance


def test_filter_tolerance_hand_values():
    lin = Sampler(filtering="linear")
    ulps = 8 * 2.0**-24
    # 1D, values 0..1: one weight of 1/256 times the span 1, plus 8 ulps of 1.0
    assert reference.filter_tolerance(np.array([0, 1], np.float32), lin, dims=1) == (1 / 256 + ulps)
    # 3D: three weights; span 10 - (-2) = 12, largest magnitude 10
    data = np.array([-2.0, 10.0], np.float32).reshape(2, 1, 1)
    assert reference.filter_tolerance(data, lin, dims=3) == 3 * 12 / 256 + 10 * ulps
    # the border colour counts only with border ("clamp") addressing
    border = Sampler("clamp", filtering="linear", border_color=(-4.0, 0, 0, 0))
    assert reference.filter_tolerance(data, border, dims=1) == 14 / 256 + 10 * ulps
    # nearest: exact for integers and floats, a few ulps for normalized channels
    assert reference.filter_tolerance(np.array([0, 9], np.int32), Sampler(), dims=2) == 0.0
    assert reference.filter_tolerance(np.array([0.5], np.float32), Sampler(), dims=2) == 0.0
    unorm = np.array([0, 255], np.uint8)
    assert reference.filter_tolerance(unorm, Sampler(), "unorm_int8", dims=1) == ulps
    # a mip blend adds one weight, over the values of every level
    levels = [np.zeros(4, np.float32), np.full(2, 2.0, np.float32)]
    mip = Sampler(coordinates="normalized", mipmap_filtering="linear")
    assert reference.filter_tolerance(levels, mip, dims=1, mip_blend=True) == (2 / 256 + 2 * ulps)
    with pytest.raises(ImageArrayValueError, match="dims"):
        reference.filter_tolerance(unorm, Sampler(), dims=4)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("mode", ["clamp_to_edge", "clamp", "repeat", "mirrored_repeat"])
def test_filter_tolerance_covers_truncated_weights(dims, mode, monkeypatch):
    # The guide leaves the rounding of the 8-bit weights open: results with truncated
    # weights must stay within the tolerance of the rounded reference.
    rng = np.random.default_rng(dims)
    data = rng.standard_normal((5, 6, 7)[-dims:] + (2,)).astype(np.float32) * 7
    s = Sampler(mode, "normalized", "linear", border_color=(3.0, -9.0, 0, 0))
    coords = rng.uniform(-1.5, 2.5, (500, dims)).astype(np.float32)
    rounded = sample(data, coords, s, dims=dims)
    tol = reference.filter_tolerance(data, s, dims=dims)

    def truncate(frac):  # the weights in 1/256 steps, truncated instead of rounded
        scaled = np.asarray(frac, dtype=np.float64) * 256.0
        return np.floor(scaled).astype(np.int64)

    monkeypatch.setattr(reference.sampling, "_weight_steps", truncate)
    truncated = sample(data, coords, s, dims=dims)
    diff = np.abs(truncated - rounded)
    assert diff.max() > 0  # the alternative differs ...
    assert diff.max() <= tol  # ... within the tolerance


def test_bilinear_corner_weight_is_the_rounded_product():
    # Only T[1, 1] is 1: the result is the (1, 1) corner's weight. The H100 rounds
    # alpha_x * alpha_y to 8 fractional bits (ties up) and derives the other corners
    # from it (tools/probes/sampling_diag.py).
    image = np.array([[0, 0], [0, 1]], np.float32)
    s = ia.Sampler("clamp_to_edge", filtering="linear")
    for ax, ay, w11 in ((128, 3, 2), (64, 64, 16), (200, 100, 78), (255, 1, 1)):
        c = [0.5 + ax / 256, 0.5 + ay / 256]
        assert reference.sample(image, c, s, dims=2) == np.float32(w11 / 256)
    # each axis' weights still sum to its alpha: a ramp in x reads alpha_x exactly
    ramp = np.array([[0, 1], [0, 1]], np.float32)
    assert reference.sample(ramp, [0.5 + 128 / 256, 0.5 + 3 / 256], s, dims=2) == 0.5


def test_linear_filtering_of_half_texels_returns_a_half():
    data = np.array([0.1, 0.7], np.float16)
    s = ia.Sampler("clamp_to_edge", filtering="linear")
    got = reference.sample(data, [[0.5 + 85 / 256]], s, dims=1)
    exact = float(data[0]) * 171 / 256 + float(data[1]) * 85 / 256  # 0.2990...
    assert got.dtype == np.float32 and got[0] == np.float32(np.float16(exact))
    assert got[0] != np.float32(exact)
