"""The "CuPy citizen" API without a GPU: the shape rule of the factories, the casting
rule of writes, what indexing returns (views and copies) and the array protocols.

Images here are ``ImageArray`` objects over no GPU memory: "fake" images (a handle
that is alive, no memory behind it) for what needs no copy, and images over the NumPy
model of ``cuMemcpy3D`` (tests/_memcpy_sim.py, as in test_image_array_index.py) for
reads and writes through host buffers: the copy plans are the real ones, only the
CUDA calls around them are replaced. Expected values come from NumPy.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
from _memcpy_sim import Memcpy3DSim
from hypothesis import given, settings
from hypothesis import strategies as st

import imagearray as ia
import imagearray.array.image_array as ia_image_array
from imagearray._coerce import check_cast
from imagearray.array import ImageArray
from imagearray.array.factories import _make_desc, split_shape

# ------------------------------------------------------------------ the shape rule


@pytest.mark.parametrize(
    ("shape", "channels", "layered", "cubemap", "want"),
    [
        # channels given: the last axis must be it when > 1
        ((480, 640, 4), 4, False, False, ((480, 640), 4, None)),
        ((480, 640, 2), 2, False, False, ((480, 640), 2, None)),
        ((480, 640, 4), 1, False, False, ((480, 640, 4), 1, None)),  # a volume 4 wide
        ((100,), 1, False, False, ((100,), 1, None)),
        ((100, 2), 2, False, False, ((100,), 2, None)),  # 1D, two channels
        ((100, 4), 1, False, False, ((100, 4), 1, None)),
        ((8, 7, 6, 4), 4, False, False, ((8, 7, 6), 4, None)),
        ((8, 7, 6, 1), 1, False, False, ((8, 7, 6), 1, None)),  # 4 axes: last is channels
        ((5, 64, 64), 1, True, False, ((64, 64), 1, 5)),
        ((5, 64, 4), 4, True, False, ((64,), 4, 5)),  # 1D layered RGBA
        ((6, 16, 16, 4), 4, False, True, ((16, 16), 4, None)),
        ((12, 16, 16), 1, True, True, ((16, 16), 1, 2)),
        # channels left out: 1-2 axes are never channels
        ((100,), None, False, False, ((100,), 1, None)),
        ((64, 4), None, False, False, ((64, 4), 1, None)),
        ((480, 640), None, False, False, ((480, 640), 1, None)),
        # three axes not ending in 1, 2 or 4: a volume
        ((5, 6, 3), None, False, False, ((5, 6, 3), 1, None)),
        ((5, 6, 7), None, False, False, ((5, 6, 7), 1, None)),
        ((2, 2, 8), None, False, False, ((2, 2, 8), 1, None)),
        # four axes: the last is channels
        ((2, 3, 5, 4), None, False, False, ((2, 3, 5), 4, None)),
        ((2, 3, 5, 2), None, False, False, ((2, 3, 5), 2, None)),
        ((2, 3, 5, 1), None, False, False, ((2, 3, 5), 1, None)),
        # layered: the leading axis is layers, then 1-2 axes, then channels
        ((5, 64, 64), None, True, False, ((64, 64), 1, 5)),
        ((5, 64, 64, 4), None, True, False, ((64, 64), 4, 5)),
        ((5, 100), None, True, False, ((100,), 1, 5)),
        ((5, 64, 4), None, True, False, ((64, 4), 1, 5)),  # two axes: never channels
        # cubemap: 6 faces; with layered, 6 * N
        ((6, 16, 16), None, False, True, ((16, 16), 1, None)),
        ((6, 16, 16, 4), None, False, True, ((16, 16), 4, None)),
        ((6, 16, 16), None, True, True, ((16, 16), 1, 1)),
        ((18, 8, 8, 2), None, True, True, ((8, 8), 2, 3)),
        # NumPy integers are ints
        ((np.int64(4), np.uint16(5)), np.int32(1), False, False, ((4, 5), 1, None)),
    ],
)
def test_split_shape(shape, channels, layered, cubemap, want):
    got = split_shape(shape, channels, layered, cubemap)
    assert got == want
    assert all(type(n) is int for n in got[0]) and type(got[1]) is int


@pytest.mark.parametrize("last", [1, 2, 4])
@pytest.mark.parametrize("lead", [(480, 640), (3, 3), (1, 1)])
def test_split_shape_refuses_ambiguous_three_axes(lead, last):
    """(480, 640, 4): a 2D RGBA image or a volume 4 texels wide; never guessed."""
    shape = (*lead, last)
    with pytest.raises(ia.ImageArrayValueError) as exc:
        split_shape(shape, None, False, False)
    assert f"channels={last}" in str(exc.value) and "channels=1" in str(exc.value)
    assert str(shape) in str(exc.value)
    # either reading, asked for, is taken
    assert split_shape(shape, last, False, False) == (
        (lead, last, None) if last > 1 else (shape, 1, None)
    )
    assert split_shape(shape, 1, False, False) == (shape, 1, None)


@pytest.mark.parametrize(
    ("shape", "channels", "layered", "cubemap", "words"),
    [
        ((480, 640), 4, False, False, "channels=4"),
        ((480, 640, 3), 4, False, False, "channels=4"),
        ((480, 640, 4), 2, False, False, "channels=2"),
        ((8, 7, 6, 4), 1, False, False, "channels=1"),  # 4 axes: the last must be 1
        ((5, 64, 64, 2), 4, True, False, "channels=4"),
        ((5, 16, 16), None, False, True, "6 faces"),
        ((7, 16, 16), None, False, True, "6 faces"),
        ((12, 16, 16), None, False, True, "6 faces"),  # 12 faces need layered=True
        ((9, 16, 16), None, True, True, "6*N"),
        ((), None, True, False, "leading layer axis"),
        ((), None, False, True, "leading layer axis"),
    ],
)
def test_split_shape_refuses(shape, channels, layered, cubemap, words):
    with pytest.raises(ia.ImageArrayValueError, match=words.replace("*", r"\*")):
        split_shape(shape, channels, layered, cubemap)


@pytest.mark.parametrize(
    ("shape", "index"),
    [((None, 4), 0), ((4, 1.5), 1), ((4, 4, "4"), 2), ((True, 4), 0), ((4, 4, 4, 4.0), 3)],
)
def test_split_shape_bad_items_name_the_axis(shape, index):
    with pytest.raises(ia.ImageArrayTypeError, match=rf"shape\[{index}\]"):
        split_shape(shape, None, False, False)


def test_split_shape_bad_channels():
    with pytest.raises(ia.ImageArrayTypeError, match="channels"):
        split_shape((4, 4, 4), 4.0, False, False)


IMAGE_DTYPES = [
    np.dtype(t)
    for t in (np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32, np.float16, np.float32)
]

KINDS = ["1d", "2d", "3d", "layered1d", "layered2d", "cubemap", "cubemap_array"]


@st.composite
def image_shapes(draw):
    """(shape, dtype, channels, layered, cubemap, levels, normalized, expected type) of
    a valid image, the shape in NumPy order as img.shape gives it."""
    kind = draw(st.sampled_from(KINDS))
    size = st.integers(1, 33)
    if kind in ("cubemap", "cubemap_array"):
        s = draw(size)
        spatial = (s, s)
    else:
        spatial = tuple(draw(size) for _ in range(int(kind[-2])))
    layered = kind.startswith("layered") or kind == "cubemap_array"
    cubemap = kind.startswith("cubemap")
    lead: tuple[int, ...] = ()
    if kind == "cubemap":
        lead = (6,)
    elif kind == "cubemap_array":
        lead = (6 * draw(st.integers(1, 3)),)
    elif layered:
        lead = (draw(st.integers(2, 5)),)  # ARRAY types have more than one layer
    channels = draw(st.sampled_from([1, 2, 4]))
    dtype = draw(st.sampled_from(IMAGE_DTYPES))
    normalized = dtype.kind in "iu" and dtype.itemsize <= 2 and draw(st.booleans())
    full_chain = int(math.log2(max(spatial))) + 1
    levels = 1
    if kind != "cubemap_array" and full_chain > 1 and draw(st.booleans()):
        levels = draw(st.integers(2, full_chain))
    shape = lead + spatial + ((channels,) if channels > 1 else ())
    if cubemap:
        want = "cubemap_array" if layered else ("mipmap_cubemap" if levels > 1 else "cubemap")
    elif layered:
        want = "mipmap_array" if levels > 1 else "array"
    else:
        want = "mipmap" if levels > 1 else "standard"
    return shape, dtype, channels, layered, cubemap, levels, normalized, want


@settings(max_examples=400, deadline=None)
@given(image_shapes())
def test_make_desc_round_trips_the_shape(case):
    """ia.empty(img.shape, img.dtype, channels=img.channels, ...) has img.shape."""
    shape, dtype, channels, layered, cubemap, levels, normalized, want = case
    desc = _make_desc(shape, dtype, channels, layered, cubemap, levels, normalized)
    assert desc.host_shape == shape
    assert desc.num_channels == channels
    assert desc.dtype == dtype
    assert desc.num_levels == levels
    assert desc.type.value == want
    assert desc.channel_type.is_normalized == normalized
    # as a list, and (1D) as an int, the same
    assert _make_desc(list(shape), dtype, channels, layered, cubemap, levels, normalized) == desc
    if len(shape) == 1:
        assert _make_desc(shape[0], dtype, None, False, False, levels, normalized) == desc


@settings(max_examples=400, deadline=None)
@given(image_shapes())
def test_make_desc_without_channels_round_trips_or_refuses(case):
    """Without channels=, a shape reads back as itself, unless it has three axes after
    any layer axis ending in 1, 2 or 4 (non-layered): that is refused."""
    shape, dtype, _, layered, cubemap, levels, normalized, _ = case
    if not (layered or cubemap) and len(shape) == 3 and shape[-1] in (1, 2, 4):
        with pytest.raises(ia.ImageArrayValueError, match="channels=1"):
            _make_desc(shape, dtype, None, layered, cubemap, levels, normalized)
        return
    desc = _make_desc(shape, dtype, None, layered, cubemap, levels, normalized)
    assert desc.host_shape == shape


# ------------------------------------------------------------------ the casting rule

SOURCE_DTYPES = IMAGE_DTYPES + [
    np.dtype(t) for t in (np.float64, np.int64, np.uint64, np.bool_, np.complex64, np.complex128)
]


@pytest.mark.parametrize("dst", IMAGE_DTYPES, ids=str)
@pytest.mark.parametrize("src", SOURCE_DTYPES, ids=str)
def test_check_cast_arrays_and_numpy_scalars_follow_same_kind(src, dst):
    allowed = np.can_cast(src, dst, "same_kind")
    for value in (np.zeros(3, src), np.zeros((), src), src.type(0)):
        if allowed:
            check_cast(value, dst)
        else:
            with pytest.raises(ia.ImageArrayTypeError) as exc:
                check_cast(value, dst)
            assert str(src) in str(exc.value) and str(dst) in str(exc.value)


@pytest.mark.parametrize(
    ("src", "dst", "allowed"),
    [
        (np.float32, np.uint8, False),  # float data into an integer image
        (np.float64, np.int32, False),
        (np.int8, np.uint8, False),  # as NumPy's same_kind
        (np.int64, np.uint32, False),
        (np.uint8, np.uint16, True),
        (np.uint16, np.int8, True),  # same_kind: unsigned into signed is one kind
        (np.int64, np.int8, True),  # same kind, narrower: allowed
        (np.float64, np.float16, True),
        (np.int32, np.float16, True),
        (np.bool_, np.float32, True),
        (np.complex64, np.float32, False),
    ],
)
def test_check_cast_examples(src, dst, allowed):
    ctx = contextlib.nullcontext() if allowed else pytest.raises(ia.ImageArrayTypeError)
    with ctx:
        check_cast(np.ones(2, src), dst)


@pytest.mark.parametrize("dst", [d for d in IMAGE_DTYPES if d.kind in "iu"], ids=str)
def test_check_cast_python_ints_must_fit(dst):
    info = np.iinfo(dst)
    for value in (info.min, info.max, 0, 1):
        check_cast(value, dst)
    for value in (info.min - 1, info.max + 1, info.max * 2 + 7, -(2**70), 2**70):
        with pytest.raises(ia.ImageArrayValueError) as exc:
            check_cast(value, dst)
        assert str(value) in str(exc.value) and str(dst) in str(exc.value)


def test_check_cast_python_int_examples():
    check_cast(255, np.uint8)
    check_cast(-128, np.int8)
    for value, dst in [(300, np.uint8), (-1, np.uint8), (128, np.int8), (2**32, np.uint32)]:
        with pytest.raises(ia.ImageArrayValueError):
            check_cast(value, dst)


@pytest.mark.parametrize("dst", [d for d in IMAGE_DTYPES if d.kind == "f"], ids=str)
def test_check_cast_python_ints_and_floats_into_float_images(dst):
    for value in (0, -5, 2**40, 0.5, -1.5e3, float("inf")):
        check_cast(value, dst)


@pytest.mark.parametrize("dst", [d for d in IMAGE_DTYPES if d.kind in "iu"], ids=str)
def test_check_cast_python_floats_into_int_images_refused(dst):
    for value in (0.0, 1.5, -2.0):
        with pytest.raises(ia.ImageArrayTypeError):
            check_cast(value, dst)


@pytest.mark.parametrize("dst", IMAGE_DTYPES, ids=str)
def test_check_cast_bools_anywhere_complex_nowhere(dst):
    for value in (True, False, np.True_, np.bool_(False), np.zeros(2, bool)):
        check_cast(value, dst)
    for value in (1j, np.complex64(1), np.zeros(2, np.complex128)):
        with pytest.raises(ia.ImageArrayTypeError):
            check_cast(value, dst)


# ------------------------------------------------------------------ views, no memory


class _AliveHandle:
    alive = True
    device = 0


class _FakeMem:
    """What views read of their ImageMem without touching the GPU."""

    def __init__(self, desc):
        self.descriptor = desc
        self._cache = None


def fake(desc):
    return ImageArray._make(_FakeMem(desc), _AliveHandle(), desc)


LAYERED = ia.ImageDescriptor(8, 6, type="array", array_size=5, channel_type="unsigned_int8")
LAYERED_RGBA = ia.ImageDescriptor(6, 5, type="array", array_size=4, channel_order="rgba")
LAYERED_1D = ia.ImageDescriptor(9, type="array", array_size=3)
CUBE = ia.ImageDescriptor(4, 4, type="cubemap", array_size=6)
CUBE_ARRAY = ia.ImageDescriptor(3, 3, type="cubemap_array", array_size=2, channel_order="rg")
VOLUME = ia.ImageDescriptor(5, 4, 3, channel_order="rg", channel_type="fp32")
IMAGE_2D = ia.ImageDescriptor(11, 7, channel_order="rgba", channel_type="fp32")
IMAGE_1D = ia.ImageDescriptor(13)
ALL = [IMAGE_1D, IMAGE_2D, VOLUME, LAYERED, LAYERED_RGBA, LAYERED_1D, CUBE, CUBE_ARRAY]


@pytest.mark.parametrize("i", [0, 2, 4, -1, -5])
def test_int_on_layer_axis_is_the_layer(i):
    img = fake(LAYERED)
    v = img[i]
    assert type(v) is ImageArray and not v._is_region and not v._sel
    assert v.shape == np.empty(img.shape)[i].shape == (6, 8)
    layer = img.layer(i)
    assert (v._vdesc, v._origin, v._level) == (layer._vdesc, layer._origin, layer._level)
    assert v._origin == (0, 0, i % 5)


@pytest.mark.parametrize("desc", [CUBE, CUBE_ARRAY], ids=str)
def test_int_on_face_axis_is_the_face(desc):
    img = fake(desc)
    n = img.shape[0]
    for i in (0, n - 1, -2):
        v = img[i]
        face = img.face(i)
        assert type(v) is ImageArray and not v._is_region
        assert v.shape == np.empty(img.shape)[i].shape
        assert (v._vdesc, v._origin) == (face._vdesc, face._origin)


def test_int_on_depth_axis_is_a_region():
    vol = fake(VOLUME)
    v = vol[1]
    assert type(v) is ImageArray and v._is_region
    assert v.shape == np.empty(vol.shape)[1].shape == (4, 5, 2)
    assert v._origin == (0, 0, 1)


@pytest.mark.parametrize("desc", [LAYERED, LAYERED_RGBA, IMAGE_2D, VOLUME, CUBE], ids=str)
@pytest.mark.parametrize(
    "key",
    [
        (slice(1, 3), slice(None, None, 2)),
        (slice(1, 3),),
        (slice(None, None, -1),),
        (Ellipsis, slice(0, 2)),
        (None, slice(1, None)),
        (slice(1, 3), 2),
        (2, slice(1, 3)),
    ],
)
def test_basic_keys_give_region_views_of_numpy_shape(desc, key):
    img = fake(desc)
    v = img[key]
    want = np.empty(img.shape)[key].shape
    assert type(v) is ImageArray
    assert v.shape == want
    assert v.ndim == len(want) and v.size == math.prod(want)
    assert v.dtype == img.dtype


def test_layered_slices_are_regions_not_layers():
    img = fake(LAYERED)
    v = img[1:3, ::2]
    assert type(v) is ImageArray and v._is_region
    assert v.shape == np.empty(img.shape)[1:3, ::2].shape == (2, 3, 8)
    assert img[1:2]._is_region  # one layer, as a slice: still a region


def _index(size):
    """An int or a nonempty-or-empty slice for an axis of ``size``."""
    return st.one_of(
        st.integers(-size, size - 1),
        st.builds(
            slice,
            st.one_of(st.none(), st.integers(-size - 2, size + 2)),
            st.one_of(st.none(), st.integers(-size - 2, size + 2)),
            st.one_of(st.none(), st.integers(-3, 3).filter(bool)),
        ),
    )


@st.composite
def basic_key(draw, shape):
    n = draw(st.integers(0, len(shape)))
    key = [draw(_index(shape[i])) for i in range(n)]
    if draw(st.booleans()) and n < len(shape):
        key.insert(draw(st.integers(0, len(key))), Ellipsis)
    if draw(st.booleans()):
        key.insert(draw(st.integers(0, len(key))), None)
    return tuple(key)


def _one_texel(shape, key) -> bool:
    """Every axis of ``shape`` selected by an int (a single texel: a copy)."""
    ints = sum(1 for k in key if isinstance(k, (int, np.integer)))
    return ints == len(shape)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_nested_basic_views_have_numpy_shapes(data):
    """img[k1][k2][k3] (basic keys) is an ImageArray view with NumPy's shape, while no
    key selects a single texel or nothing."""
    desc = data.draw(st.sampled_from(ALL))
    img = fake(desc)
    ref = np.empty(img.shape)
    view = img
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(basic_key(ref.shape))
        try:
            sub = ref[key]
        except IndexError:  # (an Ellipsis moved an int onto a shorter axis)
            with pytest.raises(IndexError):
                view[key]
            break
        if sub.size == 0 or sub.ndim == 0 or _one_texel(ref.shape, key):
            break  # a copy on the GPU
        view = view[key]
        ref = sub
        assert type(view) is ImageArray
        assert view.shape == ref.shape
        assert view.dtype == desc.dtype


@pytest.mark.parametrize("desc", [IMAGE_2D, LAYERED, VOLUME], ids=str)
def test_out_of_range_views_raise_index_error(desc):
    img = fake(desc)
    n = img.shape[0]
    with pytest.raises(IndexError):
        img[n]
    with pytest.raises(IndexError):
        img[1:, ::2][0, n]  # a view with a step, then an int out of range


@pytest.mark.parametrize(
    "key",
    [
        lambda img: img[1:3, 2:5],
        lambda img: img[::2],
        lambda img: img[0, 1:],
        lambda img: img[1:],
    ],
)
def test_regions_refuse_handles_and_sampling(key):
    img = fake(IMAGE_2D)
    region = key(img)
    assert region._is_region
    coords = np.zeros((3, 2), np.float32)
    with pytest.raises(ia.ImageArrayValueError):
        region.texture()
    with pytest.raises(ia.ImageArrayValueError):
        region.sample(coords)
    with pytest.raises(ia.ImageArrayValueError):
        region.fetch(np.zeros((3, 2), np.int32))


def test_depth_slices_refuse_handles_and_sampling():
    region = fake(VOLUME)[2]
    with pytest.raises(ia.ImageArrayValueError):
        region.texture()
    with pytest.raises(ia.ImageArrayValueError):
        region.sample(np.zeros((3, 2), np.float32))


# ------------------------------------------------------------------ protocols, no memory


def test_kernel_arg_hint_in_the_type_repr():
    """CuPy names a refused kernel argument by its type's repr."""
    assert "img.texture()" in repr(ImageArray)
    assert "img.surface()" in repr(ImageArray)


def test_cuda_array_image_has_no_cuda_array_interface():
    img = fake(IMAGE_2D)
    assert not hasattr(img, "__cuda_array_interface__")
    assert img.memory == "array"


def test_cuda_array_image_refuses_dlpack():
    img = fake(IMAGE_2D)
    with pytest.raises(ia.ImageArrayTypeError, match=r"cupy\.asarray\(img\)"):
        img.__dlpack__()
    with pytest.raises(TypeError):  # a TypeError, as DLPack consumers expect
        img.__dlpack__(stream=None)
    assert img.__dlpack_device__() == (2, 0)  # kDLCUDA, device 0


def test_numpy_asarray_without_copy_is_refused():
    img = fake(IMAGE_2D)
    with pytest.raises(ValueError, match="copy=False"):
        np.asarray(img, copy=False)
    with pytest.raises(ValueError):
        np.array(img, copy=False)


@pytest.mark.parametrize("desc", [IMAGE_1D, IMAGE_2D, LAYERED], ids=str)
def test_bool_of_many_texels_is_ambiguous(desc):
    with pytest.raises(ValueError, match="ambiguous"):
        bool(fake(desc))


def test_images_win_binary_operators_over_cupy_arrays():
    import cupy

    assert ImageArray.__array_priority__ > cupy.ndarray.__array_priority__


def test_images_stay_hashable_with_elementwise_eq():
    img = fake(IMAGE_2D)
    assert hash(img) == object.__hash__(img)
    assert len({img, fake(IMAGE_2D), img}) == 2


# ------------------------------------------------------------------ reads and writes, simulated


class _SimHandle:
    def __init__(self, raw):
        self._raw, self.device, self.alive = raw, 0, True

    def raw(self):
        return self._raw


class _Done:
    done = True

    def synchronize(self):
        pass


def _simulate(mp: pytest.MonkeyPatch) -> Memcpy3DSim:
    """Copies run on the NumPy model: device switches, stream lookups and the copy
    call replaced, the plans (ImageArray._region) real. Host buffers only: a CuPy
    buffer (cupy.empty) needs a GPU."""
    import cupy

    s = Memcpy3DSim()
    mp.setattr(cupy.cuda, "Device", lambda *a: contextlib.nullcontext())
    mp.setattr(cupy.cuda.runtime, "getDevice", lambda: 0)
    mp.setattr(ia_image_array, "current_stream", lambda *a: 0)

    def execute(plan, stream, device, record=True):
        assert plan.src_device in (None, device) and plan.dst_device in (None, device)
        s.run(plan)
        return _Done()

    mp.setattr(ia_image_array, "execute", execute)
    region = ImageArray._region

    def spy(self, lo, ext, buf, buf_kind, to_image, stream, record=True):
        assert buf_kind == "host"  # no CuPy buffer can exist here
        s.add_external(0, buf)
        return region(self, lo, ext, buf, buf_kind, to_image, stream, record)

    mp.setattr(ImageArray, "_region", spy)
    return s


def _host_to_cupy(self, stream=None):
    """``ImageArray.to_cupy`` with a host buffer for the box (CuPy's needs a GPU): the
    same box, plan and selection, the result a NumPy array."""
    lo, ext = self._whole()
    buf = np.empty(self._box_shape(ext), self.dtype)
    self._region(lo, ext, buf, "host", False, stream)
    return np.ascontiguousarray(self._select(buf))


@pytest.fixture
def sim(monkeypatch):
    return _simulate(monkeypatch)


def sim_image(sim, desc):
    """(ImageArray over a simulated CUDA array, NumPy view of that array's texels)."""
    t = desc.type
    if t.is_cubemap or t.is_layered:
        w, h, d, layered = desc.width, desc.height, desc.num_layers, True
    else:
        w, h, d, layered = desc.width, desc.height, desc.depth, False
    raw = sim.add_array(w, h, d, desc.texel_size, layered=layered)
    img = ImageArray._make(_FakeMem(desc), _SimHandle(raw), desc)
    mem = sim.array_bytes(raw).view(desc.dtype).reshape(desc.host_shape)
    mem[...] = np.arange(mem.size).reshape(mem.shape) % 101  # finite, distinct values
    return img, mem


def test_layer_views_read_and_write_the_image(sim):
    img, mem = sim_image(sim, LAYERED)
    np.testing.assert_array_equal(img[2].get(), mem[2])
    before = mem.copy()
    img[2][5] = 1
    before[2][5] = 1
    np.testing.assert_array_equal(mem, before)  # that row of that layer, nothing else
    img[-1][1:3, 2:4] = np.full((2, 2), 9, np.uint8)
    before[-1][1:3, 2:4] = 9
    np.testing.assert_array_equal(mem, before)


def test_face_views_read_and_write_the_image(sim):
    img, mem = sim_image(sim, CUBE_ARRAY)
    np.testing.assert_array_equal(img[7].get(), mem[7])
    before = mem.copy()
    img[7][0] = 3
    before[7][0] = 3
    np.testing.assert_array_equal(mem, before)


def test_region_views_read_and_write_the_image(sim):
    img, mem = sim_image(sim, IMAGE_2D)
    region = img[1:4, 2:9]
    assert region.shape == mem[1:4, 2:9].shape
    np.testing.assert_array_equal(region.get(), mem[1:4, 2:9])
    np.testing.assert_array_equal(np.asarray(region), mem[1:4, 2:9])
    before = mem.copy()
    region[0] = 0.5  # a row of the region: row 1 of the image, columns 2..8
    before[1, 2:9] = 0.5
    np.testing.assert_array_equal(mem, before)
    rgba = np.array([1.0, -2.0, 3.0, 4.5], np.float32)
    region[1:, 3:5] = rgba  # a box of the region, one texel broadcast
    before[2:4, 5:7] = rgba
    np.testing.assert_array_equal(mem, before)
    region.set(np.ones(region.shape, np.float32))
    before[1:4, 2:9] = 1
    np.testing.assert_array_equal(mem, before)


def test_depth_slices_read_and_write_the_volume(sim):
    vol, mem = sim_image(sim, VOLUME)
    np.testing.assert_array_equal(vol[2].get(), mem[2])
    np.testing.assert_array_equal(vol[1:3, 1:].get(), mem[1:3, 1:])
    before = mem.copy()
    vol[2][1:3] = 4.0
    before[2][1:3] = 4.0
    np.testing.assert_array_equal(mem, before)


def test_writes_through_views_follow_the_casting_rule(sim):
    img, mem = sim_image(sim, LAYERED)  # uint8
    before = mem.copy()
    with pytest.raises(ia.ImageArrayValueError):
        img[1][2] = 300
    with pytest.raises(ia.ImageArrayTypeError):
        img[1][2] = 1.5
    with pytest.raises(ia.ImageArrayTypeError):
        img[1][2] = np.ones(8, np.int8)  # int8 into uint8: not same_kind
    np.testing.assert_array_equal(mem, before)  # nothing written
    img[1][2] = True
    before[1][2] = 1
    np.testing.assert_array_equal(mem, before)


def test_iteration_and_len_follow_the_first_axis(sim):
    img, mem = sim_image(sim, LAYERED)
    assert len(img) == len(mem) == 5
    layers = list(img)
    assert [v.shape for v in layers] == [m.shape for m in mem]
    for v, m in zip(layers, mem):
        np.testing.assert_array_equal(v.get(), m)


def test_numpy_asarray_is_one_whole_copy(sim):
    img, mem = sim_image(sim, LAYERED_RGBA)
    got = np.asarray(img)
    np.testing.assert_array_equal(got, mem)
    assert not np.shares_memory(got, mem)
    as_float = np.asarray(img, dtype=np.float64)
    assert as_float.dtype == np.float64
    np.testing.assert_array_equal(as_float, mem.astype(np.float64))


@pytest.mark.parametrize("value", [0, 7])
def test_bool_of_one_texel(sim, value):
    img, mem = sim_image(sim, ia.ImageDescriptor(1, channel_type="signed_int32"))
    mem[...] = value
    assert bool(img) is bool(value)


def test_advanced_keys_are_copies_not_views(sim, monkeypatch):
    """Int arrays and bool masks read the image (one whole copy) and index that, as
    NumPy does; basic keys on the result of a step are still views."""
    monkeypatch.setattr(ImageArray, "to_cupy", _host_to_cupy)
    img, mem = sim_image(sim, LAYERED)
    keys = [
        [0, 3],
        (slice(None), [1, 2]),
        mem > 50,
        (np.array([4, 0]), slice(1, 3)),
        ([True, False, True, False, True],),
        (1, [0, 5], [7, 2]),
    ]
    for key in keys:
        got = img[key]
        assert not isinstance(got, ImageArray), key
        np.testing.assert_array_equal(got, mem[key])
    view = img[1:, ::2]
    assert isinstance(view, ImageArray) and view._sel
    np.testing.assert_array_equal(view.to_cupy(), mem[1:, ::2])
    got = view[[0, 2]]
    assert not isinstance(got, ImageArray)
    np.testing.assert_array_equal(got, mem[1:, ::2][[0, 2]])
    inner = view[1:, ::-1]
    assert isinstance(inner, ImageArray)
    np.testing.assert_array_equal(inner.to_cupy(), mem[1:, ::2][1:, ::-1])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_nested_views_read_numpys_values(data):
    """What img[k1][k2][k3] (basic keys) shows is NumPy's a[k1][k2][k3] of the image's
    texels: the boxes, origins and selections of the views are right."""
    with pytest.MonkeyPatch.context() as mp:
        s = _simulate(mp)
        mp.setattr(ImageArray, "to_cupy", _host_to_cupy)
        desc = data.draw(st.sampled_from(ALL))
        img, mem = sim_image(s, desc)
        ref = mem
        view = img
        for _ in range(data.draw(st.integers(1, 3))):
            key = data.draw(basic_key(ref.shape))
            try:
                sub = ref[key]
            except IndexError:
                break
            if sub.size == 0 or sub.ndim == 0 or _one_texel(ref.shape, key):
                break
            view = view[key]
            ref = sub
            assert isinstance(view, ImageArray)
            np.testing.assert_array_equal(view.to_cupy(), ref)
            if not view._sel:  # a box: get() copies it to the host itself
                np.testing.assert_array_equal(view.get(), ref)
