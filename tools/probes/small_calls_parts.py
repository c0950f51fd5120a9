"""Where the host time of the small calls of benchmarks/small_calls.py goes (issue 21
item 10), on a GPU machine: each call beside its parts (the driver call alone, the
event, the allocation) and CuPy's equivalent, then cProfile of each. Diagnostic only.

    python tools/probes/small_calls_parts.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import cupy
import numpy
from cupy.cuda import runtime, texture
from profile_overhead import profile  # this folder's cProfile helper

import imagearray as ia
from imagearray import _copy as _cy
from imagearray._device import record_event
from imagearray.copies import executor

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout: benchmarks
from benchmarks.small_calls import host_us as us  # noqa: E402 - the benchmark's timer

N = 500
SIZE, TILE, X, Y = 2048, 64, 700, 300


def last_plan():
    return next(reversed(executor._FAST.values()))[:2]


def main() -> None:
    rng = numpy.random.default_rng(0)
    full = rng.standard_normal((SIZE, SIZE, 4)).astype(numpy.float32)
    img = ia.asimage(full, channels=4)
    big = cupy.asarray(full)
    tile = rng.standard_normal((TILE, TILE, 4)).astype(numpy.float32)
    tile_out = numpy.empty_like(tile)
    dev_tile = cupy.empty((TILE, TILE, 4), cupy.float32)
    ys, xs = slice(Y, Y + TILE), slice(X, X + TILE)
    stream = cupy.cuda.get_current_stream().ptr
    rows = {}

    # host -> image
    def h2i():
        ia.copy(tile, img, dst_offset=(X, Y), extent=(TILE, TILE))

    h2i()
    plan, qd = last_plan()
    rows["h2i: ia.copy (fast path)"] = us(h2i)
    rows["h2i: _cy.memcpy3d alone"] = us(
        lambda: _cy.memcpy3d(qd, stream, plan.src, plan.dst, plan.extent)
    )
    rows["h2i: executor.execute"] = us(lambda: executor.execute(plan, stream, qd))
    rows["h2i: cupy set (64 KiB H2D)"] = us(lambda: dev_tile.set(tile))
    rows["h2i: runtime.memcpyAsync H2D pageable"] = us(
        lambda: runtime.memcpyAsync(dev_tile.data.ptr, tile.ctypes.data, tile.nbytes, 1, stream)
    )

    # image -> host
    def i2h():
        ia.copy(img, tile_out, src_offset=(X, Y), extent=(TILE, TILE))

    i2h()
    plan2, _ = last_plan()
    rows["i2h: ia.copy (fast path)"] = us(i2h)
    rows["i2h: _cy.memcpy3d alone"] = us(
        lambda: _cy.memcpy3d(qd, stream, plan2.src, plan2.dst, plan2.extent)
    )
    rows["i2h: cupy get(out=)"] = us(lambda: dev_tile.get(out=tile_out))
    # events
    rows["record_event (create + record + drop)"] = us(lambda: record_event(stream))
    rows["cupy.cuda.Event() alone"] = us(lambda: cupy.cuda.Event(block=False, disable_timing=True))
    # to_cupy of a region view
    view = img[Y : Y + TILE, X : X + TILE]
    rows["to_cupy: img[region].to_cupy()"] = us(lambda: img[Y : Y + TILE, X : X + TILE].to_cupy())
    rows["to_cupy: view.to_cupy() (view made once)"] = us(view.to_cupy)
    rows["to_cupy: view made alone"] = us(lambda: img[Y : Y + TILE, X : X + TILE])
    rows["to_cupy: cupy.empty alone"] = us(lambda: cupy.empty((TILE, TILE, 4), cupy.float32))
    out = cupy.empty((TILE, TILE, 4), cupy.float32)
    rows["to_cupy: ia.copy(view, out) fast path"] = us(lambda: ia.copy(view, out))
    rows["to_cupy: cupy big[region].copy()"] = us(lambda: big[ys, xs].copy())
    # texture create + destroy
    sampler = ia.Sampler(filtering="linear")
    mem, desc = img.mem, img.descriptor

    def ia_tex():
        ia.create_image(mem, desc, sampler).destroy()

    ia_tex()
    from imagearray.handles import create as hc

    recipe = next(reversed(hc._RECIPES.values()))
    owner = recipe.owner()

    def raw_tex():
        recipe.create.create(0, owner).destroy()

    ch = texture.ChannelFormatDescriptor(32, 32, 32, 32, runtime.cudaChannelFormatKindFloat)
    cuarr = texture.CUDAarray(ch, SIZE, SIZE)
    res = texture.ResourceDescriptor(runtime.cudaResourceTypeArray, cuArr=cuarr)
    tdesc = texture.TextureDescriptor(
        (runtime.cudaAddressModeClamp,) * 2,
        runtime.cudaFilterModeLinear,
        runtime.cudaReadModeElementType,
    )
    rows["tex: create_image + destroy"] = us(ia_tex)
    rows["tex: TextureRecipe.create + obj.destroy"] = us(raw_tex)
    rows["tex: recipe.make + destroy"] = us(lambda: recipe.make(mem, desc, sampler).destroy())
    rows["tex: cupy TextureObject"] = us(lambda: texture.TextureObject(res, tdesc))
    print("| part | host us per call |\n| --- | --- |")
    for k, v in rows.items():
        print(f"| {k} | {v:.2f} |")
    profile("h2i ia.copy", h2i, N, 25)
    profile("to_cupy of a region", lambda: img[Y : Y + TILE, X : X + TILE].to_cupy(), N, 25)
    profile("create_image + destroy", ia_tex, N, 25)


if __name__ == "__main__":
    sys.exit(main())
