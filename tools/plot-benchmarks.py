#!/usr/bin/env python
"""Make the site's benchmark page from the benchmarks' JSON: ``docs/benchmarks.rst``
(a table per benchmark) and a matplotlib bar chart per benchmark
(``docs/benchmarks/<name>.png``).

Usage::

    python -m benchmarks --json docs/benchmarks/results.json   # on the GPU machine
    python tools/plot-benchmarks.py [RESULTS.json] [--docs DIR]

RESULTS.json is what ``python -m benchmarks --json PATH`` writes (``{"meta",
"benchmarks": {name: {"rows", "targets"}}}``) or one benchmark's own file from
``benchmarks/results/<name>.json`` (``{"meta", "rows", "targets"}``); default
``docs/benchmarks/results.json``. The page and the pictures are committed; run this
again after refreshing the JSON. Times and speed-ups are the benchmarks' own
(:class:`benchmarks._util.Row`: the time a caller sees, max(GPU, CPU) median).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._util import REFERENCE, Row, speedup  # noqa: E402

PAGE = "benchmarks.rst"
PICTURES = "benchmarks"  # under the docs folder, beside results.json

HEAD = """\
..
   Made by tools/plot-benchmarks.py from {source}: do not edit, run it again.

Benchmarks
==========

imagearray beside CuPy (and the other libraries named) on the same work, measured
side by side in one process by ``python -m benchmarks`` (``benchmarks/``; the
GPU machine runs it). Time is the median of {n_repeat} runs after {n_warmup}
warm-ups, the larger of the GPU time (CUDA events) and the host time of the call, as
a caller sees it. The speed-up is the other implementation's time over imagearray's:
above 1, imagearray is faster.

Device: {device}, CuPy {cupy}.{note}
"""


def load(path: Path) -> tuple[dict, dict[str, list[Row]]]:
    """``(meta, {benchmark: rows})`` from either JSON layout."""
    data = json.loads(path.read_text())
    if "benchmarks" in data:
        found = {name: b["rows"] for name, b in data["benchmarks"].items()}
    else:
        found = {path.stem: data["rows"]}
    names = [f.name for f in dataclasses.fields(Row)]
    rows = {name: [Row(**{k: r[k] for k in names}) for r in rs] for name, rs in found.items()}
    return data.get("meta", {}), rows


def _cases(rows: list[Row]) -> dict[str, list[Row]]:
    by_case: dict[str, list[Row]] = {}
    for r in rows:
        by_case.setdefault(r.case, []).append(r)
    return by_case


def table(name: str, rows: list[Row]) -> str:
    """One benchmark as a reST list-table, cases in their order, imagearray first."""
    out = [
        f".. list-table:: ``{name}``",
        "   :header-rows: 1",
        "   :widths: 40 30 10 10 10",
        "",
        "   * - case",
        "     - implementation",
        "     - ms",
        "     - GB/s",
        "     - speed-up",
    ]
    for case, impls in _cases(rows).items():
        for r in sorted(impls, key=lambda r: r.impl != REFERENCE):
            s = speedup(rows, case, r.impl) if r.impl != REFERENCE else None
            out += [
                f"   * - {case}",
                f"     - {r.impl}",
                f"     - {r.ms:.4g}",
                f"     - {r.gbps:.1f}" if r.nbytes else "     -",
                f"     - {s:.2f}x" if s is not None else "     -",
            ]
    return "\n".join(out)


def plot(name: str, rows: list[Row], path: Path) -> None:
    """Horizontal bars, one group per case, log time axis; imagearray's bar first."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on the build machine
    import matplotlib.pyplot as plt

    cases = _cases(rows)
    impls = list(dict.fromkeys(r.impl for r in sorted(rows, key=lambda r: r.impl != REFERENCE)))
    colours = {impl: plt.cm.tab10(i % 10) for i, impl in enumerate(impls)}
    height = 0.8 / max(len(v) for v in cases.values())
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.32 * len(rows) + 0.2 * len(cases)), dpi=80)
    ticks = []
    for i, (case, case_rows) in enumerate(cases.items()):
        ordered = sorted(case_rows, key=lambda r: r.impl != REFERENCE)
        for j, r in enumerate(ordered):
            y = i + (j - (len(ordered) - 1) / 2) * height
            ax.barh(y, r.ms, height * 0.9, color=colours[r.impl], label=r.impl)
        ticks.append(case)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=False))
    ax.legend(unique.values(), unique.keys(), fontsize=7, loc="best")
    ax.set_yticks(range(len(ticks)), ticks, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("ms (log scale; shorter is faster)")
    ax.set_title(name)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})  # the same bytes for the same data
    plt.close(fig)


def page(meta: dict, benchmarks: dict[str, list[Row]], source: str) -> str:
    """The whole reST page: the head, then each benchmark's plot and table."""
    note = f"\n\n{meta['source']}." if meta.get("source") else ""
    if meta.get("date"):
        note = f" Measured {meta['date']}" + (f" at {meta['tree']}" if meta.get("tree") else "")
        note += "." + (f"\n\n{meta['source']}." if meta.get("source") else "")
    text = HEAD.format(
        source=source,
        n_repeat=meta.get("n_repeat", "?"),
        n_warmup=meta.get("n_warmup", "?"),
        device=meta.get("device", "unknown"),
        cupy=meta.get("cupy", "?"),
        note=note,
    )
    for name, rows in benchmarks.items():
        text += f"\n{name}\n{'-' * len(name)}\n\n"
        text += f".. image:: {PICTURES}/{name}.png\n   :alt: {name}: time per implementation\n\n"
        text += table(name, rows) + "\n"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", type=Path)
    parser.add_argument("--docs", type=Path, default=ROOT / "docs", help="the docs folder")
    parser.add_argument("--no-plots", action="store_true", help="write the page only")
    args = parser.parse_args(argv)
    results = args.results or args.docs / PICTURES / "results.json"
    meta, benchmarks = load(results)
    try:
        source = results.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        source = results.name
    (args.docs / PICTURES).mkdir(parents=True, exist_ok=True)
    if not args.no_plots:
        for name, rows in benchmarks.items():
            plot(name, rows, args.docs / PICTURES / f"{name}.png")
    (args.docs / PAGE).write_text(page(meta, benchmarks, source))
    print(f"{args.docs / PAGE}: {len(benchmarks)} benchmarks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
