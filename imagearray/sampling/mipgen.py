"""Mip generation: ``generate_mipmaps`` fills levels 1.. of a mipmapped image view
from level 0 on the GPU, with an exact box filter or a user kernel.

The default filter's chain is planned by
:func:`~imagearray.sampling.mipwide.chain_plan` (or, with ``mipchain.ONE_LAUNCH``, made
in one launch where :mod:`~imagearray.sampling.mipchain` takes it: measured slower, off
by default): for 2D images, wide-read passes
(:mod:`~imagearray.sampling.mipwide`: up to three levels from one read of the level
above, 16 bytes a read) while the levels are large and even, then the fused
downsampler of :mod:`~imagearray.sampling.mipkernels` (up to six levels a launch from
shared memory); for 1D and 3D images one launch per level
(or fused, :data:`FUSED`). Its launches are made once and cached with the surfaces
they name (:class:`~imagearray.sampling.cache.MemoryCache`); chains of
:data:`GRAPH_LAUNCHES` launches or more replay them as one captured CUDA graph. User
kernels run level by level (the per-level box filter ``mipkernels.mipgen_kernel`` is
one: every path gives its results bit for bit).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy

from imagearray._device import Scope, current_device
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray.memory import ImageView
from imagearray.sampling import mipchain as mc
from imagearray.sampling import mipdeep as md
from imagearray.sampling import mipkernels as mk
from imagearray.sampling import mipwide as mw
from imagearray.sampling import pdl
from imagearray.sampling.cache import cache_of, surface

__all__ = ["FUSED", "GRAPH_LAUNCHES", "generate_mipmaps"]

_ALIVE = operator.attrgetter("alive")  # a CUDA object's liveness, read in C by map()

#: Chains of at least this many launches replay a captured CUDA graph: all (the
#: one-launch chain's ~20 arguments are packed once, at capture, not per call).
GRAPH_LAUNCHES = 1

#: 1D and 3D images (which the wide passes do not take): fused passes
#: (mipkernels' few-launch downsampler) instead of one launch per level. Off: not
#: measured against the per-level graph for them; 2D images always end their chain
#: with fused passes, measured faster there (tools/probes/mip_wide.py). Both give the
#: same bytes (tests/sampling/test_mipgen_fused_gpu.py).
FUSED = False


def generate_mipmaps(view: ImageView, kernel: Any = None, *, stream: Any = None) -> None:
    """Fill levels 1.. of a mipmapped image from level 0, on the GPU.

    The default is an exact box filter: each texel of level l averages the area
    it covers in level l - 1 (for odd sizes, edge texels of the finer level count
    with fractional weights), in float, rounded to nearest for integer and
    normalized integer types, and stored before level l + 1 is made from it. Layers
    and cubemap faces are filtered separately. 2D images (layered and cubemaps
    too) are made by a few launches (``mipwide.chain_plan``): wide-read passes
    making up to three levels each from one read of the level above while the levels
    are large and even, then fused passes making up to six levels each from shared
    memory; 1D and 3D images one launch per level. The launches are replayed from
    one captured CUDA graph; every path gives the per-level filter's bytes.

    ``kernel``, optionally, is a ``cupy.RawKernel`` run once per level with
    arguments ``(src, dst, src_w, src_h, src_d, dst_w, dst_h, dst_d, layers,
    layered)`` where ``src``/``dst`` are ``ia::unsampled_image_handle``s of
    levels l - 1 and l, over a grid of 16 x 16 blocks covering (dst_w, dst_h)
    and ``dst_d`` (or ``layers``) blocks in z.
    """
    if kernel is None and stream is None:  # a replay: its checks passed when it was made
        fast = view.__dict__.get("_mipgen_replay")
        if fast is not None:
            graph, objs, device, cache = fast
            hit = cache.mipgen_graph
            if (
                hit is not None
                and hit[1] is graph
                and view._mem._cache is cache
                and all(map(_ALIVE, objs))
                and current_device() == device
            ):
                graph.launch()  # on the current stream
                return
    desc = view.descriptor
    if not desc.type.is_mipmapped:
        raise ImageArrayValueError(f"generate_mipmaps() needs a mipmapped image, not {desc}")
    if not view._whole_mipmap:
        raise ImageArrayValueError("generate_mipmaps() works on the whole mipmapped image")
    layered = desc.type.is_layered or desc.type.is_cubemap
    if kernel is not None and not callable(kernel):
        raise ImageArrayTypeError(
            "generate_mipmaps(kernel=...) takes a cupy.RawKernel (or None for the box "
            f"filter), not {type(kernel).__name__}"
        )
    with Scope(view._handle.device, stream):
        if kernel is not None:
            for grid, block, args in _level_launches(view, layered):
                kernel(grid, block, args)
            return
        launches = _default_launches(view, layered)
        graph = _mipgen_graph(view, launches)
        if graph is not None:
            graph.launch()  # on the current (the given) stream
            # the next call on this view replays it at once (mipfused: what
            # _default_launches just cached, with the surfaces' CUDA objects)
            cache = cache_of(view)
            replay = (graph, cache.mipfused[1], view._handle.device, cache)
            view.__dict__["_mipgen_replay"] = replay
            return
        _launch_all(launches)


def _mipgen_graph(view: ImageView, launches: list) -> Any:
    """``launches`` captured once into a CUDA graph (cached with the launches it was
    made from), or None where capture is not worth it or failed. One by one, the H100
    spent ~9 us of Python and driver time on each launch, more than the small levels
    take on the GPU."""
    cache = cache_of(view)
    hit = cache.mipgen_graph
    if hit is not None and hit[0] is launches:
        return hit[1]
    graph = None
    if len(launches) >= GRAPH_LAUNCHES:
        import cupy

        side = cupy.cuda.Stream(non_blocking=True)
        try:
            side.begin_capture()
            try:
                with side:
                    _launch_all(launches)
            finally:
                graph = side.end_capture()
        except Exception:  # no capture here (driver, mode): launch one by one
            graph = None
    cache.mipgen_graph = (launches, graph)
    return graph


def _default_launches(view: ImageView, layered: bool) -> list:
    """(compiled kernel, grid, block, args) of each launch of the box filter's chain
    (``mipwide.chain_plan``), made once and cached with the surfaces they name."""
    cache = cache_of(view)
    hit = cache.mipfused
    if hit is not None and all(map(_ALIVE, hit[1])):  # the surfaces' CUDA objects
        return hit[0]
    desc = view.descriptor
    dims, name, ch = desc.dimensions, desc.dtype.name, desc.num_channels
    extent = view.mip(0).view_descriptor.extent
    layers = desc.num_layers if layered else 1
    surfaces = [surface(view.mip(level)) for level in range(desc.num_levels)]
    i32 = numpy.int32
    kmax = mk.fused_tile(dims).kmax
    texel = desc.dtype.itemsize * ch
    one = (
        mc.ONE_LAUNCH and dims == 2 and mc.plan(extent[:2], desc.num_levels, texel, layers, layered)
    )
    if one:
        launches = [_one_launch(one, surfaces, extent[:2], name, ch, layered)]
        cache.mipfused = (launches, tuple(h._obj for h in surfaces))
        return launches
    # the compiled function for the image's device (current here): calling it skips
    # RawKernel's per-call lookup
    fused = per_level = None
    launches = []
    pdl_on = pdl.ENABLED and pdl.supported(view._handle.device)
    deep = md.deep_levels(texel) if dims == 2 else 0
    steps = mw.chain_plan(extent, dims, desc.num_levels, dims == 2 or FUSED, deep)
    tail = None
    if mc.TAIL_ONE_LAUNCH and dims == 2:
        tail = _tail_plan(steps, extent, desc.num_levels, texel, layers, layered)
    for kind, s, k in steps[:1] if tail else steps:
        if kind == "deep":
            fn = _compiled(md.deep_kernel(name, ch, layered, md.ROWS))
            size = mk.level_sizes(extent, dims, s + 2)[s + 1]
            grid, block = md.deep_grid(size, texel, layers)
            dst = mk.handles(surfaces[s + 1 : s + 1 + k], md.MAX_LEVELS)
            launches.append((fn, grid, block, (surfaces[s], dst, *map(i32, (*size, k)))))
        elif kind == "wide":
            fn = _compiled(mw.wide_kernel(name, ch, dims, layered, mw.WIDE_WRITE, k))
            size = mk.level_sizes(extent, dims, s + 2)[s + 1] + (1, 1)
            grid, block = mw.wide_grid(size[:3], texel, layers, layered)
            args = (surfaces[s], *_made(surfaces, s, k, mw.DESTINATIONS), *map(i32, size[:3]))
            launches.append((fn, grid, block, args))
        elif kind == "fused":
            fused = fused or _compiled(mk.fused_kernel(name, ch, dims, layered))
            sizes = mk.level_sizes(extent, dims, s + 1)[s] + (1, 1)
            args = (surfaces[s], *_made(surfaces, s, k, kmax), *map(i32, (*sizes[:3], k)))
            launches.append((fused, *mk.fused_grid(extent, dims, s, layers), args))
        else:
            per_level = per_level or _compiled(mk.mipgen_kernel(name, ch, dims, layered))
            launches.append((per_level, *_level_launches(view, layered)[s]))
        if kind in ("wide", "fused") and len(launches) > 1 and pdl_on:
            # (their kernels start with IA_PDL_START: they wait for the launch before)
            launches[-1] = _dependent(launches[-1])
    if tail:  # the levels below the first wide pass's, in one launch
        s0, sub, p = tail
        launches.append(_one_launch(p, surfaces[s0:], sub, name, ch, layered))
        if pdl_on:  # (mipchain's kernel starts with IA_PDL_START, as the wide pass)
            launches[-1] = _dependent(launches[-1])
    cache.mipfused = (launches, tuple(h._obj for h in surfaces))
    return launches


def _dependent(launch: tuple) -> tuple:
    """``(kernel, grid, block, args)`` launched as a programmatic dependent of the
    launch before it (``pdl.launcher``)."""
    return (pdl.launcher(*launch), *launch[1:])


def _made(surfaces: list, s: int, k: int, n: int) -> list:
    """The surfaces of levels s + 1 .. s + k, then 0s to a kernel's n destinations."""
    return surfaces[s + 1 : s + 1 + k] + [numpy.uint64(0)] * (n - k)


def _one_launch(p: Any, surfaces: list, extent: tuple, name: str, ch: int, layered: bool):
    """(kernel, grid, block, args) of ``mipchain``'s one launch of plan ``p`` for the
    chain whose level 0 is ``surfaces[0]``, of ``extent`` (w, h)."""
    import cupy

    fn = _compiled(mc.chain_kernel(name, ch, layered, p.head, len(p.stages)))
    size = mk.level_sizes(extent, 2, 2)[1] + (1,)
    counters = cupy.zeros(p.counters, numpy.int32)  # kept alive by the args
    args = (surfaces[0], *_made(surfaces, 0, p.head, mw.DESTINATIONS))
    args += (*map(numpy.int32, size), counters) + mc.stage_args(p, surfaces)
    return fn, p.grid, mw.BLOCK, args


def _tail_plan(steps: list, extent: tuple, levels: int, texel: int, layers: int, layered: bool):
    """``(s0, sub, plan)``: ``mipchain``'s one-launch plan of the levels below the
    first wide pass of ``steps`` (``mipwide.chain_plan`` of a chain of ``levels``
    levels and ``layers`` layers, 1 where not ``layered``), which reads its level ``s0``
    of extent ``sub`` (w, h); or None where it does not apply or saves no launch (the
    tail is one launch already)."""
    if len(steps) < 3 or steps[0][0] != "wide":
        return None
    s0 = steps[0][2]
    sub = mk.level_sizes(extent, 2, s0 + 1)[s0]
    p = mc.plan(sub, levels - s0, texel, layers, layered)
    return (s0, sub, p) if p else None


def _compiled(kernel: Any) -> Any:
    """A ``cupy.RawKernel``'s function for the current device (calls skip its lookup)."""
    return getattr(kernel, "kernel", kernel)


def _level_launches(view: ImageView, layered: bool) -> list:
    """(grid, block, args) of each level's launch of a per-level kernel (a user's, or
    the box filter's), made once and cached with the surfaces they name (Python work
    per call is then a loop of launches)."""
    cache = cache_of(view)
    launches = cache.mipgen
    if launches is not None and all(a[0].alive and a[1].alive for _, _, a in launches):
        return launches
    desc = view.descriptor
    launches = []
    for level in range(1, desc.num_levels):
        src, dst = view.mip(level - 1), view.mip(level)
        sw, sh, sd = src.view_descriptor.extent
        dw, dh, dd = dst.view_descriptor.extent
        zs = desc.num_layers if layered else dd
        args = (surface(src), surface(dst), *map(numpy.int32, (sw, sh, sd, dw, dh, dd)))
        args += (numpy.int32(desc.num_layers if layered else 1), numpy.int32(int(layered)))
        launches.append(((-(-dw // 16), -(-dh // 16), zs), (16, 16, 1), args))
    cache.mipgen = launches
    return launches


# ------------------------------------------------------------ lifetime


def _launch_all(launches: list) -> None:
    """Run each ``(kernel, grid, block, args)`` of ``launches``, in order."""
    for kernel, grid, block, args in launches:
        kernel(grid, block, args)
