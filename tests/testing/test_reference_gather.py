"""CPU tests of ``reference.gather`` (``tex2Dgather``) against hand-computed values.

The image is 3 x 3 with distinct texels, ``T(i, j) = 10 (j + 1) + (i + 1)`` at column
``i``, row ``j``. A gather at (x, y) reads ``i0 = floor(x - 0.5)``,
``j0 = floor(y - 0.5)`` and returns ``[T(i0, j0+1), T(i0+1, j0+1), T(i0+1, j0),
T(i0, j0)]``, each index through the addressing mode.
"""

from __future__ import annotations

import numpy as np
import pytest

from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray._sampler import Sampler
from imagearray.testing import GATHER_ORDER, gather
from imagearray.testing.reference import fetch, read_texels

IMAGE = np.array([[11, 12, 13], [21, 22, 23], [31, 32, 33]], np.float32)
B = -1.0  # the border colour's first component
EDGE = Sampler("clamp_to_edge")
BORDER = Sampler("clamp", border_color=(B, -2.0, -3.0, -4.0))


def test_order_is_counter_clockwise_from_the_lower_left():
    assert GATHER_ORDER == ((0, 1), (1, 1), (1, 0), (0, 0))


@pytest.mark.parametrize(
    "xy, want",
    [
        # interior: x = 1.0 -> xB = 0.5, i0 = 0; y likewise j0 = 0
        ((1.0, 1.0), [21, 22, 12, 11]),
        # xB = 1.8 -> i0 = 1; yB = 1.2 -> j0 = 1
        ((2.3, 1.7), [32, 33, 23, 22]),
        # a texel centre: xB = 1.0 exactly -> i0 = 1 (the footprint starts there)
        ((1.5, 1.5), [32, 33, 23, 22]),
        # xB = 0.7 -> i0 = 0; yB = 1.9 -> j0 = 1
        ((1.2, 2.4), [31, 32, 22, 21]),
    ],
)
@pytest.mark.parametrize("sampler", [EDGE, BORDER], ids=["clamp_to_edge", "clamp"])
def test_interior(xy, want, sampler):
    np.testing.assert_array_equal(gather(IMAGE, xy, sampler), np.float32(want))


@pytest.mark.parametrize(
    "xy, want",
    [
        # xB = -0.3: i0 = -1 -> 0, i1 = 0; likewise in y: all four are T(0, 0)
        ((0.2, 0.2), [11, 11, 11, 11]),
        # xB = 2.4: i0 = 2, i1 = 3 -> 2; yB = -0.3: j0, j1 -> 0
        ((2.9, 0.2), [13, 13, 13, 13]),
        # far outside: i0 = -6, i1 = -5 -> 0; j0 = 6, j1 = 7 -> 2
        ((-5.0, 7.0), [31, 31, 31, 31]),
        # left edge only: i0 = -1 -> 0, i1 = 0; j0 = 0, j1 = 1
        ((0.2, 1.0), [21, 21, 11, 11]),
        # bottom edge only: i0 = 0, i1 = 1; yB = 2.2: j0 = 2, j1 = 3 -> 2
        ((1.0, 2.7), [31, 32, 32, 31]),
    ],
)
def test_clamp_to_edge_clamps_each_index(xy, want):
    np.testing.assert_array_equal(gather(IMAGE, xy, EDGE), np.float32(want))


@pytest.mark.parametrize(
    "xy, want",
    [
        # i0 = -1 is outside, i1 = 0; j0 = 0, j1 = 1
        ((0.2, 1.0), [B, 21, 11, B]),
        # xB = yB = 2.7: i0 = j0 = 2 inside, i1 = j1 = 3 outside
        ((3.2, 3.2), [B, B, B, 33]),
        # j0 = -1 outside, j1 = 0; i0 = 1, i1 = 2
        ((2.0, 0.3), [12, 13, B, B]),
        ((-3.0, -3.0), [B, B, B, B]),
    ],
)
def test_border_reads_the_border_colour_outside(xy, want):
    np.testing.assert_array_equal(gather(IMAGE, xy, BORDER), np.float32(want))


@pytest.mark.parametrize(
    "xy, want",
    [
        # t = 0: xB = -0.5, i0 = -1 -> 2, i1 = 0; the same in y
        ((0.0, 0.0), [13, 11, 31, 33]),
        # t = 1.5 in both: i0 = j0 = 1
        ((0.5, 0.5), [32, 33, 23, 22]),
        # frac(1.5) = 0.5: the same tile position
        ((1.5, -0.5), [32, 33, 23, 22]),
        # t = 3 * 0.9 = 2.7: xB = 2.2, i0 = 2, i1 = 3 -> 0; y: t = 1.5, j0 = 1
        ((0.9, 0.5), [33, 31, 21, 23]),
    ],
)
def test_repeat_wraps_the_indices(xy, want):
    s = Sampler("repeat", "normalized")
    np.testing.assert_array_equal(gather(IMAGE, xy, s), np.float32(want))


def test_mirrored_repeat_mirrors_the_indices():
    s = Sampler("mirrored_repeat", "normalized")
    # x: t = 0, xB = -0.5, i0 = -1 mirrors to 0, i1 = 0; y: t = 1.5, j0 = 1, j1 = 2
    np.testing.assert_array_equal(gather(IMAGE, (0.0, 0.5), s), np.float32([31, 31, 21, 21]))
    # x: t = 3 * 1.1 = 3.3 (unmirrored), xB = 2.8, i0 = 2, i1 = 3 mirrors to 2
    np.testing.assert_array_equal(gather(IMAGE, (1.1, 0.5), s), np.float32([33, 33, 23, 23]))


def test_none_addressing_clamps_unnormalized_and_wraps_normalized():
    none = Sampler("none")
    np.testing.assert_array_equal(gather(IMAGE, (0.2, 0.2), none), np.float32([11] * 4))
    wrapped = gather(IMAGE, (0.0, 0.0), Sampler("none", "normalized"))
    np.testing.assert_array_equal(wrapped, np.float32([13, 11, 31, 33]))


def test_xb_keeps_8_fractional_bits():
    # The guide's example: x = 2.49805, xB = 1.99805 rounds to 2 with 8 fractional bits,
    # so the footprint is columns 2 and 3 (3 is outside: the border), not 1 and 2.
    got = gather(IMAGE, (2.49805, 1.0), BORDER)
    np.testing.assert_array_equal(got, np.float32([23, B, B, 13]))
    # Just below the rounding step (frac(xB) * 256 = 255.25) it stays at column 1.
    x = 2.5 - 0.75 / 256
    np.testing.assert_array_equal(gather(IMAGE, (x, 1.0), BORDER), np.float32([22, 23, 13, 12]))


def test_filtering_does_not_matter():
    for xy in [(0.2, 1.0), (2.3, 1.7), (-4.0, 9.0)]:
        linear = Sampler("clamp", filtering="linear", border_color=BORDER.border_color)
        np.testing.assert_array_equal(gather(IMAGE, xy, linear), gather(IMAGE, xy, BORDER))


def test_component_selects_a_channel():
    rgba = np.stack([IMAGE, IMAGE + 100, IMAGE + 200, IMAGE + 300], axis=-1)
    for c in range(4):
        got = gather(rgba, [(1.0, 1.0), (0.2, 1.0)], BORDER, component=c)
        border = BORDER.border_color[c]
        want = np.float32([[21, 22, 12, 11], [border, 21, 11, border]]) + np.where(
            [[True] * 4, [False, True, True, False]], 100 * c, 0
        )
        np.testing.assert_array_equal(got, want)


def test_result_types_follow_the_read_mode():
    u8 = np.arange(9, dtype=np.uint8).reshape(3, 3)
    got = gather(u8, (1.0, 1.0), EDGE)
    assert got.dtype == np.uint8 and got.tolist() == [3, 4, 1, 0]
    unorm = gather(u8 * 25, (1.0, 1.0), EDGE, channel_type="unorm_int8")
    assert unorm.dtype == np.float32
    np.testing.assert_array_equal(unorm, read_texels(np.uint8([75, 100, 25, 0]), "unorm_int8"))
    half = gather(IMAGE.astype(np.float16), (1.0, 1.0), EDGE)
    assert half.dtype == np.float32
    # integer images read the border colour converted to the integer type
    i16 = np.full((3, 3), 7, np.int16)
    got = gather(i16, (0.2, 0.2), Sampler("clamp", border_color=(-5, 0, 0, 0)))
    assert got.dtype == np.int16
    np.testing.assert_array_equal(got, np.int16([-5, 7, -5, -5]))


def test_interior_points_read_their_footprint_exactly():
    rng = np.random.default_rng(7)
    data = rng.integers(-1000, 1000, (6, 9, 2)).astype(np.int32)
    # xB, yB fractions in [0.1, 0.9], footprints inside the image
    ij = rng.integers(0, (8, 5), (50, 2))
    xy = (ij + 0.5 + rng.uniform(0.1, 0.9, (50, 2))).astype(np.float32)
    got = gather(data, xy, EDGE, component=1)
    for slot, (dx, dy) in enumerate(GATHER_ORDER):
        want = fetch(data, ij + (dx, dy), dims=2)[..., 1]
        np.testing.assert_array_equal(got[..., slot], want)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"component": 1}, ImageArrayValueError, r"component=1 is not a channel of a 1-channel"),
        ({"component": -1}, ImageArrayValueError, r"0\.\.0"),
        ({"component": 1.0}, ImageArrayTypeError, "component must be an int"),
        ({"component": True}, ImageArrayTypeError, "component must be an int"),
    ],
)
def test_bad_component(kwargs, error, match):
    with pytest.raises(error, match=match):
        gather(IMAGE, (1.0, 1.0), EDGE, **kwargs)


def test_bad_arguments():
    with pytest.raises(ImageArrayValueError, match=r"\(x, y\)"):
        gather(IMAGE, (1.0, 1.0, 1.0), EDGE)
    with pytest.raises(ImageArrayValueError, match="spatial axes"):
        gather(np.zeros((2, 3, 3, 5), np.float32), (1.0, 1.0), EDGE)
    with pytest.raises(ImageArrayValueError, match="non-finite"):
        gather(IMAGE, (np.nan, 1.0), EDGE)
    with pytest.raises(ImageArrayTypeError, match="sampler must be a Sampler"):
        gather(IMAGE, (1.0, 1.0), "clamp")
    with pytest.raises(ImageArrayTypeError, match="stored as uint8"):
        gather(IMAGE, (1.0, 1.0), EDGE, channel_type="unorm_int8")


def test_snorm8_gathers_widened_to_16_bits():
    # Hand-copied from a gather of all 256 int8 values on the H200:
    # 45 -> 11610, 64 -> 16513, 125 -> 32251, -64 -> -16512, -65 -> -16771,
    # -122 -> -31477, -128 -> -32767, read as snorm16.
    raw = np.array([[45, -122], [125, -128]], np.int8)
    for v, q in ((64, 16513), (-64, -16512), (-65, -16771), (63, 16254), (127, 32767)):
        got = gather(np.full((2, 2), v, np.int8), (1.0, 1.0), EDGE, channel_type="snorm_int8")
        np.testing.assert_array_equal(got, np.float32(q) / np.float32(32767))
    got = gather(raw, (1.0, 1.0), EDGE, channel_type="snorm_int8")
    # slots T(0,1), T(1,1), T(1,0), T(0,0) (column, row): 125, -128, -122, 45
    q = np.array([32251, -32767, -31477, 11610], np.float32)
    np.testing.assert_array_equal(got, (q / np.float32(32767)).astype(np.float32))
