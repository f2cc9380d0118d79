"""Run benches: each planned run in a child process or in this one; the sweeps (``configs``, ``extreme``) are the
same request with fields replaced.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness.base.errors import ExitCode, InputError
from harness.base.options import STRESS_CASES
from harness.bench.isolation import ChildRefused
from harness.bench.request import BenchRequest, plan, precision_refusal, result_name

if TYPE_CHECKING:
    from harness.bench.spec import RunSpec
    from harness.results.schema import RunRecord

log = logging.getLogger("harness")


def _omp_environment(request: BenchRequest) -> None:
    """Set --omp-bind's variables for this process, which runs the bench: only before torch has started OpenMP."""
    from harness.bench.compiling import omp_environment
    from harness.bench.starts import AFFINITY_VARIABLE

    wanted = omp_environment(request.compile_settings())
    if not wanted or all(os.environ.get(name) == value for name, value in wanted.items()):
        return
    if "torch" in sys.modules:
        raise InputError("--omp-bind: torch is already loaded in this process; fix: leave --isolate on (the default)")
    os.environ.update(wanted)
    # the binding pins the main thread to one CPU: the run's CPUs are saved for the start probes, and inductor's
    # compile workers are sized from them, not from the pinned thread's one
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if cpus:
        os.environ.setdefault(AFFINITY_VARIABLE, ",".join(map(str, cpus)))
        os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", str(len(cpus)))


def bench(request: BenchRequest) -> int:
    """Plan, then run every symbol; each run's row is written as soon as it ends."""
    from harness.bench.runner import run
    from harness.results.store import check_writable_dir, write_records

    if request.omp_bind and request.mode != "compiled":
        raise InputError("--omp-bind: binds the compiled run's process; fix: use it with --mode compiled")
    if request.mode == "compiled" and not request.isolate:
        _omp_environment(request)  # before plan(), which may load torch
    specs = plan(request)
    check_writable_dir(request.results_dir, "--results-dir")  # before the runs, not after them
    if request.keep_artifacts is not None:
        check_writable_dir(request.keep_artifacts, "--keep-artifacts")
    if request.mode == "compiled" and request.inductor_cache not in ("cold", "off"):
        check_writable_dir(Path(request.inductor_cache), "--inductor-cache")  # the user's setup, not torch.compile's fault
    for spec in specs:
        name = result_name(spec)
        if request.isolate:
            record = _isolated(request, spec, name)
            if record is None:  # the child wrote and printed its own row
                continue
        else:
            record = run(spec)
        path = write_records([record], request.results_dir, name=name)
        latency = "-" if record.latency_median_s is None else f"{record.latency_median_s:.4f}s"
        print(
            f"{spec.window.symbol} {spec.mode}: {record.status}, {record.n_success}/{record.n_predictions} ok, median {latency} -> {path}",
            flush=True,
        )
    return int(ExitCode.OK)


def run_spec_file(path: Path) -> int:
    """An isolated child: the one-symbol request its parent wrote, run in this process; it ends itself (and its compile
    workers) if its parent dies first (:func:`harness.bench.isolation.start_watchdog`)."""
    from harness.bench.isolation import start_watchdog

    start_watchdog(cleanup=path.parent if path.parent.name.startswith("harness-spec-") else None)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"{path}: cannot read the bench spec ({exc.strerror}); fix: run `python -m harness bench` instead"
        ) from exc
    return bench(BenchRequest.from_json(text, source=str(path)))


def _isolated(request: BenchRequest, spec: RunSpec, name: str) -> RunRecord | None:
    """Run ``spec`` in a child process; None when it wrote its own row, else the row recording how it died."""
    from harness.bench.isolation import harness_command, run_child
    from harness.bench.rows import failure_record
    from harness.data.window import write_series
    from harness.model.evaluation import HORIZON, WINDOWS

    with tempfile.TemporaryDirectory(prefix="harness-spec-", ignore_cleanup_errors=True) as scratch:
        # the child gets the series read here, cut to what it uses: the bench window, and the rolling windows a
        # lower-precision run scores with their contexts (harness.model.evaluation.rolling_skill)
        series_file = Path(scratch) / "series.parquet"
        write_series(spec.series, series_file, last=max(request.rows, WINDOWS * HORIZON + spec.params.context_length))
        child = replace(
            request,
            symbol=(spec.series.symbol,),
            isolate=False,
            run_id=spec.run_id,
            fault=spec.fault,
            series_file=series_file,
        )
        spec_file = Path(scratch) / "bench.json"
        spec_file.write_text(child.to_json(), encoding="utf-8")
        result = run_child(
            harness_command([*(["-q"] if request.quiet else []), "run-spec", str(spec_file)]), timeout_s=request.timeout
        )
    if result.status == "usage":  # judged by the exit code first: a file of that name proves nothing about this child
        last = result.stderr_tail.strip().splitlines()[-1:] or [result.message]
        raise ChildRefused(last[0].removeprefix("error: "))
    if (request.results_dir / f"{name}.parquet").is_file():  # not there before the child started (checked in plan)
        if result.returncode != 0:
            log.warning(
                "%s %s: the child wrote its row, then exited with %s (%s); the row stands",
                spec.window.symbol,
                spec.mode,
                result.returncode,
                result.error_type,
            )
        return None
    status = result.status if result.status != "ok" else "fail_exception"  # exit 0 without a row is a harness bug
    log.warning("%s %s: %s (%s: %s)", spec.window.symbol, spec.mode, status, result.error_type, result.message)
    return failure_record(
        spec,
        status=status,
        error_type=result.error_type,
        message=result.message,
        stderr_tail=result.stderr_tail,
        run_id=spec.run_id,
    )


# the sweeps: one base request, fields replaced per run (the CLI refuses the flags a sweep sets itself)


def configs(base: BenchRequest, names: list[str]) -> int:
    """Eager once, then compiled in every named configuration (harness.bench.configs), each run isolated."""
    from harness.bench.configs import CONFIGS

    runs = [("eager", {"mode": "eager"})] + [(name, {"mode": "compiled", **CONFIGS[name]}) for name in names]
    ran = 0
    for name, changes in runs:
        request = replace(base, **changes)
        refusal = next(filter(None, (precision_refusal(request, device) for device in _devices(request))), "")
        if refusal:  # TF32 on a CPU, int8 on a GPU: said, not run, and the sweep goes on
            print(f"== {name}: skipped: {refusal.partition('; fix:')[0]}", flush=True)
            continue
        print(f"== {name}", flush=True)
        bench(request)
        ran += 1
    print(f"{ran} runs per symbol written; read them with `python -m harness compare` (it names the best configuration)")
    return int(ExitCode.OK)


def _devices(request: BenchRequest) -> list[str]:
    """The device each symbol of ``request`` runs on: ``--device``, else its hyperparameters file's."""
    from harness.data.params import resolve_params

    if request.device:
        return [request.device]
    return [
        resolve_params(symbol, request.hyperparams_dir, model=request.model, context_length=request.context_length).device
        for symbol in request.symbol
    ]


def extreme(base: BenchRequest, cases: list[str]) -> int:
    """Eager and compiled on each extreme distortion of the real window, each run isolated."""
    unknown = [c for c in cases if c not in STRESS_CASES]
    if unknown:
        raise InputError(f"--cases: unknown case(s) {', '.join(unknown)}; fix: choose from {', '.join(STRESS_CASES)}")
    for case in cases:
        print(f"== {case}: {STRESS_CASES[case]}", flush=True)
        for mode in ("eager", "compiled"):
            bench(replace(base, mode=mode, extreme=case))
    print(f"{len(cases)} cases written; read them with `python -m harness compare` (status and drift per case)")
    return int(ExitCode.OK)
