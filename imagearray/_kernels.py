"""CUDA kernels behind ``ImageArray.sample`` and ``ImageArray.fetch``.

One small kernel per (dimensions, read type), compiled once per process by CuPy's
NVRTC path and cached. Coordinates are texture order (x, y, z) in the last axis.
"""

from __future__ import annotations

import functools

import numpy

from imagearray._enums import ChannelType

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
    if channel_type.is_normalized or name in ("float16", "float32"):
        return _vector(_CTYPES["float32"], channels), "float", numpy.dtype(numpy.float32)
    return _vector(_CTYPES[name], channels), _CTYPES[name][0], numpy.dtype(name)


_SAMPLE = r"""
#define DIMS {dims}
#define MODE {mode}
typedef {vt} VT;
extern "C" __global__ void ia_sample(unsigned long long tex, const float* __restrict__ c,
                                     const float* __restrict__ dx, const float* __restrict__ dy,
                                     {ot}* __restrict__ out, long long n, float level)
{{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    VT v;
#if DIMS == 1
    float x = c[i];
  #if MODE == 0
    v = tex1D<VT>(tex, x);
  #elif MODE == 1
    v = tex1DLod<VT>(tex, x, level);
  #else
    v = tex1DGrad<VT>(tex, x, dx[i], dy[i]);
  #endif
#elif DIMS == 2
    float x = c[2 * i], y = c[2 * i + 1];
  #if MODE == 0
    v = tex2D<VT>(tex, x, y);
  #elif MODE == 1
    v = tex2DLod<VT>(tex, x, y, level);
  #else
    v = tex2DGrad<VT>(tex, x, y, make_float2(dx[2 * i], dx[2 * i + 1]),
                      make_float2(dy[2 * i], dy[2 * i + 1]));
  #endif
#else
    float x = c[3 * i], y = c[3 * i + 1], z = c[3 * i + 2];
  #if MODE == 0
    v = tex3D<VT>(tex, x, y, z);
  #elif MODE == 1
    v = tex3DLod<VT>(tex, x, y, z, level);
  #else
    v = tex3DGrad<VT>(tex, x, y, z, make_float4(dx[3 * i], dx[3 * i + 1], dx[3 * i + 2], 0.f),
                      make_float4(dy[3 * i], dy[3 * i + 1], dy[3 * i + 2], 0.f));
  #endif
#endif
    reinterpret_cast<VT*>(out)[i] = v;
}}
"""

_FETCH = r"""
#define DIMS {dims}
typedef {vt} VT;
extern "C" __global__ void ia_fetch(unsigned long long surf, const int* __restrict__ idx,
                                    VT* __restrict__ out, long long n, int w, int h, int d)
{{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    VT v;
    // Out-of-range indices read zero: checked here, so the surface never traps.
    memset(&v, 0, sizeof(VT));
#if DIMS == 1
    int x = idx[i];
    if (x >= 0 && x < w) v = surf1Dread<VT>(surf, x * (int)sizeof(VT));
#elif DIMS == 2
    int x = idx[2 * i], y = idx[2 * i + 1];
    if (x >= 0 && x < w && y >= 0 && y < h) v = surf2Dread<VT>(surf, x * (int)sizeof(VT), y);
#else
    int x = idx[3 * i], y = idx[3 * i + 1], z = idx[3 * i + 2];
    if (x >= 0 && x < w && y >= 0 && y < h && z >= 0 && z < d)
        v = surf3Dread<VT>(surf, x * (int)sizeof(VT), y, z);
#endif
    out[i] = v;
}}
"""


@functools.cache
def sample_kernel(dims: int, vt: str, ot: str, mode: int):
    import cupy

    src = _SAMPLE.format(dims=dims, vt=vt, ot=ot, mode=mode)
    return cupy.RawKernel(src, "ia_sample", options=("-std=c++17",))


@functools.cache
def fetch_kernel(dims: int, vt: str):
    import cupy

    src = _FETCH.format(dims=dims, vt=vt)
    return cupy.RawKernel(src, "ia_fetch", options=("-std=c++17",))


def fetch_types(texel_size: int, channels: int) -> str:
    """Surface read type: an unsigned integer vector with the texel's bytes."""
    item = _UNSIGNED_OF_SIZE[texel_size // channels]
    return _vector(_CTYPES[item], channels)


def grid(n: int, block: int = 256) -> tuple[tuple[int], tuple[int]]:
    return ((max(1, -(-n // block)),), (block,))
