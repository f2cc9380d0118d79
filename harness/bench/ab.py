"""Run an A/B of two software stacks on this host: process pairs in ABBA order (:mod:`harness.bench.abba`), each
process a fresh compiled bench (its eager partner interleaved), base and head alternating. What each process measured
goes to :mod:`harness.gate.pairs` to be judged with the pair as the unit.

A pair whose host moved between its two processes (the machine reference beside the calls moved by more than
``host_limit``) is re-run at the end, a bounded number of times, and counted; a process that fails is a result too.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from harness.bench.abba import Pair, ProcessTiming, Slot, abba, host_moved, order_first_side, progress_label
from harness.bench.isolation import run_child
from harness.results.store import read_records

if TYPE_CHECKING:
    from harness.bench.faults import Fault
    from harness.bench.request import BenchRequest
    from harness.bench.stacks import Prepared
    from harness.results.schema import RunRecord


@dataclass(frozen=True, kw_only=True)
class Process:
    """One fresh process of the A/B and what it left: its result row, or why there is none."""

    slot: Slot
    record: RunRecord | None
    failure: str = ""  # "" when it wrote a passing row

    @property
    def ok(self) -> bool:
        return self.record is not None and not self.failure


def timing(record: RunRecord) -> ProcessTiming:
    """The medians one compiled run measured: compiled calls, their interleaved eager partners, the machine reference."""

    def median(values: list[float]) -> float:
        return statistics.median(values) if values else float("nan")

    eager, compiled = median(record.paired_eager_latencies_s), median(record.latencies_s)
    return ProcessTiming(
        eager_s=eager,
        compiled_s=compiled,
        speedup=eager / compiled if compiled > 0 else float("nan"),
        reference_s=median(record.reference_s),
    )


def complete_pairs(processes: list[Process]) -> list[Pair]:
    """The pairs whose two processes both wrote a passing row, as the timings the verdict compares."""
    by_pair: dict[int, dict[str, Process]] = {}
    for process in processes:
        by_pair.setdefault(process.slot.pair, {})[process.slot.side] = process
    pairs = []
    for sides in by_pair.values():
        base, head = sides.get("base"), sides.get("head")
        if base is not None and head is not None and base.ok and head.ok:
            assert base.record is not None and head.record is not None
            pairs.append(Pair(base=timing(base.record), head=timing(head.record)))
    return pairs


def process_request(request: BenchRequest, slot: Slot, *, run_dir: Path, fault: Fault | None, cache: str) -> BenchRequest:
    """The one-symbol compiled bench a slot runs: in its own process already (not isolated again), no second compile."""
    return dataclasses.replace(
        request,
        mode="compiled",
        isolate=False,
        warm_compile=False,
        fault=fault,
        inductor_cache=cache,
        run_id=f"{run_dir.name}-{slot.position:03d}-{slot.side}",
        results_dir=(run_dir / f"{slot.position:03d}-{slot.side}").resolve(),
        data_dir=request.data_dir.resolve(),
        hyperparams_dir=request.hyperparams_dir.resolve(),
        quiet=True,
    )


def run_slot(request: BenchRequest, slot: Slot, prepared: Prepared, *, run_dir: Path, fault: Fault | None, cache: str) -> Process:
    """One fresh process of ``prepared``'s stack: writes its request as a spec file, runs it, reads its row."""
    wanted = process_request(request, slot, run_dir=run_dir, fault=fault, cache=cache)
    spec = run_dir / f"{slot.position:03d}-{slot.side}.json"
    spec.write_text(wanted.to_json(compact=True), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(prepared.source)}
    command = [str(prepared.python), "-m", "harness", "-q", "run-spec", str(spec)]
    result = run_child(command, timeout_s=request.timeout, cwd=prepared.source, env=env)
    records = read_records(wanted.results_dir) if wanted.results_dir.is_dir() else []
    record = next((r for r in records if r.mode == "compiled"), None)
    if record is None:
        return Process(slot=slot, record=None, failure=f"{result.status}: {result.message or 'no result row'}")
    if record.status != "pass":
        return Process(slot=slot, record=record, failure=f"{record.status}: {record.error_message or record.status}")
    return Process(slot=slot, record=record)


def run_ab(
    request: BenchRequest,
    base: Prepared,
    head: Prepared,
    *,
    pairs: int,
    head_fault: Fault | None,
    host_limit: float,
    work: Path,
) -> tuple[list[Process], Path]:
    """Every process of the A/B, in the order run: ``pairs`` ABBA pairs, then up to ``pairs // 2`` (at least one)
    pairs more when some pair's host moved. Returns them and the run's directory (spec files and result rows)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = work / "runs" / f"ab-{stamp}-{os.getpid()}"
    run_dir.mkdir(parents=True)
    extra = max(1, pairs // 2)
    plan = abba(pairs + extra)
    done: list[Process] = []
    moved = 0
    for slot in plan:
        if slot.pair >= pairs + min(moved, extra):
            break
        prepared = base if slot.side == "base" else head
        cache = request.inductor_cache
        if cache == "cold":  # one persistent cache per stack: only its first process compiles cold
            cache = str((work / "inductor" / prepared.python.parent.parent.name / slot.side).resolve())
        fault = (head_fault or request.fault) if slot.side == "head" else request.fault  # --fault: both sides alike
        print(f"ab: {progress_label(slot, pairs)}: {prepared.stack.label()}", file=sys.stderr, flush=True)
        process = run_slot(request, slot, prepared, run_dir=run_dir, fault=fault, cache=cache)
        done.append(process)
        if slot.side != order_first_side(slot.pair):  # the pair's second process: is it complete, did its host move?
            moved = sum(host_moved(pair, host_limit=host_limit) for pair in complete_pairs(done))
    return done, run_dir
