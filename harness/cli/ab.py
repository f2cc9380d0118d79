"""``ab``: is the head stack slower, less accurate or less reliable than the base stack, on this host?

Wires the steps: parse both stacks, build (or reuse) their environments, run the ABBA process pairs
(:mod:`harness.bench.ab`), judge them per pair (:mod:`harness.gate.pairs`), print the table and write ``--json``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.base.errors import ExitCode, InputError
from harness.cli.compare import check_json_path, write_json
from harness.gate.pairs import ABTolerances
from harness.results.fingerprint import cpu_flags, cpu_model

if TYPE_CHECKING:
    from harness.bench.ab import Process
    from harness.bench.faults import Fault
    from harness.bench.request import BenchRequest
    from harness.bench.stacks import Prepared

DEFAULT_PAIRS = 5  # chosen on the first 9 calibration runs (docs/calibration.md: the A/B, calibrated)


@dataclass(frozen=True, kw_only=True)
class AbOptions:
    base: str
    head: str
    pairs: int = DEFAULT_PAIRS
    head_fault: Fault | None = None
    json: Path | None = None
    work_dir: Path = Path(".ab")
    host_limit: float = ABTolerances.host_limit
    bisect: bool = False


def ab(request: BenchRequest, options: AbOptions, *, root: Path) -> ExitCode:
    from harness.bench.ab import run_ab
    from harness.bench.stacks import parse_stack, prepare, uv_environment_here
    from harness.gate.pairs import stack_changes
    from harness.report.ab_table import render

    if len(request.symbol) != 1:
        raise InputError(f"--symbol {', '.join(request.symbol)}: ab benches one scenario; fix: name one symbol")
    check_json_path(options.json)
    options = dataclasses.replace(options, work_dir=options.work_dir.resolve())  # processes run from other directories
    base_stack = parse_stack(options.base, flag="--base", root=root)
    head_stack = parse_stack(options.head, flag="--head", root=root)
    uv_env = uv_environment_here()
    base = prepare(base_stack, root=root, work=options.work_dir, uv_env=uv_env)
    head = prepare(head_stack, root=root, work=options.work_dir, uv_env=uv_env)
    changes = stack_changes(base.packages, head.packages)
    if base.commit != head.commit:
        changes.insert(0, f"harness {base.commit[:10] or '(checkout)'} → {head.commit[:10] or '(checkout)'}")
    tolerances = ABTolerances(host_limit=options.host_limit)
    started, clock = datetime.now(UTC), time.monotonic()
    processes, run_dir = run_ab(
        request,
        base,
        head,
        pairs=options.pairs,
        head_fault=options.head_fault,
        host_limit=options.host_limit,
        work=options.work_dir,
    )
    verdict = _judge(processes, changes=changes, pairs=options.pairs, tolerances=tolerances)
    print(render(verdict, base=base.stack.label(), head=head.stack.label()))
    print(f"  runs: {run_dir}")
    code = ExitCode.REGRESSION if verdict.fails else ExitCode.OK
    bisection = None
    if options.bisect and verdict.fails:
        bisection = _bisect(request, options, base, head, verdict, tolerances)
    if options.json is not None:
        from harness.report.ab_table import as_json

        run = {
            "started_utc": started.isoformat(timespec="seconds"),
            "elapsed_s": round(time.monotonic() - clock, 1),
            "head_fault": options.head_fault.text() if options.head_fault else None,
            "machine": {"cpu_model": cpu_model(), "cpu_flags": cpu_flags(), "cpu_count": os.cpu_count()},
            "tolerances": dataclasses.asdict(tolerances),
            "request": json.loads(request.to_json(compact=True))["request"],
        }
        document = as_json(verdict, base=_described(base), head=_described(head), exit_code=int(code), run=run)
        if bisection is not None:
            document["bisect"] = bisection
        write_json(options.json, document)
    return code


def _bisect(
    request: BenchRequest, options: AbOptions, base: Prepared, head: Prepared, verdict: Any, tolerances: ABTolerances
) -> dict[str, Any]:
    """``--bisect``: A/B base against intermediate stacks (:mod:`harness.gate.bisect`) to name the package that carries
    the regression; prints each step and the culprit, returns them for ``--json``."""
    import hashlib

    from harness.bench.ab import run_ab
    from harness.bench.stacks import Stack, StackKind, prepare, uv_environment_here
    from harness.gate.bisect import Outcome, Probe, bisect, package_changes, stack_packages

    failing = {finding.metric for finding in verdict.findings if finding.fails}
    changes = package_changes(base.packages, head.packages)
    if base.commit != head.commit:
        print("bisect: skipped: base and head run different harness commits; bisect those with git, the packages with pins")
        return {"skipped": "different harness commits"}
    if not changes:
        print("bisect: no package differs: nothing to bisect (a --head-fault, or the host)")
        return {"culprits": [], "probes": []}
    uv_env = uv_environment_here()

    def probe(k: int) -> Probe:
        moved = ", ".join(change.text() for change in changes[:k])
        lines = "".join(f"{name}=={version}\n" for name, version in sorted(stack_packages(base.packages, changes, k).items()))
        path = options.work_dir / "bisect" / f"{hashlib.sha256(lines.encode()).hexdigest()[:16]}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(lines, encoding="utf-8")
        print(f"bisect: stack {k} of {len(changes)}: base with {moved}", file=sys.stderr, flush=True)
        try:
            middle = prepare(
                Stack(text=f"bisect stack {k}", kind=StackKind.FILE, path=path),
                root=base.source,
                work=options.work_dir,
                uv_env=uv_env,
            )
        except InputError as exc:
            return Probe(k=k, outcome=Outcome.UNBUILDABLE, summary=str(exc))
        processes, _ = run_ab(
            request, base, middle, pairs=options.pairs, head_fault=None, host_limit=options.host_limit, work=options.work_dir
        )
        found = _judge(processes, changes=[], pairs=options.pairs, tolerances=tolerances)
        again = [f for f in found.findings if f.metric in failing and f.fails]
        shown = [f for f in found.findings if f.metric in failing]
        summary = "; ".join(
            f"{f.metric} {f.verdict}"
            + (
                f" {f.ratio:.3f} [{f.low:.3f}, {f.high:.3f}]"
                if f.ratio is not None and f.low is not None and f.high is not None
                else ""
            )
            for f in shown
        )
        return Probe(k=k, outcome=Outcome.REGRESSES if again else Outcome.HOLDS, summary=summary)

    result = bisect(changes, probe)
    for step in result.probes:
        print(f"  bisect stack {step.k}/{len(changes)}: {step.outcome} ({step.summary})")
    print(f"  {result.text()}")
    return {
        "culprits": [change.text() for change in result.culprits],
        "probes": [
            {"stack": step.k, "of": len(changes), "outcome": str(step.outcome), "summary": step.summary} for step in result.probes
        ],
    }


def _judge(processes: list[Process], *, changes: list[str], pairs: int, tolerances: ABTolerances) -> Any:
    from harness.bench.ab import complete_pairs
    from harness.gate.pairs import judge_ab
    from harness.rules import drift

    complete = complete_pairs(processes)
    side_of = {side: [p for p in processes if p.slot.side == side] for side in ("base", "head")}
    for process in processes:
        if process.failure:
            print(f"ab: {process.slot.side} process {process.slot.position}: {process.failure}", file=sys.stderr)

    def maes(side: str) -> list[float]:
        return [p.record.mae for p in side_of[side] if p.ok and p.record is not None and p.record.mae is not None]

    return judge_ab(
        complete,
        base_mae=maes("base"),
        head_mae=maes("head"),
        head_drift=[
            drift.exceeds(p.record.drift_max_abs, p.record.drift_tolerance_abs)
            for p in side_of["head"]
            if p.ok and p.record is not None
        ],
        failed={side: sum(1 for p in side_of[side] if not p.ok) for side in side_of},
        processes={side: len(side_of[side]) for side in side_of},
        changes=changes,
        pairs_planned=pairs,
        tolerances=tolerances,
    )


def _described(prepared: Prepared) -> dict[str, Any]:
    wanted = ("torch", "chronos-forecasting", "transformers", "numpy", "pandas")
    return {
        "stack": prepared.stack.text,
        "kind": prepared.stack.kind.value,
        "harness_commit": prepared.commit,
        "packages": {name: prepared.packages[name] for name in wanted if name in prepared.packages},
    }


def print_ab_rates(directory: Path) -> ExitCode:
    """``ab-rates DIR``: the calibration table of every ``ab --json`` verdict under ``DIR`` (A/A and planted runs)."""
    from harness.gate.ab_rates import rates, table

    documents = []
    for path in sorted(directory.rglob("*.json")) if directory.is_dir() else []:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}: not a JSON verdict ({exc}); fix: move it out of {directory}") from exc
        if isinstance(document, dict) and document.get("kind") == "ab":
            documents.append(document)
    rows = rates(documents)
    if not rows:
        raise InputError(f"{directory}: no A/A or planted `ab --json` verdicts; fix: run `python -m harness ab --json` into it")
    print(table(rows))
    return ExitCode.OK
