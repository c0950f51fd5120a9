"""What CUDA's linear filter does, measured through imagearray (diagnostic only).

1. Filter weights: a ramp T[i] = i sampled with clamp_to_edge inside the image gives
   floor(xB) + w, so w (the hardware's weight) is read off directly, for several widths,
   unnormalized and normalized coordinates; compared with reference's weights.
2. Border addressing with linear filtering: got vs reference near the edges.
3. Normalized-integer and half formats: linear at texel centres and at fractions vs
   the exact blend of the converted texels.
"""

from __future__ import annotations

import cupy
import numpy as np

import imagearray as ia
from imagearray.testing import reference


def weights(width, normalized, rng, n=4000):
    data = np.arange(width, dtype=np.float32)
    img = ia.asimage(data)
    x = (1.0 + (width - 2.0) * rng.random(n)).astype(np.float32)
    s = ia.Sampler("clamp_to_edge", "normalized" if normalized else "unnormalized", "linear")
    c = (x / np.float32(width)).astype(np.float32) if normalized else x
    got = img.sample(cupy.asarray(c), s).get().astype(np.float64)
    want = reference.sample(data, c[:, None], s, dims=1).astype(np.float64)
    xb = x.astype(np.float64) - 0.5
    w_hw = (got - np.floor(xb)) * 256
    w_ref = (want - np.floor(xb)) * 256
    d = np.round(w_hw - w_ref).astype(int)
    frac256 = (xb - np.floor(xb)) * 256
    print(
        f"width {width} normalized={normalized}: weight steps hw-ref: "
        f"{dict(zip(*np.unique(d, return_counts=True)))}; "
        f"hw weights integral: {np.all(np.abs(w_hw - np.round(w_hw)) < 1e-3)}"
    )
    bad = np.nonzero(d)[0][:6]
    for i in bad:
        print(
            f"   x={x[i]!r} c={c[i]!r} frac*256={frac256[i]:.5f} "
            f"hw={w_hw[i]:.4f} ref={w_ref[i]:.4f}"
        )
    if normalized:
        # which float x*W does the hardware use? distance of mismatches to a step
        dist = np.abs(frac256 - np.round(frac256))
        if len(bad):
            print(f"   mismatch distance to a 1/256 step: max {dist[np.nonzero(d)[0]].max():.4f}")


def border(rng):
    for width in (11, 37):
        data = (1 + rng.random(width)).astype(np.float32)
        img = ia.asimage(data)
        for mode in ("clamp", "clamp_to_edge", "none"):
            s = ia.Sampler(mode, "unnormalized", "linear", border_color=(0.25, 0.5, 0.75, 1.0))
            x = np.arange(-3, width + 3, 0.25, dtype=np.float32) + np.float32(0.25 / 256)
            got = img.sample(cupy.asarray(x), s).get()
            want = reference.sample(data, x[:, None], s, dims=1)
            bad = np.nonzero(np.abs(got - want) > 1e-5)[0]
            print(f"{mode} width {width}: {len(bad)} of {len(x)} differ")
            for i in bad[:10]:
                print(
                    f"   x={x[i]:.5f} got={got[i]:.6f} ref={want[i]:.6f} "
                    f"T[0]={data[0]:.6f} T[-1]={data[-1]:.6f}"
                )


def formats(rng):
    for ct, dt in (
        ("unorm_int8", np.uint8),
        ("snorm_int8", np.int8),
        ("unorm_int16", np.uint16),
        ("snorm_int16", np.int16),
        ("fp16", np.float16),
    ):
        if dt == np.float16:
            data = rng.random(64).astype(dt)
        else:
            info = np.iinfo(dt)
            data = rng.integers(info.min, info.max, 64, endpoint=True).astype(dt)
        img = ia.asimage(data, normalized=dt != np.float16)
        conv = reference.read_texels(data, ia.ChannelType(ct)).astype(np.float64)
        for frac in (0.0, 0.25 / 256, 64.25 / 256, 128.25 / 256):
            x = (np.arange(1, 62) + 0.5 + frac).astype(np.float32)
            s = ia.Sampler("clamp_to_edge", "unnormalized", "linear")
            got = img.sample(cupy.asarray(x), s).get().astype(np.float64)
            i = np.arange(1, 62)
            w = np.floor(frac * 256) / 256
            exact = (1 - w) * conv[i] + w * conv[i + 1]
            err = got - exact
            rel = err / np.maximum(np.abs(exact), 1e-30)
            print(
                f"{ct} frac*256={frac * 256:.2f}: max|err|={np.abs(err).max():.3g} "
                f"max rel={np.abs(rel).max():.3g}; first: got={got[0]!r} exact={exact[0]!r} "
                f"T0={data[1]} T1={data[2]}"
            )
            if frac == 0.0:
                for k in range(3):
                    print(
                        f"   v={data[1 + k]} got={got[k]!r} exact={exact[k]!r} "
                        f"got*2^16={got[k] * 65536:.3f} got*2^24={got[k] * 2**24:.1f}"
                    )


def main():
    rng = np.random.default_rng(5)
    print("## weights")
    for width in (11, 37, 256, 1000, 4096):
        for normalized in (False, True):
            weights(width, normalized, rng)
    print("## border")
    border(rng)
    print("## formats")
    formats(rng)


if __name__ == "__main__":
    main()
