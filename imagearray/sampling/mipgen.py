"""Mip generation: ``generate_mipmaps`` fills levels 1.. of a mipmapped image view
from level 0 on the GPU, with an exact box filter or a user kernel.

The default filter is the fused downsampler of :mod:`~imagearray.sampling.mipkernels`:
one launch per run of levels that halve evenly (two for a 4096^2 chain), each block
reading a tile of the level above once and making the levels below it from shared
memory. Its launches are made once and cached with the surfaces they name
(:class:`~imagearray.sampling.cache.MemoryCache`); chains of
:data:`GRAPH_LAUNCHES` launches or more replay them as one captured CUDA graph. User
kernels run level by level (the per-level box filter ``mipkernels.mipgen_kernel`` is
one: it gives the fused filter's results bit for bit).
"""

from __future__ import annotations

from typing import Any

import numpy

from imagearray._device import Scope
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray.memory import ImageView
from imagearray.sampling import mipkernels as mk
from imagearray.sampling.cache import cache_of, surface

__all__ = ["GRAPH_LAUNCHES", "generate_mipmaps"]

#: Chains of at least this many fused launches replay a captured CUDA graph.
GRAPH_LAUNCHES = 2

#: Read the two texels of a row that an evenly halving level averages with one
#: surface read of twice the texel's size (up to 16 bytes: half the read
#: instructions for RGBA8 and float32). Off until measured on a GPU: PTX defines an
#: unformatted surface read by its operand size and a byte offset, but CUDA does
#: not document reads wider than the array's element; tests/sampling/
#: test_mipgen_fused_gpu.py checks that they give the same bytes and
#: benchmarks/mipmaps.py times them.
WIDE_READS = False

#: Run the default box filter fused (mipkernels' few-launch downsampler) instead of
#: one launch per level replayed from a CUDA graph. Off: on the H200 the fused chain
#: took 0.320 ms for 8192^2 RGBA8 and 0.081 ms for 4096^2 float32, the per-level graph
#: 0.235 and 0.070 ms (benchmarks/mipmaps.py); both give the same bytes
#: (tests/sampling/test_mipgen_fused_gpu.py).
FUSED = False


def generate_mipmaps(view: ImageView, kernel: Any = None, *, stream: Any = None) -> None:
    """Fill levels 1.. of a mipmapped image from level 0, on the GPU.

    The default is an exact box filter: each texel of level l averages the area
    it covers in level l - 1 (for odd sizes, edge texels of the finer level count
    with fractional weights), in float, rounded to nearest for integer and
    normalized integer types, and stored before level l + 1 is made from it. Layers
    and cubemap faces are filtered separately, one launch per level replayed from a
    CUDA graph (``mipgen.FUSED = True``: a few launches, each making several levels
    from one read of the level above, the same bytes; slower on the H200 so far).

    ``kernel``, optionally, is a ``cupy.RawKernel`` run once per level with
    arguments ``(src, dst, src_w, src_h, src_d, dst_w, dst_h, dst_d, layers,
    layered)`` where ``src``/``dst`` are ``ia::unsampled_image_handle``s of
    levels l - 1 and l, over a grid of 16 x 16 blocks covering (dst_w, dst_h)
    and ``dst_d`` (or ``layers``) blocks in z.
    """
    desc = view.descriptor
    if not desc.type.is_mipmapped:
        raise ImageArrayValueError(f"generate_mipmaps() needs a mipmapped image, not {desc}")
    if not view._whole_mipmap:
        raise ImageArrayValueError("generate_mipmaps() works on the whole mipmapped image")
    dims = desc.dimensions
    layered = desc.type.is_layered or desc.type.is_cubemap
    if kernel is not None and not callable(kernel):
        raise ImageArrayTypeError(
            "generate_mipmaps(kernel=...) takes a cupy.RawKernel (or None for the box "
            f"filter), not {type(kernel).__name__}"
        )
    with Scope(view._handle.device, stream):
        if kernel is None and not FUSED:
            box = mk.mipgen_kernel(desc.dtype.name, desc.num_channels, dims, layered)
            box = getattr(box, "kernel", box)
            launches = _mipgen_launches(view, layered)
            graph = _mipgen_graph(view, box, launches, None)
            if graph is not None:
                graph.launch()
                return
            _launch_all(box, launches)
            return
        if kernel is None:
            wide = WIDE_READS and mk.wide_reads_apply(desc.dtype, desc.num_channels)
            fused = mk.fused_kernel(desc.dtype.name, desc.num_channels, dims, layered, wide)
            launches = _fused_launches(view, layered)
            # The compiled function for the image's device (current here): calling
            # it skips RawKernel's per-call lookup.
            fused = getattr(fused, "kernel", fused)
            graph = _mipgen_graph(view, fused, launches, wide)
            if graph is not None:
                graph.launch()  # on the current (the given) stream
                return
            _launch_all(fused, launches)
            return
        _launch_all(kernel, _mipgen_launches(view, layered))


def _mipgen_graph(view: ImageView, kernel: Any, launches: list, wide: bool | None) -> Any:
    """``launches`` of the box filter's compiled ``kernel`` (fused with ``wide`` reads
    or not; ``wide`` None: the per-level kernel) captured once into a CUDA graph
    (cached with the launches and the kind of reads it was made from), or None where
    capture is not worth it or failed. One
    by one, the H100 spent ~9 us of Python and driver time on each launch, more than
    the small levels take on the GPU."""
    cache = cache_of(view)
    hit = cache.mipgen_graph
    if hit is not None and hit[0] is launches and hit[1] == wide:
        return hit[2]
    graph = None
    if len(launches) >= GRAPH_LAUNCHES:
        import cupy

        side = cupy.cuda.Stream(non_blocking=True)
        try:
            side.begin_capture()
            try:
                with side:
                    _launch_all(kernel, launches)
            finally:
                graph = side.end_capture()
        except Exception:  # no capture here (driver, mode): launch one by one
            graph = None
    cache.mipgen_graph = (launches, wide, graph)
    return graph


def _fused_launches(view: ImageView, layered: bool) -> list:
    """((grid, block), args) of each launch of the fused filter (``mk.fused_passes``),
    made once and cached with the surfaces they name."""
    cache = cache_of(view)
    hit = cache.mipfused
    if hit is not None and all(h.alive for h in hit[1]):
        return hit[0]
    desc = view.descriptor
    dims = desc.dimensions
    extent = view.mip(0).view_descriptor.extent
    kmax = mk.fused_tile(dims).kmax
    layers = desc.num_layers if layered else 1
    surfaces = [surface(view.mip(level)) for level in range(desc.num_levels)]
    none = numpy.uint64(0)
    launches = []
    for s, k in mk.fused_passes(extent, dims, desc.num_levels):
        sizes = mk.level_sizes(extent, dims, s + 1)[s] + (1, 1)
        dst = surfaces[s + 1 : s + 1 + k] + [none] * (kmax - k)
        args = (surfaces[s], *dst, *map(numpy.int32, (*sizes[:3], k)))
        launches.append((mk.fused_grid(extent, dims, s, layers), args))
    cache.mipfused = (launches, surfaces)
    return launches


def _mipgen_launches(view: ImageView, layered: bool) -> list:
    """((grid, block), args) of each level's launch of a user kernel, made once and cached with the
    surfaces they name (Python work per call is then a loop of launches)."""
    cache = cache_of(view)
    launches = cache.mipgen
    if launches is not None and all(a[0].alive and a[1].alive for _, a in launches):
        return launches
    desc = view.descriptor
    launches = []
    for level in range(1, desc.num_levels):
        src, dst = view.mip(level - 1), view.mip(level)
        sw, sh, sd = src.view_descriptor.extent
        dw, dh, dd = dst.view_descriptor.extent
        zs = desc.num_layers if layered else dd
        g = ((-(-dw // 16), -(-dh // 16), zs), (16, 16, 1))
        args = (surface(src), surface(dst), *map(numpy.int32, (sw, sh, sd, dw, dh, dd)))
        args += (numpy.int32(desc.num_layers if layered else 1), numpy.int32(int(layered)))
        launches.append((g, args))
    cache.mipgen = launches
    return launches


# ------------------------------------------------------------ lifetime


def _launch_all(kernel: Any, launches: list) -> None:
    """Run ``kernel`` once per ``((grid, block), args)`` of ``launches``, in order."""
    for grid, args in launches:
        kernel(*grid, args)
