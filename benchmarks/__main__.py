"""``python -m benchmarks [name ...]``: print Markdown tables and write JSON."""

from __future__ import annotations

import argparse
import importlib
import sys

from benchmarks._util import device_meta, table, write_json

BENCHMARKS = ["copy", "sample", "mipmaps", "hostmem"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", default=BENCHMARKS, help=", ".join(BENCHMARKS))
    args = parser.parse_args(argv)
    import imagearray as ia

    if not ia.is_available():
        print("benchmarks need a CUDA device", file=sys.stderr)
        return 1
    meta = device_meta()
    print(f"device: {meta['device']}, CuPy {meta['cupy']}, median of {meta['n_repeat']} runs")
    for name in args.names:
        if name not in BENCHMARKS:
            parser.error(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
        rows = importlib.import_module(f"benchmarks.{name}").run()
        print(f"\n## {name}\n\n{table(rows)}\n")
        print(f"(written to {write_json(name, rows, meta)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
