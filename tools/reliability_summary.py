"""The summary of a reliability run (tools/reliability.sh): the figures the tests
recorded as JSON lines (tests/reliability/_rel.py ``record``), as Markdown to paste
into the issue: cycles per resource with memory/fds/RSS/live objects before and
after, generated cases and crashes, threads x rounds, races, OOM recoveries, faults.

Usage: python tools/reliability_summary.py REPORT.jsonl [--seconds S] [--rc RC]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict


def _mib(n: int) -> str:
    return f"{n / 2**20:+.1f} MiB" if n else "+0"


def _size(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def summarize(lines: list[dict], seconds: int | None = None, rc: int | None = None) -> str:
    by = defaultdict(list)
    for rec in lines:
        by[rec["figure"]].append(rec)
    out = ["## Reliability run (tools/reliability.sh)", ""]
    if seconds is not None:
        status = "passed" if rc == 0 else f"FAILED (pytest exit {rc})"
        out += [f"{status} in {seconds} s", ""]
    if by["lifetime"]:
        out += [
            "### Lifetimes (even cycles released explicitly, odd ones dropped to the GC)",
            "",
            "| resource | cycles | s | device before → after | RSS growth | fds | live objects |",
            "| --- | ---: | ---: | --- | ---: | --- | --- |",
        ]
        for r in by["lifetime"]:
            b, a, g = r["before"], r["after"], r["growth"]
            out.append(
                f"| {r['resource']} | {r['cycles']:,} | {r['seconds']} | "
                f"{_size(b.get('device', 0))} → {_size(a.get('device', 0))} "
                f"({_mib(g.get('device', 0))}) | {_mib(g['rss'])} | {b['fds']} → {a['fds']} | "
                f"{b['live']} → {a['live']} |"
            )
        out += [
            "",
            "Thresholds: device +8 MiB, RSS +32 MiB, fds +0, live imagearray objects +512 "
            "(bounded memos).",
            "",
        ]
    if by["cases"]:
        out += [
            "### Bad input",
            "",
            "| group | where | cases | refused (family) | crashes |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        tot = defaultdict(int)
        for r in by["cases"]:
            out.append(
                f"| {r['group']} | {r['device']} | {r['cases']:,} | {r['refused']:,} | "
                f"{r['crashes']} |"
            )
            tot[r["device"], "cases"] += r["cases"]
            tot["crashes"] += r["crashes"]
        out += [
            "",
            f"Generated cases: {tot['gpu', 'cases']:,} on the GPU, {tot['cpu', 'cases']:,} on "
            f"the CPU; crashes: {tot['crashes']}; every other case gave NumPy's bytes.",
            "",
        ]
    rows = []
    for r in by["threads"]:
        rows.append(
            f"- {r['threads']} threads x {r['rounds']} rounds on own streams: "
            f"bit-identical to the serial run: {r['identical']}"
        )
    for r in by["free race"]:
        rows.append(f"- free() racing sample(): {r['races']} races, crashes: {r['crashes']}")
    for r in by["prepare race"]:
        rows.append(
            f"- prepare_for_device_copy from two threads: {r['rounds']} rounds x "
            f"{r['cases']} cases (same, overlapping, adjacent): the spec's answers"
        )
    if rows:
        out += ["### Threads and streams", "", *rows, ""]
    rows = []
    if by["oom"]:
        kinds = ", ".join(
            f"{r['kind']} ({r['allocations_before_oom']} allocations)" for r in by["oom"]
        )
        rows.append(
            f"- out of memory → CUDAOutOfMemoryError and recovered: {len(by['oom'])} kinds: {kinds}"
        )
    for r in by["exporter death"]:
        rows.append(
            f"- exporter killed while imported: importer kept its bytes and freed "
            f"cleanly: {r['importer_kept_bytes']}"
        )
    for r in by["kernel fault"]:
        rows.append(
            f"- user kernel fault: next library call raised CUDAError "
            f"{r['next_call']}; later calls {r['later_calls']}"
        )
    if rows:
        out += ["### Faults", "", *rows, ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report")
    ap.add_argument("--seconds", type=int)
    ap.add_argument("--rc", type=int)
    args = ap.parse_args(argv)
    with open(args.report) as f:
        lines = [json.loads(ln) for ln in f if ln.strip()]
    print(summarize(lines, args.seconds, args.rc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
