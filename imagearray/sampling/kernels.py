"""CUDA kernels behind ``ImageArray.sample``, ``fetch`` and ``gather``
(``generate_mipmaps``'s are in ``mipkernels``).

One small kernel per (image kind, dimensions, read type, sampling mode), compiled
once per process through CuPy (NVRTC) and cached. Coordinates are texture order
(x, y, z) in the last axis; for cubemaps they are a direction vector.
"""

from __future__ import annotations

import functools

import numpy

from imagearray._enums import ChannelType

STANDARD, LAYERED, CUBEMAP, CUBEMAP_LAYERED = "standard", "layered", "cubemap", "cubemap_layered"
PLAIN, LEVEL, GRADIENT = 0, 1, 2

# storage dtype name -> CUDA scalar and vector type prefix for texture/surface reads
_CTYPES = {
    "int8": ("signed char", "char"),
    "uint8": ("unsigned char", "uchar"),
    "int16": ("short", "short"),
    "uint16": ("unsigned short", "ushort"),
    "int32": ("int", "int"),
    "uint32": ("unsigned int", "uint"),
    "float16": ("unsigned short", "ushort"),  # raw bits for surface reads
    "float32": ("float", "float"),
}
_UNSIGNED_OF_SIZE = {1: "uint8", 2: "uint16", 4: "uint32"}


def _vector(scalar_and_prefix: tuple[str, str], channels: int) -> str:
    scalar, prefix = scalar_and_prefix
    return scalar if channels == 1 else f"{prefix}{channels}"


def read_types(channel_type: ChannelType, channels: int) -> tuple[str, str, numpy.dtype]:
    """(CUDA read type, CUDA output scalar, NumPy output dtype) of a texture read:
    float for normalized and floating types, the storage integer type otherwise."""
    name = channel_type.dtype_name
    if channel_type.reads_as_float:
        return _vector(_CTYPES["float32"], channels), "float", numpy.dtype(numpy.float32)
    return _vector(_CTYPES[name], channels), _CTYPES[name][0], numpy.dtype(name)


def sample_types(
    channel_type: ChannelType, channels: int, filters: bool
) -> tuple[str, str, numpy.dtype, int]:
    """:func:`read_types` plus the scale of a filtered integer read: an 8/16-bit
    integer image sampled with a linear filter is read normalized (its texture is made
    so, see ``handles.rules``) and the kernel multiplies by ``scale`` (255, 127, 65535
    or 32767) and rounds to nearest (ties to even) into the storage type. 0: no scale."""
    vt, ot, dtype = read_types(channel_type, channels)
    if filters and channel_type.filter_twin is not None:
        return vt, ot, dtype, channel_type.filter_scale
    return vt, ot, dtype, 0


def fetch_types(texel_size: int, channels: int) -> str:
    """Surface read type: an unsigned integer vector with the texel's bytes."""
    item = _UNSIGNED_OF_SIZE[texel_size // channels]
    return _vector(_CTYPES[item], channels)


def coord_count(kind: str, dims: int) -> int:
    return 3 if kind in (CUBEMAP, CUBEMAP_LAYERED) else dims


def _grad(n: int, name: str) -> str:
    parts = [f"{name}[{n}*i+{k}]" for k in range(n)]
    if n == 1:
        return parts[0]
    if n == 2:
        return f"make_float2({parts[0]}, {parts[1]})"
    return f"make_float4({parts[0]}, {parts[1]}, {parts[2]}, 0.f)"


def texture_call(kind: str, dims: int, mode: int) -> str:
    """The CUDA texture intrinsic reading point ``i`` (coordinates ``c``, layer ``L``,
    ``level``, gradients ``dx``/``dy``)."""
    n = coord_count(kind, dims)
    # 2D points are read with one 8-byte load (see coord_load); others per component
    coords = "p.x, p.y" if n == 2 else ", ".join(f"c[{n}*i+{k}]" for k in range(n))
    base = {
        STANDARD: f"tex{dims}D",
        LAYERED: f"tex{dims}DLayered",
        CUBEMAP: "texCubemap",
        CUBEMAP_LAYERED: "texCubemapLayered",
    }[kind]
    args = coords + (", L" if kind in (LAYERED, CUBEMAP_LAYERED) else "")
    if mode == LEVEL:
        return f"{base}Lod<VT>(tex, {args}, level)"
    if mode == GRADIENT:
        return f"{base}Grad<VT>(tex, {args}, {_grad(n, 'dx')}, {_grad(n, 'dy')})"
    return f"{base}<VT>(tex, {args})"


def coord_load(kind: str, dims: int) -> str:
    """The statement loading point ``i``'s coordinates where they are read as a vector:
    (x, y) pairs as one float2 (the caller passes 8-byte aligned coordinates), as a
    hand-written texture kernel over interleaved float2 coordinates does."""
    if coord_count(kind, dims) == 2:
        return "const float2 p = reinterpret_cast<const float2*>(c)[i];"
    return ""


_SAMPLE = r"""
typedef {vt} VT;
extern "C" __global__ void ia_sample({params})
{{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
{body}
    reinterpret_cast<VT*>(out)[i] = v;
}}
"""

# ia_sample's parameters by name (``{ot}``: the output scalar type).
_SAMPLE_PARAMS = {
    "tex": "unsigned long long tex",
    "layer": "const int* __restrict__ layer",
    "layer_step": "long long layer_step",
    "level": "float level",
    "c": "const float* __restrict__ c",
    "dx": "const float* __restrict__ dx",
    "dy": "const float* __restrict__ dy",
    "out": "{ot}* __restrict__ out",
    "n": "long long n",
}


def sample_params(kind: str, mode: int) -> tuple[str, ...]:
    """The parameters of the ``ia_sample`` kernel of ``kind`` and ``mode``, in order.

    Only what the kernel reads is passed (CuPy packs every argument on every launch):
    the layer of each point for layered kinds, ``level`` for LEVEL, the gradients for
    GRADIENT. What is fixed for an image and sampler (``tex``, ``layer``,
    ``layer_step``) comes first, then ``level``, then what changes per call (``c``,
    ``dx``, ``dy``, ``out``, ``n``), so a launch can append its arrays to a prebuilt
    tuple of the fixed ones."""
    names = ["tex"]
    if kind in (LAYERED, CUBEMAP_LAYERED):
        names += ["layer", "layer_step"]
    if mode == LEVEL:
        names.append("level")
    names.append("c")
    if mode == GRADIENT:
        names += ["dx", "dy"]
    names += ["out", "n"]
    return tuple(names)


def sample_args(kind: str, mode: int, **values) -> tuple:
    """``values`` (keyed by parameter name; extra ones are ignored) in the order of
    :func:`sample_params`."""
    return tuple(values[name] for name in sample_params(kind, mode))


def surface_read(kind: str, dims: int) -> tuple[str, str]:
    """(bounds condition, CUDA surface read) of point ``i`` (indices ``idx``, layer
    or face ``L``) for image kinds standard / layered / cubemap (face) / layered
    cubemap (6 * cube + face)."""
    n = dims if kind == STANDARD else (dims if kind == LAYERED else 2)
    names = ["x", "y", "z"][:n]
    cond = " && ".join(f"{v} >= 0 && {v} < {e}" for v, e in zip(names, ["w", "h", "d"]))
    xb = "x * (int)sizeof(VT)"
    rest = "".join(f", {v}" for v in names[1:])
    if kind == STANDARD:
        return cond, f"surf{dims}Dread<VT>(surf, {xb}{rest})"
    cond += " && L >= 0 && L < nl"
    if kind == LAYERED:
        return cond, f"surf{dims}DLayeredread<VT>(surf, {xb}{rest}, L)"
    if kind == CUBEMAP:
        return cond, f"surfCubemapread<VT>(surf, {xb}{rest}, L)"
    return cond, f"surfCubemapLayeredread<VT>(surf, {xb}{rest}, L)"


_FETCH = r"""
typedef {vt} VT;
extern "C" __global__ void ia_fetch(unsigned long long surf, const int* __restrict__ idx,
                                    const int* __restrict__ layer, int layer_step,
                                    VT* __restrict__ out, long long n, int w, int h, int d, int nl)
{{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    VT v;
    // Out-of-range indices read zero: checked here, so the surface never traps.
    memset(&v, 0, sizeof(VT));
    int L = layer[i * layer_step];
    (void)L; (void)nl; (void)h; (void)d;
    {unpack}
    if ({cond}) v = {call};
    out[i] = v;
}}
"""


def _unpack(n: int) -> str:
    return " ".join(f"int {v} = idx[{n}*i+{k}];" for k, v in enumerate(["x", "y", "z"][:n]))


@functools.cache
def sample_kernel(kind: str, dims: int, vt: str, ot: str, mode: int, scale: int = 0):
    import cupy

    src = sample_source(kind, dims, vt, ot, mode, scale)
    return cupy.RawKernel(src, "ia_sample", options=("-std=c++17",))


def _scaled(vt: str, scale: int) -> tuple[str, list[str]]:
    """(typedef of FT, the float read type; the statements turning ``f``, the
    normalized read of an integer texel, into ``v`` of VT, the image's integer type):
    ``rint(f * scale)`` per channel, ties to even, in float32 as the reference does."""
    channels = int(vt[-1]) if vt[-1].isdigit() else 1
    if channels == 1:
        return "typedef float FT;", [f"VT v = (VT)__float2int_rn(f * {scale}.0f);"]
    conv = [f"v.{c} = __float2int_rn(f.{c} * {scale}.0f);" for c in "xyzw"[:channels]]
    return f"typedef float{channels} FT;", ["VT v;", *conv]


def sample_source(kind: str, dims: int, vt: str, ot: str, mode: int, scale: int = 0) -> str:
    params = ",\n                          ".join(
        _SAMPLE_PARAMS[name].format(ot=ot) for name in sample_params(kind, mode)
    )
    body = [
        "int L = layer[i * layer_step];" if kind in (LAYERED, CUBEMAP_LAYERED) else "",
        coord_load(kind, dims),
    ]
    call = texture_call(kind, dims, mode)
    if scale:
        typedef, conv = _scaled(vt, scale)
        body = [typedef, *body, f"const FT f = {call.replace('<VT>', '<FT>')};", *conv]
    else:
        body.append(f"VT v = {call};")
    return _SAMPLE.format(
        vt=vt, params=params, body="\n".join("    " + line for line in body if line)
    )


def fetch_source(kind: str, dims: int, vt: str) -> str:
    cond, call = surface_read(kind, dims)
    n = dims if kind in (STANDARD, LAYERED) else 2
    return _FETCH.format(vt=vt, unpack=_unpack(n), cond=cond, call=call)


@functools.cache
def fetch_kernel(kind: str, dims: int, vt: str):
    import cupy

    return cupy.RawKernel(fetch_source(kind, dims, vt), "ia_fetch", options=("-std=c++17",))


# ---------------------------------------------------------------- gather

_GATHER = r"""
typedef {vt} VT;
extern "C" __global__ void ia_gather(unsigned long long tex, int comp,
                                     const float* __restrict__ c, {ot}* __restrict__ out,
                                     long long n)
{{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float2 p = reinterpret_cast<const float2*>(c)[i];
    reinterpret_cast<VT*>(out)[i] = tex2Dgather<VT>(tex, p.x, p.y, comp);
}}
"""


def gather_types(channel_type: ChannelType) -> tuple[str, str, numpy.dtype]:
    """(CUDA result type, output scalar, NumPy output dtype) of a gather: the four
    results as one 4-vector of :func:`read_types`' kind (float4 for normalized and
    floating types, the storage integer's 4-vector otherwise)."""
    _, ot, dtype = read_types(channel_type, 1)
    prefix = "float" if channel_type.reads_as_float else _CTYPES[channel_type.dtype_name][1]
    return f"{prefix}4", ot, dtype


def gather_source(vt: str, ot: str) -> str:
    return _GATHER.format(vt=vt, ot=ot)


@functools.cache
def gather_kernel(vt: str, ot: str):
    import cupy

    return cupy.RawKernel(gather_source(vt, ot), "ia_gather", options=("-std=c++17",))


def grid(n: int, block: int = 256) -> tuple[tuple[int], tuple[int]]:
    return ((max(1, -(-n // block)),), (block,))


@functools.cache
def by_value_types() -> tuple[type, type]:
    """(u64, i64): constructors of 8-byte unsigned / signed kernel arguments passed by
    value, the cheapest that CuPy's launcher packs.

    CuPy turns a NumPy scalar into a C value on every launch; its own ``CPointer``
    holders (``cupy.cuda.function.CUIntMax`` / ``CIntptr``: a C value and ``ptr``, its
    address, which the launcher hands to ``cuLaunchKernel`` as is) are passed
    through. They are not public API, so they are used only after checking, once,
    that they hold the 8-byte values given; otherwise NumPy's uint64 / int64."""
    import ctypes

    try:
        from cupy.cuda import function as f

        u, i = f.CUIntMax, f.CIntptr
        a, b = u(0xFEDC_BA98_7654_3210), i(-0x0123_4567_89AB_CDEF)
        if (
            ctypes.sizeof(ctypes.c_void_p) == 8
            and isinstance(a, f.CPointer)
            and isinstance(b, f.CPointer)
            and ctypes.c_uint64.from_address(a.ptr).value == 0xFEDC_BA98_7654_3210
            and ctypes.c_int64.from_address(b.ptr).value == -0x0123_4567_89AB_CDEF
        ):
            return u, i
    except Exception:  # another CuPy: fall back to NumPy scalars
        pass
    return numpy.uint64, numpy.int64
