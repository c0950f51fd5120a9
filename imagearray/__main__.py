"""Command line: ``python -m imagearray info`` and ``python -m imagearray --version``."""

from __future__ import annotations

import argparse
import os
import platform
import sys

import imagearray as ia


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m imagearray")
    parser.add_argument("--version", action="version", version=f"imagearray {ia.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "info",
        help="versions, the device headers, then the device, driver and image support "
        "(exit status 1 without a CUDA device)",
    )
    args = parser.parse_args(argv)
    if args.command == "info":
        return info()
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
