"""ImageArray indexing logic, checked against NumPy without a GPU.

A read of ``img[key]`` copies the bounding box of the selection from the image and
indexes it with a relative key. Here the "image" is a NumPy array: the box is cut
out with plain slices exactly as the copy would, and the result must equal NumPy's
``a[key]`` for every key.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import imagearray as ia
from imagearray._image_array import ImageArray, _axis_map


def fake(desc):
    return ImageArray._make(None, None, desc)


def read_via_box(img, a, key):
    norm = img._normalize(key)
    assert norm is not None
    expanded, per_axis = norm
    if any(n == 0 for *_, n, _ in per_axis):
        return None
    lo, ext, rel = img._bbox(per_axis)
    # what the copy of box (lo, ext) in texture order yields, in host order
    cut = tuple(slice(lo[ax], lo[ax] + ext[ax]) for ax in img._axes)
    buf = a[cut]
    assert buf.shape == img._box_shape(ext)
    return buf[img._relative_key(expanded, per_axis, rel)]


DESCS = [
    ia.ImageDescriptor(13),
    ia.ImageDescriptor(11, 7, channel_order="rgba", channel_type="fp32"),
    ia.ImageDescriptor(5, 4, 3),
    ia.ImageDescriptor(6, 5, 3, channel_order="rg", channel_type="fp32"),
    ia.ImageDescriptor(9, type="array", array_size=3),
    ia.ImageDescriptor(6, 5, type="array", array_size=4, channel_order="rgba"),
    ia.ImageDescriptor(4, 4, type="cubemap", array_size=6),
]


def test_axis_map():
    assert _axis_map(DESCS[0]) == [0]
    assert _axis_map(DESCS[1]) == [1, 0]
    assert _axis_map(DESCS[2]) == [2, 1, 0]
    assert _axis_map(DESCS[4]) == [2, 0]
    assert _axis_map(DESCS[5]) == [2, 1, 0]
    assert _axis_map(DESCS[6]) == [2, 1, 0]


@pytest.mark.parametrize(
    "key",
    [
        (slice(1, 5), slice(2, 9)),
        (3,),
        (-1, slice(None, None, -2)),
        (Ellipsis, 2),
        (slice(None), None, slice(1, 3)),
        (slice(10, 20),),  # clipped like NumPy
        (slice(None, None, 3), slice(-3, None)),
        (1, 2, 3),
    ],
)
def test_examples_2d_rgba(key):
    desc = DESCS[1]
    a = np.arange(np.prod(desc.host_shape)).reshape(desc.host_shape)
    got = read_via_box(fake(desc), a, key)
    want = a[key]
    if got is None:
        assert want.size == 0
    else:
        np.testing.assert_array_equal(got, want)


def test_out_of_range_and_too_many():
    img = fake(DESCS[1])
    with pytest.raises(IndexError, match="out of bounds for axis 0 with size 7"):
        img._normalize((7,))
    with pytest.raises(IndexError, match="out of bounds for axis 1 with size 11"):
        img._normalize((0, -12))
    with pytest.raises(IndexError, match="too many indices"):
        img._normalize((0, 0, 0, 0))
    with pytest.raises(IndexError, match="single ellipsis"):
        img._normalize((Ellipsis, Ellipsis))
    assert img._normalize(([0, 1],)) is None  # advanced indexing takes the other path


def _index(size):
    return st.one_of(
        st.integers(-size, size - 1),
        st.builds(
            slice,
            st.one_of(st.none(), st.integers(-size - 2, size + 2)),
            st.one_of(st.none(), st.integers(-size - 2, size + 2)),
            st.one_of(st.none(), st.integers(-4, 4).filter(lambda s: s != 0)),
        ),
    )


@st.composite
def desc_and_key(draw):
    desc = draw(st.sampled_from(DESCS))
    shape = desc.host_shape
    n = draw(st.integers(0, len(shape)))
    key = [draw(_index(shape[i])) for i in range(n)]
    if draw(st.booleans()) and n < len(shape):
        key.insert(draw(st.integers(0, len(key))), Ellipsis)
    if draw(st.booleans()):
        key.insert(draw(st.integers(0, len(key))), None)
    return desc, tuple(key)


@settings(max_examples=400, deadline=None)
@given(desc_and_key())
def test_box_read_matches_numpy(dk):
    desc, key = dk
    a = np.arange(np.prod(desc.host_shape)).reshape(desc.host_shape)
    try:
        want = a[key]
    except IndexError:
        with pytest.raises(IndexError):
            fake(desc)._normalize(key)
        return
    got = read_via_box(fake(desc), a, key)
    if got is None:
        assert want.size == 0
    else:
        np.testing.assert_array_equal(got, want)
