"""Bad input gets a clear ``ImageArrayError``, never a crash.

Every entry point that validates in plain Python is fed hostile values (wrong types,
None, bools where ints are expected, floats, NaN/inf, negative and huge ints, NumPy
scalars, strings, empty/too-long/nested sequences, members of the wrong enum, objects
whose ``__index__``/``__int__``/``__float__`` raise). Each call must either succeed or
raise a member of the ``ImageArrayError`` family with a non-empty message: no raw
TypeError/ValueError/OverflowError/AttributeError/KeyError/IndexError from deep inside.

Where a call needs a GPU, ``CUDAUnavailableError`` (in the family) is accepted; the
targeted tests at the end check that argument validation comes before any CUDA call,
so that they hold on a GPU machine too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import fractions
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import imagearray as ia
import imagearray.copies.hostmem as co
from imagearray import _coerce
from imagearray._device import Aspect
from imagearray._errors import (
    CUDAUnavailableError,
    ImageArrayError,
    ImageArrayIndexError,
    ImageArrayTypeError,
    ImageArrayValueError,
)
from imagearray.array import ImageArray
from imagearray.array.factories import _make_desc
from imagearray.array.indexing import normalize
from imagearray.copies import DEVICE, HOST, IMAGE, Endpoint, endpoint, plan_copy
from imagearray.handles import plan_handle
from imagearray.interop.exportable import check_export_args
from imagearray.interop.resources import plan_image_mapping, plan_linear_mapping
from imagearray.interop.semaphores import _semaphore_value
from imagearray.testing import reference as ref

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# --------------------------------------------------------------------- hostile values


class Raising:
    """An object whose numeric conversions raise ``exc``."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def _raise(self, *args):
        raise self.exc

    __index__ = __int__ = __float__ = _raise

    def __repr__(self) -> str:
        return f"Raising({type(self.exc).__name__})"


class Forty:
    """Duck-typed int: ``__index__`` works."""

    def __index__(self) -> int:
        return 40

    def __repr__(self) -> str:
        return "Forty()"


class BadCAI:
    """``__cuda_array_interface__`` that is not a dict of the right keys."""

    def __init__(self, cai):
        self.__cuda_array_interface__ = cai


class FakeDeviceArray:
    """Looks like a CuPy array on device 0 (never reaches a copy: validation fails)."""

    class device:  # noqa: N801
        id = 0

    def __init__(self, shape, typestr="<f4"):
        self.__cuda_array_interface__ = {
            "shape": shape,
            "typestr": typestr,
            "data": (0xD000, False),
            "version": 3,
        }


class Other(enum.Enum):
    A = "r"  # same value as a ChannelOrder member: still the wrong enum
    B = 1


_HUGE = [2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 2**100, -(2**63), -(2**64)]
_SPECIAL = [
    None,
    True,
    False,
    np.True_,
    0,
    1,
    -1,
    2,
    3,
    4,
    6,
    *_HUGE,
    0.0,
    1.5,
    -0.5,
    float("nan"),
    float("inf"),
    float("-inf"),
    1e308,
    complex(1, 1),
    fractions.Fraction(10**400, 3),
    np.int8(-1),
    np.int64(4),
    np.uint64(2**64 - 1),
    np.uint64(2**63),
    np.float32(2.5),
    np.float64("nan"),
    np.float16("inf"),
    np.bool_(False),
    "",
    "r",
    "rgba",
    "fp32",
    "mipmap",
    "linear",
    "normalized",
    "clamp",
    "opaque_fd",
    "ABC",
    "3",
    b"\x00\x01",
    bytearray(b"ab"),
    (),
    [],
    {},
    set(),
    (1,),
    (4, 4),
    (4, 4, 4),
    (1, 2, 3, 4),
    [4, -1],
    [[1, 2], [3]],
    ((1, 2), (3, 4)),
    [None],
    ["a", "b"],
    (1.5, 2),
    (True, 2),
    (2**64, 1),
    [float("nan")] * 4,
    range(3),
    slice(None),
    Ellipsis,
    object(),
    Forty(),
    Raising(ValueError("boom")),
    Raising(RuntimeError("boom")),
    Raising(TypeError("boom")),
    Raising(OverflowError("boom")),
    Raising(ZeroDivisionError("boom")),
    np.zeros(0),
    np.zeros(3, np.float64),
    np.zeros((2, 2), np.float32),
    np.array([1, 2], np.uint8),
    np.array(["a"]),
    np.array([None], dtype=object),
    ia.ChannelOrder.RGBA,
    ia.ChannelType.UNORM_INT8,
    ia.ImageType.CUBEMAP,
    ia.AddressingMode.REPEAT,
    ia.FilteringMode.LINEAR,
    ia.CoordinateNormalizationMode.NORMALIZED,
    ia.CubemapFilteringMode.SEAMLESS,
    ia.ExternalMemHandleType.DMA_BUF,
    ia.ExternalSemaphoreHandleType.TIMELINE_FD,
    Aspect.MIPMAP,
    Other.A,
    Other.B,
    ia.ImageDescriptor(4),
    ia.Sampler(),
    BadCAI({}),
    BadCAI(None),
    BadCAI({"shape": (4,), "typestr": "<f4"}),
    BadCAI({"shape": "x", "typestr": "zz", "data": (0, False)}),
    BadCAI({"shape": (4,), "typestr": "<f4", "data": ("x", False)}),
]

hostile = st.one_of(
    st.sampled_from(_SPECIAL),
    st.integers(),
    st.floats(),
    st.text(max_size=6),
    st.lists(st.one_of(st.integers(-3, 2**65), st.none(), st.floats()), max_size=5).map(tuple),
    st.lists(st.sampled_from(_SPECIAL[:40]), max_size=4),
)


def _stream(value):
    """``value`` as a stream argument: a raw int handle other than 0/1/2 is a pointer
    the caller vouches for (as with CuPy's ExternalStream), so none is made up here."""
    raw = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    return None if raw and value not in (0, 1, 2) else value


def check(fn, *args, **kwargs):
    """Call ``fn``; any exception must be an ImageArrayError with a message."""
    try:
        return fn(*args, **kwargs)
    except ImageArrayError as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        return None


@pytest.fixture
def fake_backend(monkeypatch):
    """Host-memory registration without CUDA: devices 0 and 1 exist."""

    class Reg:
        def free(self):
            pass

    class Backend:
        def resolve_device(self, d):
            from imagearray._device import get_device  # the real type checks

            if d is None or isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2:
                return d or 0
            return get_device(d)

        def register(self, owner, address, nbytes, device):
            return Reg()

    monkeypatch.setattr(co, "_backend", Backend())
    monkeypatch.setattr(co, "_registry", co._Registry())


# ------------------------------------------------------------ descriptors and enums

_DESC_FIELDS = ("width", "height", "depth", "channel_order", "channel_type", "type")
_DESC_FIELDS += ("num_levels", "array_size")


@FUZZ
@given(st.sampled_from(_DESC_FIELDS), hostile, hostile)
def test_descriptor_fields(field, value, level):
    desc = check(ia.ImageDescriptor, **{"width": 8, field: value})
    if desc is None:
        return
    check(desc.verify)
    check(desc.mip_level_desc, level)
    check(desc.level_nbytes, level)
    str(desc), desc.host_shape, desc.nbytes, desc.max_levels, hash(desc)


@FUZZ
@given(hostile, hostile, hostile, hostile, hostile, hostile, hostile)
def test_descriptor_from_shape(shape, dtype, channels, image_type, levels, array_size, norm):
    check(ia.ImageDescriptor.from_shape, shape, dtype)
    check(ia.ImageDescriptor.from_shape, (8, 8), dtype, channels)
    check(
        ia.ImageDescriptor.from_shape,
        (8, 8),
        np.uint8,
        1,
        image_type=image_type,
        num_levels=levels,
        array_size=array_size,
        normalized=norm,
    )


@FUZZ
@given(hostile, st.one_of(st.none(), st.integers(-2, 2)))
def test_coerce(value, minimum):
    for cls in (ia.ChannelOrder, ia.ImageType, ia.AddressingMode):
        check(_coerce.coerce_enum, cls, "arg", value)
    check(_coerce.coerce_int, "arg", value, minimum)


# ------------------------------------------------------------------------- sampler

_SAMPLER_FIELDS = tuple(f.name for f in dataclasses.fields(ia.Sampler))


@FUZZ
@given(st.sampled_from(_SAMPLER_FIELDS), hostile, hostile)
def test_sampler(field, value, channel_type):
    s = check(ia.Sampler, **{"coordinates": "normalized", field: value})
    if s is not None:
        check(s.check_channel_type, channel_type)
        s.cuda_address_modes, s.cuda_flags, s.cuda_max_anisotropy, hash(s)


# ------------------------------------------------------------------------- copies


_D16 = ia.ImageDescriptor(16, 16)


def _host(nbytes=1024):
    return Endpoint(HOST, None, 0x1000, nbytes=nbytes)


def _image(desc=_D16):
    return Endpoint(IMAGE, 0, 0xA000, desc=desc)


def _usm(nbytes=1024, pitch=64, desc=None):
    return Endpoint(DEVICE, 0, 0xD000, nbytes=nbytes, pitch=pitch, desc=desc)


_COPY_ARGS = (
    "desc",
    "src_offset",
    "dst_offset",
    "extent",
    "src_extent",
    "dst_extent",
    "host_extent",
    "device_row_pitch",
)


@FUZZ
@given(
    st.sampled_from(
        [
            (_host, _image),
            (_image, _host),
            (_image, _image),
            (_usm, _image),
            (_host, lambda: _usm(desc=ia.ImageDescriptor(16, 16))),
            (lambda: _usm(16 * 16 * 4 * 16, desc=ia.ImageDescriptor(16, 16)), _host),
        ]
    ),
    st.dictionaries(st.sampled_from(_COPY_ARGS), hostile, max_size=3),
)
def test_plan_copy(sides, kwargs):
    src, dst = sides
    plan = check(plan_copy, src(), dst(), queue_device=0, pitch_align=32, **kwargs)
    if plan is not None:
        # What goes to the Cython executor fits its unsigned 64-bit fields.
        for side in (plan.src, plan.dst, plan.extent):
            assert all(isinstance(v, int) and 0 <= v < 2**64 for v in side), plan


@FUZZ
@given(hostile, hostile, st.dictionaries(st.sampled_from(_COPY_ARGS + ("stream",)), hostile))
def test_copy(src, dst, kwargs):
    if "stream" in kwargs:
        kwargs["stream"] = _stream(kwargs["stream"])
    check(endpoint, src, "source")
    check(ia.copy, src, dst, **kwargs)
    check(ia.copy, np.zeros((16, 16), np.float32), dst, **kwargs)


# ------------------------------------------------------------------------- handles

_KINDS = ["array", "mipmap", "linear", "pitch2d"]
_DESCS = [
    ia.ImageDescriptor(16),
    ia.ImageDescriptor(16, 16, channel_type="unsigned_int8"),
    ia.ImageDescriptor(16, 16, type="mipmap", num_levels=2),
    ia.ImageDescriptor(16, 16, type="cubemap", array_size=6),
]


@FUZZ
@given(
    st.one_of(st.sampled_from(_DESCS), hostile),
    st.one_of(st.sampled_from(_KINDS), hostile),
    st.one_of(st.sampled_from([None, ia.Sampler(), ia.Sampler(filtering="linear")]), hostile),
    hostile,
    hostile,
)
def test_plan_handle(desc, kind, sampler, address, pitch):
    limits = {"image_row_pitch_align": 32, "texture_alignment": 512}
    check(plan_handle, desc, kind, sampler, address=0, pitch=pitch, limits=limits)
    check(plan_handle, desc, kind, sampler, address=address, pitch=None)


@FUZZ
@given(hostile, hostile, hostile, hostile)
def test_create_and_destroy_image(memory, desc, sampler, pitch):
    check(ia.create_image, memory, desc, sampler, pitch=pitch)
    check(ia.create_image, memory)
    check(ia.destroy_image_handle, memory)


@FUZZ
@given(hostile, hostile, hostile, hostile)
def test_image_memory(a, b, c, d):
    check(ia.alloc_image_mem, a, b)
    check(ia.ImageMem, a, b)
    check(ia.free_image_mem, a, b)
    check(ia.get_image_range, a)
    check(ia.get_image_channel_type, a)
    check(ia.get_image_num_channels, a)
    check(ia.get_mip_level_mem_handle, a, b)
    check(ia.pitched_alloc_device, a, b, c, device=d)
    check(ia.pitched_alloc_device, ia.ImageDescriptor(16, 16), device=d)


@FUZZ
@given(hostile, hostile)
def test_device_queries(a, b):
    check(ia.get_device, a)
    check(ia.get_stream, _stream(a), b if b is None or isinstance(b, int) else None)
    check(ia.device_has, a, b)
    check(ia.device_info, a, b)


# ------------------------------------------------------------------------- interop


@FUZZ
@given(hostile, hostile, hostile, hostile)
def test_external_descriptors(fd, size, handle_type, dedicated):
    check(ia.ResourceFD, fd)
    res = ia.ResourceFD(2**31 - 1)  # surely closed
    check(ia.ExternalMemDescriptor, fd, size)
    check(ia.ExternalMemDescriptor, res, size, handle_type, dedicated)
    check(ia.ExternalMemDescriptor, res, 4096, handle_type)
    check(ia.ExternalSemaphoreDescriptor, fd, handle_type)
    check(ia.ExternalSemaphoreDescriptor, res, handle_type)
    check(ia.ExternalSemaphoreDescriptor, ia.ResourceWin32Handle(fd), handle_type)
    check(_semaphore_value, True, fd, "wait")
    check(_semaphore_value, False, fd, "signal")


@FUZZ
@given(hostile, hostile, hostile, hostile, hostile)
def test_external_plans(offset, size, dtype, shape, strides):
    check(plan_linear_mapping, 4096, offset, size, dtype, shape, strides)
    check(plan_linear_mapping, 4096, 0, None, np.float32, shape, strides)
    plan = check(plan_linear_mapping, 4096, 0, None, np.uint8, shape)
    if plan is not None:
        _, nbytes, dt, shape_t, _ = plan
        assert math.prod(shape_t) * dt.itemsize <= nbytes
    check(plan_image_mapping, 4096, ia.ImageDescriptor(16, 16), offset, dtype)
    check(plan_image_mapping, 4096, shape, 0)


@FUZZ
@given(hostile, hostile, hostile)
def test_external_functions(a, b, c):
    desc = ia.ExternalMemDescriptor(ia.ResourceFD(2**31 - 1), 4096)
    sem = ia.ExternalSemaphoreDescriptor(ia.ResourceFD(2**31 - 1))
    check(ia.import_external_memory, a, b)
    check(ia.import_external_memory, desc, b)
    check(ia.import_external_semaphore, a, b)
    check(ia.import_external_semaphore, sem, b)
    check(ia.map_external_image_memory, a, b, offset=c)
    check(ia.map_external_linear_memory, a, b, c)
    check(ia.release_external_memory, a)
    check(ia.wait_external_semaphore, a, b, c)
    check(ia.signal_external_semaphore, a, b, c)
    check(ia.destroy_external_semaphore, a)
    check(ImageArray.from_external, a, b, offset=c)
    check(ImageArray.from_external, desc, b, offset=c, device=a)


@FUZZ
@given(hostile, hostile, hostile, hostile)
def test_exportable(size, alignment, handle_type, device):
    check(check_export_args, size, alignment, handle_type)
    check(check_export_args, 4096, 0, handle_type)
    check(ia.alloc_exportable_memory, size, alignment, handle_type, device=device)
    check(ia.exportable_memory_granularity, handle_type, device)
    check(ia.exportable_memory_supported, device)
    check(ia.export_memory_handle, size, handle_type)
    check(ia.free_exportable_memory, size)


@FUZZ
@given(hostile, hostile, hostile)
def test_host_memory_preparation(fake_backend, obj, nbytes, device):
    for call in (co.prepare_for_device_copy, co.release_from_device_copy):
        check(call, obj, nbytes, device)
        check(call, bytearray(64), nbytes, device)
        check(call, 0x10000, nbytes)
        check(call, obj)
    with contextlib.suppress(ImageArrayError):
        with co.prepared_for_device_copy(bytearray(64), nbytes, device):
            pass
    for r in co.prepared_host_ranges():  # leave nothing prepared
        co.release_from_device_copy(r.address)


# ------------------------------------------------------------------ ImageArray


@FUZZ
@given(hostile, hostile, hostile, hostile, hostile, hostile, hostile)
def test_image_array_constructors(shape, dtype, channels, layers, cubemap, levels, normalized):
    check(_make_desc, shape, np.float32, 1, False, False, 1, False)
    check(_make_desc, (8, 8), dtype, channels, layers, cubemap, levels, normalized)
    check(_make_desc, (8, 8), np.uint8, 1, layers, False, levels, False)
    check(ia.empty, shape, dtype, channels, layered=layers, cubemap=cubemap, levels=levels)
    check(ia.empty, (8, 8), memory=dtype)
    check(ia.zeros, shape, dtype, channels, normalized=normalized)
    check(ia.full, shape, dtype, channels)
    check(ia.empty_like, shape, dtype)
    check(ia.asimage, np.zeros((4, 4), np.float32), dtype, copy=layers, memory=cubemap)
    check(ia.asimage, shape, channels=channels, layered=layers, cubemap=cubemap)
    check(ia.asimage, np.zeros((6, 4, 4), np.uint8), channels=channels, normalized=normalized)
    check(
        ia.asimage,
        np.zeros((6, 4, 4), np.uint8),
        layered=True,
        device=dtype,
        stream=_stream(levels),
    )


class _AliveHandle:
    alive = True
    device = 0


def _fake_image(desc):
    return ImageArray._make(None, _AliveHandle(), desc)


_INDEX_IMAGES = [
    _fake_image(ia.ImageDescriptor(8, 6, channel_order="rgba")),
    _fake_image(ia.ImageDescriptor(5, type="array", array_size=3)),
    _fake_image(ia.ImageDescriptor(4, 4, type="cubemap", array_size=6)),
    _fake_image(ia.ImageDescriptor(4, 3, 2, channel_order="rg")),
]

index_part = st.one_of(
    hostile,
    st.integers(-(2**70), 2**70),
    st.builds(
        slice,
        st.one_of(st.none(), st.integers(-20, 20), hostile),
        st.one_of(st.none(), st.integers(-20, 20), hostile),
        st.one_of(st.none(), st.integers(-3, 3), hostile),
    ),
    st.sampled_from([None, Ellipsis, np.newaxis, np.int64(-1)]),
)


@FUZZ
@given(st.sampled_from(_INDEX_IMAGES), st.one_of(index_part, st.lists(index_part, max_size=6)))
def test_image_array_normalize(img, key):
    if isinstance(key, list):
        key = tuple(key)
    check(normalize, img, key)
    check(img.layer, key)
    check(img.face, key)


# ------------------------------------------------------------------ headers


@FUZZ
@given(hostile)
def test_headers(include_dir):
    check(ia.header_hash, include_dir)
    assert ia.get_include() and ia.kernel_preamble()


# ------------------------------------------------------------------ reference

_IMG = np.arange(16, dtype=np.float32).reshape(4, 4)
_COORDS = np.array([[1.0, 1.5]], np.float32)


@FUZZ
@given(hostile, hostile, hostile, hostile)
def test_reference(data, coords, dims, channel_type):
    s, n = ia.Sampler(), ia.Sampler(coordinates="normalized")
    check(ref.read_texels, data, channel_type)
    check(ref.sample, data, coords, s, channel_type, dims=dims)
    check(ref.sample, _IMG, coords, s, dims=2)
    check(ref.sample, _IMG, _COORDS, dims, dims=2)
    check(ref.sample, _IMG, _COORDS, s, channel_type, dims=dims)
    check(ref.fetch, _IMG, coords, dims, channel_type)
    check(ref.fetch, data, [[1, 1]], 2)
    check(ref.sample_layered, _IMG[None], coords, data, s, dims=dims)
    check(ref.sample_layered, data, _COORDS, 0, s, dims=2)
    check(ref.cubemap_face, coords)
    faces = np.zeros((6, 2, 2), np.float32)
    check(ref.sample_cubemap, faces, coords, s, cube=data)
    check(ref.sample_cubemap, data, [[1.0, 0.0, 0.0]], n)
    check(ref.sample_mipmap, data, [[0.5]], n, dims=1, level=coords)
    check(ref.sample_mipmap, [np.zeros(4, np.float32)], coords, n, dims=dims, level=data)
    check(ref.lod_from_gradients, coords, data, dims, dims=2)
    check(ref.lod_from_gradients, [[0.1, 0.1]], [[0.1, 0.1]], coords, dims=dims)
    check(ref.box_weights, dims if not isinstance(dims, int) or not 4096 < dims <= 2**14 else 7)
    check(ref.box_pyramid, data, dims, dims=1)
    check(ref.box_pyramid, np.zeros(8, np.uint8), coords, dims=dims, channel_type=channel_type)
    check(ref.filter_tolerance, data, s, channel_type, dims=dims, mip_blend=coords)
    check(ref.filter_tolerance, _IMG, coords, dims=2)


# ------------------------------------------------------------------ targeted checks


def _raises(exc_type, fn, *args, match=None, **kwargs):
    """``fn`` raises ``exc_type`` (never CUDAUnavailableError: validation comes first)."""
    with pytest.raises(exc_type, match=match) as info:
        fn(*args, **kwargs)
    assert not isinstance(info.value, CUDAUnavailableError), info.value
    return info.value


def test_messages_name_the_argument():
    _raises(ImageArrayTypeError, ia.ImageDescriptor, 8, height=1.5, match="height")
    _raises(ImageArrayTypeError, ia.ImageDescriptor, 8, num_levels=True, match="num_levels")
    _raises(ImageArrayValueError, ia.ImageDescriptor, 8, array_size=-1, match="array_size")
    _raises(ImageArrayTypeError, ia.ImageDescriptor, 8, type=ia.ChannelOrder.R, match="type")
    _raises(ImageArrayTypeError, ia.ImageDescriptor, Raising(ValueError()), match="width")
    _raises(ImageArrayTypeError, ia.ImageDescriptor.from_shape, (4, 4.0), "f4", match=r"shape\[1\]")
    _raises(ImageArrayTypeError, ia.ImageDescriptor.from_shape, 4, "f4,f4", match="dtype")
    _raises(ImageArrayValueError, ia.Sampler, max_anisotropy=10**400, match="max_anisotropy")
    _raises(ImageArrayValueError, ia.Sampler, border_color=(0, 0, 0, 2**1100), match=r"\[3\]")
    _raises(ImageArrayTypeError, ia.Sampler, filtering=ia.AddressingMode.CLAMP, match="filtering")
    _raises(ImageArrayTypeError, ia.ResourceFD, "3", match="file_descriptor")
    _raises(ImageArrayValueError, plan_linear_mapping, 64, shape=(2**32, 2**32))
    _raises(ImageArrayTypeError, plan_linear_mapping, 64, shape=1.5, match="shape")
    _raises(ImageArrayTypeError, plan_linear_mapping, 64, dtype=(int, -1), match="dtype")
    _raises(ImageArrayTypeError, plan_handle, _DESCS[1], "pitch2d", ia.Sampler(), pitch="64")
    _raises(ImageArrayValueError, plan_handle, _DESCS[1], "surface", None, match="kind")
    _raises(ImageArrayTypeError, plan_handle, "desc", "array", None, match="desc")
    _raises(ImageArrayTypeError, ia.header_hash, 5, match="include_dir")
    e = _raises(ImageArrayError, ia.header_hash, "/nonexistent")
    assert isinstance(e, FileNotFoundError)  # as documented before
    _raises(ImageArrayValueError, ref.sample, _IMG, _COORDS, ia.Sampler(), dims=2.0, match="dims")
    _raises(ImageArrayValueError, ref.read_texels, [[1, 2], [3]], match="data")
    _raises(ImageArrayValueError, ref.box_weights, 2**40, match="n")


def test_copy_validates_before_cuda():
    host = np.zeros((16, 16), np.float32)
    _raises(ia.CopyError, ia.copy, host, host[:8], match="capacities must be equal")
    dev = FakeDeviceArray((16, 16))
    _raises(ia.CopyError, ia.copy, host, dev, src_offset=(1.5,), match="src_offset")
    _raises(ia.CopyError, ia.copy, dev, host, extent=-1, match="extent")
    _raises(ia.CopyError, ia.copy, host, dev, device_row_pitch=2**64, match="device_row_pitch")
    _raises(ImageArrayTypeError, ia.copy, host, dev, desc="desc", match="desc")
    _raises(ImageArrayTypeError, ia.copy, BadCAI({}), host, match="__cuda_array_interface__")


def test_copy_plan_refuses_huge_pitch():
    # A 1D USM image needs no second row, so any pitch passed every bound check and
    # reached the executor's size_t (OverflowError for 2**64).
    d = ia.ImageDescriptor(16)
    for pitch in (2**64, np.uint64(2**63 + 64)):
        _raises(
            ia.CopyError,
            plan_copy,
            _host(64),
            _usm(64, pitch=0, desc=d),
            device_row_pitch=pitch,
            queue_device=0,
        )


def test_constructors_validate_before_cuda():
    _raises(ImageArrayTypeError, ia.empty, True, match="shape")
    _raises(ImageArrayTypeError, ia.empty, 1.5, match="shape")
    _raises(ImageArrayTypeError, ia.empty, (4, 4), levels=1.5, match="levels")
    _raises(ImageArrayTypeError, ia.empty, (4, 4), cubemap="yes", match="cubemap")
    _raises(ImageArrayTypeError, ia.zeros, (4, 4), np.float64, match="float64")
    _raises(ImageArrayTypeError, ia.asimage, np.zeros(3, np.float64), match="float64")
    _raises(ImageArrayTypeError, ia.asimage, np.zeros(3, np.uint8), channels=2.0, match="channels")
    _raises(ImageArrayValueError, ia.asimage, np.zeros((8, 8, 4), np.float32), match="channels=4")
    _raises(ImageArrayValueError, ia.empty, (8, 8, 2), match="channels=2 or channels=1")
    _raises(ImageArrayValueError, ia.empty, (8, 8), channels=4, match="last axis")
    _raises(ImageArrayValueError, ia.empty, (8, 8), memory="texture", match="memory")
    _raises(ImageArrayValueError, ia.empty, (2, 8, 8), layered=True, memory="linear", match="1D")
    _raises(ImageArrayTypeError, ia.asimage, np.zeros(3, np.float32), copy=False, match="CuPy")
    _raises(ImageArrayValueError, ia.asimage, np.zeros(3), copy=False, memory="array", match="only")
    _raises(ImageArrayTypeError, ia.asimage, np.zeros(3), match="dtype=numpy.float32")
    _raises(ImageArrayTypeError, ia.asimage, np.zeros(3, np.uint8), layered=1, match="layered")
    _raises(ImageArrayValueError, ia.asimage, [[1, 2], [3]], match="array")
    _raises(ImageArrayTypeError, ia.asimage, np.zeros(3, np.uint8), device="gpu0", match="device")
    _raises(ImageArrayTypeError, ia.get_device, "gpu0", match="device")
    _raises(ImageArrayValueError, ia.get_stream, -5, match="stream")
    _raises(ImageArrayValueError, ia.get_stream, 2**64, match="stream")
    _raises(ImageArrayValueError, ia.pitched_alloc_device, -1, 2, 4, match="width_in_bytes")
    _raises(ImageArrayTypeError, ia.create_image, object(), sampler="linear", match="sampler")
    _raises(ImageArrayTypeError, ia.create_image, object(), pitch=1.5, match="pitch")
    _raises(ImageArrayTypeError, ia.exportable_memory_granularity, device="x", match="device")


def test_index_errors_are_in_the_family():
    img = _INDEX_IMAGES[0]
    e = _raises(ImageArrayIndexError, normalize, img, (99,))
    assert isinstance(e, IndexError)  # still what NumPy users catch
    _raises(ImageArrayIndexError, normalize, img, (0, 0, 9))
    _raises(ImageArrayValueError, normalize, img, slice(None, None, 0), match="step")
    _raises(ImageArrayTypeError, normalize, img, slice("a", None), match="slice")
    _raises(ImageArrayIndexError, _INDEX_IMAGES[1].layer, 3)
    _raises(ImageArrayTypeError, _INDEX_IMAGES[1].layer, 1.0, match="layer")


# ------------------------------------------------------------------ exhaustive sweep

_D2 = ia.ImageDescriptor(16, 16)
_SWEEP = {
    "ImageDescriptor.width": lambda v: ia.ImageDescriptor(v),
    "ImageDescriptor.type": lambda v: ia.ImageDescriptor(8, type=v),
    "mip_level_desc": lambda v: ia.ImageDescriptor(8, type="mipmap", num_levels=2).mip_level_desc(
        v
    ),
    "from_shape.shape": lambda v: ia.ImageDescriptor.from_shape(v, "f4"),
    "from_shape.dtype": lambda v: ia.ImageDescriptor.from_shape(4, v),
    "from_shape.normalized": lambda v: ia.ImageDescriptor.from_shape(4, "u1", normalized=v),
    "Sampler.addressing": lambda v: ia.Sampler(v, "normalized"),
    "Sampler.max_anisotropy": lambda v: ia.Sampler(max_anisotropy=v),
    "Sampler.border_color": lambda v: ia.Sampler(border_color=v),
    "Sampler.border_color[0]": lambda v: ia.Sampler(border_color=(v, 0, 0, 0)),
    "endpoint": lambda v: endpoint(v, "source"),
    "copy.dst": lambda v: ia.copy(np.zeros((16, 16), np.float32), v),
    "copy.src_offset": lambda v: ia.copy(
        np.zeros(256, np.float32), FakeDeviceArray((16, 16)), src_offset=v
    ),
    "copy.device_row_pitch": lambda v: ia.copy(
        np.zeros(256, np.float32), FakeDeviceArray((16, 16)), device_row_pitch=v
    ),
    "plan_copy.extent": lambda v: plan_copy(_host(16 * 16 * 4), _image(), extent=v, queue_device=0),
    "plan_copy.desc": lambda v: plan_copy(_host(), _usm(), desc=v, queue_device=0),
    "plan_handle.pitch": lambda v: plan_handle(_D2, "pitch2d", ia.Sampler(), pitch=v),
    "plan_handle.address": lambda v: plan_handle(
        ia.ImageDescriptor(16), "linear", ia.Sampler(), address=v
    ),
    "create_image.memory": lambda v: ia.create_image(v),
    "create_image.pitch": lambda v: ia.create_image(FakeDeviceArray((16, 16)), pitch=v),
    "get_device": ia.get_device,
    "get_stream": ia.get_stream,
    "device_info": lambda v: ia.device_info(v),
    "device_has": lambda v: ia.device_has(v),
    "ResourceFD": ia.ResourceFD,
    "ExternalMemDescriptor.size": lambda v: ia.ExternalMemDescriptor(ia.ResourceFD(7), v),
    "ExternalMemDescriptor.handle_type": lambda v: ia.ExternalMemDescriptor(
        ia.ResourceFD(7), 64, v
    ),
    "plan_linear_mapping.shape": lambda v: plan_linear_mapping(4096, shape=v),
    "plan_linear_mapping.strides": lambda v: plan_linear_mapping(4096, shape=(4,), strides=v),
    "plan_image_mapping.offset": lambda v: plan_image_mapping(4096, _D2, v),
    "check_export_args.size": lambda v: check_export_args(v),
    "prepare.obj": lambda v: co._host_range(v, None, nbytes_required_for_pointer=True),
    "prepare.nbytes": lambda v: co._host_range(bytearray(8), v, nbytes_required_for_pointer=True),
    "empty.shape": lambda v: _make_desc(v, np.float32, 1, None, False, 1, False),
    "empty.levels": lambda v: _make_desc((8, 8), np.float32, 1, None, False, v, False),
    "empty.layers": lambda v: _make_desc((8, 8), np.float32, 1, v, False, 1, False),
    "asimage.a": lambda v: ia.asimage(v),
    "asimage.channels": lambda v: ia.asimage(np.zeros((4, 4), np.uint8), channels=v),
    "ImageArray[key]": lambda v: normalize(_INDEX_IMAGES[0], v),
    "ImageArray.layer": lambda v: _INDEX_IMAGES[1].layer(v),
    "header_hash": ia.header_hash,
    "read_texels": ref.read_texels,
    "sample.dims": lambda v: ref.sample(_IMG, _COORDS, ia.Sampler(), dims=v),
    "sample.coords": lambda v: ref.sample(_IMG, v, ia.Sampler(), dims=2),
    "fetch.indices": lambda v: ref.fetch(_IMG, v, 2),
    "sample_layered.layers": lambda v: ref.sample_layered(
        _IMG[None], _COORDS, v, ia.Sampler(), dims=2
    ),
    "cubemap_face": ref.cubemap_face,
    "box_weights": ref.box_weights,
    "box_pyramid.num_levels": lambda v: ref.box_pyramid(np.zeros(8, np.uint8), v, dims=1),
    "lod_from_gradients.sizes": lambda v: ref.lod_from_gradients([[0.1]], [[0.1]], v, dims=1),
    "filter_tolerance.data": lambda v: ref.filter_tolerance(v, ia.Sampler(), dims=1),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # e.g. inf - inf in a tolerance
@pytest.mark.parametrize("name", sorted(_SWEEP))
def test_every_hostile_value(name):
    """Each entry point against every listed hostile value, deterministically."""
    fn = _SWEEP[name]
    for value in _SPECIAL:
        try:
            fn(value)
        except ImageArrayError as exc:
            assert str(exc).strip(), (name, value)
        except Exception as exc:  # pragma: no cover - the failure report
            pytest.fail(f"{name}({value!r}) raised {type(exc).__name__}: {exc}")
