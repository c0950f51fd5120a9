"""Command line: ``python -m imagearray info``."""

from __future__ import annotations

import argparse
import sys

import imagearray as ia


def _fmt(value) -> str:
    if isinstance(value, tuple):
        return " x ".join(str(v) for v in value)
    return str(value)


def info(out=sys.stdout) -> int:
    try:
        dev = ia.get_device()
        values = ia.device_info(device=dev)
        aspects = {a: ia.device_has(a, dev) for a in ia.Aspect}
    except ia.CUDAUnavailableError as exc:
        print(f"imagearray: no CUDA device available: {exc}", file=sys.stderr)
        return 1
    import cupy
    from cuda.bindings import __version__ as bindings_version

    drv = values["driver_version"]
    rt = cupy.cuda.runtime.runtimeGetVersion()
    lines = [
        f"imagearray {ia.__version__}",
        f"device {dev}: {values['name']} (compute capability {_fmt(values['compute_capability'])},"
        f" {values['total_memory'] / 2**30:.1f} GiB)",
        f"driver CUDA version {drv // 1000}.{drv % 1000 // 10}; CuPy {cupy.__version__} "
        f"(CUDA runtime {rt // 1000}.{rt % 1000 // 10}); cuda-bindings {bindings_version}",
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
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="device, driver and CUDA versions, and image support")
    args = parser.parse_args(argv)
    if args.command == "info":
        return info()
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
