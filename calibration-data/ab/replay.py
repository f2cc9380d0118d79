"""Replay recorded A/B runs (processes.csv) with other settings: fewer pairs, other tolerances, another host limit.

Each run's processes are re-judged as `ab` would have judged a run with P pairs: its first P complete pairs, plus as
many of the pairs after them as replace the pairs whose host moved (at most max(1, P // 2)), as the runner does. A
run is a false alarm (A/A) or a detection (planted) when a timing metric fails: eager latency, compiled latency or
speedup regressed or undecided. The counts are exact Clopper-Pearson intervals over runs, the unit.
Run from the repository root:
  python calibration-data/ab/replay.py calibration-data/ab/<machine>/processes.csv [--runs-before STAMP] [--runs-from STAMP]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, ".")
from harness.bench.abba import Pair, ProcessTiming, host_moved
from harness.gate.pairs import ABTolerances, PairVerdict, estimate, judge, kept_pairs
from harness.gate.stats import Rate

TIMINGS = (("eager_s", True), ("compiled_s", True), ("speedup", False))


def load(path: Path) -> dict[tuple[str, str], list[Pair]]:
    """(run, kind) -> its complete pairs in the order run."""
    sides: dict[tuple[str, str], dict[int, dict[str, ProcessTiming]]] = defaultdict(lambda: defaultdict(dict))
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["status"] != "pass":
                continue
            timing = ProcessTiming(
                eager_s=float(row["eager_s"]),
                compiled_s=float(row["compiled_s"]),
                speedup=float(row["speedup"]),
                reference_s=float(row["reference_s"]),
            )
            sides[(row["run"], row["kind"])][int(row["pair"])][row["side"]] = timing
    return {
        key: [Pair(base=p["base"], head=p["head"]) for _, p in sorted(pairs.items()) if {"base", "head"} <= set(p)]
        for key, pairs in sides.items()
    }


def as_run(pairs: list[Pair], p: int, host_limit: float) -> list[Pair]:
    """The pairs a run with ``p`` planned pairs would have had."""
    extra, used = max(1, p // 2), []
    for pair in pairs:
        moved = sum(host_moved(q, host_limit=host_limit) for q in used)
        if len(used) >= p + min(moved, extra):
            break
        used.append(pair)
    return used


def alarm(pairs: list[Pair], tolerances: ABTolerances) -> bool:
    kept, _ = kept_pairs(pairs, host_limit=tolerances.host_limit)
    for field, higher_is_worse in TIMINGS:
        tolerance = tolerances.latency_rel if higher_is_worse else tolerances.speedup_rel
        verdict = judge(estimate(kept, field), tolerance=tolerance, higher_is_worse=higher_is_worse)
        if verdict in (PairVerdict.REGRESSION, PairVerdict.UNDECIDED):
            return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("processes", type=Path)
    parser.add_argument("--runs-before", default="", help="only runs stamped before this (the part to choose on)")
    parser.add_argument("--runs-from", default="", help="only runs stamped at or after this (the part to report on)")
    parser.add_argument("--pairs", type=int, nargs="+", default=[3, 4, 5, 6])
    parser.add_argument("--latency", type=float, nargs="+", default=[0.10])
    parser.add_argument("--speedup", type=float, nargs="+", default=[0.05])
    parser.add_argument("--host-limit", type=float, nargs="+", default=[0.25])
    args = parser.parse_args()
    runs = {
        key: pairs
        for key, pairs in load(args.processes).items()
        if (not args.runs_before or key[0] < args.runs_before) and (not args.runs_from or key[0] >= args.runs_from)
    }
    kinds = {kind: sum(1 for key in runs if key[1] == kind) for kind in ("aa", "planted")}
    print(f"{len(runs)} runs ({kinds['aa']} A/A, {kinds['planted']} planted) from {args.processes}")
    print("pairs  latency  speedup  host   false alarms (A/A)                detected (planted)                mean pairs run")
    for p, lat, spd, host in itertools.product(args.pairs, args.latency, args.speedup, args.host_limit):
        tolerances = ABTolerances(latency_rel=lat, speedup_rel=spd, host_limit=host)
        counts = {"aa": [0, 0], "planted": [0, 0]}
        used = []
        for (_, kind), pairs in runs.items():
            run = as_run(pairs, p, host)
            used.append(len(run))
            counts[kind][0] += alarm(run, tolerances)
            counts[kind][1] += 1
        cells = []
        for kind in ("aa", "planted"):
            cells.append(Rate(hits=counts[kind][0], trials=counts[kind][1]).text().ljust(33))
        mean_used = sum(used) / len(used) if used else float("nan")
        print(f"{p:5d}  {lat:7.0%}  {spd:7.0%}  {host:4.0%}   {cells[0]} {cells[1]} {mean_used:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
