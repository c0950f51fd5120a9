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


def weights2d(w, h, rng, n=4000):
    x = (1.0 + (w - 2.0) * rng.random(n)).astype(np.float32)
    y = (1.0 + (h - 2.0) * rng.random(n)).astype(np.float32)
    c = np.stack([x, y], -1)
    s = ia.Sampler("clamp_to_edge", "unnormalized", "linear")
    gx = np.broadcast_to(np.arange(w, dtype=np.float32), (h, w)).copy()
    gy = np.broadcast_to(np.arange(h, dtype=np.float32)[:, None], (h, w)).copy()
    hw = {}
    for name, data, coord in (("x", gx, x), ("y", gy, y)):
        got = ia.asimage(data).sample(cupy.asarray(c), s).get().astype(np.float64)
        want = reference.sample(data, c, s, dims=2).astype(np.float64)
        b = coord.astype(np.float64) - 0.5
        hw[name] = got - np.floor(b)
        d = np.round((got - want) * 256).astype(int)
        print(f"2D {w}x{h} w{name}: steps hw-ref {dict(zip(*np.unique(d, return_counts=True)))}")
    data = rng.random((h, w)).astype(np.float32)
    got = ia.asimage(data).sample(cupy.asarray(c), s).get().astype(np.float64)
    want = reference.sample(data, c, s, dims=2).astype(np.float64)
    i0 = np.floor(x - 0.5).astype(int)
    j0 = np.floor(y - 0.5).astype(int)
    a, b = hw["x"], hw["y"]
    t = data.astype(np.float64)
    prod = (
        (1 - a) * (1 - b) * t[j0, i0]
        + a * (1 - b) * t[j0, i0 + 1]
        + (1 - a) * b * t[j0 + 1, i0]
        + a * b * t[j0 + 1, i0 + 1]
    )
    print(
        f"2D {w}x{h} random: max|hw-ref|={np.abs(got - want).max():.3g} "
        f"max|hw-bilinear(hw weights)|={np.abs(got - prod).max():.3g}"
    )
    bad = np.nonzero(np.abs(got - want) > 1e-6)[0][:5]
    # the GPU test's coordinates: two image sizes around it, fractions (m + 1/4) / 256
    size = np.array([w, h])
    tc = rng.integers(-size, 2 * size, (n, 2)).astype(np.float64)
    tc = (tc + 0.5 + (rng.integers(0, 256, (n, 2)) + 0.25) / 256).astype(np.float32)
    got2 = ia.asimage(data).sample(cupy.asarray(tc), s).get()
    want2 = reference.sample(data, tc, s, dims=2)
    off = np.nonzero(np.abs(got2 - want2) > 1e-6)[0]
    print(f"2D {w}x{h} test coordinates: {len(off)} of {n} differ")
    for k in off[:6]:
        print(f"   c={tc[k]!r} got={got2[k]:.7f} ref={want2[k]:.7f}")
    for k in bad:
        print(
            f"   x={x[k]!r} y={y[k]!r} a*256={a[k] * 256:.3f} b*256={b[k] * 256:.3f} "
            f"got={got[k]:.7f} ref={want[k]:.7f} prod={prod[k]:.7f}"
        )


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


def _on_grid(rng, n, lo, hi):
    """Texel-space coordinates k + 0.5 + (m + 1/4) / 256: every fraction 1/4 of a
    weight step from the nearest tie, so the 8-bit weight is m / 256 whatever the
    rounding."""
    k = rng.integers(lo, hi, n)
    m = rng.integers(0, 256, n)
    return k + 0.5 + (m + 0.25) / 256


def dump2(rng, n=60000):
    """Targeted raw samples for fitting (diagnostic only): $OUT/diag2.npz.

    - ``tri_*``: 2x2x2 float32 images, one per corner holding 1.0 (the hardware's
      trilinear corner weight read off directly), plus a random 2x2x2 image, all at the
      same on-grid coordinates;
    - ``mir2_*``/``mir1_*``: 3x3 (2D) and length-3 (1D) float32 delta images sampled
      with normalized mirrored_repeat linear across several tiles;
    - ``s8all``/``u8all``: the 256 8-bit values in order, linear at every weight of
      every neighbour pair (and at the centres);
    - random images of other formats and dimensions for the integer and half rules.
    """
    import os

    out = {}
    lin = ia.Sampler("clamp_to_edge", "unnormalized", "linear")
    c3 = np.stack([_on_grid(rng, n, 0, 1) for _ in range(3)], -1).astype(np.float32)
    out["tri_c"] = c3
    for corner in range(8):
        d = np.zeros((2, 2, 2), np.float32)
        d[corner >> 2, (corner >> 1) & 1, corner & 1] = 1.0
        out[f"tri_{corner}"] = ia.asimage(d, channels=1).sample(cupy.asarray(c3), lin).get()
    d = rng.random((2, 2, 2)).astype(np.float32)
    out["tri_rand_data"], out["tri_rand"] = (
        d,
        ia.asimage(d, channels=1).sample(cupy.asarray(c3), lin).get(),
    )

    mir = ia.Sampler("mirrored_repeat", "normalized", "linear")
    c2 = np.stack([_on_grid(rng, n, -7, 10) / 3 for _ in range(2)], -1).astype(np.float32)
    out["mir2_c"] = c2
    for k in range(9):
        d = np.zeros((3, 3), np.float32)
        d.flat[k] = 1.0
        out[f"mir2_{k}"] = ia.asimage(d).sample(cupy.asarray(c2), mir).get()
    c1 = (_on_grid(rng, n, -7, 10) / 3).astype(np.float32)
    out["mir1_c"] = c1
    for k in range(3):
        d = np.zeros(3, np.float32)
        d[k] = 1.0
        out[f"mir1_{k}"] = ia.asimage(d).sample(cupy.asarray(c1), mir).get()

    i = np.repeat(np.arange(255), 257)
    m = np.tile(np.arange(257), 255)
    xall = np.where(m == 256, i + 0.5, i + 0.5 + (np.minimum(m, 255) + 0.25) / 256)
    out["all_c"] = xall.astype(np.float32)
    for name, dt in (("s8all", np.int8), ("u8all", np.uint8)):
        info = np.iinfo(dt)
        d = np.arange(info.min, info.max + 1).astype(dt)
        out[name + "_data"] = d
        out[name] = ia.asimage(d, normalized=True).sample(cupy.asarray(out["all_c"]), lin).get()

    cases = [
        ("s8_2d", (7, 9), np.int8, 1),
        ("u8_3d", (5, 4, 6), np.uint8, 1),
        ("s16_2d", (7, 9), np.int16, 1),
        ("s16_3d", (5, 4, 6), np.int16, 1),
        ("u16_3d", (5, 4, 6), np.uint16, 1),
        ("s8_3d", (5, 4, 6), np.int8, 1),
        ("f16_1d", (256,), np.float16, 1),
        ("f16_3d", (5, 4, 6), np.float16, 1),
        ("u8x4_2d", (7, 9), np.uint8, 4),
    ]
    for name, shape, dt, ch in cases:
        if dt == np.float16:
            data = (rng.random(shape) * 2 - 0.5).astype(dt)
        else:
            info = np.iinfo(dt)
            data = rng.integers(
                info.min, info.max, shape + ((ch,) if ch > 1 else ()), endpoint=True
            ).astype(dt)
        dims = len(shape)
        c = np.stack([_on_grid(rng, n, 0, e - 1) for e in shape[::-1]], -1).astype(np.float32)
        img = ia.asimage(data, channels=ch, normalized=dt != np.float16)
        got = img.sample(cupy.asarray(c if dims > 1 else c[:, 0]), lin).get()
        out[name + "_data"], out[name + "_c"], out[name + "_got"] = data, c, got
    # out of the image: clamp_to_edge and border (clamp) in 3D, border with normalized
    # integers in 1D and 2D
    data = rng.random((5, 4, 6)).astype(np.float32)
    c = np.stack([_on_grid(rng, n, -e, 2 * e) for e in (6, 4, 5)], -1).astype(np.float32)
    out["oob3_data"], out["oob3_c"] = data, c
    for mode in ("clamp_to_edge", "clamp"):
        smp = ia.Sampler(mode, "unnormalized", "linear", border_color=(0.25, 0.5, 0.75, 1.0))
        out[f"oob3_{mode}"] = ia.asimage(data).sample(cupy.asarray(c), smp).get()
    for name, dt, shape in (("bu8", np.uint8, (9,)), ("bs8", np.int8, (7, 9))):
        info = np.iinfo(dt)
        data = rng.integers(info.min, info.max, shape, endpoint=True).astype(dt)
        c = np.stack([_on_grid(rng, n, -2, e + 2) for e in shape[::-1]], -1).astype(np.float32)
        smp = ia.Sampler("clamp", "unnormalized", "linear", border_color=(0.3, 0.5, 0.75, 1.0))
        got = ia.asimage(data, normalized=True).sample(
            cupy.asarray(c if len(shape) > 1 else c[:, 0]), smp
        )
        out[name + "_data"], out[name + "_c"], out[name + "_got"] = data, c, got.get()
    path = os.path.join(os.environ.get("OUT", "build"), "diag2.npz")
    np.savez_compressed(path, **out)
    print(f"targeted raw samples written to {path}")


def main():
    rng = np.random.default_rng(5)
    dump2(rng)
    print("## weights")
    for width in (11, 37, 256, 1000, 4096):
        for normalized in (False, True):
            weights(width, normalized, rng)
    print("## weights 2D")
    for w, h in ((9, 7), (64, 48), (1000, 600)):
        weights2d(w, h, rng)
    print("## border")
    border(rng)
    print("## formats")
    formats(rng)


if __name__ == "__main__":
    main()
