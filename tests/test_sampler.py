"""CPU tests of ``Sampler``: defaults, coercion, validation messages and CUDA mappings.

Per-dimension settings are in texture order (x, y, z).
"""

from __future__ import annotations

import dataclasses
import doctest
import math

import pytest

from imagearray import _sampler
from imagearray._enums import ChannelType
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray._sampler import (
    AddressingMode,
    CoordinateNormalizationMode,
    CubemapFilteringMode,
    FilteringMode,
    Sampler,
)

NONE, REPEAT, MIRROR, EDGE, CLAMP = (
    AddressingMode.NONE,
    AddressingMode.REPEAT,
    AddressingMode.MIRRORED_REPEAT,
    AddressingMode.CLAMP_TO_EDGE,
    AddressingMode.CLAMP,
)
NORM, UNNORM = CoordinateNormalizationMode.NORMALIZED, CoordinateNormalizationMode.UNNORMALIZED
NEAREST, LINEAR = FilteringMode.NEAREST, FilteringMode.LINEAR
INTEGER_TYPES = [
    ChannelType.SIGNED_INT8,
    ChannelType.SIGNED_INT16,
    ChannelType.SIGNED_INT32,
    ChannelType.UNSIGNED_INT8,
    ChannelType.UNSIGNED_INT16,
    ChannelType.UNSIGNED_INT32,
]
FILTERABLE_TYPES = [t for t in ChannelType if t not in INTEGER_TYPES]


# --------------------------------------------------------------------------- enums


@pytest.mark.parametrize(
    "enum_cls, values",
    [
        (AddressingMode, ["none", "repeat", "mirrored_repeat", "clamp_to_edge", "clamp"]),
        (CoordinateNormalizationMode, ["normalized", "unnormalized"]),
        (FilteringMode, ["nearest", "linear"]),
        (CubemapFilteringMode, ["disjointed", "seamless"]),
    ],
)
def test_enum_values_are_the_spec_names(enum_cls, values):
    assert [m.value for m in enum_cls] == values
    assert [m.name for m in enum_cls] == [v.upper() for v in values]


# --------------------------------------------------------------------------- construction


def test_defaults_are_the_spec_default_sampler():
    s = Sampler()
    assert s.addressing == (NONE, NONE, NONE)
    assert s.coordinates is UNNORM
    assert s.filtering is NEAREST
    assert s.mipmap_filtering is NEAREST
    assert s.cubemap_filtering is CubemapFilteringMode.DISJOINTED
    assert s.min_mipmap_level_clamp == 0.0
    assert s.max_mipmap_level_clamp == 0.0
    assert s.max_anisotropy == 0.0
    assert s.border_color == (0.0, 0.0, 0.0, 0.0)
    assert not s.normalized


def test_field_order_and_keyword_only_fields():
    names = [f.name for f in dataclasses.fields(Sampler)]
    assert names == [
        "addressing",
        "coordinates",
        "filtering",
        "mipmap_filtering",
        "cubemap_filtering",
        "min_mipmap_level_clamp",
        "max_mipmap_level_clamp",
        "max_anisotropy",
        "border_color",
    ]
    # The spec's constructors take (addressing, coordinate, filtering) positionally.
    assert Sampler(EDGE, NORM, LINEAR) == Sampler(
        addressing=EDGE, coordinates=NORM, filtering=LINEAR
    )
    with pytest.raises(TypeError):
        Sampler(EDGE, NORM, LINEAR, LINEAR)


def test_strings_are_coerced_case_insensitively():
    s = Sampler(
        "Clamp_To_Edge",
        "NORMALIZED",
        "linear",
        mipmap_filtering="LINEAR",
        cubemap_filtering="seamless",
    )
    assert s.addressing == (EDGE, EDGE, EDGE)
    assert s.coordinates is NORM
    assert s.filtering is LINEAR
    assert s.mipmap_filtering is LINEAR
    assert s.cubemap_filtering is CubemapFilteringMode.SEAMLESS
    assert s == Sampler(EDGE, NORM, LINEAR, mipmap_filtering=LINEAR, cubemap_filtering="seamless")


@pytest.mark.parametrize(
    "addressing, expected",
    [
        (REPEAT, (REPEAT, REPEAT, REPEAT)),
        ("clamp", (CLAMP, CLAMP, CLAMP)),
        ((REPEAT,), (REPEAT, REPEAT, REPEAT)),
        (["repeat", "clamp"], (REPEAT, CLAMP, CLAMP)),
        ((MIRROR, "clamp_to_edge", CLAMP), (MIRROR, EDGE, CLAMP)),
    ],
)
def test_addressing_normalised_to_three_tuple(addressing, expected):
    s = Sampler(addressing, NORM)
    assert s.addressing == expected
    assert isinstance(s.addressing, tuple)


def test_numbers_are_floats_and_border_is_a_tuple():
    s = Sampler(
        min_mipmap_level_clamp=1,
        max_mipmap_level_clamp=3,
        max_anisotropy=8,
        border_color=[1, 0.5, 0, 1],
    )
    assert (s.min_mipmap_level_clamp, s.max_mipmap_level_clamp, s.max_anisotropy) == (1.0, 3.0, 8.0)
    assert all(isinstance(v, float) for v in (s.min_mipmap_level_clamp, s.max_anisotropy))
    assert s.border_color == (1.0, 0.5, 0.0, 1.0)
    assert isinstance(s.border_color, tuple)


def test_hashable_frozen_and_equal_by_value():
    a = Sampler("repeat", "normalized", "linear")
    b = Sampler((REPEAT, REPEAT, REPEAT), NORM, LINEAR)
    assert a == b and hash(a) == hash(b)
    assert len({a, b, Sampler()}) == 2
    assert {a: 1}[b] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.filtering = NEAREST  # type: ignore[misc]
    # the hash is the dataclass's own (that of the field tuple), cached after first use
    fields = tuple(getattr(a, f.name) for f in dataclasses.fields(Sampler))
    assert hash(a) == hash(fields) == hash(a)
    assert repr(a) == repr(b) and "_hash" not in repr(a)
    # replace() re-validates, and the copy hashes its own fields.
    c = dataclasses.replace(a, filtering="nearest")
    assert c.filtering is NEAREST and c != a
    assert hash(c) == hash(tuple(getattr(c, f.name) for f in dataclasses.fields(Sampler)))
    with pytest.raises(ImageArrayValueError):
        dataclasses.replace(a, max_anisotropy=-1.0)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"addressing": "wrap"}, "addressing"),
        ({"addressing": ("repeat", "wrap")}, "addressing[1]"),
        ({"coordinates": "pixels"}, "coordinates"),
        ({"filtering": "cubic"}, "filtering"),
        ({"mipmap_filtering": "trilinear"}, "mipmap_filtering"),
        ({"cubemap_filtering": "seamed"}, "cubemap_filtering"),
    ],
)
def test_unknown_string_quotes_value_and_allowed(kwargs, name):
    (value,) = kwargs.values()
    bad = value[-1] if isinstance(value, tuple) else value
    with pytest.raises(ImageArrayValueError) as info:
        Sampler(**kwargs)
    message = str(info.value)
    assert f"{name}={bad!r}" in message
    assert "allowed:" in message


def test_unknown_mode_lists_all_allowed_values():
    with pytest.raises(ImageArrayValueError) as info:
        Sampler(filtering="cubic")
    assert "'nearest', 'linear'" in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"addressing": 1},
        {"addressing": None},
        {"coordinates": True},
        {"filtering": 0},
        {"addressing": (REPEAT, 2)},
        {"max_anisotropy": "4"},
        {"min_mipmap_level_clamp": None},
        {"max_mipmap_level_clamp": True},
        {"border_color": 0.0},
        {"border_color": "rgba"},
        {"border_color": (0.0, "a", 0.0, 0.0)},
    ],
)
def test_wrong_types_raise_type_error(kwargs):
    with pytest.raises(ImageArrayTypeError):
        Sampler(**kwargs)


@pytest.mark.parametrize("addressing", [(), (REPEAT,) * 4])
def test_addressing_needs_one_to_three_modes(addressing):
    with pytest.raises(ImageArrayValueError, match="1 to 3 modes"):
        Sampler(addressing)


@pytest.mark.parametrize("mode", ["repeat", "mirrored_repeat"])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_wrapping_needs_normalized_coordinates_to_sample(mode, axis):
    # The sampler is made (a handle with it fetches, spec); sampling through it is not
    # possible on CUDA, and sampling_problem says why. Its texture clamps.
    addressing = [EDGE, EDGE, EDGE]
    addressing[axis] = mode
    s = Sampler(addressing, UNNORM)
    message = s.sampling_problem("fp32")
    assert repr(mode) in message
    assert f"dimension {'xyz'[axis]}" in message
    assert "normalized coordinates" in message
    assert "'none', 'clamp_to_edge' and 'clamp'" in message
    assert s.cuda_address_modes == (1, 1, 1)
    assert Sampler(addressing, NORM).sampling_problem("fp32") is None


@pytest.mark.parametrize("value", [-1.0, -1e-9, 16.5, 17, math.inf])
def test_anisotropy_range(value):
    with pytest.raises(ImageArrayValueError) as info:
        Sampler(max_anisotropy=value)
    assert f"max_anisotropy={float(value)!r}" in str(info.value)
    assert "0 to 16" in str(info.value)


@pytest.mark.parametrize("value", [0, 1, 2.5, 16])
def test_anisotropy_allowed(value):
    assert Sampler(max_anisotropy=value).max_anisotropy == value


def test_min_clamp_above_max_clamp():
    with pytest.raises(ImageArrayValueError) as info:
        Sampler(min_mipmap_level_clamp=2.0, max_mipmap_level_clamp=1.0)
    message = str(info.value)
    assert "min_mipmap_level_clamp=2.0" in message
    assert "max_mipmap_level_clamp=1.0" in message
    # Equal clamps, and clamps at the default 0, are allowed.
    Sampler(min_mipmap_level_clamp=1.0, max_mipmap_level_clamp=1.0)


def test_negative_min_clamp():
    with pytest.raises(ImageArrayValueError, match=r"min_mipmap_level_clamp=-1.0 is negative"):
        Sampler(min_mipmap_level_clamp=-1.0, max_mipmap_level_clamp=2.0)


@pytest.mark.parametrize(
    "name", ["min_mipmap_level_clamp", "max_mipmap_level_clamp", "max_anisotropy"]
)
def test_nan_refused(name):
    with pytest.raises(ImageArrayValueError, match=rf"{name} must not be NaN"):
        Sampler(**{name: math.nan})


def test_nan_border_refused():
    with pytest.raises(ImageArrayValueError, match=r"border_color\[2\] must not be NaN"):
        Sampler(border_color=(0.0, 0.0, math.nan, 0.0))


@pytest.mark.parametrize("border", [(), (1.0,), (1.0, 2.0, 3.0), (1.0,) * 5])
def test_border_needs_four_components(border):
    with pytest.raises(ImageArrayValueError, match=f"4 components.*got {len(border)}"):
        Sampler(border_color=border)


# --------------------------------------------------------------------------- channel types


INT32_TYPES = [ChannelType.SIGNED_INT32, ChannelType.UNSIGNED_INT32]
INT8_16_TYPES = [t for t in INTEGER_TYPES if t not in INT32_TYPES]


@pytest.mark.parametrize("channel_type", INT32_TYPES)
@pytest.mark.parametrize(
    "kwargs, kind",
    [
        ({"filtering": "linear"}, "linear filtering"),
        ({"mipmap_filtering": "linear"}, "linear mipmap filtering"),
    ],
)
def test_linear_filtering_of_32bit_integer_channels_refused(channel_type, kwargs, kind):
    sampler = Sampler(**kwargs)
    with pytest.raises(ImageArrayValueError) as info:
        sampler.check_channel_type(channel_type)
    message = str(info.value)
    assert message.startswith(f"{kind} cannot read channel type {channel_type.value!r}")
    assert "cudaErrorInvalidFilterSetting" in message  # the driver's reason
    assert "use nearest filtering" in message
    assert sampler.sampling_problem(channel_type) == message
    # Strings name the same type.
    with pytest.raises(ImageArrayValueError):
        sampler.check_channel_type(channel_type.value)


@pytest.mark.parametrize("channel_type", INT8_16_TYPES)
def test_linear_filtering_of_8_16bit_integer_channels_through_a_normalized_twin(channel_type):
    sampler = Sampler(filtering="linear", mipmap_filtering="linear")
    assert sampler.check_channel_type(channel_type) is None
    assert sampler.sampling_problem(channel_type) is None
    twin = channel_type.filter_twin
    assert twin.is_normalized and twin.dtype_name == channel_type.dtype_name
    bits = 8 * channel_type.itemsize
    signed = channel_type.name.startswith("SIGNED")
    assert channel_type.filter_scale == (2 ** (bits - 1) - 1 if signed else 2**bits - 1)


@pytest.mark.parametrize("channel_type", list(ChannelType))
def test_nearest_reads_every_channel_type(channel_type):
    assert Sampler().check_channel_type(channel_type) is None


@pytest.mark.parametrize("channel_type", FILTERABLE_TYPES)
def test_linear_reads_normalized_and_float_channels(channel_type):
    sampler = Sampler(filtering="linear", mipmap_filtering="linear")
    assert sampler.check_channel_type(channel_type) is None


def test_check_channel_type_bad_argument():
    with pytest.raises(ImageArrayValueError, match="allowed"):
        Sampler().check_channel_type("int8")
    with pytest.raises(ImageArrayTypeError):
        Sampler().check_channel_type(8)


# --------------------------------------------------------------------------- CUDA mapping


@pytest.mark.parametrize(
    "mode, expected",
    [
        (REPEAT, 0),  # CU_TR_ADDRESS_MODE_WRAP
        (MIRROR, 2),  # CU_TR_ADDRESS_MODE_MIRROR
        (EDGE, 1),  # CU_TR_ADDRESS_MODE_CLAMP
        (CLAMP, 3),  # CU_TR_ADDRESS_MODE_BORDER: the spec's clamp reads the border colour
        (NONE, 0),  # the backend default: wrap on CUDA (spec, "Image sampler struct")
    ],
)
def test_cuda_address_modes_normalized(mode, expected):
    assert Sampler(mode, NORM).cuda_address_modes == (expected,) * 3


@pytest.mark.parametrize("mode, expected", [(NONE, 1), (EDGE, 1), (CLAMP, 3)])
def test_cuda_address_modes_unnormalized(mode, expected):
    # CUDA supports no wrapping of unnormalized coordinates: NONE clamps to the edge.
    assert Sampler(mode, UNNORM).cuda_address_modes == (expected,) * 3


def test_cuda_address_modes_per_dimension():
    assert Sampler((REPEAT, MIRROR, CLAMP), NORM).cuda_address_modes == (0, 2, 3)
    assert Sampler((NONE, EDGE, CLAMP), UNNORM).cuda_address_modes == (1, 1, 3)
    assert all(isinstance(m, int) for m in Sampler().cuda_address_modes)


def test_cuda_filter_modes():
    assert Sampler().cuda_filter_mode == 0  # CU_TR_FILTER_MODE_POINT
    assert Sampler(filtering="linear").cuda_filter_mode == 1  # CU_TR_FILTER_MODE_LINEAR
    assert Sampler().cuda_mipmap_filter_mode == 0
    assert Sampler(mipmap_filtering="linear").cuda_mipmap_filter_mode == 1
    assert Sampler(filtering="linear").cuda_mipmap_filter_mode == 0


@pytest.mark.parametrize(
    "coordinates, cubemap, expected",
    [
        (UNNORM, "disjointed", 0x00),
        (NORM, "disjointed", 0x02),  # CU_TRSF_NORMALIZED_COORDINATES
        (UNNORM, "seamless", 0x40),  # CU_TRSF_SEAMLESS_CUBEMAP
        (NORM, "seamless", 0x42),
    ],
)
def test_cuda_flags(coordinates, cubemap, expected):
    flags = Sampler(coordinates=coordinates, cubemap_filtering=cubemap).cuda_flags
    assert flags == expected
    assert not flags & 0x01  # CU_TRSF_READ_AS_INTEGER is the caller's


@pytest.mark.parametrize("value, expected", [(0.0, 0), (1.0, 1), (4.9, 4), (16.0, 16)])
def test_cuda_max_anisotropy_truncates(value, expected):
    assert Sampler(max_anisotropy=value).cuda_max_anisotropy == expected


def test_docstring_examples():
    result = doctest.testmod(_sampler, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
