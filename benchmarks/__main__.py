"""``python -m benchmarks [name ...]``: print Markdown tables and write JSON."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import traceback

from benchmarks._util import device_meta, require_gpu, rows_json, table, write_json

BENCHMARKS = [
    "copy",
    "sample",
    "linear",
    "mipmaps",
    "hostmem",
    "ndimage",
    "pyramids",
    "small_calls",
    "peer",
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Side-by-side GPU benchmarks of imagearray; the speed-up column is the "
        "other implementation's time / imagearray's, measured in this run.",
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="name",
        help=f"benchmarks to run (default: all): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument(
        "--json", metavar="PATH", help="also write every result and target into this one file"
    )
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}")
    require_gpu()
    meta = device_meta()
    print(f"device: {meta['device']}, CuPy {meta['cupy']}, median of {meta['n_repeat']} runs")
    everything = {"meta": meta, "benchmarks": {}}
    failed = []
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        try:
            rows = module.run()
        except Exception:  # one broken path must not hide the other benchmarks
            traceback.print_exc()
            print(f"\n## {name}\n\nFAILED (traceback above)\n", flush=True)
            failed.append(name)
            continue
        lines = module.targets(rows)
        print(f"\n## {name}\n\n{table(rows)}\n")
        print("\n".join(lines))
        print(f"(written to {write_json(name, rows, meta, lines)})", flush=True)
        everything["benchmarks"][name] = {"rows": rows_json(rows), "targets": lines}
        if args.json:  # rewritten after each benchmark: a later failure keeps these
            os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
            with open(args.json, "w") as f:
                json.dump(everything, f, indent=1)
    if failed:
        print(f"benchmarks FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
