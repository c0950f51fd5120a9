"""CUDA source of the ndimage kernels: one kernel per :class:`KernelKey`, generated
here and compiled once per process (NVRTC through CuPy).

Every kernel does, per output point: its input coordinate (SciPy axis order; from a
matrix, a coordinate array, a homography or remap maps), then the value there:

- ``constant`` mode: a point outside ``[0, n - 1]`` on any axis is ``cval``;
- order 1, ``hardware`` precision, a point inside ``[0, n - 1]`` on every axis: one
  filtered texture read (8-bit-fraction weights), all channels at once;
- anything else: cupyx's own algorithm on point reads of the texture (the taps
  ``floor(c)`` and ``floor(c) + 1``, each mapped by the mode's boundary rule, float32
  weights, summed in cupyx's order; order 0: ``floor(c + 0.5)`` mapped), so the border
  values of every mode are SciPy's.

The boundary rules (``bnd`` below) are cupyx's ``_generate_boundary_condition_ops``,
and :mod:`imagearray.ndimage._modes` is their NumPy twin, which the CPU tests hold
against SciPy. Coordinates are float32 (or float64 for float64 coordinate arrays), as
cupyx computes them for float32 inputs.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy

from imagearray.ndimage import _cubic, _cubicconv, _linear
from imagearray.ndimage._modes import MODE_CODES
from imagearray.ndimage._textures import READS

# kinds of coordinate source
AFFINE, ZOOM, ZOOM_GRID, SHIFT, ZOOM_SHIFT, HOMOGRAPHY, COORDS, REMAP, REMAP_REL = (
    "affine",
    "zoom",
    "zoom_grid",
    "shift",
    "zoom_shift",
    "homography",
    "coords",
    "remap",
    "remap_rel",
)
KINDS = (AFFINE, ZOOM, ZOOM_GRID, SHIFT, ZOOM_SHIFT, HOMOGRAPHY, COORDS, REMAP, REMAP_REL)
LINEAR_KINDS = (COORDS, REMAP, REMAP_REL)  # one thread per point, points in C order
# kinds whose coordinates cupyx computes before its map_coordinates adds the padding
_LATE_PAD = (HOMOGRAPHY, REMAP, REMAP_REL)
N_PARAMS = 12  # matrix values passed by value (a 3 x 4 affine is the largest)
CUBIC_CONV = -1  # the kernels' order for cubic convolution (interpolation="cubic")

# output dtype -> the CUDA type a kernel stores
OUT_TYPES = {
    "float32": "float",
    "float64": "double",
    "float16": "unsigned short /*half*/",
    "uint8": "unsigned char",
    "int8": "signed char",
    "uint16": "unsigned short",
    "int16": "short",
    "uint32": "unsigned int",
    "int32": "int",
    "uint64": "unsigned long long",
    "int64": "long long",
}
_DTYPE_OF = {t: d for d, t in OUT_TYPES.items()}


#: map_coordinates and remap (the linear kinds, CO points a thread): every point's
#: coordinates are loaded before the first point's texture read, where each point
#: loaded its own after the point before had issued its read. nvdisasm of the order-1
#: kernel (sm_90, compiled here) showed the second point's coordinate loads issued
#: only after the first point's texture fetch, which waits for the first's loads: two
#: memory round trips a thread before its last fetch, where one would do. The same
#: values by construction. Off until a GPU run has tested and timed it (tests:
#: test_ndimage_preload_gpu; benchmarks/ndimage.py's map_coordinates rows).
PRELOAD = False


class KernelKey(NamedTuple):
    ndim: int  # spatial axes: 2 or 3
    channels: int  # 1, 2 or 4 (a texel of the texture); 3 is read as 3 texels of 1
    kind: str
    mode: str  # a key of MODE_CODES (after the opencv aliases are resolved)
    order: int  # 0, 1, 3 (B-spline) or CUBIC_CONV (Keys' cubic convolution, conv_a)
    hardware: bool  # order 1 interior points by the texture unit's filtering
    read: str  # CUDA type of a point read (element type), e.g. "uchar4", "float"
    filtered: str  # CUDA type of a filtered read ("float", "float2", "float4") or ""
    out: str  # CUDA storage type of one output value
    coord: str  # "float" or "double": coordinate arithmetic
    layered: bool  # the batch is the layers of a layered texture
    per_sample: bool  # per-sample parameters from a device array
    split3: bool  # 3 channels read as 3 consecutive single-channel texels
    tiled: bool  # accumulate the taps this tile owns into a float buffer
    # where a CuPy matrix is read from (prm.pm, the caller's array as it is): 0 packed
    # parameters, 1 (ndim, ndim) rows + offsets in prm.m, 2 rows of ndim + 1 (the last
    # column the offset), 3 a diagonal (zoom-shift; offsets in prm.m[4:])
    mlayout: int = 0
    mdouble: bool = False  # that matrix is float64 (each value cast to W, as cupyx does)
    vstore: bool = False  # the NCH (2 or 4) values of a point written in one vector store
    coarsen: int = 1  # output points per thread (see _launch.coarsening)
    # order 3: samples of padding before the first of each spatial axis of the
    # coefficients (cupyx's ``nprepad``: 12 for nearest and grid-constant, added to
    # the coordinate as cupyx does) or 1 (the opencv modes' cval border, added last)
    pad: int = 0
    halo: int = 0  # order 3: texels of border each side of each axis (_spline.border)
    gather: bool = False  # order 1 exact, 2D: interior points by one gather per channel
    conv_a: float = 0.0  # CUBIC_CONV: the parameter a of Keys' kernel (-0.75: OpenCV)
    preload: bool = False  # the linear kinds: every point's coordinates loaded first


_STORE = {
    "float": "*p = v;",
    "double": "*p = (double)v;",
    # float16 output: round to nearest even, stored as its bits (no cuda_fp16.h)
    "unsigned short /*half*/": 'asm("cvt.rn.f16.f32 %0, %1;" : "=h"(*p) : "f"(v));',
}


# every scalar and vector (2, 4) type a texture read returns (_textures' read table)
_READ_TYPES = sorted({(scalar, prefix) for scalar, prefix, _ in READS.values()})
_UNPACK = "\n".join(
    f"__device__ __forceinline__ void unpack({t} v, float* o) {{ o[0] = (float)v; }}\n"
    f"__device__ __forceinline__ void unpack({v}2 v, float* o) {{ o[0] = v.x; o[1] = v.y; }}\n"
    f"__device__ __forceinline__ void unpack({v}4 v, float* o) {{\n"
    "    o[0] = v.x; o[1] = v.y; o[2] = v.z; o[3] = v.w; }"
    for t, v in _READ_TYPES
)


def _store(out: str) -> str:
    body = _STORE.get(out)
    if body is None:  # integer outputs: rounded to nearest, as cupyx's rint
        body = "*p = (OUT)rintf(v);"
    return body


_COMMON = r"""
typedef {coord} W;
typedef {out} OUT;
#define NDIM {ndim}
#define NCH {channels}
#define ORDER {order}
#define MODE {mode}
#define HW {hardware}
#define LAYERED {layered}
#define PER_SAMPLE {per_sample}
#define SPLIT3 {split3}
#define TILED {tiled}
#define CO {coarsen}
#define M_CONSTANT 0
#define M_GRID_CONSTANT 1
#define M_NEAREST 2
#define M_MIRROR 3
#define M_REFLECT 4
#define M_GRID_WRAP 5
#define M_WRAP 6

__device__ __forceinline__ void store(OUT* p, float v) {{ {store} }}

typedef unsigned char uchar; typedef unsigned short ushort; typedef signed char schar;
typedef {read} RT;
// one read as NCH floats
{unpack}
// cupyx's boundary rules on an integer tap (constant modes: -1 = outside)
__device__ __forceinline__ int bnd(int ix, int n) {{
#if MODE == M_REFLECT
    if (ix < 0) ix = -1 - ix;
    ix %= n * 2;
    return min(ix, 2 * n - 1 - ix);
#elif MODE == M_MIRROR
    if (n == 1) return 0;
    if (ix < 0) ix = -ix;
    ix = 1 + (ix - 1) % ((n - 1) * 2);
    return min(ix, 2 * n - 2 - ix);
#elif MODE == M_NEAREST
    return min(max(ix, 0), n - 1);
#elif MODE == M_GRID_WRAP
    ix %= n;
    while (ix < 0) ix += n;
    return ix;
#else  // constant, grid-constant (wrap maps the coordinate instead: see wrapc)
    return (ix < 0 || ix >= n) ? -1 : ix;
#endif
}}

// cupyx's 'wrap' rule on the coordinate (period n - 1)
__device__ __forceinline__ W wrapc(W c, int n) {{
    if (n == 1) return (W)0;
    if (c < 0) {{
        c += (W)(n - 1) * ((W)(int)(-c / (W)(n - 1)) + 1);
    }} else if (c > (W)(n - 1)) {{
        c -= (W)(n - 1) * (W)(int)(c / (W)(n - 1));
    }}
    return c;
}}
"""

_KERNEL = r"""
// every argument in one struct passed by value (one kernel parameter: the launch
// packs one argument instead of forty); the host twin is _launch.params_dtype
struct Params {{
    unsigned long long tex_f, tex_p;
    const W* pm; const W* ca; const W* cb; OUT* out; float* acc;
    long long pm_stride, npts;
    int n0, n1, n2, o0, o1, o2, nb;
    int lo0, lo1, lo2, hi0, hi1, hi2, first;
    float scale, cval;
    W m[12];
}};

extern "C" __global__ void ia_interp(const Params prm)
{{
    const int n0 = prm.n0, o0 = prm.o0, o1 = prm.o1, o2 = prm.o2;
    const long long npts = prm.npts;
    const float scale = prm.scale, cval = prm.cval;
    (void)o2; (void)scale; (void)npts;
    const int n[3] = {{n0, prm.n1, prm.n2}};
    // CO points per thread (blockDim apart along the launch's y, or x for the linear
    // kinds): every point's reads are issued before any value is used
    float vv[CO][NCH], sc[CO];
    long long pp[CO];
    bool wr[CO];
{preload}    // one point: its values (unscaled) into v, their scale, its output index; false:
    // nothing to write
    auto point = [&](const int k, float* v, float& vscale, long long& pout) -> bool {{
{index}
    pout = p;
    vscale = 1.f;
    W c[NDIM];
{coords}
#pragma unroll
    for (int ch = 0; ch < NCH; ch++) v[ch] = 0.f;
    bool done = false;
    // NaN coordinates, and constant mode outside [0, n - 1]: cval
#pragma unroll
    for (int j = 0; j < NDIM; j++) {{
        if (!(c[j] == c[j])) done = true;
#if MODE == M_CONSTANT
        if (c[j] < (W)0 || c[j] > (W)(n[j] - 1)) done = true;
#endif
        // far-away points: keep floor() in int range (every rule is periodic or flat there)
        c[j] = fmax(fmin(c[j], (W)1073741824), (W)-1073741824);
    }}
    if (done) {{
#pragma unroll
        for (int ch = 0; ch < NCH; ch++) v[ch] = cval;
#if TILED
        if (!prm.first) return;
#endif
    }}
#if ORDER == 1 && HW
    bool inside = !done;
#pragma unroll
    for (int j = 0; j < NDIM; j++)
        inside = inside && c[j] >= (W)0 && c[j] <= (W)(n[j] - 1);
    if (inside) {{
        unpack({filtered_read}, v);  // scaled after every point's read is issued
        vscale = scale;
        done = true;
    }}
#endif
{gathers}
#if ORDER == 3
{cubic_weights}
#if HW
{cubic_hw}
#endif
#endif
    if (!done) {{
{taps}
    }}
    return true;
    }};
#pragma unroll
    for (int k = 0; k < CO; k++) wr[k] = point(k, vv[k], sc[k], pp[k]);
#pragma unroll
    for (int k = 0; k < CO; k++) {{
        if (!wr[k]) continue;
        const long long p = pp[k];
        float* v = vv[k];
#pragma unroll
        for (int ch = 0; ch < NCH; ch++) v[ch] *= sc[k];
{write}
    }}
}}
"""


def _index(key: KernelKey) -> str:
    """Thread -> output point: (i0, i1[, i2]) in SciPy order, batch b, linear p."""
    if key.kind in LINEAR_KINDS:  # the batch's samples share the coordinates
        head = """
    const long long pc = ((long long)blockIdx.x * CO + k) * blockDim.x + threadIdx.x;
    if (pc >= npts) return;
    const int b = blockIdx.y;
    const long long p = (long long)b * npts + pc;
    long long q = pc;"""
        if key.ndim == 3:
            return (
                head
                + """
    const unsigned int i2 = (unsigned int)(q % o2); q /= o2;
    const unsigned int i1 = (unsigned int)(q % o1); q /= o1;
    const unsigned int i0 = (unsigned int)q;"""
            )
        return (
            head
            + """
    const unsigned int i1 = (unsigned int)(q % o1); q /= o1;
    const unsigned int i0 = (unsigned int)q;"""
        )
    last = key.ndim - 1
    if key.ndim == 2:
        return f"""
    const unsigned int i{last} = blockIdx.x * blockDim.x + threadIdx.x;
    const unsigned int i0 = (blockIdx.y * CO + k) * blockDim.y + threadIdx.y;
    const int b = blockIdx.z;
    if (i1 >= (unsigned)o1 || i0 >= (unsigned)o0) return;
    const long long p = ((long long)b * o0 + i0) * o1 + i1;"""
    return """
    const unsigned int i2 = blockIdx.x * blockDim.x + threadIdx.x;
    const unsigned int i1 = (blockIdx.y * CO + k) * blockDim.y + threadIdx.y;
    const unsigned int zb = (o0 + blockDim.z - 1) / blockDim.z;  // blocks a sample, in z
    const unsigned int i0 = (blockIdx.z % zb) * blockDim.z + threadIdx.z;
    const int b = blockIdx.z / zb;
    if (i2 >= (unsigned)o2 || i1 >= (unsigned)o1 || i0 >= (unsigned)o0) return;
    const long long p = (((long long)b * o0 + i0) * o1 + i1) * o2 + i2;"""


def _coords(key: KernelKey) -> str:
    d = key.ndim
    ins = [f"(W)i{j}" for j in range(d)]
    # cupyx's nprepad (order 3, nearest and grid-constant): inside each expression
    pre = f" + (W){key.pad}" if key.pad > 1 and key.kind not in _LATE_PAD else ""
    lines = []
    if key.kind in (AFFINE, HOMOGRAPHY, ZOOM, ZOOM_GRID, SHIFT, ZOOM_SHIFT):
        if key.per_sample and not key.mlayout:
            lines.append("    const W* m = prm.pm + (long long)b * prm.pm_stride;")
        else:
            lines.append("    const W* m = prm.m;")
        if key.mlayout:
            mt = "double" if key.mdouble else "float"
            lines.append(f"    const {mt}* A = (const {mt}*)prm.pm;")
    if key.kind == AFFINE:  # cupyx _get_coord_affine: m is (ndim, ndim + 1)
        for j in range(d):
            lines.append(f"    c[{j}] = (W)0;")
            for k in range(d):
                coef = {0: f"m[{(d + 1) * j + k}]", 1: f"(W)A[{d * j + k}]"}.get(
                    key.mlayout, f"(W)A[{(d + 1) * j + k}]"
                )
                lines.append(f"    c[{j}] += {coef} * {ins[k]};")
            off = {0: f"m[{(d + 1) * j + d}]", 1: f"m[{j}]"}.get(
                key.mlayout, f"(W)A[{(d + 1) * j + d}]"
            )
            lines.append(f"    c[{j}] += {off}{pre};")
    elif key.kind == HOMOGRAPHY:  # OpenCV: (x, y) = (column, row), m maps output to input
        lines.append("    const W x = (W)i1, y = (W)i0;")
        lines.append("    W w = m[6] * x + m[7] * y + m[8];")
        lines.append("    w = (w != (W)0) ? (W)1 / w : (W)0;")
        lines.append("    c[1] = (m[0] * x + m[1] * y + m[2]) * w;")
        lines.append("    c[0] = (m[3] * x + m[4] * y + m[5]) * w;")
        lines.append("    if (w == (W)0) { c[0] = c[1] = (W)__int_as_float(0x7fc00000); }")
    elif key.kind == ZOOM:  # m[j] = zoom
        for j in range(d):
            lines.append(f"    c[{j}] = m[{j}] * {ins[j]}{pre};")
    elif key.kind == ZOOM_GRID:
        for j in range(d):
            lines.append(f"    c[{j}] = m[{j}] * ({ins[j]} + (W)0.5) - (W)0.5{pre};")
    elif key.kind == SHIFT:  # m[j] = shift
        for j in range(d):
            lines.append(f"    c[{j}] = {ins[j]} - m[{j}]{pre};")
    elif key.kind == ZOOM_SHIFT and key.mlayout == 3:  # cupyx: shift = -offset / zoom
        for j in range(d):
            lines.append(f"    c[{j}] = (W)A[{j}] * ({ins[j]} - (-m[{4 + j}] / (W)A[{j}])){pre};")
    elif key.kind == ZOOM_SHIFT:  # m[j] = zoom, m[4 + j] = shift
        for j in range(d):
            lines.append(f"    c[{j}] = m[{j}] * ({ins[j]} - m[{4 + j}]){pre};")
    elif key.kind in LINEAR_KINDS:  # (PRELOAD: read before the points' work, in cl)
        loads = [f"cl[k][{j}]" for j in range(d)] if key.preload else _linear_loads(key, "pc")
        if key.kind == COORDS:
            lines += [f"    c[{j}] = {a}{pre};" for j, a in enumerate(loads)]
        else:  # remap, whose padding comes last (_LATE_PAD)
            rel = key.kind == REMAP_REL
            terms = [f"c[{j}] = {a}{f' + (W)i{j}' if rel else ''};" for j, a in enumerate(loads)]
            lines.append("    " + " ".join(terms))
    else:
        raise AssertionError(key.kind)
    if key.pad and (key.pad == 1 or key.kind in _LATE_PAD):  # added to the finished value
        lines += [f"    c[{j}] += (W){key.pad};" for j in range(d)]
    return "\n".join(lines)


# PRELOAD: the coordinates of a thread's CO points, all loaded before the first is
# used; a point past the last loads the last one's (in bounds) and writes nothing
_PRELOAD = r"""    W cl[CO][NDIM];
#pragma unroll
    for (int k = 0; k < CO; k++) {{
        long long q = ((long long)blockIdx.x * CO + k) * blockDim.x + threadIdx.x;
        q = q < npts ? q : npts - 1;
{loads}
    }}
"""


def _linear_loads(key: KernelKey, at: str) -> list[str]:
    """The linear kinds' coordinate reads of point ``at``, one per axis: cupyx's
    ``coords[i + j * ncoords]`` (map_coordinates), or remap's two maps."""
    if key.kind == COORDS:
        return [f"prm.ca[{at} + {j} * npts]" for j in range(key.ndim)]
    return [f"prm.ca[{at}]", f"prm.cb[{at}]"]


def _preload(key: KernelKey) -> str:
    if not key.preload:
        return ""
    loads = _linear_loads(key, "q")
    return _PRELOAD.format(
        loads="\n".join(f"        cl[k][{j}] = {a};" for j, a in enumerate(loads))
    )


def _fetch_args(key: KernelKey, idx: list[str], texel: str) -> str:
    """Arguments of a texture read at integer taps ``idx`` (SciPy order) of sample b."""
    if key.ndim == 3:
        return f"(float)({idx[2]}){texel}, (float)({idx[1]}) + 0.5f, (float)({idx[0]}) + 0.5f"
    if key.layered:
        return f"(float)({idx[1]}){texel}, (float)({idx[0]}) + 0.5f, b"
    return f"(float)({idx[1]}){texel}, (float)({idx[0]} + b * n0) + 0.5f"


def _tex(key: KernelKey, typ: str, args: str, handle: str) -> str:
    fn = "tex3D" if key.ndim == 3 else ("tex2DLayered" if key.layered else "tex2D")
    return f"{fn}<{typ}>({handle}, {args})"


def _filtered_read(key: KernelKey) -> str:
    if not key.hardware or key.order != 1:
        return "0.f"
    return _filtered_at(key, ["c[0]", "c[1]", "c[2]"][: key.ndim])


def _filtered_at(key: KernelKey, pos: list[str]) -> str:
    """A filtered read at texel positions ``pos`` (SciPy order, texel centres at
    integers; the texture's at i + 0.5). The batch's samples are stacked along rows."""
    if key.ndim == 3:
        args = f"(float){pos[2]} + 0.5f, (float){pos[1]} + 0.5f, (float){pos[0]} + 0.5f"
    elif key.layered:
        args = f"(float){pos[1]} + 0.5f, (float){pos[0]} + 0.5f, b"
    else:
        args = f"(float){pos[1]} + 0.5f, (float)({pos[0]} + (W)(b * n0)) + 0.5f"
    return _tex(key, key.filtered, args, "prm.tex_f")


def _point_read(key: KernelKey, idx: list[str], dest: str) -> list[str]:
    """Statements reading the NCH values at taps ``idx`` into float ``dest[NCH]``."""
    if key.split3:  # 3 channels as 3 single-channel texels in a row
        lines = []
        for ch in range(3):
            args = _fetch_args(key, idx, f" * 3 + {ch}.5f")
            lines.append(f"unpack({_tex(key, 'RT', args, 'prm.tex_p')}, {dest} + {ch});")
        return lines
    return [f"unpack({_tex(key, 'RT', _fetch_args(key, idx, ' + 0.5f'), 'prm.tex_p')}, {dest});"]


def _owned(key: KernelKey, idx: list[str]) -> str:
    """(tiled) the condition that taps ``idx`` lie in this tile, and their shift."""
    return " && ".join(f"{i} >= prm.lo{j} && {i} < prm.hi{j}" for j, i in enumerate(idx))


def _taps(key: KernelKey) -> str:
    def read(idx: list[str], dest: str) -> list[str]:
        return _point_read(key, idx, dest)

    def owned(idx: list[str]) -> str:
        return _owned(key, idx)

    if key.order == 3:
        return _cubic.taps(key, read)
    if key.order == CUBIC_CONV:
        dt = numpy.dtype(_DTYPE_OF.get(key.out, "float32"))
        bounds = _cubicconv.saturation(dt) if dt.kind in "iu" else None
        return _cubicconv.taps(key, read, owned, bounds)
    return _linear.taps(key, read, owned)


def _write(key: KernelKey) -> str:
    if key.tiled:  # partial sums: the caller converts the buffer once every tile ran
        return """
#pragma unroll
    for (int ch = 0; ch < NCH; ch++) prm.acc[p * NCH + ch] += v[ch];"""
    if key.vstore:  # one store per point (the output is aligned to a point: _launch)
        return """
    struct __align__(NCH * sizeof(OUT)) Px { OUT c[NCH]; } px;
#pragma unroll
    for (int ch = 0; ch < NCH; ch++) store(px.c + ch, v[ch]);
    *reinterpret_cast<Px*>(prm.out + p * NCH) = px;"""
    return """
#pragma unroll
    for (int ch = 0; ch < NCH; ch++) store(prm.out + p * NCH + ch, v[ch]);"""


def source(key: KernelKey) -> str:
    """The CUDA source of ``key``'s kernel (``ia_interp``)."""
    common = _COMMON.format(
        coord=key.coord,
        out=key.out,
        read=key.read,
        ndim=key.ndim,
        channels=3 if key.split3 else key.channels,
        order=key.order,
        mode=MODE_CODES[key.mode],
        hardware=int(key.hardware),
        layered=int(key.layered),
        per_sample=int(key.per_sample),
        split3=int(key.split3),
        tiled=int(key.tiled),
        coarsen=key.coarsen,
        store=_store(key.out),
        unpack=_UNPACK,
    )
    body = _KERNEL.format(
        preload=_preload(key),
        index=_index(key),
        coords=_coords(key),
        filtered_read=_filtered_read(key),
        taps=_taps(key),
        write=_write(key),
        cubic_weights=_cubic.weights(key) if key.order == 3 else "",
        gathers=_linear.gathers(key) if key.gather and key.order == 1 else "",
        cubic_hw=(
            _cubic.hardware(key, lambda p: _filtered_at(key, p))
            if key.hardware and key.order == 3
            else ""
        ),
    )
    conv = _cubicconv.CUDA_WEIGHTS if key.order == CUBIC_CONV else ""
    # the lambda's returns say the point has nothing to write
    return common + _cubic.FOLD + conv + body.replace("return;", "return false;")


@functools.lru_cache(maxsize=256)
def kernel(key: KernelKey):
    """The compiled ``ia_interp`` of ``key`` (a ``cupy.RawKernel``; CuPy compiles it
    on first launch per device and caches it on disk)."""
    import cupy

    return cupy.RawKernel(source(key), "ia_interp", options=("-std=c++17",))
