"""imagearray._cuda, the one table of driver constants, against cuda-bindings' own
values of cuda.h (no GPU needed)."""

import pytest

from imagearray import _cuda
from imagearray._enums import ChannelType

cu = pytest.importorskip("cuda.bindings.driver")


@pytest.mark.parametrize(
    "name, enum",
    [
        ("CU_TR_ADDRESS_MODE_WRAP", cu.CUaddress_mode),
        ("CU_TR_ADDRESS_MODE_CLAMP", cu.CUaddress_mode),
        ("CU_TR_ADDRESS_MODE_MIRROR", cu.CUaddress_mode),
        ("CU_TR_ADDRESS_MODE_BORDER", cu.CUaddress_mode),
        ("CU_TR_FILTER_MODE_POINT", cu.CUfilter_mode),
        ("CU_TR_FILTER_MODE_LINEAR", cu.CUfilter_mode),
        ("CUDA_ERROR_OUT_OF_MEMORY", cu.CUresult),
    ],
)
def test_enum_values(name, enum):
    assert getattr(_cuda, name) == int(getattr(enum, name))


@pytest.mark.parametrize(
    "name",
    [
        "CU_TRSF_READ_AS_INTEGER",
        "CU_TRSF_NORMALIZED_COORDINATES",
        "CU_TRSF_SEAMLESS_CUBEMAP",
        "CUDA_ARRAY3D_LAYERED",
        "CUDA_ARRAY3D_SURFACE_LDST",
        "CUDA_ARRAY3D_CUBEMAP",
        "CUDA_ARRAY3D_TEXTURE_GATHER",
    ],
)
def test_flag_values(name):
    assert getattr(_cuda, name) == int(getattr(cu, name))


def test_array_formats():
    for name, code in _cuda.CU_AD_FORMAT.items():
        assert code == int(getattr(cu.CUarray_format, "CU_AD_FORMAT_" + name)), name


def test_format_round_trip():
    for ct in ChannelType:
        fmt = _cuda.cuda_format(ct)
        back = _cuda.format_channel_type(fmt)
        # the driver stores normalized types as their integer type
        assert back.dtype_name == ct.dtype_name and not back.is_normalized
    with pytest.raises(ValueError, match="0x7f"):
        _cuda.format_channel_type(0x7F)


def test_reads_as_float_names_the_types_cuda_filters():
    # CUDA returns normalized and floating channels as float (so it can filter them),
    # the other integer channels as integers (CU_TRSF_READ_AS_INTEGER).
    as_float = {"snorm_int8", "snorm_int16", "unorm_int8", "unorm_int16", "fp16", "fp32"}
    assert {ct.value for ct in ChannelType if ct.reads_as_float} == as_float
