"""ImageArray indexing logic, checked against NumPy without a GPU.

A read of ``img[key]`` copies the bounding box of the selection from the image and
indexes it with a relative key. Here the "image" is a NumPy array: the box is cut
out with plain slices exactly as the copy would, and the result must equal NumPy's
``a[key]`` for every key.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from _memcpy_sim import Memcpy3DSim
from hypothesis import given, settings
from hypothesis import strategies as st

import imagearray as ia
import imagearray.array.image_array as ia_image_array
from imagearray.array import ImageArray, indexing
from imagearray.memory.view import axis_map as _axis_map


def fake(desc):
    return ImageArray._make(None, None, desc)


def read_via_box(img, a, key):
    norm = indexing.normalize(img, key)
    assert norm is not None
    expanded, per_axis = norm
    if any(n == 0 for *_, n, _ in per_axis):
        return None
    lo, ext, rel = indexing.bbox(img, per_axis)
    # what the copy of box (lo, ext) in texture order yields, in host order
    cut = tuple(slice(lo[ax], lo[ax] + ext[ax]) for ax in img._axes)
    buf = a[cut]
    assert buf.shape == img._box_shape(ext)
    return buf[indexing.relative_key(expanded, per_axis, rel)]


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
        indexing.normalize(img, (7,))
    with pytest.raises(IndexError, match="out of bounds for axis 1 with size 11"):
        indexing.normalize(img, (0, -12))
    with pytest.raises(IndexError, match="too many indices"):
        indexing.normalize(img, (0, 0, 0, 0))
    with pytest.raises(IndexError, match="single ellipsis"):
        indexing.normalize(img, (Ellipsis, Ellipsis))
    assert indexing.normalize(img, ([0, 1],)) is None  # advanced indexing takes the other path


def _index(size, steps=None):
    """An int or a slice for an axis of ``size`` (steps: any nonzero in -4..4)."""
    if steps is None:
        steps = st.one_of(st.none(), st.integers(-4, 4).filter(lambda s: s != 0))
    return st.one_of(
        st.integers(-size, size - 1),
        st.builds(
            slice,
            st.one_of(st.none(), st.integers(-size - 2, size + 2)),
            st.one_of(st.none(), st.integers(-size - 2, size + 2)),
            steps,
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
            indexing.normalize(fake(desc), key)
        return
    got = read_via_box(fake(desc), a, key)
    if got is None:
        assert want.size == 0
    else:
        np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------ copies, simulated
#
# get(), set() and __setitem__ with host data build their copy plans themselves
# (ImageArray._region). Here the plans run on the NumPy model of cuMemcpy3D
# (tests/_memcpy_sim.py) instead of a GPU: the CUDA calls around them (device
# switch, stream lookup, the copy) are replaced, the plan is not.


class _FakeHandle:
    def __init__(self, raw, desc):
        self._raw, self.desc, self.device, self.alive = raw, desc, 0, True

    def raw(self):
        return self._raw


class _Done:
    done = True

    def synchronize(self):
        pass


@pytest.fixture
def sim(monkeypatch):
    import cupy

    s = Memcpy3DSim()
    monkeypatch.setattr(cupy.cuda, "Device", lambda *a: contextlib.nullcontext())
    monkeypatch.setattr(cupy.cuda.runtime, "getDevice", lambda: 0)
    monkeypatch.setattr(ia_image_array, "current_stream", lambda *a: 0)

    def execute(plan, stream, device, record=True):
        assert plan.src_device in (None, device) and plan.dst_device in (None, device)
        s.run(plan)
        return _Done()

    monkeypatch.setattr(ia_image_array, "execute", execute)
    monkeypatch.setattr(ImageArray, "_region", _registering(s))
    return s


def _registering(s):
    """ImageArray._region, unchanged, that first shows its host buffer to the model."""
    region = ImageArray._region

    def spy(self, lo, ext, buf, buf_kind, to_image, stream, record=True):
        if buf_kind == "host":
            s.add_external(0, buf)
        return region(self, lo, ext, buf, buf_kind, to_image, stream, record)

    return spy


def sim_image(sim, desc):
    """(ImageArray over a simulated CUDA array, NumPy view of that array's texels)."""
    t = desc.type
    if t.is_cubemap or t.is_layered:
        w, h, d, layered = desc.width, desc.height, desc.num_layers, True
    else:
        w, h, d, layered = desc.width, desc.height, desc.depth, False
    raw = sim.add_array(w, h, d, desc.texel_size, layered=layered)
    img = ImageArray._make(None, _FakeHandle(raw, desc), desc)
    return img, sim.array_bytes(raw).view(desc.dtype).reshape(desc.host_shape)


SIM_DESCS = DESCS + [
    ia.ImageDescriptor(5, 3, channel_order="rg", channel_type="unsigned_int8"),
    ia.ImageDescriptor(7, type="array", array_size=3, channel_order="rgba", channel_type="fp16"),
    ia.ImageDescriptor(3, 3, type="cubemap_array", array_size=2, channel_type="signed_int16"),
]


@pytest.mark.parametrize("desc", SIM_DESCS, ids=str)
def test_get_and_set_whole_and_views(sim, desc):
    img, mem = sim_image(sim, desc)
    np.testing.assert_array_equal(img.get(), mem)
    new = np.random.default_rng(1).integers(0, 100, mem.shape).astype(desc.dtype)
    img.set(new)
    np.testing.assert_array_equal(mem, new)
    if desc.type.is_layered or desc.type.is_cubemap:
        n = mem.shape[0]
        view = img.face(n - 1) if desc.type.is_cubemap else img.layer(-1)
        assert view.shape == mem.shape[1:]
        np.testing.assert_array_equal(view.get(), mem[n - 1])
        before = mem.copy()
        part = np.full(view.shape, 7, desc.dtype)
        view.set(part)
        before[n - 1] = 7
        np.testing.assert_array_equal(mem, before)  # the other layers are untouched


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_setitem_host_values_match_numpy(data):
    """img[key] = host value, for keys whose selection is a box (unit steps): the
    written texels are NumPy's ``a[key] = value``, the others unchanged."""
    import cupy

    sim = Memcpy3DSim()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cupy.cuda, "Device", lambda *a: contextlib.nullcontext())
        mp.setattr(cupy.cuda.runtime, "getDevice", lambda: 0)
        mp.setattr(ia_image_array, "current_stream", lambda *a: 0)
        mp.setattr(
            ia_image_array, "execute", lambda plan, s, d, r=True: (sim.run(plan), _Done())[1]
        )
        mp.setattr(ImageArray, "_region", _registering(sim))
        desc = data.draw(st.sampled_from(SIM_DESCS))
        img, mem = sim_image(sim, desc)
        shape = desc.host_shape
        n_img = len(img._axes)
        key = [data.draw(_index(shape[i], st.sampled_from([None, 1]))) for i in range(n_img)]
        key = key[: data.draw(st.integers(0, n_img))]
        if data.draw(st.booleans()) and len(key) < len(shape):
            # (a leading Ellipsis would move the keys onto the channel axis: a read-
            # modify-write on the GPU, not this test's direct path)
            at = data.draw(st.integers(0, len(key))) if img.channels == 1 else len(key)
            key.insert(at, Ellipsis)
        if data.draw(st.booleans()):
            key.insert(data.draw(st.integers(0, len(key))), None)
        key = tuple(key)
        ref = mem.copy()
        try:
            sel_shape = ref[key].shape
        except IndexError:  # (an Ellipsis moved a key onto a shorter axis)
            with pytest.raises(IndexError):
                img[key] = 0
            return
        value = (
            desc.dtype.type(data.draw(st.integers(0, 100)))
            if data.draw(st.booleans())
            else np.random.default_rng(2).integers(0, 100, sel_shape).astype(desc.dtype)
        )
        ref[key] = value
        img[key] = value
        np.testing.assert_array_equal(mem, ref)


# ------------------------------------------------ the plain-slice fast path (issue 21)


def _view_state(v):
    return (v._origin, v._vdesc, v._shape, v._sel, list(v._axes), v._is_region)


@st.composite
def plain_keys(draw):
    desc = draw(st.sampled_from(DESCS))
    img = fake(desc)
    bound = st.one_of(st.none(), st.integers(-15, 15))
    n = draw(st.integers(1, len(img._axes)))
    key = tuple(slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1]))) for _ in range(n))
    return desc, key


@settings(max_examples=300, deadline=None)
@given(plain_keys())
def test_plain_slices_give_the_view_the_general_path_gives(case):
    desc, key = case
    img = fake(desc)
    fast = indexing.plain_box(img, key)
    if fast is None:  # an empty box: the general path's
        assert any(len(range(*k.indices(n))) == 0 for k, n in zip(key, img.shape))
        return
    general = img[(*key, Ellipsis)]  # an Ellipsis takes the general path
    assert _view_state(img[key]) == _view_state(general)
    # and what the view shows is NumPy's a[key]
    a = np.arange(int(np.prod(img.shape))).reshape(img.shape)
    cut = tuple(slice(fast[0][ax], fast[0][ax] + fast[1][ax]) for ax in img._axes)
    np.testing.assert_array_equal(a[cut], a[key])


def test_other_keys_are_not_plain():
    img = fake(DESCS[1])
    for key in [(slice(0, 4, 2),), (1, slice(None)), (slice(0, 2), slice(0, 2), 0)]:
        assert indexing.plain_box(img, key) is None
    assert indexing.plain_box(img, (slice(0, 3), slice(1, 2), slice(0, 2))) is None
    assert indexing.plain_box(img, (slice(3, 3),)) is None  # empty
    assert indexing.plain_box(img, (slice("a", 3),)) is None  # the general path reports it
    with pytest.raises(ia.ImageArrayTypeError):
        img[slice("a", 3), :]


def test_regions_of_one_shape_share_their_descriptor():
    img = fake(DESCS[1])
    a, b = img[0:4, 0:5], img[2:6, 3:8]
    assert a._vdesc is b._vdesc and a._origin != b._origin
    assert a._vdesc == ia.ImageDescriptor(5, 4, channel_order="rgba", channel_type="fp32")
    assert img[0:4, 0:6]._vdesc is not a._vdesc
