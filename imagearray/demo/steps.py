"""The demo's steps, one function each, and :func:`run`, which calls them in order,
prints a progress line per step and writes the pictures as PNG files.

Every step takes a :class:`~imagearray.demo.backends.Backend`: the same function runs
on the GPU and on the NumPy texture-unit reference, with the same inputs
(:mod:`imagearray.demo.pictures`), so the pictures of the two can be compared.

A step's time is the backend's work from its first call to a synchronized finish,
in the wall clock: on the GPU the first run of a session includes compiling the
kernels (cached on disk after), which step 7's table leaves out (it measures warm
calls with CUDA events).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy

from imagearray._errors import ImageArrayValueError
from imagearray._sampler import Sampler
from imagearray.demo import pictures as p
from imagearray.demo.backends import Backend, find_backend
from imagearray.demo.timing import timing_table

__all__ = [
    "ATLAS_SAMPLER",
    "CUBE_SAMPLER",
    "FILES",
    "MIN_SIZE",
    "ROTATION_SAMPLER",
    "STEPS",
    "DemoResult",
    "Step",
    "atlas",
    "make_picture",
    "mipmaps",
    "panorama",
    "rotated_view",
    "run",
    "upload",
]

#: The steps, in order (their progress lines count to this many).
STEPS = 7
#: Step -> the PNG it writes.
FILES = {
    "picture": "picture.png",
    "mipmaps": "mipmaps.png",
    "rotated": "rotated.png",
    "panorama": "panorama.png",
    "atlas": "atlas.png",
}
#: The smallest picture: the cube faces are a quarter of it, and want 4 x 4 checkers.
MIN_SIZE = 16

#: Step 4: linear filtering of texel coordinates; outside the picture, the border
#: colour (CLAMP addressing) shows where the rotated view leaves it.
ROTATION_SAMPLER = Sampler(
    "clamp", "unnormalized", "linear", border_color=tuple(c / 255 for c in p.BACKGROUND)
)
#: Step 5: directions, linear filtering within a face (disjointed: the reference
#: models no seamless linear filtering, and both backends must read alike).
CUBE_SAMPLER = Sampler("clamp_to_edge", "normalized", "linear", cubemap_filtering="disjointed")
#: Step 6: texel centres read exactly, each point in its own layer.
ATLAS_SAMPLER = Sampler("clamp_to_edge", "unnormalized", "nearest")


@dataclasses.dataclass
class Step:
    """What a step made: ``value`` where the backend keeps it (for the next steps),
    ``picture`` (RGBA8, NumPy) for its PNG or None, a ``summary`` for its progress
    line, and its time in milliseconds."""

    value: Any
    picture: numpy.ndarray | None
    summary: str
    ms: float


@dataclasses.dataclass
class DemoResult:
    """What :func:`run` made: the backend, the size, each step's :class:`Step` by
    name, the PNG files written by name, and the timing table's lines (empty without
    a GPU)."""

    backend: Backend
    size: int
    steps: dict[str, Step]
    files: dict[str, Path]
    table: list[str]


def _timed(backend: Backend, work: Callable[[], Any]) -> tuple[Any, float]:
    """``work()`` and its time in ms, until the backend has finished it."""
    backend.synchronize()  # nothing earlier counts
    start = time.perf_counter()
    value = work()
    backend.synchronize()
    return value, (time.perf_counter() - start) * 1e3


def make_picture(backend: Backend, size: int) -> Step:
    """Step 1: the test picture, made procedurally on the host (nothing downloaded)."""
    start = time.perf_counter()
    picture = p.picture(size)
    ms = (time.perf_counter() - start) * 1e3
    return Step(picture, picture, f"RGBA8 {size}x{size}, gradients, checkerboard, discs", ms)


def upload(backend: Backend, picture: numpy.ndarray) -> Step:
    """Step 2: the picture as a sampled image (unorm_int8: texels read as [0, 1])."""
    image, ms = _timed(backend, lambda: backend.upload(picture))
    kib = picture.nbytes / 2**10
    amount = f"{kib / 2**10:.1f} MiB" if kib >= 2**10 else f"{kib:.0f} KiB"
    return Step(image, None, f"{amount} as a normalized RGBA8 image", ms)


def mipmaps(backend: Backend, image: Any, size: int) -> Step:
    """Step 3: the full mip chain of the uploaded image, box-filtered level by level;
    the picture is the levels side by side."""
    levels = size.bit_length()
    pyramid, ms = _timed(backend, lambda: backend.mipmaps(image, levels))
    strip = p.mip_strip(backend.mip_levels(pyramid))
    return Step(pyramid, strip, f"{levels} levels, {size}x{size} .. 1x1", ms)


def rotated_view(backend: Backend, image: Any, size: int) -> Step:
    """Step 4: the picture turned and magnified by texture sampling with linear
    filtering (:func:`pictures.rotation_coords`, :data:`ROTATION_SAMPLER`)."""
    coords = p.rotation_coords(size)
    values, ms = _timed(backend, lambda: backend.sample(image, coords, ROTATION_SAMPLER))
    summary = (
        f"{p.ROTATION_DEGREES:g} deg, zoom {p.ZOOM:g}, linear filtering, "
        f"{coords.shape[0] * coords.shape[1]} samples"
    )
    return Step(values, p.to_u8(backend.host(values)), summary, ms)


def panorama(backend: Backend, size: int) -> Step:
    """Step 5: six procedural faces as a cubemap, sampled along the directions of an
    equirectangular panorama ``(size // 2, size)`` (:data:`CUBE_SAMPLER`)."""
    face = max(4, size // 4)
    faces = p.cube_faces(face)
    directions = p.panorama_directions(size)

    def work():
        cube = backend.cubemap(faces)
        return backend.sample_cubemap(cube, directions, CUBE_SAMPLER)

    values, ms = _timed(backend, work)
    summary = f"cubemap 6 x {face}x{face} -> equirectangular {size}x{size // 2}"
    return Step(values, p.to_u8(backend.host(values)), summary, ms)


def atlas(backend: Backend, pyramid: Any, size: int) -> Step:
    """Step 6: a layered image of :data:`pictures.ATLAS_LAYERS` layers of
    ``size // 2`` (layer 0: mip level 1 of step 3, where the backend keeps it; the
    others procedural), written layer by layer, read back by sampling each point in
    its layer, tiled 2 x 2."""
    half = size // 2
    first = backend.mip_level(pyramid, 1)
    layers = [first, *p.atlas_layers(half)]
    coords, which = p.atlas_coords(half)

    def work():
        made = backend.atlas(layers)
        return backend.sample_layered(made, coords, which, ATLAS_SAMPLER)

    values, ms = _timed(backend, work)
    summary = f"{p.ATLAS_LAYERS} layers of {half}x{half}, tiled 2x2"
    return Step(values, p.to_u8(backend.host(values)), summary, ms)


def _check_size(size: Any) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, numpy.integer)) or size < MIN_SIZE:
        raise ImageArrayValueError(f"size must be an integer >= {MIN_SIZE}, not {size!r}")
    return int(size)


def _png(path: Path, picture: numpy.ndarray) -> None:
    # Pillow: a well-kept PNG writer; imported here so `import imagearray` stays light
    from PIL import Image

    Image.fromarray(numpy.ascontiguousarray(picture)).save(path)


def run(
    out: str | os.PathLike = "demo-out",
    size: int | None = None,
    *,
    backend: Backend | str = "auto",
    echo: Callable[[str], Any] | None = None,
) -> DemoResult:
    """Run the demo: make a test picture, upload it, generate its mipmaps, render a
    rotated view, sample a cubemap into a panorama, fill a layered atlas, write the
    pictures as PNGs into ``out``, and time imagearray against cupyx.scipy.ndimage.

    Parameters
    ----------
    out : path, optional
        The folder for the PNGs (made if missing; files of the same names replaced).
    size : int, optional
        The picture's width and height (>= 16); default the backend's (1024 on the
        GPU, 256 on the reference).
    backend : Backend or "auto", "gpu", "reference", optional
        ``"auto"``: the GPU where one is found, else the reference.
    echo : callable, optional
        Called with each line of output (default: print to stdout, flushed).

    Returns
    -------
    DemoResult

    Examples
    --------
    >>> from imagearray.demo import run
    >>> result = run("demo-out", 64, echo=lambda line: None)
    >>> sorted(result.files)
    ['atlas', 'mipmaps', 'panorama', 'picture', 'rotated']
    """
    if echo is None:

        def echo(line: str) -> None:
            print(line, file=sys.stdout, flush=True)

    chosen = find_backend(backend) if isinstance(backend, str) else backend
    size = _check_size(chosen.default_size if size is None else size)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    echo(chosen.describe(size))
    steps: dict[str, Step] = {}
    files: dict[str, Path] = {}

    def report(number: int, name: str, step: Step) -> None:
        steps[name] = step
        line = f"[{number}/{STEPS}] {name}: {step.summary}"
        if step.picture is not None:
            path = folder / FILES[name]
            _png(path, step.picture)
            files[name] = path
            h, w = step.picture.shape[:2]
            line += f" -> {path} ({w}x{h})"
        echo(f"{line} ... {step.ms:.1f} ms")

    report(1, "picture", make_picture(chosen, size))
    report(2, "upload", upload(chosen, steps["picture"].value))
    report(3, "mipmaps", mipmaps(chosen, steps["upload"].value, size))
    report(4, "rotated", rotated_view(chosen, steps["upload"].value, size))
    report(5, "panorama", panorama(chosen, size))
    report(6, "atlas", atlas(chosen, steps["mipmaps"].value, size))
    table: list[str] = []
    if chosen.gpu:
        start = time.perf_counter()
        table = timing_table(steps["picture"].value, size)
        echo(
            f"[7/{STEPS}] timing: imagearray against cupyx.scipy.ndimage, median of "
            f"CUDA-event times ... {(time.perf_counter() - start) * 1e3:.0f} ms"
        )
        for line in table:
            echo(line)
    else:
        echo(
            f"[7/{STEPS}] timing: skipped: the table (imagearray against "
            "cupyx.scipy.ndimage) needs a GPU"
        )
    return DemoResult(chosen, size, steps, files, table)
