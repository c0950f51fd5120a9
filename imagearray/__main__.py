"""Command line: ``python -m imagearray demo``, ``python -m imagearray info`` and
``python -m imagearray --version``."""

from __future__ import annotations

import argparse
import os
import platform
import sys

import imagearray as ia
from imagearray import demo as _demo


def _fmt(value) -> str:
    if isinstance(value, tuple):
        return " x ".join(str(v) for v in value)
    return str(value)


def _version_of(module: str) -> str:
    try:
        return __import__(module, fromlist=["__version__"]).__version__
    except Exception as exc:  # a broken dependency is reported, not raised
        return f"not importable ({type(exc).__name__}: {exc})"


def _package_lines() -> list[str]:
    """What answers a bug report without a GPU: versions and where the headers are."""
    return [
        f"imagearray {ia.__version__} ({os.path.dirname(ia.__file__)})",
        f"CuPy {_version_of('cupy')}; cuda-bindings {_version_of('cuda.bindings')}; "
        f"Python {platform.python_version()}",
        f"device headers {ia.get_include()} (hash {ia.header_hash()})",
    ]


def info(out=None) -> int:
    """Print the versions and the headers, then the device; 1 if there is no device."""
    out = sys.stdout if out is None else out
    print("\n".join(_package_lines()), file=out, flush=True)
    try:
        dev = ia.get_device()
        values = ia.device_info(device=dev)
        aspects = {a: ia.device_has(a, dev) for a in ia.Aspect}
    except ia.CUDAUnavailableError as exc:
        print(f"imagearray: no CUDA device available: {exc}", file=sys.stderr)
        return 1
    import cupy

    drv = values["driver_version"]
    rt = cupy.cuda.runtime.runtimeGetVersion()
    lines = [
        f"device {dev}: {values['name']} (compute capability {_fmt(values['compute_capability'])},"
        f" {values['total_memory'] / 2**30:.1f} GiB)",
        f"driver CUDA version {drv // 1000}.{drv % 1000 // 10}; "
        f"CuPy's CUDA runtime {rt // 1000}.{rt % 1000 // 10}",
        "",
        "| aspect | supported |",
        "| --- | --- |",
        *(f"| {a.value} | {'yes' if v else 'no'} |" for a, v in aspects.items()),
        "",
        "| device info | value |",
        "| --- | --- |",
        *(
            f"| {k} | {_fmt(v)} |"
            for k, v in values.items()
            if k not in ("name", "total_memory", "driver_version")
        ),
    ]
    print("\n".join(lines), file=out)
    return 0


def _size(text: str) -> int:
    """argparse's type for ``--size``: an integer of at least the demo's minimum."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < _demo.MIN_SIZE:
        raise argparse.ArgumentTypeError(f"must be at least {_demo.MIN_SIZE}, not {value}")
    return value


def demo(out: str, size: int | None, backend: str = "auto") -> int:
    """Run the demo (:func:`imagearray.demo.run`): 0 once every picture is written."""
    _demo.run(out, size, backend=backend)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m imagearray")
    parser.add_argument("--version", action="version", version=f"imagearray {ia.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "demo",
        help="the tour: a test picture, mipmaps, a rotated view, a cubemap panorama and "
        "a layered atlas written as PNGs, then imagearray timed against "
        "cupyx.scipy.ndimage; without a GPU the same pictures from the NumPy "
        "texture-unit reference (imagearray.testing)",
    )
    run.add_argument("--out", default="demo-out", help="folder for the PNGs (default: demo-out)")
    run.add_argument(
        "--size",
        type=_size,
        default=None,
        help="width and height of the test picture (default: 1024 on a GPU, 256 on the "
        f"reference; at least {_demo.MIN_SIZE})",
    )
    run.add_argument(
        "--reference",
        action="store_true",
        help="run on the NumPy texture-unit reference even where a GPU is found",
    )
    sub.add_parser(
        "info",
        help="versions, the device headers, then the device, driver and image support "
        "(exit status 1 without a CUDA device)",
    )
    args = parser.parse_args(argv)
    if args.command == "info":
        return info()
    if args.command == "demo":
        return demo(args.out, args.size, "reference" if args.reference else "auto")
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
