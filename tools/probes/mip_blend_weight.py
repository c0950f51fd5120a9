"""The weight the texture unit gives the upper level when it blends two mip levels
(linear mipmap filtering at an explicit level), with and without the driver's
``CU_TRSF_DISABLE_TRILINEAR_OPTIMIZATION`` flag (issue 21: 16-bit blends sat up to
214 units of 65535 off a model with the exact fraction). Diagnostic only.

For each fraction f, B = tex2DLod(l + f) is compared with the two whole levels
L0 = tex2DLod(l), L1 = tex2DLod(l + 1) read by the same texture: the implied weight
w = (B - L0) / (L1 - L0), over points where the levels differ by > 10 % of the span.

    python tools/probes/mip_blend_weight.py
"""

from __future__ import annotations

import sys

import cupy
import numpy

import imagearray as ia
from imagearray import _handles as _cy
from imagearray.handles import create as hc
from imagearray.handles.rules import texture_args

DISABLE_TRILINEAR_OPTIMIZATION = 0x20
SRC = r"""
extern "C" __global__ void lod(unsigned long long tex, const float* c, float lv, int n,
                               float* out) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = tex2DLod<float>(tex, c[2 * i], c[2 * i + 1], lv);
}
"""


def texture(img, sampler, extra_flags):
    kind, address, owner, mdesc, device, _ = hc._resolve_memory(img, None)
    plan = hc._memo_plan(mdesc, kind, sampler, address, None)
    args = list(texture_args(plan, kind, address))
    args[11] |= extra_flags
    return _cy.create_texture(device, *args, owner)


def main() -> None:
    kern = cupy.RawKernel(SRC, "lod")
    rng = numpy.random.default_rng(1)
    n = 1 << 16
    c = cupy.asarray(rng.random((n, 2), dtype=numpy.float32))
    s = ia.Sampler(
        "clamp_to_edge",
        "normalized",
        "linear",
        mipmap_filtering="linear",
        max_mipmap_level_clamp=2.0,
    )
    fracs = (1 / 16, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 15 / 16)
    print("| image | flags | f | implied w: min | median | max | median - f |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for dtype in (numpy.float32, numpy.uint16):
        img = ia.empty((64, 128), dtype, levels=3)
        for level in range(3):
            shape = img.mip(level).shape
            if dtype == numpy.float32:
                d = rng.random(shape, dtype=numpy.float32)
            else:
                d = rng.integers(0, 65536, shape).astype(numpy.uint16)
            img.mip(level).set(d)
        for extra in (0, DISABLE_TRILINEAR_OPTIMIZATION):
            obj = texture(img, s, extra)
            h = numpy.uint64(obj.raw_handle)

            def read(lv, h=h):
                out = cupy.empty(n, cupy.float32)
                kern(((n + 255) // 256,), (256,), (h, c, numpy.float32(lv), numpy.int32(n), out))
                return out.get().astype(numpy.float64)

            for base in (0, 1):
                lo, hi = read(base), read(base + 1)
                keep = numpy.abs(hi - lo) > 0.1
                for f in fracs:
                    w = (read(base + f)[keep] - lo[keep]) / (hi[keep] - lo[keep])
                    print(
                        f"| {numpy.dtype(dtype).name} L{base} | {'+0x20' if extra else 'plain'} "
                        f"| {f:.4f} | {w.min():.5f} | {numpy.median(w):.5f} | {w.max():.5f} "
                        f"| {numpy.median(w) - f:+.5f} |"
                    )
            obj.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
