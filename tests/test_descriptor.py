"""CPU tests of ``ImageDescriptor``: type coercion, the spec's rules, sizes and levels.

Extents are in texture order (x = width, y = height, z = depth); host shapes are in
NumPy order. Expected values are computed by hand in the comments.
"""

from __future__ import annotations

import dataclasses
import doctest

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagearray import _descriptor
from imagearray._descriptor import ImageDescriptor
from imagearray._enums import ChannelOrder, ChannelType, ImageType
from imagearray._errors import ImageArrayTypeError, InvalidDescriptorError

R, RG, RGBA, RGB = ChannelOrder.R, ChannelOrder.RG, ChannelOrder.RGBA, ChannelOrder.RGB
STANDARD, MIPMAP, ARRAY, CUBEMAP = (
    ImageType.STANDARD,
    ImageType.MIPMAP,
    ImageType.ARRAY,
    ImageType.CUBEMAP,
)
MIPMAP_ARRAY, CUBEMAP_ARRAY, MIPMAP_CUBEMAP = (
    ImageType.MIPMAP_ARRAY,
    ImageType.CUBEMAP_ARRAY,
    ImageType.MIPMAP_CUBEMAP,
)
INT_FIELDS = ["width", "height", "depth", "num_levels", "array_size"]


# --------------------------------------------------------------------------- construction


def test_fields_and_defaults():
    names = [f.name for f in dataclasses.fields(ImageDescriptor)]
    assert names == [
        "width",
        "height",
        "depth",
        "channel_order",
        "channel_type",
        "type",
        "num_levels",
        "array_size",
    ]
    desc = ImageDescriptor(5)
    assert (desc.width, desc.height, desc.depth) == (5, 0, 0)
    assert desc.channel_order is R
    assert desc.channel_type is ChannelType.FP32
    assert desc.type is STANDARD
    assert (desc.num_levels, desc.array_size) == (1, 1)


def test_default_constructed_descriptor_is_a_value_verify_refuses():
    # spec: "The image_descriptor shall be default constructible and follow by-value
    # semantics"; it describes no image until its fields are set.
    desc = ImageDescriptor()
    assert desc == ImageDescriptor(0, 0, 0, R, ChannelType.FP32, STANDARD, 1, 1)
    with pytest.raises(InvalidDescriptorError, match="width must be >= 1"):
        desc.verify()
    assert dataclasses.replace(desc, width=8).verify().extent == (8, 1, 1)


@pytest.mark.parametrize(
    ("field", "text", "member"),
    [
        ("channel_order", "rgba", RGBA),
        ("channel_order", "RGBA", RGBA),
        ("channel_order", "rg", RG),
        ("channel_order", "bgra", ChannelOrder.BGRA),
        ("channel_type", "fp32", ChannelType.FP32),
        ("channel_type", "unorm_int8", ChannelType.UNORM_INT8),
        ("channel_type", "SIGNED_INT16", ChannelType.SIGNED_INT16),
        ("type", "mipmap", MIPMAP),
        ("type", "Cubemap", CUBEMAP),
        ("type", "mipmap_array", MIPMAP_ARRAY),
    ],
)
def test_enum_fields_accept_strings(field, text, member):
    desc = ImageDescriptor(16, 16, **{field: text})
    assert getattr(desc, field) is member
    assert desc == ImageDescriptor(16, 16, **{field: member})


@pytest.mark.parametrize(
    ("field", "value"),
    [("channel_order", "rgbz"), ("channel_type", "float32"), ("type", "layered")],
)
def test_unknown_enum_string_is_invalid(field, value):
    with pytest.raises(InvalidDescriptorError) as info:
        ImageDescriptor(16, **{field: value})
    message = str(info.value)
    assert repr(value) in message
    assert "allowed" in message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("channel_order", ChannelType.FP32),
        ("channel_order", 4),
        ("channel_type", numpy.float32),
        ("type", None),
    ],
)
def test_enum_field_of_wrong_type(field, value):
    with pytest.raises(ImageArrayTypeError, match=field):
        ImageDescriptor(16, **{field: value})


@pytest.mark.parametrize("field", INT_FIELDS)
@pytest.mark.parametrize("value", [True, False, 2.0, 2.5, "2", None, numpy.True_])
def test_int_field_of_wrong_type(field, value):
    kwargs = {"width": 4, field: value}
    with pytest.raises(ImageArrayTypeError, match=field):
        ImageDescriptor(**kwargs)


@pytest.mark.parametrize("field", INT_FIELDS)
def test_negative_int_field_is_invalid(field):
    kwargs = {"width": 4, field: -3}
    with pytest.raises(InvalidDescriptorError, match=f"{field}=-3"):
        ImageDescriptor(**kwargs)


@pytest.mark.parametrize("field", INT_FIELDS)
def test_numpy_integers_become_python_ints(field):
    kwargs = {"width": 4, field: numpy.uint16(7)}
    value = getattr(ImageDescriptor(**kwargs), field)
    assert value == 7
    assert type(value) is int


def test_construction_does_not_verify():
    # Descriptors are plain values; only verify() applies the spec's rules.
    bad = [
        ImageDescriptor(0),
        ImageDescriptor(4, type="mipmap"),
        ImageDescriptor(4, channel_order="rgb"),
        ImageDescriptor(4, 0, 3),
        ImageDescriptor(4, 8, type="cubemap"),
    ]
    for desc in bad:
        with pytest.raises(InvalidDescriptorError):
            desc.verify()


def test_errors_are_value_and_type_errors():
    with pytest.raises(ValueError):
        ImageDescriptor(0).verify()
    with pytest.raises(TypeError):
        ImageDescriptor(1.5)


# --------------------------------------------------------------------------- value semantics


def test_frozen():
    desc = ImageDescriptor(64, 32)
    with pytest.raises(dataclasses.FrozenInstanceError):
        desc.width = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        desc.type = MIPMAP


def test_hashable_and_equal_after_coercion():
    a = ImageDescriptor(64, 32, channel_order="rgba", channel_type="unorm_int8")
    b = ImageDescriptor(numpy.int64(64), 32, 0, RGBA, ChannelType.UNORM_INT8, STANDARD, 1, 1)
    c = ImageDescriptor(64, 32, channel_order="rgba", channel_type="unorm_int16")
    assert a == b
    assert hash(a) == hash(b)
    assert a != c
    assert len({a, b, c}) == 2
    assert {a: "x"}[b] == "x"


def test_replace_coerces_again():
    desc = dataclasses.replace(ImageDescriptor(8), channel_order="rg", width=numpy.int32(9))
    assert desc.channel_order is RG
    assert type(desc.width) is int
    with pytest.raises(ImageArrayTypeError):
        dataclasses.replace(desc, height=1.0)


@pytest.mark.parametrize(
    ("desc", "text"),
    [
        (
            ImageDescriptor(64, 32, channel_order="rgba", channel_type="unorm_int8"),
            "ImageDescriptor(2D 64x32 rgba unorm_int8 standard)",
        ),
        (ImageDescriptor(10), "ImageDescriptor(1D 10 r fp32 standard)"),
        (
            ImageDescriptor(8, 4, 2, channel_type="fp16", type="mipmap", num_levels=3),
            "ImageDescriptor(3D 8x4x2 r fp16 mipmap num_levels=3)",
        ),
        (
            ImageDescriptor(16, 16, channel_order="rg", type="cubemap", array_size=6),
            "ImageDescriptor(2D 16x16 rg fp32 cubemap array_size=6)",
        ),
    ],
)
def test_str(desc, text):
    assert str(desc) == text


def test_repr_names_fields():
    text = repr(ImageDescriptor(64, 32, channel_order="rgba"))
    assert text.startswith("ImageDescriptor(width=64, height=32, depth=0,")
    assert "ChannelOrder.RGBA" in text


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize(
    ("extents", "dimensions", "extent"),
    [
        ((7, 0, 0), 1, (7, 1, 1)),
        ((7, 3, 0), 2, (7, 3, 1)),
        ((7, 3, 2), 3, (7, 3, 2)),
        ((1, 1, 1), 3, (1, 1, 1)),
    ],
)
def test_dimensions_and_extent(extents, dimensions, extent):
    desc = ImageDescriptor(*extents)
    assert desc.dimensions == dimensions
    assert desc.extent == extent


@pytest.mark.parametrize("channel_type", list(ChannelType))
@pytest.mark.parametrize(("order", "channels"), [(R, 1), (RG, 2), (RGBA, 4), (RGB, 3)])
def test_dtype_channels_texel_size(channel_type, order, channels):
    desc = ImageDescriptor(4, channel_order=order, channel_type=channel_type)
    expected_dtype = {
        "snorm_int8": "int8",
        "snorm_int16": "int16",
        "unorm_int8": "uint8",
        "unorm_int16": "uint16",
        "signed_int8": "int8",
        "signed_int16": "int16",
        "signed_int32": "int32",
        "unsigned_int8": "uint8",
        "unsigned_int16": "uint16",
        "unsigned_int32": "uint32",
        "fp16": "float16",
        "fp32": "float32",
    }[channel_type.value]
    assert desc.dtype == numpy.dtype(expected_dtype)
    assert isinstance(desc.dtype, numpy.dtype)
    assert desc.num_channels == channels
    assert desc.texel_size == numpy.dtype(expected_dtype).itemsize * channels


@pytest.mark.parametrize(
    ("kwargs", "num_layers"),
    [
        ({"width": 8, "height": 8}, 1),
        ({"width": 8, "height": 8, "type": MIPMAP, "num_levels": 2}, 1),
        ({"width": 8, "height": 8, "type": ARRAY, "array_size": 5}, 5),
        ({"width": 8, "type": MIPMAP_ARRAY, "num_levels": 2, "array_size": 3}, 3),
        ({"width": 8, "height": 8, "type": CUBEMAP, "array_size": 6}, 6),
        ({"width": 8, "height": 8, "type": MIPMAP_CUBEMAP, "num_levels": 2, "array_size": 6}, 6),
        ({"width": 8, "height": 8, "type": CUBEMAP_ARRAY, "array_size": 1}, 6),
        ({"width": 8, "height": 8, "type": CUBEMAP_ARRAY, "array_size": 3}, 18),
    ],
)
def test_num_layers(kwargs, num_layers):
    assert ImageDescriptor(**kwargs).num_layers == num_layers


@pytest.mark.parametrize(
    ("kwargs", "shape"),
    [
        # 2D RGBA8, width 64, height 32 -> (height, width, channels)
        ({"width": 64, "height": 32, "channel_order": RGBA}, (32, 64, 4)),
        ({"width": 10}, (10,)),
        ({"width": 10, "channel_order": RG}, (10, 2)),
        ({"width": 5, "height": 4, "depth": 3}, (3, 4, 5)),
        ({"width": 5, "height": 4, "depth": 3, "channel_order": RGBA}, (3, 4, 5, 4)),
        ({"width": 10, "type": ARRAY, "array_size": 3}, (3, 10)),
        ({"width": 10, "height": 2, "type": ARRAY, "array_size": 3}, (3, 2, 10)),
        (
            {"width": 10, "height": 2, "type": MIPMAP_ARRAY, "num_levels": 2, "array_size": 4},
            (4, 2, 10),
        ),
        ({"width": 16, "height": 16, "type": CUBEMAP, "array_size": 6}, (6, 16, 16)),
        (
            {"width": 16, "height": 16, "type": CUBEMAP, "array_size": 6, "channel_order": RG},
            (6, 16, 16, 2),
        ),
        ({"width": 4, "height": 4, "type": CUBEMAP_ARRAY, "array_size": 2}, (12, 4, 4)),
        (
            {"width": 4, "height": 4, "type": MIPMAP_CUBEMAP, "num_levels": 3, "array_size": 6},
            (6, 4, 4),
        ),
        # mipmapped: level 0 only
        ({"width": 64, "height": 32, "type": MIPMAP, "num_levels": 3}, (32, 64)),
    ],
)
def test_host_shape(kwargs, shape):
    desc = ImageDescriptor(**kwargs).verify()
    assert desc.host_shape == shape
    assert desc.level_nbytes(0) == int(numpy.prod(shape)) * desc.dtype.itemsize


@pytest.mark.parametrize(
    ("extents", "max_levels"),
    [
        ((1024, 0, 0), 11),
        ((1000, 0, 0), 10),
        ((1, 0, 0), 1),
        ((2, 0, 0), 2),
        ((3, 0, 0), 2),
        ((4, 0, 0), 3),
        ((16, 1024, 0), 11),
        ((7, 5, 0), 3),
        ((3, 4, 513), 10),
        ((1, 1, 1), 1),
    ],
)
def test_max_levels(extents, max_levels):
    assert ImageDescriptor(*extents).max_levels == max_levels


# --------------------------------------------------------------------------- verify


VALID = [
    {"width": 1},
    {"width": 64, "height": 32},
    {"width": 5, "height": 4, "depth": 3, "channel_order": RGBA},
    {"width": 8, "channel_order": ChannelOrder.RGBX, "channel_type": "unorm_int8"},
    {"width": 8, "channel_order": ChannelOrder.INTENSITY},
    # MIPMAP: 1 < num_levels <= max_levels, in 1D/2D/3D
    {"width": 2, "type": MIPMAP, "num_levels": 2},
    {"width": 1024, "height": 1024, "type": MIPMAP, "num_levels": 11},
    {"width": 1000, "height": 3, "type": MIPMAP, "num_levels": 10},
    {"width": 8, "height": 8, "depth": 8, "type": MIPMAP, "num_levels": 4},
    # ARRAY: array_size > 1, 1D/2D
    {"width": 10, "type": ARRAY, "array_size": 2},
    {"width": 10, "height": 20, "type": ARRAY, "array_size": 7},
    # MIPMAP_ARRAY
    {"width": 16, "type": MIPMAP_ARRAY, "num_levels": 5, "array_size": 2},
    {"width": 16, "height": 4, "type": MIPMAP_ARRAY, "num_levels": 3, "array_size": 9},
    # CUBEMAP: square faces, array_size 6
    {"width": 1, "height": 1, "type": CUBEMAP, "array_size": 6},
    {"width": 32, "height": 32, "type": CUBEMAP, "array_size": 6, "channel_order": RGBA},
    # CUBEMAP_ARRAY: array_size cubemaps
    {"width": 32, "height": 32, "type": CUBEMAP_ARRAY, "array_size": 1},
    {"width": 32, "height": 32, "type": CUBEMAP_ARRAY, "array_size": 4},
    # MIPMAP_CUBEMAP
    {"width": 32, "height": 32, "type": MIPMAP_CUBEMAP, "num_levels": 6, "array_size": 6},
]


@pytest.mark.parametrize("kwargs", VALID)
def test_verify_accepts_and_chains(kwargs):
    desc = ImageDescriptor(**kwargs)
    assert desc.verify() is desc


INVALID = [
    # (kwargs, substrings the message must contain)
    ({"width": 0}, ["width=0", ">= 1"]),
    ({"width": 0, "height": 4}, ["width=0"]),
    ({"width": 4, "height": 0, "depth": 2}, ["depth=2", "height=0", "3D"]),
    ({"width": 4, "num_levels": 0}, ["num_levels=0", ">= 1"]),
    ({"width": 4, "array_size": 0}, ["array_size=0", ">= 1"]),
    # 3-channel texels
    (
        {"width": 4, "channel_order": RGB},
        ["ChannelOrder.RGB", "3-channel", "ChannelOrder.RGBA", "4 channels"],
    ),
    # STANDARD
    ({"width": 4, "num_levels": 2}, ["ImageType.STANDARD", "num_levels=2", "MIPMAP"]),
    ({"width": 4, "array_size": 3}, ["ImageType.STANDARD", "array_size=3", "ARRAY"]),
    # MIPMAP
    ({"width": 4, "type": MIPMAP}, ["ImageType.MIPMAP", "num_levels > 1", "num_levels=1"]),
    (
        {"width": 1024, "height": 4, "type": MIPMAP, "num_levels": 12},
        ["num_levels=12", "11 levels", "1024x4", "2 to 11"],
    ),
    ({"width": 1, "type": MIPMAP, "num_levels": 2}, ["num_levels=2", "2 to 1"]),
    (
        {"width": 4, "type": MIPMAP, "num_levels": 2, "array_size": 2},
        ["ImageType.MIPMAP", "array_size=2", "MIPMAP_ARRAY"],
    ),
    # ARRAY
    ({"width": 4, "type": ARRAY}, ["ImageType.ARRAY", "array_size > 1", "array_size=1"]),
    (
        {"width": 4, "height": 4, "type": ARRAY, "array_size": 2, "num_levels": 2},
        ["ImageType.ARRAY", "num_levels=2", "MIPMAP_ARRAY"],
    ),
    (
        {"width": 4, "height": 4, "depth": 4, "type": ARRAY, "array_size": 2},
        ["ImageType.ARRAY", "1D or 2D", "depth=4"],
    ),
    # MIPMAP_ARRAY
    (
        {"width": 4, "type": MIPMAP_ARRAY, "num_levels": 1, "array_size": 2},
        ["ImageType.MIPMAP_ARRAY", "num_levels=1"],
    ),
    (
        {"width": 4, "type": MIPMAP_ARRAY, "num_levels": 4, "array_size": 2},
        ["num_levels=4", "3 levels"],
    ),
    (
        {"width": 4, "type": MIPMAP_ARRAY, "num_levels": 2, "array_size": 1},
        ["ImageType.MIPMAP_ARRAY", "array_size=1"],
    ),
    (
        {
            "width": 4,
            "height": 4,
            "depth": 2,
            "type": MIPMAP_ARRAY,
            "num_levels": 2,
            "array_size": 2,
        },
        ["1D or 2D", "depth=2"],
    ),
    # CUBEMAP
    (
        {"width": 16, "height": 8, "type": CUBEMAP, "array_size": 6},
        ["ImageType.CUBEMAP", "square", "width=16", "height=8"],
    ),
    ({"width": 16, "type": CUBEMAP, "array_size": 6}, ["square", "height=0"]),
    (
        {"width": 16, "height": 16, "depth": 16, "type": CUBEMAP, "array_size": 6},
        ["square", "depth=16"],
    ),
    (
        {"width": 16, "height": 16, "type": CUBEMAP, "array_size": 1},
        ["ImageType.CUBEMAP", "array_size == 6", "array_size=1", "CUBEMAP_ARRAY"],
    ),
    (
        {"width": 16, "height": 16, "type": CUBEMAP, "array_size": 12},
        ["array_size == 6", "array_size=12"],
    ),
    (
        {"width": 16, "height": 16, "type": CUBEMAP, "array_size": 6, "num_levels": 2},
        ["ImageType.CUBEMAP", "num_levels=2", "MIPMAP_CUBEMAP"],
    ),
    # CUBEMAP_ARRAY
    (
        {"width": 16, "height": 15, "type": CUBEMAP_ARRAY, "array_size": 2},
        ["ImageType.CUBEMAP_ARRAY", "square", "height=15"],
    ),
    (
        {"width": 16, "height": 16, "depth": 1, "type": CUBEMAP_ARRAY, "array_size": 2},
        ["square", "depth=1"],
    ),
    (
        {"width": 16, "height": 16, "type": CUBEMAP_ARRAY, "array_size": 2, "num_levels": 2},
        ["ImageType.CUBEMAP_ARRAY", "num_levels=2"],
    ),
    # MIPMAP_CUBEMAP
    (
        {"width": 16, "height": 16, "type": MIPMAP_CUBEMAP, "array_size": 6},
        ["ImageType.MIPMAP_CUBEMAP", "num_levels=1"],
    ),
    (
        {"width": 16, "height": 16, "type": MIPMAP_CUBEMAP, "num_levels": 6, "array_size": 6},
        ["num_levels=6", "5 levels"],
    ),
    (
        {"width": 16, "height": 8, "type": MIPMAP_CUBEMAP, "num_levels": 2, "array_size": 6},
        ["square", "height=8"],
    ),
    (
        {"width": 16, "height": 16, "type": MIPMAP_CUBEMAP, "num_levels": 2, "array_size": 2},
        ["array_size == 6", "array_size=2"],
    ),
]


@pytest.mark.parametrize(("kwargs", "fragments"), INVALID)
def test_verify_rejects_with_message(kwargs, fragments):
    desc = ImageDescriptor(**kwargs)
    with pytest.raises(InvalidDescriptorError) as info:
        desc.verify()
    message = str(info.value)
    assert message.startswith(f"invalid {desc}: ")
    for fragment in fragments:
        assert fragment in message, (fragment, message)


# --------------------------------------------------------------------------- mip levels


@pytest.mark.parametrize(
    ("extents", "num_levels", "chain"),
    [
        ((7, 0, 0), 3, [(7, 0, 0), (3, 0, 0), (1, 0, 0)]),
        ((16, 16, 0), 5, [(16, 16, 0), (8, 8, 0), (4, 4, 0), (2, 2, 0), (1, 1, 0)]),
        ((100, 50, 0), 3, [(100, 50, 0), (50, 25, 0), (25, 12, 0)]),
        ((7, 5, 0), 3, [(7, 5, 0), (3, 2, 0), (1, 1, 0)]),
        ((1, 9, 0), 4, [(1, 9, 0), (1, 4, 0), (1, 2, 0), (1, 1, 0)]),
        ((8, 4, 2), 4, [(8, 4, 2), (4, 2, 1), (2, 1, 1), (1, 1, 1)]),
        ((1000, 0, 0), 10, [(1000 >> i, 0, 0) for i in range(10)]),
    ],
)
def test_mip_level_desc_extents(extents, num_levels, chain):
    desc = ImageDescriptor(
        *extents,
        channel_order=RG,
        channel_type="unorm_int16",
        type=MIPMAP,
        num_levels=num_levels,
    ).verify()
    for level, expected in enumerate(chain):
        level_desc = desc.mip_level_desc(level)
        assert (level_desc.width, level_desc.height, level_desc.depth) == expected
        assert level_desc.type is STANDARD
        assert level_desc.num_levels == 1
        assert level_desc.array_size == 1
        assert level_desc.channel_order is RG
        assert level_desc.channel_type is ChannelType.UNORM_INT16
        assert level_desc.verify() is level_desc


@pytest.mark.parametrize(
    ("kwargs", "level_type"),
    [
        ({"width": 8, "height": 8, "type": MIPMAP, "num_levels": 3}, STANDARD),
        ({"width": 8, "type": MIPMAP_ARRAY, "num_levels": 3, "array_size": 5}, ARRAY),
        (
            {"width": 8, "height": 8, "type": MIPMAP_CUBEMAP, "num_levels": 3, "array_size": 6},
            CUBEMAP,
        ),
    ],
)
def test_mip_level_desc_type_and_layers(kwargs, level_type):
    desc = ImageDescriptor(**kwargs).verify()
    level_desc = desc.mip_level_desc(2)
    assert level_desc.type is level_type
    assert level_desc.array_size == desc.array_size
    assert level_desc.num_layers == desc.num_layers
    assert level_desc.width == 2
    assert level_desc.verify() is level_desc


@pytest.mark.parametrize("level", [3, 4, -1, 100])
def test_mip_level_out_of_range(level):
    desc = ImageDescriptor(8, 8, type=MIPMAP, num_levels=3)
    with pytest.raises(InvalidDescriptorError) as info:
        desc.mip_level_desc(level)
    assert not isinstance(info.value, IndexError)
    assert f"level={level}" in str(info.value)
    assert "0 to 2" in str(info.value)
    with pytest.raises(InvalidDescriptorError, match=f"level={level}"):
        desc.level_nbytes(level)


@pytest.mark.parametrize(
    "desc",
    [
        ImageDescriptor(8, 8),
        ImageDescriptor(8, type=ARRAY, array_size=3),
        ImageDescriptor(8, 8, type=CUBEMAP, array_size=6),
        ImageDescriptor(8, 8, type=CUBEMAP_ARRAY, array_size=2),
    ],
)
def test_mip_level_of_non_mipmapped(desc):
    assert desc.mip_level_desc(0) is desc
    assert desc.mip_level_desc(numpy.int64(0)) is desc
    for level in (1, -1):
        with pytest.raises(InvalidDescriptorError, match=f"level={level}"):
            desc.mip_level_desc(level)


@pytest.mark.parametrize("level", [True, 1.0, "1", None])
def test_mip_level_of_wrong_type(level):
    desc = ImageDescriptor(8, 8, type=MIPMAP, num_levels=3)
    with pytest.raises(ImageArrayTypeError, match="level"):
        desc.mip_level_desc(level)


def test_mip_level_accepts_numpy_int():
    desc = ImageDescriptor(8, 8, type=MIPMAP, num_levels=3)
    assert desc.mip_level_desc(numpy.uint8(1)) == ImageDescriptor(4, 4)


# --------------------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    ("kwargs", "level_bytes"),
    [
        # 2D RGBA8 100x50, 3 levels: 100x50, 50x25, 25x12 texels of 4 bytes
        (
            {
                "width": 100,
                "height": 50,
                "channel_order": RGBA,
                "channel_type": "unorm_int8",
                "type": MIPMAP,
                "num_levels": 3,
            },
            [5000 * 4, 1250 * 4, 300 * 4],
        ),
        # standard 2D fp32 R 64x32: one level
        ({"width": 64, "height": 32}, [64 * 32 * 4]),
        # 1D RG int16 7 -> 3 -> 1, 4 bytes per texel
        (
            {
                "width": 7,
                "channel_order": RG,
                "channel_type": "signed_int16",
                "type": MIPMAP,
                "num_levels": 3,
            },
            [28, 12, 4],
        ),
        # 3D R fp32 8x4x2: 64, 4x2x1=8, 2x1x1=2, 1 texels
        ({"width": 8, "height": 4, "depth": 2, "type": MIPMAP, "num_levels": 4}, [256, 32, 8, 4]),
        # mipmapped cubemap RGBA fp16 (8 bytes) 16x16: 6 faces of 256, 64, 16 texels
        (
            {
                "width": 16,
                "height": 16,
                "channel_order": RGBA,
                "channel_type": "fp16",
                "type": MIPMAP_CUBEMAP,
                "num_levels": 3,
                "array_size": 6,
            },
            [256 * 6 * 8, 64 * 6 * 8, 16 * 6 * 8],
        ),
        # mipmapped 2D array RG uint16 (4 bytes) 10x6, 4 layers: 60, 5x3=15, 2x1=2 texels
        (
            {
                "width": 10,
                "height": 6,
                "channel_order": RG,
                "channel_type": "unsigned_int16",
                "type": MIPMAP_ARRAY,
                "num_levels": 3,
                "array_size": 4,
            },
            [60 * 4 * 4, 15 * 4 * 4, 2 * 4 * 4],
        ),
        # 2 cubemaps of 8x8 int8 R: 12 layers of 64 bytes
        (
            {
                "width": 8,
                "height": 8,
                "channel_type": "signed_int8",
                "type": CUBEMAP_ARRAY,
                "array_size": 2,
            },
            [768],
        ),
        # 1D array of 3 layers, width 10, R fp32
        ({"width": 10, "type": ARRAY, "array_size": 3}, [120]),
    ],
)
def test_level_nbytes_and_nbytes(kwargs, level_bytes):
    desc = ImageDescriptor(**kwargs).verify()
    assert [desc.level_nbytes(level) for level in range(len(level_bytes))] == level_bytes
    assert desc.nbytes == sum(level_bytes)


def test_nbytes_of_the_worked_example():
    desc = ImageDescriptor(100, 50, 0, RGBA, "unorm_int8", "mipmap", 3)
    assert desc.nbytes == (5000 + 1250 + 300) * 4 == 26200


# --------------------------------------------------------------------------- from_shape


DTYPE_TYPES = {
    "int8": ChannelType.SIGNED_INT8,
    "int16": ChannelType.SIGNED_INT16,
    "int32": ChannelType.SIGNED_INT32,
    "uint8": ChannelType.UNSIGNED_INT8,
    "uint16": ChannelType.UNSIGNED_INT16,
    "uint32": ChannelType.UNSIGNED_INT32,
    "float16": ChannelType.FP16,
    "float32": ChannelType.FP32,
}


@pytest.mark.parametrize("dtype", list(DTYPE_TYPES))
@pytest.mark.parametrize(("channels", "order"), [(1, R), (2, RG), (4, RGBA)])
@pytest.mark.parametrize("shape", [(10,), (6, 10), (3, 6, 10)])
def test_from_shape_dtype_channels(dtype, channels, order, shape):
    desc = ImageDescriptor.from_shape(shape, numpy.dtype(dtype), channels)
    assert desc.channel_type is DTYPE_TYPES[dtype]
    assert desc.channel_order is order
    assert desc.type is STANDARD
    assert desc.dtype == numpy.dtype(dtype)
    # texture order is the NumPy shape reversed, unused extents 0
    assert (desc.width, desc.height, desc.depth) == (tuple(reversed(shape)) + (0, 0))[:3]
    assert desc.dimensions == len(shape)
    expected_shape = shape + ((channels,) if channels > 1 else ())
    assert desc.host_shape == expected_shape
    assert desc.nbytes == numpy.empty(expected_shape, dtype).nbytes


@pytest.mark.parametrize(
    "dtype", [numpy.float32, "float32", "f4", numpy.dtype("=f4"), numpy.zeros(1, "f4").dtype]
)
def test_from_shape_dtype_spellings(dtype):
    assert ImageDescriptor.from_shape(4, dtype).channel_type is ChannelType.FP32


@pytest.mark.parametrize(
    ("dtype", "channel_type"),
    [
        ("int8", ChannelType.SNORM_INT8),
        ("int16", ChannelType.SNORM_INT16),
        ("uint8", ChannelType.UNORM_INT8),
        ("uint16", ChannelType.UNORM_INT16),
    ],
)
def test_from_shape_normalized(dtype, channel_type):
    desc = ImageDescriptor.from_shape((4, 4), dtype, 4, normalized=True)
    assert desc.channel_type is channel_type
    assert desc.channel_type.is_normalized
    assert desc.dtype == numpy.dtype(dtype)


@pytest.mark.parametrize("dtype", ["int32", "uint32", "float16", "float32"])
def test_from_shape_normalized_refused(dtype):
    with pytest.raises(InvalidDescriptorError) as info:
        ImageDescriptor.from_shape((4, 4), dtype, normalized=True)
    message = str(info.value)
    assert dtype in message
    assert "uint8" in message and "int16" in message


@pytest.mark.parametrize(
    "dtype", ["float64", "int64", "uint64", "complex64", "bool", "U4", "O", numpy.float64]
)
def test_from_shape_unsupported_dtype(dtype):
    with pytest.raises(ImageArrayTypeError) as info:
        ImageDescriptor.from_shape((4, 4), dtype)
    message = str(info.value)
    assert str(numpy.dtype(dtype)) in message
    for allowed in DTYPE_TYPES:
        assert allowed in message


def test_from_shape_not_a_dtype():
    with pytest.raises(ImageArrayTypeError, match="not a NumPy dtype"):
        ImageDescriptor.from_shape((4, 4), "not-a-dtype")


def test_from_shape_non_native_byte_order():
    swapped = numpy.dtype("float32").newbyteorder()
    with pytest.raises(ImageArrayTypeError, match="byte order"):
        ImageDescriptor.from_shape((4, 4), swapped)


def test_from_shape_three_channels():
    with pytest.raises(InvalidDescriptorError) as info:
        ImageDescriptor.from_shape((4, 4), "uint8", 3)
    message = str(info.value)
    assert "channels=3" in message
    assert "4 channels" in message
    assert "RGBA" in message


@pytest.mark.parametrize("channels", [0, 5, 8, -1])
def test_from_shape_bad_channel_count(channels):
    with pytest.raises(InvalidDescriptorError, match=f"channels={channels}.*1, 2, 4"):
        ImageDescriptor.from_shape((4, 4), "uint8", channels)


@pytest.mark.parametrize("channels", [True, 2.0, "2", None])
def test_from_shape_channels_wrong_type(channels):
    with pytest.raises(ImageArrayTypeError, match="channels"):
        ImageDescriptor.from_shape((4, 4), "uint8", channels)


@pytest.mark.parametrize(("shape", "fragment"), [((), "0 axes"), ((2, 3, 4, 5), "4 axes")])
def test_from_shape_bad_rank(shape, fragment):
    with pytest.raises(InvalidDescriptorError, match=fragment):
        ImageDescriptor.from_shape(shape, "uint8")


@pytest.mark.parametrize("shape", [(0,), (4, 0), (0, 4, 4)])
def test_from_shape_zero_axis(shape):
    with pytest.raises(InvalidDescriptorError, match="zero-length"):
        ImageDescriptor.from_shape(shape, "uint8")


@pytest.mark.parametrize("shape", [(4.0, 4), (4, True), ("4",)])
def test_from_shape_non_int_axis(shape):
    with pytest.raises(ImageArrayTypeError, match=r"shape\["):
        ImageDescriptor.from_shape(shape, "uint8")


def test_from_shape_int_and_numpy_shapes():
    a = ImageDescriptor.from_shape(9, "uint8")
    b = ImageDescriptor.from_shape([9], "uint8")
    c = ImageDescriptor.from_shape(numpy.empty((9,)).shape, "uint8")
    d = ImageDescriptor.from_shape(numpy.array([9]), "uint8")
    assert a == b == c == d == ImageDescriptor(9, channel_type="unsigned_int8")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"image_type": "cubemap"},
            ImageDescriptor(16, 16, channel_type="fp32", type=CUBEMAP, array_size=6),
        ),
        (
            {"image_type": MIPMAP_CUBEMAP, "num_levels": 5},
            ImageDescriptor(16, 16, type=MIPMAP_CUBEMAP, num_levels=5, array_size=6),
        ),
        (
            {"image_type": CUBEMAP_ARRAY},
            ImageDescriptor(16, 16, type=CUBEMAP_ARRAY, array_size=1),
        ),
        (
            {"image_type": CUBEMAP_ARRAY, "array_size": 3},
            ImageDescriptor(16, 16, type=CUBEMAP_ARRAY, array_size=3),
        ),
        (
            {"image_type": ARRAY, "array_size": 4},
            ImageDescriptor(16, 16, type=ARRAY, array_size=4),
        ),
        (
            {"image_type": "mipmap", "num_levels": 3},
            ImageDescriptor(16, 16, type=MIPMAP, num_levels=3),
        ),
        (
            {"image_type": MIPMAP_ARRAY, "num_levels": 2, "array_size": 2},
            ImageDescriptor(16, 16, type=MIPMAP_ARRAY, num_levels=2, array_size=2),
        ),
    ],
)
def test_from_shape_image_types(kwargs, expected):
    assert ImageDescriptor.from_shape((16, 16), "float32", **kwargs) == expected


@pytest.mark.parametrize(
    ("shape", "kwargs", "fragment"),
    [
        ((16, 16), {"image_type": ARRAY}, "array_size=1"),
        ((4, 16, 16), {"image_type": ARRAY, "array_size": 2}, "1D or 2D"),
        ((16, 8), {"image_type": CUBEMAP}, "square"),
        ((16, 16), {"image_type": CUBEMAP, "array_size": 1}, "array_size == 6"),
        ((16,), {"image_type": MIPMAP, "num_levels": 6}, "num_levels=6"),
        ((16,), {"image_type": MIPMAP}, "num_levels > 1"),
        ((16,), {"image_type": "stack"}, "'stack'"),
    ],
)
def test_from_shape_result_is_verified(shape, kwargs, fragment):
    with pytest.raises(InvalidDescriptorError, match=fragment):
        ImageDescriptor.from_shape(shape, "float32", **kwargs)


def test_from_shape_normalized_wrong_type():
    with pytest.raises(ImageArrayTypeError, match="normalized"):
        ImageDescriptor.from_shape((4,), "uint8", normalized="yes")


# --------------------------------------------------------------------------- properties (random)


@st.composite
def valid_descriptors(draw):
    image_type = draw(st.sampled_from(list(ImageType)))
    if image_type.is_cubemap:
        dims = 2
    elif image_type.is_layered:
        dims = draw(st.integers(1, 2))
    else:
        dims = draw(st.integers(1, 3))
    extents = draw(st.lists(st.integers(1, 300), min_size=dims, max_size=dims))
    if image_type.is_cubemap:
        extents = [extents[0], extents[0]]
    if image_type.is_mipmapped:
        extents[0] = max(extents[0], 2)  # at least two levels must fit
        if image_type.is_cubemap:
            extents[1] = extents[0]
    width, height, depth = (extents + [0, 0])[:3]
    if image_type in (ImageType.ARRAY, ImageType.MIPMAP_ARRAY):
        array_size = draw(st.integers(2, 8))
    elif image_type is ImageType.CUBEMAP_ARRAY:
        array_size = draw(st.integers(1, 4))
    elif image_type.is_cubemap:
        array_size = 6
    else:
        array_size = 1
    desc = ImageDescriptor(
        width,
        height,
        depth,
        channel_order=draw(st.sampled_from([o for o in ChannelOrder if o.num_channels != 3])),
        channel_type=draw(st.sampled_from(list(ChannelType))),
        type=image_type,
        array_size=array_size,
    )
    if image_type.is_mipmapped:
        desc = dataclasses.replace(desc, num_levels=draw(st.integers(2, desc.max_levels)))
    return desc


@given(valid_descriptors())
def test_levels_add_up_and_verify(desc):
    assert desc.verify() is desc
    levels = desc.num_levels
    level_descs = [desc.mip_level_desc(level) for level in range(levels)]
    assert sum(desc.level_nbytes(level) for level in range(levels)) == desc.nbytes
    previous = None
    for level, level_desc in enumerate(level_descs):
        assert level_desc.verify() is level_desc
        assert not level_desc.type.is_mipmapped
        assert level_desc.num_layers == desc.num_layers
        assert level_desc.dimensions == desc.dimensions
        assert level_desc.nbytes == desc.level_nbytes(level)
        assert level_desc.nbytes == int(numpy.prod(level_desc.host_shape)) * desc.dtype.itemsize
        if previous is not None:
            # each level halves the previous one, rounding down, never below 1
            for now, before in zip(level_desc.extent, previous.extent, strict=True):
                assert now == max(1, before // 2)
        previous = level_desc
    # the last level of a full chain is 1 texel wide in every used dimension
    if levels == desc.max_levels and desc.type.is_mipmapped:
        assert level_descs[-1].extent == (1, 1, 1)


@given(
    shape=st.lists(st.integers(1, 64), min_size=1, max_size=3).map(tuple),
    dtype=st.sampled_from(list(DTYPE_TYPES)),
    channels=st.sampled_from([1, 2, 4]),
)
def test_from_shape_round_trips_host_shape(shape, dtype, channels):
    desc = ImageDescriptor.from_shape(shape, dtype, channels)
    data = numpy.zeros(shape + ((channels,) if channels > 1 else ()), dtype)
    assert desc.host_shape == data.shape
    assert desc.nbytes == data.nbytes
    if len(shape) > 1:
        # tightly packed: one row (along x = width) is width texels
        assert data.strides[len(shape) - 2] == desc.texel_size * desc.width


# --------------------------------------------------------------------------- docstrings


def test_docstring_examples_run():
    result = doctest.testmod(_descriptor, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 10
    assert result.failed == 0
