"""CUDA source of the ``order=3`` (cubic B-spline) part of the ndimage kernels, read
from a float32 texture of B-spline coefficients (:mod:`imagearray.ndimage._spline`).

Per axis ``j`` the four taps ``floor(c) - 1 .. floor(c) + 2`` (``c`` wrapped first in
``wrap`` mode) carry cupyx's weights (``_spline_kernel_weights``, in the coordinate
type ``W``), and each tap is folded by the *spline* boundary rule of the mode
(:data:`SPLINE_MODE`: cupyx's ``_get_spline_mode``, with ``grid-constant`` ->
``constant`` and ``nearest`` -> ``nearest``).

- ``exact``: the ``4**ndim`` point reads at the folded taps, float32 weight products
  summed in cupyx's order (the first axis outermost).
- ``hardware``: where all four taps lie inside the coefficients on every axis (no
  folding), the Sigg-Hadwiger form: per axis ``g0 = w0 + w1`` at ``t0 + w1 / g0`` and
  ``g1 = w2 + w3`` at ``t2 + w3 / g1``, so ``2**ndim`` linear fetches (4 in 2D, 8 in
  3D) weighted by products of the ``g``; the texture unit quantizes each fetch's
  fraction to 8 bits. Points nearer a border are computed exactly.
- ``key.halo`` (3D coefficients a prefilter wrote into a CUDA array): the texture
  has that many texels of border each side of each axis, holding the folded taps
  (``_spline.border``), so "inside" reaches ``halo`` taps past each edge, and every
  read is shifted by ``halo`` texels.
"""

from __future__ import annotations

from imagearray.ndimage._modes import MODE_CODES

# kernel mode (after :func:`_modes.kernel_mode`'s aliases) -> the rule that folds the
# taps of the coefficients (cupyx's order > 1 kernels)
SPLINE_MODE = {
    "constant": "mirror",
    "grid-constant": "grid-constant",
    "nearest": "nearest",
    "mirror": "mirror",
    "reflect": "reflect",
    "grid-wrap": "grid-wrap",
    "wrap": "mirror",
}

# the same rules as ``bnd`` in _source, selected by a template argument
FOLD = r"""
template <int M> __device__ __forceinline__ int fold(int ix, int n) {
    if (M == M_REFLECT) {
        if (ix < 0) ix = -1 - ix;
        ix %= n * 2;
        return min(ix, 2 * n - 1 - ix);
    } else if (M == M_MIRROR) {
        if (n == 1) return 0;
        if (ix < 0) ix = -ix;
        ix = 1 + (ix - 1) % ((n - 1) * 2);
        return min(ix, 2 * n - 2 - ix);
    } else if (M == M_NEAREST) {
        return min(max(ix, 0), n - 1);
    } else if (M == M_GRID_WRAP) {
        ix %= n;
        while (ix < 0) ix += n;
        return ix;
    }
    return (ix < 0 || ix >= n) ? -1 : ix;
}
"""


def weights(key) -> str:
    """Statements: per axis j, ``st{j}`` (the first tap) and ``w{j}[4]`` (cupyx's
    weights)."""
    lines = ["const W SIXTH = (W)1 / (W)6;"]
    for j in range(key.ndim):
        dc = f"wrapc(c[{j}], n[{j}])" if key.mode == "wrap" else f"c[{j}]"
        lines += [
            f"W w{j}[4];",
            f"const int st{j} = (int)floor({dc}) - 1;",
            "{",
            f"    const W wx = c[{j}] - floor(c[{j}]), wy = (W)1 - wx;",
            # times 1/6 rather than / 6: a double division is a long instruction
            # sequence (12 a 3D point), and the weights move by at most an ulp
            f"    w{j}[1] = (wx * wx * (wx - (W)2) * (W)3 + (W)4) * SIXTH;",
            f"    w{j}[2] = (wy * wy * (wy - (W)2) * (W)3 + (W)4) * SIXTH;",
            f"    w{j}[0] = wy * wy * wy * SIXTH;",
            f"    w{j}[3] = (W)1 - w{j}[0] - w{j}[1] - w{j}[2];",
            "}",
        ]
    return "\n".join("        " + s for s in lines)


def folds(key) -> list[str]:
    """Statements: per axis j, ``tp{j}[4]``, the taps folded by the mode's spline rule
    (-1 outside in the constant rule). Only the exact reads need them: made in their
    block, so a point the hardware path computed spends no integer division on them."""
    smode = MODE_CODES[SPLINE_MODE[key.mode]]
    lines = []
    for j in range(key.ndim):
        lines += [
            f"int tp{j}[4];",
            "#pragma unroll",
            f"for (int k = 0; k < 4; k++) tp{j}[k] = fold<{smode}>(st{j} + k, n[{j}]);",
        ]
    return lines


def hardware(key, filtered_at) -> str:
    """The Sigg-Hadwiger block (``#if HW``): sets ``done`` where it computed the point.
    ``filtered_at(pos)``: a filtered read at texel positions ``pos`` (SciPy order, the
    texel centres at integers)."""
    d, b = key.ndim, key.halo
    lines = ["bool inside3 = !done;"]
    for j in range(d):
        lines.append(f"inside3 = inside3 && st{j} >= -{b} && st{j} + 3 <= n[{j}] - 1 + {b};")
    lines.append("if (inside3) {")
    for j in range(d):
        lines += [
            f"    const float g0_{j} = (float)(w{j}[0] + w{j}[1]);",
            f"    const float g1_{j} = (float)(w{j}[2] + w{j}[3]);",
            f"    const float h0_{j} = (float)(st{j} + {b}) + (float)w{j}[1] / g0_{j};",
            f"    const float h1_{j} = (float)(st{j} + {b + 2}) + (float)w{j}[3] / g1_{j};",
        ]
    lines.append("    float r[NCH];")
    for combo in range(2**d):
        bits = [(combo >> (d - 1 - j)) & 1 for j in range(d)]
        pos = [f"h{b}_{j}" for j, b in enumerate(bits)]
        g = " * ".join(f"g{b}_{j}" for j, b in enumerate(bits))
        lines.append(f"    unpack({filtered_at(pos)}, r);")
        lines.append(f"    for (int ch = 0; ch < NCH; ch++) v[ch] += ({g}) * r[ch];")
    lines.append("    done = true;")
    lines.append("}")
    return "\n".join("    " + s for s in lines)


def taps(key, point_read) -> str:
    """The exact ``4**ndim`` point reads (``point_read(idx, dest)``: statements)."""
    constant = SPLINE_MODE[key.mode] == "grid-constant"
    if key.halo:  # the folded taps' texels, past the border
        shifted = point_read
        point_read = lambda idx, dest: shifted([f"{i} + {key.halo}" for i in idx], dest)  # noqa: E731
    lines = folds(key) + tap_loops(key.ndim, point_read, constant)
    return "\n".join("        " + s for s in lines)


def tap_sum(ind, weight, idx, point_read, constant, owned=None, any_always=False) -> list[str]:
    """The statements of one tap inside the loops over the taps (indented ``ind``): its
    float32 weight ``weight``, ``cval`` for a tap at -1 where ``constant``, else its
    point read (``point_read(idx, dest)``) added to ``v[NCH]``. ``owned`` (tiles): the
    condition that this tile holds taps ``idx``, which are then read at ``idx - lo``,
    ``cval`` added by the first tile, and ``any`` set for a tap read (also without tiles
    where ``any_always``: order 1's kernels declare it)."""
    lines = [f"{ind}const float w = (float)({weight});"]
    if constant:
        outside = " || ".join(f"{i} < 0" for i in idx)
        lines.append(f"{ind}if ({outside}) {{")
        if owned:
            lines.append(f"{ind}    if (prm.first) {{ any = true;")
            lines.append(f"{ind}    for (int ch = 0; ch < NCH; ch++) v[ch] += cval * w; }}")
        else:
            lines.append(f"{ind}    for (int ch = 0; ch < NCH; ch++) v[ch] += cval * w;")
        lines.append(f"{ind}    continue;")
        lines.append(f"{ind}}}")
    if owned:
        lines.append(f"{ind}if (!({owned(idx)})) continue;")
        idx = [f"{i} - prm.lo{j}" for j, i in enumerate(idx)]
    if owned or any_always:
        lines.append(f"{ind}any = true;")
    lines.append(f"{ind}float r[NCH];")
    lines.extend(ind + s for s in point_read(idx, "r"))
    lines.append(f"{ind}for (int ch = 0; ch < NCH; ch++) v[ch] += r[ch] * w;")
    return lines


def tap_loops(d: int, point_read, constant: bool, owned=None) -> list[str]:
    """Statements summing the ``4**d`` taps ``tp{j}[k{j}]`` with weights ``w{j}[k{j}]``
    (first axis outermost; a tap at -1 reads ``cval`` where ``constant``). ``owned``
    (tiles): ``owned(idx)`` is the condition that this tile holds taps ``idx``, which
    are then read at ``idx - lo``; cval is added by the first tile, and a point none
    of whose taps is this tile's is not written (``any``)."""
    lines = ["bool any = false;"] if owned else []
    depth = []
    for j in range(d):
        ind = "    " * j
        lines.append(f"{ind}for (int k{j} = 0; k{j} < 4; k{j}++) {{")
        depth.append(ind)
    ind = "    " * d
    weight = " * ".join(f"w{j}[k{j}]" for j in range(d))
    idx = [f"tp{j}[k{j}]" for j in range(d)]
    lines += tap_sum(ind, weight, idx, point_read, constant, owned)
    for ind in reversed(depth):
        lines.append(f"{ind}}}")
    if owned:
        lines.append("if (!any) return;")
    return lines
