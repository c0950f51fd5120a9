"""Mip generation: ``generate_mipmaps`` fills levels 1.. of a mipmapped image view
from level 0 on the GPU, with an exact box filter or a user kernel.

The default filter's launches are made once and cached with the surfaces they
name (:class:`~imagearray.sampling.cache.MemoryCache`); pyramids of
:data:`GRAPH_LEVELS` levels or more replay them as one captured CUDA graph.
"""

from __future__ import annotations

from typing import Any

import numpy

from imagearray._device import Scope
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError
from imagearray.memory import ImageView
from imagearray.sampling import kernels as k
from imagearray.sampling.cache import cache_of, surface

__all__ = ["GRAPH_LEVELS", "generate_mipmaps"]

#: Pyramids of at least this many levels replay a captured CUDA graph.
GRAPH_LEVELS = 4


def generate_mipmaps(view: ImageView, kernel: Any = None, *, stream: Any = None) -> None:
    """Fill levels 1.. of a mipmapped image from level 0, on the GPU.

    The default is an exact box filter: each texel of level l averages the area
    it covers in level l - 1 (for odd sizes, edge texels of the finer level count
    with fractional weights), in float, rounded to nearest for integer and
    normalized integer types. Layers and cubemap faces are filtered separately.

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
    own = kernel is None
    if not own and not callable(kernel):
        raise ImageArrayTypeError(
            "generate_mipmaps(kernel=...) takes a cupy.RawKernel (or None for the box "
            f"filter), not {type(kernel).__name__}"
        )
    if own:
        kernel = k.mipgen_kernel(desc.dtype.name, desc.num_channels, dims, layered)
    with Scope(view._handle.device, stream):
        launches = _mipgen_launches(view, layered)
        if own:
            # The compiled function for the image's device (current here): calling
            # it skips RawKernel's per-call lookup.
            kernel = getattr(kernel, "kernel", kernel)
            graph = _mipgen_graph(view, kernel, launches)
            if graph is not None:
                graph.launch()  # on the current (the given) stream
                return
        _launch_all(kernel, launches)


def _mipgen_graph(view: ImageView, kernel: Any, launches: list) -> Any:
    """``launches`` of the default filter's compiled ``kernel`` captured once into a
    CUDA graph (cached with the launches it was made from), or None where capture
    is not worth it or failed. A 4096^2 pyramid is 12 launches: one by one, the
    H100 spent ~9 us of Python and driver time on each, more than the small levels
    take on the GPU."""
    cache = cache_of(view)
    hit = cache.mipgen_graph
    if hit is not None and hit[0] is launches:
        return hit[1]
    graph = None
    if len(launches) >= GRAPH_LEVELS:
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
    cache.mipgen_graph = (launches, graph)
    return graph


def _mipgen_launches(view: ImageView, layered: bool) -> list:
    """((grid, block), args) of each level's launch, made once and cached with the
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
