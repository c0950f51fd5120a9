"""What the gallery scripts share: the command line (``--out DIR``, ``--reference``),
the backend choice and writing a PNG. Not an example itself (the gallery skips it)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy

import imagearray as ia

#: The site's pictures stay small (the repository carries them): a PNG over this many
#: bytes is stored with a 256-colour palette instead.
MAX_BYTES = 100_000

#: Where the site reads the pictures from (tools/render-gallery.sh writes here).
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "_static" / "gallery"


def options(description: str) -> argparse.Namespace:
    """``--out DIR`` and ``--reference``; ``gpu`` says whether to run on the GPU: where
    imagearray finds one (:func:`imagearray.is_available`) unless ``--reference``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the PNG")
    parser.add_argument(
        "--reference", action="store_true", help="run on the NumPy reference even with a GPU"
    )
    # sphinx-gallery and doc builds import no script; parse_known_args tolerates
    # the arguments of a runner (pytest, runpy) that calls main() itself
    args, _ = parser.parse_known_args()
    args.gpu = not args.reference and ia.is_available()
    return args


def to_u8(values) -> numpy.ndarray:
    """Normalized reads in [0, 1] as RGBA8 (or gray 8-bit), rounded, clipped."""
    values = numpy.asarray(values, numpy.float64)
    return numpy.clip(numpy.rint(values * 255), 0, 255).astype(numpy.uint8)


def side_by_side(panels: list[numpy.ndarray], gap: int = 4) -> numpy.ndarray:
    """RGBA8 panels of one height in a row, ``gap`` texels of dark grey apart."""
    from imagearray.demo.pictures import BACKGROUND

    height = max(p.shape[0] for p in panels)
    width = sum(p.shape[1] for p in panels) + gap * (len(panels) - 1)
    out = numpy.empty((height, width, 4), numpy.uint8)
    out[...] = BACKGROUND
    x = 0
    for p in panels:
        if p.ndim == 2:  # gray
            p = numpy.stack([p, p, p, numpy.full_like(p, 255)], -1)
        out[: p.shape[0], x : x + p.shape[1]] = p
        x += p.shape[1] + gap
    return out


def save(args: argparse.Namespace, name: str, picture: numpy.ndarray) -> Path:
    """Write ``picture`` (RGBA8) as ``args.out / name`` and say where and on what."""
    from PIL import Image

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / name
    image = Image.fromarray(numpy.ascontiguousarray(picture))
    image.save(path, optimize=True)
    note = ""
    if path.stat().st_size > MAX_BYTES:  # noisy pictures (aliasing) compress badly
        image.quantize(256, method=Image.Quantize.FASTOCTREE).save(path, optimize=True)
        note = ", 256 colours"
    where = "GPU" if args.gpu else "NumPy reference"
    print(f"{path} ({picture.shape[1]}x{picture.shape[0]}, {where}{note})")
    return path
