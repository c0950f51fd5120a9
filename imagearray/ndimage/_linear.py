"""Orders 0 and 1 of the ndimage kernels (:mod:`~imagearray.ndimage._source`) as
cupyx computes them: the taps, each mapped by the mode's boundary rule (``bnd``,
``wrapc``), float32 weights summed in cupyx's order (:func:`taps`), and the exact
2D order 1 of interior points from one texture gather per channel (:func:`gathers`).
``_cubic`` and ``_cubicconv`` are the other orders' twins."""

from __future__ import annotations

from imagearray.ndimage._cubic import tap_sum


def taps(key, point_read, owned) -> str:
    """Order 0 (``floor(c + 0.5)`` mapped) or 1 (the taps ``floor(c)`` and
    ``floor(c) + 1``, mapped): statements summing the point reads into ``v[NCH]``.
    ``point_read(idx, dest)``: statements reading the taps ``idx``; ``owned(idx)``:
    (tiled) the condition that this tile holds them."""
    d = key.ndim
    lines = []
    wrap = key.mode == "wrap"
    grid_constant = key.mode == "grid-constant"
    constant = key.mode in ("constant", "grid-constant")
    if key.order == 0:
        for j in range(d):
            if wrap:
                lines.append(f"int t{j} = (int)floor(wrapc(c[{j}], n[{j}]) + (W)0.5);")
            else:
                lines.append(f"int t{j} = (int)floor(c[{j}] + (W)0.5);")
                if key.mode != "constant":
                    lines.append(f"t{j} = bnd(t{j}, n[{j}]);")
        idx = [f"t{j}" for j in range(d)]
        outside = " || ".join(f"t{j} < 0" for j in range(d)) if grid_constant else "false"
        local = [f"t{j} - prm.lo{j}" for j in range(d)] if key.tiled else idx
        body = point_read(local, "v")
        lines.append(f"if ({outside}) {{")
        lines.append("    for (int ch = 0; ch < NCH; ch++) v[ch] = cval;")
        if key.tiled:
            lines.append("    if (!prm.first) return;")
            lines.append(f"}} else if (!({owned(idx)})) {{ return; }} else {{")
        else:
            lines.append("} else {")
        lines.extend("    " + s for s in body)
        lines.append("}")
        return "\n".join("        " + s for s in lines)
    # order 1: cupyx's taps, weights and summation order
    for j in range(d):
        lines.append(f"const int f{j} = (int)floor(c[{j}]);")
        lines.append(f"const int k{j} = (c[{j}] == (W)f{j}) ? 1 : 2;")
        lines.append(f"const W wf{j} = (W)(f{j} + 1) - c[{j}], wc{j} = c[{j}] - (W)f{j};")
        if wrap:
            lines.append(f"const W dc{j} = wrapc(c[{j}], n[{j}]);")
            lines.append(f"const int bf{j} = (int)floor(dc{j});")
            lines.append(f"const int bc{j} = (int)floor(dc{j} + (W)1);")
        elif key.mode == "constant":
            lines.append(f"const int bf{j} = f{j}, bc{j} = f{j} + 1;")
        else:
            lines.append(f"const int bf{j} = bnd(f{j}, n[{j}]), bc{j} = bnd(f{j} + 1, n[{j}]);")
    lines.append("bool any = false;")
    depth = []
    for j in range(d):
        ind = "    " * j
        lines.append(f"{ind}for (int s{j} = 0; s{j} < k{j}; s{j}++) {{")
        lines.append(f"{ind}    const W w{j} = s{j} ? wc{j} : wf{j};")
        lines.append(f"{ind}    const int t{j} = s{j} ? bc{j} : bf{j};")
        depth.append(ind)
    ind = "    " * d
    weight = " * ".join(f"w{j}" for j in range(d))
    idx = [f"t{j}" for j in range(d)]
    lines += tap_sum(ind, weight, idx, point_read, constant, owned if key.tiled else None, True)
    for ind in reversed(depth):
        lines.append(f"{ind}}}")
    if key.tiled:
        lines.append("if (!any) return;")
    return "\n".join("        " + s for s in lines)


GATHER_TYPE = {"schar": "char"}  # scalar read type -> the prefix of its 4-vector


def gathers(key) -> str:
    """Exact order 1, 2D, both taps inside on each axis: the 2x2 texels of each channel
    from one tex2Dgather (at the centre of the four: no 8-bit rounding can move its
    floor), weighted and summed as cupyx sums its taps ((f0, f1), (f0, f1 + 1),
    (f0 + 1, f1), (f0 + 1, f1 + 1)); gather's .w .z .x .y are those four."""
    base = key.read.rstrip("0123456789")
    g4 = GATHER_TYPE.get(base, base) + "4"
    return f"""
    if (!done && c[0] >= (W)0 && c[0] < (W)(n0 - 1) && c[1] >= (W)0 && c[1] < (W)(n[1] - 1)) {{
        const int f0 = (int)floor(c[0]), f1 = (int)floor(c[1]);
        const W wf0 = (W)(f0 + 1) - c[0], wc0 = c[0] - (W)f0;
        const W wf1 = (W)(f1 + 1) - c[1], wc1 = c[1] - (W)f1;
        const float w00 = (float)(wf0 * wf1), w01 = (float)(wf0 * wc1);
        const float w10 = (float)(wc0 * wf1), w11 = (float)(wc0 * wc1);
#pragma unroll
        for (int ch = 0; ch < NCH; ch++) {{
            const {g4} q = tex2Dgather<{g4}>(prm.tex_p, (float)(f1 + 1), (float)(f0 + 1), ch);
            float a = 0.f;
            a += (float)q.w * w00;
            a += (float)q.z * w01;
            a += (float)q.x * w10;
            a += (float)q.y * w11;
            v[ch] = a;
        }}
        done = true;
    }}"""
