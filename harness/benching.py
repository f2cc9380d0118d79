"""Plan and run benches: one :class:`BenchRequest` -> one run per symbol, each in a child process or in this one.

The request is data from end to end. The CLI builds it once from its flags; an isolated child gets it as a JSON file
(``python -m harness run-spec FILE``), never as a command line rebuilt by hand, so a new bench option is one field
here and one flag in the parser. The sweeps (``configs``, ``extreme``) are the same request with fields replaced.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import ExitCode, InputError
from harness.faults import Fault
from harness.isolation import DEFAULT_TIMEOUT_S, ChildRefused
from harness.options import BENCH_ROWS, DEFAULT_CONFIRM, DEFAULT_RUNS, STRESS_CASES

if TYPE_CHECKING:
    import argparse

    from harness.compiling import CompileSettings
    from harness.results import RunRecord
    from harness.runner import RunSpec

log = logging.getLogger("harness")

SPEC_FORMAT = 1  # the JSON an isolated child reads; parent and child are always the same harness


@dataclass(frozen=True, kw_only=True)
class BenchRequest:
    """Everything ``bench`` was asked to do. Field names are the bench flags' names (``--compile-mode`` -> compile_mode)."""

    mode: str
    symbol: tuple[str, ...] = ("BTCUSD",)
    model: str | None = None
    runs: int = DEFAULT_RUNS
    rows: int = BENCH_ROWS
    context_length: int | None = None
    date_format: str | None = None
    device: str | None = None
    compile_mode: str = "default"
    backend: str = "inductor"
    dynamic: str = "auto"
    inductor_cache: str = "cold"
    attn: str = "eager"
    dtype: str = "float32"
    sdpa_backend: str = ""
    freezing: bool = False
    gemm_backends: str = ""
    cpp_wrapper: bool = False
    compile_scope: str = "model"
    compile_threads: int = 0
    omp_bind: str = ""
    starts: bool = False
    fault: Fault | None = None
    isolate: bool = True
    timeout: float = DEFAULT_TIMEOUT_S
    warm_compile: bool = True
    vary_shapes: bool = False
    extreme: str | None = None
    run_id: str | None = None
    confirms: str = ""  # set by `harness confirm`: the compiled run id this re-bench re-measures
    confirm: tuple[int, int] = DEFAULT_CONFIRM
    results_dir: Path = Path("results")
    data_dir: Path = Path("trainingdata")
    hyperparams_dir: Path = Path("hyperparams")
    quiet: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> BenchRequest:
        values = {f.name: getattr(args, f.name) for f in fields(cls) if getattr(args, f.name, None) is not None}
        values["symbol"] = tuple(args.symbol or cls.symbol)
        return cls(**values)

    def to_json(self) -> str:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["fault"] = self.fault.text() if self.fault else None
        for name in ("results_dir", "data_dir", "hyperparams_dir"):
            data[name] = str(data[name])
        return json.dumps({"format": SPEC_FORMAT, "request": data}, indent=1)

    @classmethod
    def from_json(cls, text: str, *, source: str) -> BenchRequest:
        try:
            document = json.loads(text)
            if document.get("format") != SPEC_FORMAT:
                raise ValueError(f"format {document.get('format')!r}, expected {SPEC_FORMAT}")
            data = dict(document["request"])
            data["symbol"] = tuple(data["symbol"])
            data["confirm"] = tuple(data["confirm"])
            data["fault"] = Fault.parse(data["fault"]) if data["fault"] else None
            for name in ("results_dir", "data_dir", "hyperparams_dir"):
                data[name] = Path(data[name])
            return cls(**data)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(
                f"{source}: not a bench spec this harness wrote ({exc}); fix: run `python -m harness bench` instead"
            ) from exc

    def compile_settings(self) -> CompileSettings:
        from harness.compiling import CompileSettings

        return CompileSettings(
            mode=self.compile_mode,
            backend=self.backend,
            dynamic={"auto": None, "true": True, "false": False}[self.dynamic],
            attn_implementation=self.attn,
            cache=self.inductor_cache,
            dtype=self.dtype,
            freezing=self.freezing,
            sdpa_backend=self.sdpa_backend,
            gemm_backends=self.gemm_backends,
            cpp_wrapper=self.cpp_wrapper,
            scope=self.compile_scope,
            threads=self.compile_threads,
            omp_bind=self.omp_bind,
        )


def plan(request: BenchRequest) -> list[RunSpec]:
    """One :class:`RunSpec` per symbol, every input checked before the first (slow) run."""
    from harness.data import load_ohlc
    from harness.extreme import stressed
    from harness.models import resolve_model
    from harness.params import fit_window, hyperparams_path, resolve_params
    from harness.rows import new_run_id
    from harness.runner import RunSpec, resolve_device

    _refuse_ignored_settings(request)
    repeated = sorted({symbol for symbol in request.symbol if request.symbol.count(symbol) > 1})
    if repeated:
        raise InputError(
            f"--symbol {', '.join(repeated)}: given more than once; fix: name each symbol once (each run writes one results file)"
        )
    run_id = request.run_id or new_run_id()
    specs = []
    for symbol in request.symbol:
        params = resolve_params(
            symbol, request.hyperparams_dir, model=request.model, context_length=request.context_length, device=request.device
        )
        if params.device.startswith("cuda"):  # refused here, not as a crash in a child: no CUDA, or no such GPU
            resolve_device(
                params.device, origin="--device" if request.device else str(hyperparams_path(request.hyperparams_dir, symbol))
            )
        series = load_ohlc(request.data_dir, symbol, date_format=request.date_format)
        params, window, notes = fit_window(series, params, rows=request.rows)  # params: the context used, recorded in results
        if not request.isolate:  # isolated, the child prints it (its stderr passes through): once, not twice
            for note in notes:
                print(f"note: {note}", file=sys.stderr, flush=True)
        if request.extreme:
            window = stressed(window, request.extreme)
        fault = request.fault if request.fault and request.fault.applies_to(symbol) else None
        specs.append(
            RunSpec(
                mode="compiled" if request.mode == "compiled" else "eager",
                series=series,
                window=window,
                params=params,
                source=resolve_model(params.model),
                runs=request.runs,
                compile=request.compile_settings(),
                run_id=run_id,
                confirms=request.confirms,
                confirm=request.confirm,
                fault=fault,
                warm_compile=request.warm_compile,
                vary_shapes=request.vary_shapes,
                starts=replace(request, symbol=(symbol,), isolate=False, run_id=run_id, fault=None).to_json()
                if request.starts and request.mode == "compiled"
                else "",
            )
        )
    for spec in specs:
        path = request.results_dir / f"{result_name(spec)}.parquet"
        if path.exists():
            raise InputError(
                f"{path}: already exists (run id {run_id} used before); "
                "fix: leave out --run-id, or give a new one (results are never overwritten)"
            )
    return specs


def _refuse_ignored_settings(request: BenchRequest) -> None:
    """A compile setting that would not apply is refused: a result labelled with a switch that did nothing misleads."""
    if request.gemm_backends and not request.compile_mode.startswith("max-autotune"):
        raise InputError(
            f"--gemm-backends {request.gemm_backends}: inductor autotunes GEMM backends only with max-autotune; "
            "fix: add --compile-mode max-autotune, or leave --gemm-backends out"
        )
    if request.compile_scope == "aot-encoder":
        ignored = [
            flag
            for flag, given in (
                ("--backend", request.backend != "inductor"),
                ("--compile-mode", request.compile_mode != "default"),
                ("--dynamic", request.dynamic != "auto"),
                ("--gemm-backends", bool(request.gemm_backends)),
                ("--cpp-wrapper", request.cpp_wrapper),
            )
            if given
        ]
        if ignored:
            raise InputError(
                f"--compile-scope aot-encoder: {', '.join(ignored)} do(es) not apply to an AOTInductor package "
                "(torch.export, static shapes, inductor); fix: leave them out"
            )


def _omp_environment(request: BenchRequest) -> None:
    """Set --omp-bind's variables for this process, which runs the bench: only before torch has started OpenMP."""
    from harness.compiling import omp_environment
    from harness.starts import AFFINITY_VARIABLE

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


def result_name(spec: RunSpec) -> str:
    return f"{spec.run_id}-{spec.window.symbol}-{spec.mode}"


def bench(request: BenchRequest) -> int:
    """Plan, then run every symbol; each run's row is written as soon as it ends."""
    from harness.results import check_writable_dir, write_records
    from harness.runner import run

    if request.omp_bind and request.mode != "compiled":
        raise InputError("--omp-bind: binds the compiled run's process; fix: use it with --mode compiled")
    if request.mode == "compiled" and not request.isolate:
        _omp_environment(request)  # before plan(), which may load torch
    specs = plan(request)
    check_writable_dir(request.results_dir, "--results-dir")  # before the runs, not after them
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
    """An isolated child: the one-symbol request its parent wrote, run in this process."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"{path}: cannot read the bench spec ({exc.strerror}); fix: run `python -m harness bench` instead"
        ) from exc
    return bench(BenchRequest.from_json(text, source=str(path)))


def _isolated(request: BenchRequest, spec: RunSpec, name: str) -> RunRecord | None:
    """Run ``spec`` in a child process; None when it wrote its own row, else the row recording how it died."""
    from harness.isolation import harness_command, run_child
    from harness.rows import failure_record

    child = replace(request, symbol=(spec.series.symbol,), isolate=False, run_id=spec.run_id, fault=spec.fault)
    with tempfile.TemporaryDirectory(prefix="harness-spec-") as scratch:
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
    """Eager once, then compiled in every named configuration (harness.configs), each run isolated."""
    from harness.configs import CONFIGS

    runs = [("eager", {"mode": "eager"})] + [(name, {"mode": "compiled", **CONFIGS[name]}) for name in names]
    for name, changes in runs:
        print(f"== {name}", flush=True)
        bench(replace(base, **changes))
    print(f"{len(runs)} runs per symbol written; read them with `python -m harness compare` (it names the best configuration)")
    return int(ExitCode.OK)


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
