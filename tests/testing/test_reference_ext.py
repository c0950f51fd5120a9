"""CPU tests of the layered, cubemap and mipmap parts of ``imagearray.testing.reference``.

Expected values are worked out by hand in the comments, from the CUDA Programming
Guide's rules (nearest ``T[floor(x)]``; linear ``xB = x - 0.5``, ``a = round(frac(xB) *
256) / 256``; normalized coordinates times the extent), its cubemap face table, and the
bindless-images spec's examples. Images are NumPy arrays in C order; coordinates are in
texture order (x = width).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import imagearray.testing
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray._sampler import Sampler
from imagearray.testing.reference import (
    CUBEMAP_FACES,
    box_pyramid,
    box_weights,
    cubemap_face,
    lod_from_gradients,
    sample,
    sample_cubemap,
    sample_layered,
    sample_mipmap,
)

NORMALIZED = Sampler(coordinates="normalized")


def test_reexported_from_testing():
    for name in ("sample_layered", "sample_cubemap", "cubemap_face", "sample_mipmap"):
        assert getattr(imagearray.testing, name) is globals()[name]
    for name in ("lod_from_gradients", "box_pyramid", "box_weights"):
        assert getattr(imagearray.testing, name) is globals()[name]


# --------------------------------------------------------------------------- layered

# 3 layers of 2x2 texels: layer k, texel (x=i, y=j) holds 10*k + i + 2*j.
LAYERS_2D = np.array(
    [[[10 * k + i + 2 * j for i in range(2)] for j in range(2)] for k in range(3)], np.float32
)


def test_layered_picks_the_layer():
    # (x, y) = (1.5, 0.5) unnormalized, nearest: texel (1, 0) -> 10*k + 1
    got = sample_layered(LAYERS_2D, [1.5, 0.5], [0, 1, 2], Sampler(), dims=2)
    np.testing.assert_array_equal(got, [1.0, 11.0, 21.0])
    # (0.5, 1.5): texel (0, 1) -> 10*k + 2
    got = sample_layered(LAYERS_2D, [[0.5, 1.5], [0.5, 1.5]], [2, 0], Sampler(), dims=2)
    np.testing.assert_array_equal(got, [22.0, 2.0])


@pytest.mark.parametrize(
    "layer, expected",
    [
        (3, 21.0),  # L = 3 -> clamped to L - 1 = 2
        (100, 21.0),
        (-1, 21.0),  # read as u32: 2**32 - 1 -> clamped to 2
        (-(2**31), 21.0),  # u32 2**31 -> 2
        (2**32 + 1, 11.0),  # the int of tex2DLayered keeps 32 bits: 1
        (np.uint32(2**32 - 1), 21.0),
        (np.int8(-128), 21.0),  # u32 2**32 - 128 -> 2
        (np.uint64(2**64 - 1), 21.0),  # 2**32 - 1 modulo 2**32 -> 2
    ],
)
def test_layered_clamps_the_layer_index(layer, expected):
    got = sample_layered(LAYERS_2D, [1.5, 0.5], layer, Sampler(), dims=2)
    assert float(got) == expected


def test_layered_linear_never_crosses_layers():
    data = np.array([[0.0, 10.0], [100.0, 110.0]], np.float32)  # 2 layers of width 2
    # x = 1.0: xB = 0.5, i = 0, a = 0.5 -> 0.5*T[0] + 0.5*T[1] of the same layer
    # x = 2.0: xB = 1.5, i = 1, a = 0.5; T[2] clamps to T[1] of that layer: T[1]
    # x = 0.0: xB = -0.5, i = -1 (-> 0), a = 0.5 -> T[0]
    s = Sampler("clamp_to_edge", filtering="linear")
    got = sample_layered(data, [[1.0], [2.0], [0.0]], [[0], [1]], s, dims=1)
    np.testing.assert_array_equal(got, [[5.0, 10.0, 0.0], [105.0, 110.0, 100.0]])
    # border: x = 2.0 of layer 1: 0.5*110 + 0.5*border(-1) = 54.5, not layer 0 or 2
    s = Sampler("clamp", filtering="linear", border_color=(-1, 0, 0, 0))
    assert float(sample_layered(data, [2.0], 1, s, dims=1)) == 54.5


def test_layered_broadcasts_and_keeps_channels():
    data = np.stack([np.full((2, 2, 3), k, np.uint8) for k in range(4)])  # (4, 2, 2, 3)
    coords = np.array([[0.5, 0.5], [1.5, 1.5]], np.float32)  # 2 points
    layers = np.array([[0], [3], [1]])  # (3, 1) broadcast with (2,) -> (3, 2)
    got = sample_layered(data, coords, layers, Sampler(), dims=2)
    assert got.shape == (3, 2, 3) and got.dtype == np.uint8
    np.testing.assert_array_equal(got[..., 0], [[0, 0], [3, 3], [1, 1]])


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("mode", ["repeat", "mirrored_repeat", "clamp_to_edge", "clamp"])
@pytest.mark.parametrize("filtering", ["nearest", "linear"])
def test_layered_equals_sample_of_the_layer(dims, mode, filtering):
    rng = np.random.default_rng(7)
    data = rng.random((5,) + (4, 3)[-dims:] + (2,)).astype(np.float32)
    coords = rng.uniform(-1.5, 2.5, (64, dims)).astype(np.float32)
    layers = rng.integers(0, 5, 64)
    s = Sampler(mode, "normalized", filtering, border_color=(0.25, 0.5, 0, 0))
    got = sample_layered(data, coords, layers, s, dims=dims)
    for layer in range(5):
        on = layers == layer
        np.testing.assert_array_equal(got[on], sample(data[layer], coords[on], s, dims=dims))


def test_layered_errors():
    with pytest.raises(ImageArrayTypeError, match="layers must be integers"):
        sample_layered(LAYERS_2D, [0.5, 0.5], 1.0, Sampler(), dims=2)
    with pytest.raises(ImageArrayTypeError, match="layers must be integers"):
        sample_layered(LAYERS_2D, [0.5, 0.5], True, Sampler(), dims=2)
    with pytest.raises(ImageArrayValueError, match="1 or 2 spatial axes"):
        sample_layered(np.zeros((2, 2, 2, 2), np.float32), [0, 0, 0], 0, Sampler(), dims=3)
    with pytest.raises(ImageArrayValueError, match="layer axis"):
        sample_layered(np.zeros((0, 2), np.float32), [0.5], 0, Sampler(), dims=1)
    with pytest.raises(ImageArrayValueError, match="does not broadcast"):
        sample_layered(LAYERS_2D, [[0.5, 0.5]] * 2, [0, 1, 2], Sampler(), dims=2)
    with pytest.raises(ImageArrayValueError, match="linear filtering cannot read"):
        s = Sampler(filtering="linear")
        sample_layered(np.zeros((2, 2), np.uint32), [0.5], 0, s, dims=1)


# --------------------------------------------------------------------------- cubemap faces


@pytest.mark.parametrize(
    "direction, face",
    [
        ((1, 0, 0), 0),
        ((-1, 0, 0), 1),
        ((0, 1, 0), 2),
        ((0, -1, 0), 3),
        ((0, 0, 1), 4),
        ((0, 0, -1), 5),
        ((0, 0, -1e-30), 5),  # length does not matter
        ((7.5, 0, 0), 0),
    ],
)
def test_cubemap_face_axes(direction, face):
    # on an axis s = t = 0: u = v = (0 + 1)/2 = 0.5
    f, u, v = cubemap_face(direction)
    assert (int(f), float(u), float(v)) == (face, 0.5, 0.5)
    assert CUBEMAP_FACES[face][1] == "xyz"[face // 2]


@pytest.mark.parametrize(
    "direction, face, u, v",
    [
        # +x: s = -z, t = -y, m = |x| = 2: s = 1 -> u = (1/2 + 1)/2; t = -1 -> v = 0.25
        ((2, 1, -1), 0, 0.75, 0.25),
        # -x: s = +z = -1 -> u = 0.25; t = -y = -1 -> v = 0.25
        ((-2, 1, -1), 1, 0.25, 0.25),
        # +y: s = +x = 1 -> 0.75; t = +z = -1 -> 0.25
        ((1, 2, -1), 2, 0.75, 0.25),
        # -y: s = +x = 1 -> 0.75; t = -z = 1 -> 0.75
        ((1, -2, -1), 3, 0.75, 0.75),
        # +z: s = +x = 1 -> 0.75; t = -y = 1 -> 0.75
        ((1, -1, 2), 4, 0.75, 0.75),
        # -z: s = -x = -1 -> 0.25; t = -y = 1 -> 0.75
        ((1, -1, -2), 5, 0.25, 0.75),
        # +x at its corner (-z, -y) = (1, 1) * m: u = v = 1
        ((4, -4 + 2**-20, -4 + 2**-20), 0, 1.0 - 2**-23, 1.0 - 2**-23),
    ],
)
def test_cubemap_face_table(direction, face, u, v):
    f, gu, gv = cubemap_face(np.array(direction, np.float64))
    assert gu.dtype == gv.dtype == np.float32 and f.dtype == np.int64
    assert (int(f), float(gu), float(gv)) == (face, u, v)


EDGES = [
    (major, sign, minor, minor_sign)
    for major in range(3)
    for sign in (1, -1)
    for minor in range(3)
    if minor != major
    for minor_sign in (1, -1)
]


@pytest.mark.parametrize("major, sign, minor, minor_sign", EDGES)
def test_cubemap_face_near_every_edge(major, sign, minor, minor_sign):
    # |major| = 1 beats |minor| = 0.99 on each of the 12 edges, from both sides
    d = np.zeros(3)
    d[major] = sign
    d[minor] = 0.99 * minor_sign
    face, u, v = cubemap_face(d)
    assert int(face) == 2 * major + (sign < 0)
    # the minor axis is at 0.99 of the way to the edge: (+-0.99 + 1)/2, the other at 0.5
    assert sorted([round(float(u), 5), round(float(v), 5)]) in ([0.005, 0.5], [0.5, 0.995])


def test_cubemap_face_near_edges_examples():
    # (1, 0.99, 0) -> +x: s = -z = 0 -> u = 0.5; t = -y = -0.99 -> v = 0.005
    face, u, v = cubemap_face([1, 0.99, 0])
    assert int(face) == 0 and float(u) == 0.5
    assert float(v) == pytest.approx(0.005, abs=1e-7)
    # (0.99, 1, 0) -> +y: s = +x = 0.99 -> u = 0.995; t = +z = 0 -> v = 0.5
    face, u, v = cubemap_face([0.99, 1, 0])
    assert int(face) == 2 and float(v) == 0.5
    assert float(u) == pytest.approx(0.995, abs=1e-7)


@pytest.mark.parametrize("signs", [(a, b, c) for a in (1, -1) for b in (1, -1) for c in (1, -1)])
@pytest.mark.parametrize("major", [0, 1, 2])
def test_cubemap_face_near_every_corner(signs, major):
    # the major axis at 1, the others at 0.99 and 0.98, for the 8 corners
    d = np.array(signs, np.float64) * 0.98
    d[(major + 1) % 3] *= 0.99 / 0.98
    d[major] = signs[major]
    assert int(cubemap_face(d)[0]) == 2 * major + (signs[major] < 0)


@pytest.mark.parametrize(
    "direction, face",
    [
        ((1, 1, 0), 0),  # x over y
        ((1, 0, 1), 0),  # x over z
        ((0, 1, 1), 2),  # y over z
        ((1, 1, 1), 0),
        ((-1, 1, 1), 1),
        ((0, -1, -1), 3),
        ((0.5, -1, 1), 3),
    ],
)
def test_cubemap_face_ties_are_x_over_y_over_z(direction, face):
    # The reference's documented rule for exact ties, not a measured hardware rule.
    assert int(cubemap_face(direction)[0]) == face


def test_cubemap_face_errors():
    with pytest.raises(ImageArrayValueError, match="zero direction"):
        cubemap_face([[1, 0, 0], [0, 0, 0]])
    with pytest.raises(ImageArrayValueError, match="non-finite directions"):
        cubemap_face([np.inf, 0, 0])
    with pytest.raises(ImageArrayValueError, match="last axis"):
        cubemap_face([1, 0])


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(
        np.float32,
        (8, 3),
        elements=st.floats(-1e6, 1e6, allow_subnormal=False, width=32),
    )
)
def test_cubemap_face_properties(d):
    d[np.all(d == 0, axis=1)] = (0, 0, 1)
    face, u, v = cubemap_face(d)
    axis, negative = face // 2, face % 2 == 1
    major = d[np.arange(8), axis]
    # the face's axis has the largest magnitude and the face's sign
    assert np.all(np.abs(major)[:, None] >= np.abs(d))
    assert np.all((major < 0) == negative)
    assert np.all((u >= 0) & (u <= 1) & (v >= 0) & (v <= 1))


# --------------------------------------------------------------------------- cubemap sampling


def test_spec_cubemap_example():
    # The spec's "Sampling a cubemap": 8x8 faces, texel (i, j) of face k holds
    # i + 8*(j + 8*k) in channel 0 of an rgba float4; directions (1, y, z) with
    # y = (d0/8)*1.98 - 0.99 + 1/8 and z likewise from d1 (double, then float).
    # +x face: u = (-z + 1)/2, v = (-y + 1)/2. With z = 0.2475*d1 - 0.865:
    # 8u = 7.46 - 0.99*d1 = (7 - d1) + 0.46 + 0.01*d1 -> column 7 - d1; likewise
    # row 7 - d0. Texel value (7 - d1) + 8*(7 - d0) = 63 - (8*d0 + d1): the spec's
    # expected output, N - 1 down to 0 in the order out[d0][d1].
    k, j, i = np.meshgrid(np.arange(6), np.arange(8), np.arange(8), indexing="ij")
    faces = np.zeros((6, 8, 8, 4), np.float32)
    faces[..., 0] = i + 8 * (j + 8 * k)
    d0, d1 = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    y = ((d0 / 8) * 1.98 - 0.99) + 1 / 8
    z = ((d1 / 8) * 1.98 - 0.99) + 1 / 8
    directions = np.stack([np.ones_like(y), y, z], axis=-1).astype(np.float32)
    expected = (63 - (8 * d0 + d1)).astype(np.float32)
    for filtering in ("seamless", "disjointed"):
        s = Sampler("clamp_to_edge", "normalized", "nearest", cubemap_filtering=filtering)
        got = sample_cubemap(faces, directions, s)
        assert got.shape == (8, 8, 4)
        np.testing.assert_array_equal(got[..., 0], expected)
        assert got.ravel().tolist()[::4] == [float(n) for n in range(63, -1, -1)]


def test_cubemap_each_face_and_texel_orientation():
    # 2x2 faces: face f, texel (x=i, y=j) holds 10*f + i + 2*j
    f, j, i = np.meshgrid(np.arange(6), np.arange(2), np.arange(2), indexing="ij")
    faces = (10 * f + i + 2 * j).astype(np.float32)
    # directions of test_cubemap_face_table: (u, v) = (0.75, 0.25) -> texel (1, 0),
    # (0.25, 0.25) -> (0, 0), (0.75, 0.75) -> (1, 1), (0.25, 0.75) -> (0, 1)
    directions = [(2, 1, -1), (-2, 1, -1), (1, 2, -1), (1, -2, -1), (1, -1, 2), (1, -1, -2)]
    expected = [0 + 1, 10 + 0, 20 + 1, 30 + 3, 40 + 3, 50 + 2]
    got = sample_cubemap(faces, directions, NORMALIZED)
    np.testing.assert_array_equal(got, expected)


def test_cubemap_linear_is_disjointed_clamped_to_the_face_edge():
    # +x face [[0, 1], [2, 3]] (rows y); every other face holds 100.
    faces = np.full((6, 2, 2), 100.0, np.float32)
    faces[0] = [[0, 1], [2, 3]]
    # (1, 0, -0.75): s = 0.75 -> u = 0.875 -> x = 1.75 texels; v = 0.5 -> y = 1.0.
    # xB = 1.25: i = 1, a = 64/256; tap i + 1 = 2 clamps to column 1 of +x.
    # yB = 0.5: j = 0, b = 0.5 -> 0.5*T[1,0] + 0.5*T[1,1] = 0.5*1 + 0.5*3 = 2
    for mode in ("clamp_to_edge", "clamp", "repeat"):  # address modes are ignored
        s = Sampler(mode, "normalized", "linear", border_color=(9, 9, 9, 9))
        assert float(sample_cubemap(faces, [1, 0, -0.75], s)) == 2.0
    # (1, 0, 0): u = v = 0.5 -> x = y = 1.0: xB = yB = 0.5 -> mean of the 4 = 1.5
    assert float(sample_cubemap(faces, [1, 0, 0], Sampler(filtering="linear"))) == 1.5


def test_cubemap_array_cube_index():
    # 2 cubes of 1x1 faces: cube c, face f holds 100*c + 10*f
    faces = (100 * np.arange(2)[:, None] + 10 * np.arange(6)).reshape(12, 1, 1)
    faces = faces.astype(np.float32)
    # -z is face 5: 50 + 100*c; c = 2 and c = -1 (u32 2**32 - 1) clamp to cube 1
    got = sample_cubemap(faces, [0, 0, -1], NORMALIZED, cube=[0, 1, 2, -1])
    np.testing.assert_array_equal(got, [50, 150, 150, 150])
    got = sample_cubemap(faces, [[1, 0, 0], [0, 1, 0]], NORMALIZED, cube=[[0], [1]])
    np.testing.assert_array_equal(got, [[0, 20], [100, 120]])


def test_cubemap_integer_and_normalized_channels():
    faces = np.arange(6, dtype=np.uint8).repeat(4).reshape(6, 2, 2) * 51  # face f: 51*f
    got = sample_cubemap(faces, [0, -1, 0], NORMALIZED)  # -y = face 3
    assert got.dtype == np.uint8 and int(got) == 153
    # unorm8: 153/255 = 0.6 in float32
    got = sample_cubemap(faces, [0, -1, 0], NORMALIZED, "unorm_int8")
    assert got.dtype == np.float32 and float(got) == float(np.float32(153) / np.float32(255))


def test_cubemap_seamless_nearest_equals_disjointed():
    rng = np.random.default_rng(3)
    faces = rng.random((6, 4, 4, 2)).astype(np.float32)
    directions = rng.normal(size=(100, 3)).astype(np.float32)
    seamless = Sampler(coordinates="normalized", cubemap_filtering="seamless")
    np.testing.assert_array_equal(
        sample_cubemap(faces, directions, seamless), sample_cubemap(faces, directions, NORMALIZED)
    )


def test_cubemap_errors():
    faces = np.zeros((6, 2, 2), np.float32)
    s = Sampler(coordinates="normalized", filtering="linear", cubemap_filtering="seamless")
    with pytest.raises(ImageArrayValueError, match="seamless"):
        sample_cubemap(faces, [1, 0, 0], s)
    with pytest.raises(ImageArrayValueError, match="6 \\* N"):
        sample_cubemap(np.zeros((5, 2, 2), np.float32), [1, 0, 0], NORMALIZED)
    with pytest.raises(ImageArrayValueError, match="square"):
        sample_cubemap(np.zeros((6, 2, 3), np.float32), [1, 0, 0], NORMALIZED)
    with pytest.raises(ImageArrayTypeError, match="cube must be integers"):
        sample_cubemap(faces, [1, 0, 0], NORMALIZED, cube=0.0)
    with pytest.raises(ImageArrayTypeError, match="sampler must be a Sampler"):
        sample_cubemap(faces, [1, 0, 0], None)


# --------------------------------------------------------------------------- mipmaps


def test_spec_mipmap_example():
    # The spec's "Reading a 1D mipmap": width 16, 2 levels, level0[i] = i,
    # level1[i] = i + 10 (8 texels); mirrored_repeat, normalized, nearest, nearest
    # mipmap filtering, LOD clamps [0, num_levels = 2], max anisotropy 8.
    # x = (i + 0.5)/16. px1 (gradients 0, 0 -> LOD -inf -> level 0): 16x = i + 0.5 -> i.
    # px2 (level 1): 8x = i/2 + 0.25 -> i // 2 -> i // 2 + 10. The spec's expected sum:
    # i + (j + 10) with j = i // 2.
    levels = [np.arange(16, dtype=np.float32), np.arange(8, dtype=np.float32) + 10]
    s = Sampler(
        "mirrored_repeat",
        "normalized",
        "nearest",
        mipmap_filtering="nearest",
        min_mipmap_level_clamp=0.0,
        max_mipmap_level_clamp=2.0,
        max_anisotropy=8.0,
    )
    i = np.arange(16)
    x = ((i + 0.5) / 16).astype(np.float32)[:, None]
    lod0 = lod_from_gradients(np.zeros((16, 1)), np.zeros((16, 1)), (16,), dims=1)
    px1 = sample_mipmap(levels, x, s, dims=1, level=lod0)
    px2 = sample_mipmap(levels, x, s, dims=1, level=1.0)
    np.testing.assert_array_equal(px1, i)
    np.testing.assert_array_equal(px2, i // 2 + 10)
    np.testing.assert_array_equal(px1 + px2, i + i // 2 + 10)


# Three constant levels of a width-4 mipmap: 1, 2 and 3.
CONST = [np.full(4, 1.0, np.float32), np.full(2, 2.0, np.float32), np.full(1, 3.0, np.float32)]


def mip(level, **kwargs):
    s = Sampler(coordinates="normalized", **kwargs)
    return sample_mipmap(CONST, np.full((np.size(level), 1), 0.3), s, dims=1, level=level)


@pytest.mark.parametrize(
    "clamps, level, expected",
    [
        ((0.0, 0.0), [2.0, 5.0], [1, 1]),  # the default sampler: level 0 only
        ((0.0, 1.0), [2.0, -5.0, 1.0], [2, 1, 2]),  # clamped to [0, 1]
        ((1.0, 5.0), [0.0, 9.0, 1.2], [2, 3, 2]),  # to [1, 5], then to the levels [0, 2]
        ((0.0, 2.0), [np.inf, -np.inf], [3, 1]),
        ((0.5, 2.0), [0.0], [2]),  # clamped to 0.5, which rounds half up to level 1
    ],
)
def test_mip_level_clamp(clamps, level, expected):
    got = mip(level, min_mipmap_level_clamp=clamps[0], max_mipmap_level_clamp=clamps[1])
    np.testing.assert_array_equal(got, expected)


def test_mip_nearest_rounds_half_up():
    below_half = float(np.nextafter(np.float32(0.5), np.float32(0)))  # 0.49999997
    level = [0.49, 0.5, 0.51, below_half, 1.49, 1.5, 1.999]
    # floor(l + 0.5): 0, 1, 1, 0 (not 1: float32 0.49999997 + 0.5 would round to 1), 1, 2, 2
    got = mip(level, max_mipmap_level_clamp=2.0)
    np.testing.assert_array_equal(got, [1, 2, 2, 1, 2, 3, 3])


@pytest.mark.parametrize(
    "level, expected",
    [
        (0.25, 1 + 64 / 256),  # f = 0.25 = 64/256 exactly: (1 - f)*1 + f*2
        (0.1, 1 + 26 / 256),  # 25.6 -> 26
        (0.3, 1 + 77 / 256),  # 76.8 -> 77
        (1 / 512, 1 + 1 / 256),  # 0.5/256, a tie, rounded half up
        (0.999, 2.0),  # 255.744 -> 256: all level 1
        (0.0, 1.0),
        (1.0, 2.0),
        (1.75, 2 + 192 / 256),  # between levels 1 (2) and 2 (3)
        (2.0, 3.0),  # the last level: no level 3 to blend with
        (7.0, 3.0),  # clamped to 2
    ],
)
def test_mip_linear_between_constant_levels(level, expected):
    got = mip([level], mipmap_filtering="linear", max_mipmap_level_clamp=8.0)
    assert got.dtype == np.float32 and float(got[0]) == expected


def test_mip_linear_with_linear_texels():
    levels = [np.array([0, 1, 2, 3], np.float32), np.array([10, 20], np.float32)]
    s = Sampler(
        coordinates="normalized",
        filtering="linear",
        mipmap_filtering="linear",
        max_mipmap_level_clamp=1.0,
    )
    # x = 0.5: level 0 at 2 texels: xB = 1.5 -> 0.5*1 + 0.5*2 = 1.5; level 1 at 1 texel:
    # xB = 0.5 -> 0.5*10 + 0.5*20 = 15. Level 0.5: 0.5*1.5 + 0.5*15 = 8.25
    assert float(sample_mipmap(levels, [0.5], s, dims=1, level=0.5)) == 8.25


def test_mip_2d_multichannel_and_broadcast():
    level0 = np.zeros((4, 4, 2), np.float32)
    level1 = np.arange(8, dtype=np.float32).reshape(2, 2, 2)  # texel (x, y): 4y + 2x + c
    level2 = np.full((1, 1, 2), -1.0, np.float32)
    s = Sampler(coordinates="normalized", max_mipmap_level_clamp=2.0)
    # (0.75, 0.25) on level 1 (2x2): x = 1.5 -> 1, y = 0.5 -> 0 -> level1[0, 1] = [2, 3]
    got = sample_mipmap([level0, level1, level2], [0.75, 0.25], s, dims=2, level=[0, 1, 2])
    assert got.shape == (3, 2)
    np.testing.assert_array_equal(got, [[0, 0], [2, 3], [-1, -1]])


def test_mip_channel_types():
    levels = [np.array([255, 255], np.uint8), np.array([0], np.uint8)]
    s = Sampler(coordinates="normalized", max_mipmap_level_clamp=1.0)
    got = sample_mipmap(levels, [0.5], s, dims=1, level=1.0)
    assert got.dtype == np.uint8 and int(got) == 0
    # unorm8: 1.0 and 0.0; level 0.25: 0.75*1 + 0.25*0 = 0.75
    s = Sampler(coordinates="normalized", mipmap_filtering="linear", max_mipmap_level_clamp=1.0)
    got = sample_mipmap(levels, [0.5], s, "unorm_int8", dims=1, level=0.25)
    assert got.dtype == np.float32 and float(got) == 0.75
    # uint8 blended between levels as unorm8, back in its units: 0.75 * 255 = 191.25
    got = sample_mipmap(levels, [0.5], s, dims=1, level=0.25)
    assert got.dtype == np.uint8 and int(got) == 191
    raw = sample_mipmap(levels, [0.5], s, dims=1, level=0.25, rounded=False)
    assert float(raw) == 191.25
    # 32-bit integers: no normalized read, refused
    with pytest.raises(ImageArrayValueError, match="linear mipmap filtering cannot read"):
        sample_mipmap([lv.astype(np.uint32) for lv in levels], [0.5], s, dims=1, level=0.25)


def test_mip_errors():
    s = Sampler(coordinates="normalized", max_mipmap_level_clamp=2.0)
    with pytest.raises(ImageArrayValueError, match="normalized coordinates only"):
        sample_mipmap(CONST, [1.0], Sampler(), dims=1, level=0.0)
    with pytest.raises(ImageArrayTypeError, match="list or tuple"):
        sample_mipmap(np.zeros((2, 2), np.float32), [0.5], s, dims=1, level=0.0)
    with pytest.raises(ImageArrayValueError, match="empty"):
        sample_mipmap([], [0.5], s, dims=1, level=0.0)
    with pytest.raises(ImageArrayValueError, match="level 1 has shape"):
        sample_mipmap([CONST[0], CONST[0]], [0.5], s, dims=1, level=0.0)
    with pytest.raises(ImageArrayValueError, match="at most 3"):
        sample_mipmap(CONST + [CONST[2]], [0.5], s, dims=1, level=0.0)
    with pytest.raises(ImageArrayTypeError, match="dtype"):
        sample_mipmap([CONST[0], CONST[1].astype(np.float16)], [0.5], s, dims=1, level=0.0)
    with pytest.raises(ImageArrayValueError, match="NaN"):
        sample_mipmap(CONST, [0.5], s, dims=1, level=np.nan)
    with pytest.raises(ImageArrayTypeError, match="level must be real"):
        sample_mipmap(CONST, [0.5], s, dims=1, level="1")
    with pytest.raises(ImageArrayValueError, match="does not broadcast"):
        sample_mipmap(CONST, [[0.5], [0.5]], s, dims=1, level=[0.0, 1.0, 2.0])


# --------------------------------------------------------------------------- LOD


@pytest.mark.parametrize("k", [0, 1, 2, 3, 4])
def test_lod_of_power_of_two_gradients(k):
    # a gradient of 2**k texels of a 16-texel level 0 is 2**k / 16 in normalized units
    g = 2**k / 16
    assert float(lod_from_gradients([g], [0.0], (16,), dims=1)) == k
    assert float(lod_from_gradients([0.0, 0.0], [0.0, g], (16, 16), dims=2)) == k
    assert float(lod_from_gradients([0, 0, g], [g / 2, 0, 0], (16, 16, 16), dims=3)) == k


def test_lod_cases():
    got = lod_from_gradients(
        [[0.0, 0.0], [3 / 16, 4 / 16], [0.0, 0.5], [1 / 16, 0.0]],
        [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 4 / 16]],
        (16, 4),
        dims=2,
    )
    # zero -> log2(0) = -inf; (3, 1) texels -> length sqrt(9 + 1) -> log2(sqrt(10));
    # 0.5 of height 4 = 2 texels -> 1; max(1 texel, 1 texel of y) -> 0
    np.testing.assert_array_equal(got, np.float32([-np.inf, np.log2(np.sqrt(10)), 1.0, 0.0]))


def test_lod_errors():
    with pytest.raises(ImageArrayValueError, match="sizes must be 2"):
        lod_from_gradients([0, 0], [0, 0], (16,), dims=2)
    with pytest.raises(ImageArrayValueError, match="sizes must be 1"):
        lod_from_gradients([0], [0], (0,), dims=1)
    with pytest.raises(ImageArrayValueError, match="sizes must be 1"):
        lod_from_gradients([0], [0], (4.0,), dims=1)
    assert float(lod_from_gradients([0.5], [0], np.array([4]), dims=1)) == 1.0  # 2 texels
    with pytest.raises(ImageArrayValueError, match="non-finite gradients"):
        lod_from_gradients([np.nan], [0], (4,), dims=1)
    with pytest.raises(ImageArrayValueError, match="do not broadcast"):
        lod_from_gradients([[0]] * 2, [[0]] * 3, (4,), dims=1)


# --------------------------------------------------------------------------- box pyramid


@pytest.mark.parametrize(
    "n, weights",
    [
        (1, [[1]]),  # m = 1: itself
        (2, [[1 / 2, 1 / 2]]),
        (3, [[1 / 3, 1 / 3, 1 / 3]]),  # m = 1: mean of all 3
        (4, [[1 / 2, 1 / 2, 0, 0], [0, 0, 1 / 2, 1 / 2]]),
        # m = 2, r = 2.5: (x0 + x1 + 0.5 x2)/2.5 and (0.5 x2 + x3 + x4)/2.5
        (5, [[2 / 5, 2 / 5, 1 / 5, 0, 0], [0, 0, 1 / 5, 2 / 5, 2 / 5]]),
        (6, [[1 / 2, 1 / 2, 0, 0, 0, 0], [0, 0, 1 / 2, 1 / 2, 0, 0], [0, 0, 0, 0, 1 / 2, 1 / 2]]),
        # m = 3, r = 7/3: [0, 7/3) holds x0, x1 and 1/3 of x2 -> (1, 1, 1/3)/(7/3);
        # [7/3, 14/3) holds 2/3 of x2, x3, 2/3 of x4 -> (2, 3, 2)/7; [14/3, 7) mirrors out0
        (
            7,
            [
                [3 / 7, 3 / 7, 1 / 7, 0, 0, 0, 0],
                [0, 0, 2 / 7, 3 / 7, 2 / 7, 0, 0],
                [0, 0, 0, 0, 1 / 7, 3 / 7, 3 / 7],
            ],
        ),
    ],
)
def test_box_weights(n, weights):
    got = box_weights(n)
    assert got.dtype == np.float64 and got.shape == (max(1, n // 2), n)
    np.testing.assert_array_equal(got, weights)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-15)


@pytest.mark.parametrize("n", [0, -1, True, 2.0])
def test_box_weights_errors(n):
    with pytest.raises(ImageArrayValueError, match="positive integer"):
        box_weights(n)


def test_box_pyramid_float_5x4():
    # width 5, height 4 (NumPy shape (4, 5)) -> (2, 2) -> (1, 1): 3 levels
    data = np.array(
        [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [0, 0, 0, 0, 0], [5, 0, 5, 0, 5]], np.float32
    )
    levels = box_pyramid(data, 3, dims=2)
    assert levels[0] is data
    # along x (n = 5): out0 = (2 x0 + 2 x1 + x2)/5, out1 = (x2 + 2 x3 + 2 x4)/5
    #   row 0: (2 + 4 + 3)/5 = 1.8, (3 + 8 + 10)/5 = 4.2
    #   row 1: (12 + 14 + 8)/5 = 6.8, (8 + 18 + 20)/5 = 9.2
    #   row 2: 0, 0; row 3: (10 + 0 + 5)/5 = 3, (5 + 0 + 10)/5 = 3
    # along y (n = 4): means of rows 0-1 and 2-3: [4.3, 6.7], [1.5, 1.5]
    np.testing.assert_array_equal(levels[1], np.array([[4.3, 6.7], [1.5, 1.5]], np.float32))
    # level 2 from the stored level 1: float32(4.3) + float32(6.7) = 11 exactly
    # (4.3000002 + 6.6999998), so (11 + 1.5 + 1.5)/4 = 3.5
    np.testing.assert_array_equal(levels[2], np.array([[3.5]], np.float32))
    assert [level.dtype for level in levels] == [np.float32] * 3


def test_box_pyramid_uint8_3x3():
    data = np.array([[10, 20, 30], [40, 50, 60], [70, 80, 255]], np.uint8)
    levels = box_pyramid(data, 2, dims=2)
    # n = 3 -> m = 1 on both axes: mean of all 9 = 615/9 = 68.33 -> 68
    assert levels[1].dtype == np.uint8
    np.testing.assert_array_equal(levels[1], [[68]])
    with pytest.raises(ImageArrayValueError, match="1 to 2 mip levels"):
        box_pyramid(data, 3, dims=2)


def test_box_pyramid_rounds_half_to_even_from_the_stored_level():
    # pairs average to 0.5, 1.5, 2.5, 3.5 -> rint: 0, 2, 2, 4
    data = np.array([0, 1, 1, 2, 2, 3, 3, 4], np.uint8)
    levels = box_pyramid(data, 4, dims=1)
    assert [level.tolist() for level in levels[1:]] == [[0, 2, 2, 4], [1, 3], [2]]
    # [1, 2, 3, 4]: level 1 = [1.5 -> 2, 3.5 -> 4], level 2 = 3 from the stored level 1
    # (from level 0 directly it would be 2.5 -> 2)
    assert box_pyramid(np.array([1, 2, 3, 4], np.uint8), 3, dims=1)[2].tolist() == [3]
    # signed: -2.5 -> -2, -0.5 -> -0
    assert box_pyramid(np.array([-3, -2, -1, 0], np.int8), 2, dims=1)[1].tolist() == [-2, 0]


def test_box_pyramid_channels_and_shapes():
    data = np.zeros((3, 7, 2), np.float16)  # height 3, width 7, 2 channels
    data[..., 1] = 4.0
    data[0, :, 0] = [0, 7, 7, 0, 0, 0, 0]
    levels = box_pyramid(data, 3, dims=2)
    assert [level.shape for level in levels] == [(3, 7, 2), (1, 3, 2), (1, 1, 2)]
    # channel 0: x (n = 7): (3*0 + 3*7 + 1*7)/7 = 4, (2*7 + 0 + 0)/7 = 2, 0 for row 0;
    # rows 1 and 2 are 0; y (n = 3): mean of 3 rows: 4/3, 2/3, 0 -> float16
    # channel 1 stays 4 everywhere: channels are filtered independently
    np.testing.assert_array_equal(
        levels[1][..., 0], np.array([[4 / 3, 2 / 3, 0.0]]).astype(np.float16)
    )
    np.testing.assert_array_equal(levels[1][..., 1], np.full((1, 3), 4.0, np.float16))
    # level 2 from the stored float16 level 1: x (n = 3) mean
    expected = (np.float64(np.float16(4 / 3)) + np.float64(np.float16(2 / 3))) / 3
    assert levels[2][0, 0, 0] == np.float16(expected)


def test_box_pyramid_3d_and_sampled():
    data = np.arange(2 * 4 * 8, dtype=np.float32).reshape(2, 4, 8)  # depth 2, height 4, width 8
    levels = box_pyramid(data, 4, dims=3)
    assert [level.shape for level in levels] == [(2, 4, 8), (1, 2, 4), (1, 1, 2), (1, 1, 1)]
    # a linear image averages to its value at the box centre: level 1 texel (x, y, 0)
    # is the mean of texels (2x..2x+1, 2y..2y+1, 0..1): 32*0.5 + 8*(2y + 0.5) + (2x + 0.5)
    np.testing.assert_array_equal(levels[1][0, 1, 2], 16 + 8 * 2.5 + 4.5)
    # the mean of all 64 = 31.5
    assert float(levels[3][0, 0, 0]) == 31.5
    s = Sampler(coordinates="normalized", max_mipmap_level_clamp=3.0)
    got = sample_mipmap(levels, [0.9, 0.9, 0.9], s, dims=3, level=3.0)
    assert float(got) == 31.5


def test_box_pyramid_errors():
    with pytest.raises(ImageArrayValueError, match="num_levels"):
        box_pyramid(np.zeros(4, np.float32), 0, dims=1)
    with pytest.raises(ImageArrayValueError, match="num_levels"):
        box_pyramid(np.zeros(4, np.float32), 2.0, dims=1)
    with pytest.raises(ImageArrayTypeError):
        box_pyramid(np.zeros(4, np.float64), 1, dims=1)
    with pytest.raises(ImageArrayTypeError):
        box_pyramid(np.zeros(4, np.uint8), 1, dims=1, channel_type="fp32")
    assert len(box_pyramid(np.zeros(1, np.uint8), 1, dims=1)) == 1


@st.composite
def _constant_images(draw):
    dims = draw(st.integers(1, 3))
    extents = draw(st.lists(st.integers(1, 9), min_size=dims, max_size=dims))
    channels = draw(st.sampled_from([None, 1, 2, 4]))
    dtype = np.dtype(draw(st.sampled_from(["float32", "float16", "uint8", "int16", "uint32"])))
    if dtype.kind == "f":
        value = draw(st.floats(-1e4, 1e4, width=16 if dtype.itemsize == 2 else 32))
    else:
        info = np.iinfo(dtype)
        value = draw(st.integers(int(info.min), int(info.max)))
    shape = tuple(extents) + ((channels,) if channels else ())
    return np.full(shape, value, dtype), dims


@settings(max_examples=100, deadline=None)
@given(image=_constant_images())
def test_box_pyramid_of_a_constant_image_is_constant(image):
    data, dims = image
    most = max(data.shape[:dims]).bit_length()
    levels = box_pyramid(data, most, dims=dims)
    for index, level in enumerate(levels):
        assert level.dtype == data.dtype
        assert level.shape[:dims] == tuple(max(1, n >> index) for n in data.shape[:dims])
        np.testing.assert_array_equal(level, np.full(level.shape, data.flat[0], data.dtype))


def test_face_directions_invert_cubemap_face():
    # the GPU cubemap tests build their directions with tests/_cubemap.face_directions
    from _cubemap import face_directions

    rng = np.random.default_rng(6)
    u, v = rng.uniform(0.01, 0.99, (2, 500))
    for f in range(6):
        face, gu, gv = cubemap_face(face_directions(f, u, v))
        np.testing.assert_array_equal(face, f)
        np.testing.assert_allclose(gu, u, rtol=0, atol=1e-6)
        np.testing.assert_allclose(gv, v, rtol=0, atol=1e-6)
