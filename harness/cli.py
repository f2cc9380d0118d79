"""``python -m harness``: bench, compare, update-baselines, models.

Exit codes: 0 all holds · 1 a regression against the baselines · 2 usage or input error (the message names
the file, the field and the fix) · 3 the harness itself failed · 130 interrupted (Ctrl-C) · 143 terminated
(SIGTERM) · 129 hung up (SIGHUP); results already written are kept, and no child process is left running.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import faulthandler
import itertools
import logging
import math
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from harness import __version__
from harness.configs import CONFIGS, SETS
from harness.errors import ExitCode, HarnessError, InputError
from harness.isolation import DEFAULT_TIMEOUT_S, ChildRefused, Interrupted, signals_interrupt
from harness.options import BENCH_ROWS, DEFAULT_CONFIRM, DEFAULT_RUNS, PLANTS, STRESS_CASES

if TYPE_CHECKING:
    from harness.compare import Comparison
    from harness.gate import Baseline
    from harness.keys import Key
    from harness.results import RunRecord
    from harness.runner import RunSpec

log = logging.getLogger("harness")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"chronos-compile-bench {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and the final table")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    bench = commands.add_parser("bench", help="run one mode on one or more symbols and write Parquet results")
    bench.add_argument("--mode", choices=("eager", "compiled"), required=True)
    bench.add_argument("--symbol", action="append", help="symbol(s) in the data dir (repeatable; default BTCUSD)")
    bench.add_argument("--model", help="override the hyperparams' model: a profile (see `models`), a hub id, a local dir, s3://...")
    bench.add_argument("--runs", type=_positive, default=DEFAULT_RUNS, help=f"timed predictions after the first call (default {DEFAULT_RUNS})")
    bench.add_argument("--rows", type=_positive, default=BENCH_ROWS, help=f"last rows of the CSV to use, horizon included (default {BENCH_ROWS})")
    bench.add_argument("--context-length", type=_positive, help="override the hyperparams' context_length (clipped, with a note, to what the window holds)")
    bench.add_argument("--date-format", default=None, metavar="ORDER|FORMAT",
                       help="how the CSV writes dates: auto (default, read from the file), day-first, month-first, or a strptime format such as %%d/%%m/%%Y")
    bench.add_argument("--device", help="override the hyperparams' device: auto, cpu, cuda, cuda:N")
    bench.add_argument("--compile-mode", default="default", choices=("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"),
                       help="torch.compile mode (default: default)")
    bench.add_argument("--backend", default="inductor", help="torch.compile backend (default: inductor)")
    bench.add_argument("--dynamic", choices=("auto", "true", "false"), default="auto", help="torch.compile dynamic= (default: auto, i.e. None)")
    bench.add_argument("--inductor-cache", default="cold", help="'cold' (default): a fresh inductor cache per run, so compile time is cold; 'off': inductor's caches disabled "
                            "(TORCHINDUCTOR_FORCE_DISABLE_CACHES); or a directory to reuse (warm)")
    bench.add_argument("--attn", choices=("eager", "sdpa"), default="eager", help="attention the compiled model loads with (default: eager, as in eager mode)")
    bench.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32", help="the compiled model's dtype (default float32; eager mode is always float32)")
    bench.add_argument("--sdpa-backend", choices=("math", "flash", "efficient", "cudnn"), default="",
                       help="with --attn sdpa: restrict SDPA to one backend (default: torch chooses)")
    bench.add_argument("--freezing", action="store_true", help="compile with torch._inductor.config.freezing (constant-folded weights, a CPU inference switch)")
    bench.add_argument("--inject-failure", nargs="?", type=_probability, const=1.0, default=0.0, metavar="P",
                       help="self-test of the gate: each prediction attempt raises with probability P (default 1: every one); "
                            "P < 1 plants a flaky run")
    bench.add_argument("--isolate", action=argparse.BooleanOptionalAction, default=True,
                       help="run each symbol in its own child process, so a crash, hang or OOM kill becomes a result row (default: on)")
    bench.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT_S, metavar="S",
                       help=f"seconds one isolated run may take before it is killed and recorded as timeout (default {DEFAULT_TIMEOUT_S:g})")
    bench.add_argument("--plant", type=_plant, default=None, metavar="KIND[:SYMBOL]",
                       help=f"self-test of fault isolation: make the first call of the measured mode fail as KIND ({', '.join(PLANTS)}), "
                            "for every symbol or only SYMBOL")
    bench.add_argument("--warm-compile", action=argparse.BooleanOptionalAction, default=True,
                       help="compiled mode: compile a second time on the filled inductor cache and record the warm compile time (default: on)")
    bench.add_argument("--vary-shapes", action="store_true",
                       help="compiled mode: after the timed calls, 3 calls on shorter contexts (new shapes); recompiles and their cost recorded")
    bench.add_argument("--stress", choices=sorted(STRESS_CASES), help="robustness: distort the real window as CASE (see `robustness`); the symbol becomes SYMBOL~CASE")
    bench.add_argument("--run-id", help=argparse.SUPPRESS)  # set by the parent for its isolated children
    bench.add_argument("--confirm", type=_k_of_n, default=DEFAULT_CONFIRM, metavar="K/N",
                       help="a failing prediction is tried up to N times and counts as failed after K failures (default 2/3); "
                            "fewer than K failures make it flaky, recorded with its flip rate")
    _dirs(bench, results=True, data=True)

    matrix = commands.add_parser("matrix", help="eager once, then compiled in every configuration of a set, each run isolated; then `compare`")
    matrix.add_argument("--configs", default="default", help=f"a set ({', '.join(sorted(SETS))}) or comma-separated names of: {', '.join(CONFIGS)} (default: the default set)")
    matrix.add_argument("bench_args", nargs=argparse.REMAINDER, help="bench flags after --, e.g. -- --model chronos-2-arch --symbol GOOG --runs 20")

    robust = commands.add_parser("robustness", help="eager and compiled on extreme distortions of a real window, each run isolated; then `compare`")
    robust.add_argument("--cases", default="all", help=f"comma-separated cases (default all): {', '.join(STRESS_CASES)}")
    robust.add_argument("bench_args", nargs=argparse.REMAINDER, help="bench flags after --, e.g. -- --symbol GOOG --runs 5")

    compare = commands.add_parser("compare", help="join eager and compiled results, print verdicts, check the baselines")
    compare.add_argument("--confidence", type=_fraction, default=0.95, help="confidence of every interval and of the gate (default 0.95)")
    compare.add_argument("--strict", action="store_true",
                         help="exit 2 when a result has no baseline (new) or a baseline has no result (missing); default: reported, exit 0")
    compare.add_argument("--against", type=_against, default=None, metavar="NAME=VERSION[,...]",
                         help="check against the baseline recorded with this software, e.g. torch=2.13.0 (default: the same software, else the newest)")
    compare.add_argument("--fail-on-improvement", action="store_true", help="an improvement beyond tolerance exits 1 too (baseline is stale)")
    _dirs(compare, results=True, baselines=True)

    report = commands.add_parser("report", help="write report/index.md, index.html and PNG plots from every result and the baselines")
    report.add_argument("--output", type=Path, default=Path("report"), help="directory to write (default report/)")
    report.add_argument("--confidence", type=_fraction, default=0.95, help="confidence of every interval (default 0.95)")
    _dirs(report, results=True, baselines=True)

    update = commands.add_parser("update-baselines", help="write baselines from the latest results, with provenance")
    update.add_argument("--reason", required=True, help="why the baselines change (recorded in each file)")
    update.add_argument("--pool", action="store_true", help="rest each baseline on all runs of its key in the results dir, not only the latest")
    update.add_argument("--default-tolerances", action="store_true", help="write the current default tolerances instead of keeping each file's own")
    update.add_argument("--accept", default=None, metavar="WHY",
                        help="write even a baseline that regresses against the one it replaces, or records failures; WHY goes into provenance")
    _dirs(update, results=True, baselines=True)

    train = commands.add_parser("train", help="train the default model from scratch (CPU, minutes) and compare it with the shipped one")
    train.add_argument("--output", type=Path, default=Path("build") / "chronos-bench-mini", help="checkpoint directory to write (default build/chronos-bench-mini)")
    train.add_argument("--compare-to", type=Path, default=None, help="checkpoint to compare the new weights with (default: the shipped one)")
    train.add_argument("--steps", type=_positive, help="override the training steps (changes the weights)")
    train.add_argument("--seed", type=int, help="override the seed (changes the weights)")
    _dirs(train, data=True)

    evaluate = commands.add_parser("evaluate", help="rolling-window MAE %% of a model vs the naive forecast on every symbol")
    evaluate.add_argument("--model", default="chronos-bench-mini", help="any model name (default chronos-bench-mini)")
    _dirs(evaluate, data=True)

    calib = commands.add_parser("calibrate", help="false-alarm and detection rates of the gate, from repeated bench sessions of one key")
    calib.add_argument("--runs", type=_positive, nargs="+", default=[DEFAULT_RUNS], help=f"timed calls per simulated nightly run, one or more (default {DEFAULT_RUNS})")
    calib.add_argument("--speedup-tol", type=float, nargs="+", default=None, help="speedup tolerance(s) to evaluate, e.g. 0.05 0.1 (default: the default)")
    calib.add_argument("--latency-tol", type=float, nargs="+", default=None, help="latency tolerance(s) to evaluate, e.g. 0.2 0.3 (default: the default)")
    calib.add_argument("--trials", type=_positive, default=400, help="simulated nightly checks per scenario (default 400)")
    _dirs(calib, results=True)

    commands.add_parser("models", help="list the built-in models")
    return parser


def _dirs(parser: argparse.ArgumentParser, *, results: bool = False, data: bool = False, baselines: bool = False) -> None:
    if results:
        parser.add_argument("--results-dir", type=Path, default=Path("results"), help="where Parquet results live (default results/)")
    if data:
        parser.add_argument("--data-dir", type=Path, default=Path("trainingdata"), help="OHLC CSVs (default trainingdata/)")
        parser.add_argument("--hyperparams-dir", type=Path, default=Path("hyperparams"), help="per-symbol JSON (default hyperparams/)")
    if baselines:
        parser.add_argument("--baselines-dir", type=Path, default=Path("baselines"), help="committed baselines (default baselines/)")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number of seconds > 0, e.g. {DEFAULT_TIMEOUT_S:g}")
    return value


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be in (0, 1], e.g. 0.3")
    return value


def _k_of_n(text: str) -> tuple[int, int]:
    k, _, n = text.partition("/")
    try:
        pair = int(k), int(n)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not K/N, e.g. 2/3") from None
    if not 1 <= pair[0] <= pair[1]:
        raise argparse.ArgumentTypeError(f"{text!r}: need 1 <= K <= N, e.g. 2/3")
    return pair


def _plant(text: str) -> tuple[str, str]:
    kind, _, symbol = text.partition(":")
    if kind not in PLANTS:
        raise argparse.ArgumentTypeError(f"{text!r}: KIND must be one of {', '.join(PLANTS)}, e.g. crash:GOOG")
    return kind, symbol


def _against(text: str) -> dict[str, str]:
    from harness.gate import parse_against

    try:
        return parse_against(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.5 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be in [0.5, 1), e.g. 0.95")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)  # exits 2 on usage errors, like every argparse program
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S", stream=sys.stderr)
    with contextlib.suppress(Exception):  # no real stderr (e.g. captured): no stack on a crash, nothing else changes
        faulthandler.enable()  # a hard crash prints the Python stack to stderr: an isolated run's parent keeps its tail
    try:
        handlers = {"bench": _bench, "matrix": _matrix, "robustness": _robustness, "compare": _compare, "update-baselines": _update, "train": _train,
                    "evaluate": _evaluate, "calibrate": _calibrate, "report": _report}
        with signals_interrupt():  # SIGTERM, SIGHUP: unwind like Ctrl-C, so that isolated children end with us
            return handlers[args.command](args) if args.command in handlers else _models()
    except HarnessError as exc:
        if not isinstance(exc, ChildRefused):  # a child that refused its input has printed why
            print(f"error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted: results already written are kept", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except Interrupted as exc:
        print(f"interrupted by {exc.name}: results already written are kept", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # a bug in the harness, not in the user's input: keep the traceback, exit 3
        log.exception("the harness itself failed")
        print(f"error: the harness itself failed ({type(exc).__name__}: {exc}); please report it with the traceback above", file=sys.stderr)
        return int(ExitCode.HARNESS_FAILED)


def _bench(args: argparse.Namespace) -> int:
    from harness.data import load_ohlc
    from harness.extreme import stressed
    from harness.models import resolve_model
    from harness.params import fit_window, hyperparams_path, resolve_params
    from harness.results import write_records
    from harness.runner import CompileSettings, RunSpec, new_run_id, resolve_device, run

    settings = CompileSettings(
        mode=args.compile_mode,
        backend=args.backend,
        dynamic={"auto": None, "true": True, "false": False}[args.dynamic],
        attn_implementation=args.attn,
        cache=args.inductor_cache,
        dtype=args.dtype,
        freezing=args.freezing,
        sdpa_backend=args.sdpa_backend,
    )
    run_id = args.run_id or new_run_id()
    symbols = args.symbol or ["BTCUSD"]
    repeated = sorted({symbol for symbol in symbols if symbols.count(symbol) > 1})
    if repeated:
        raise InputError(f"--symbol {', '.join(repeated)}: given more than once; fix: name each symbol once (each run writes one results file)")
    specs = []
    for symbol in symbols:  # validate every input before the first (slow) run
        params = resolve_params(symbol, args.hyperparams_dir, model=args.model, context_length=args.context_length, device=args.device)
        if params.device.startswith("cuda"):  # refused here, not as a crash in a child: no CUDA, or no such GPU
            resolve_device(params.device, origin="--device" if args.device else str(hyperparams_path(args.hyperparams_dir, symbol)))
        series = load_ohlc(args.data_dir, symbol, date_format=args.date_format)
        params, window, notes = fit_window(series, params, rows=args.rows)  # params: the context used, recorded in results
        if not args.isolate:  # isolated, the child prints it (its stderr passes through): once, not twice
            for note in notes:
                print(f"note: {note}", file=sys.stderr, flush=True)
        source = resolve_model(params.model)
        if args.stress:
            window = stressed(window, args.stress)
        plant = args.plant[0] if args.plant and args.plant[1] in ("", symbol) else ""
        specs.append(RunSpec(mode=args.mode, series=series, window=window, params=params, source=source, runs=args.runs, compile=settings, run_id=run_id,
                             inject_failure=args.inject_failure, confirm=args.confirm, plant=plant, warm_compile=args.warm_compile,
                             vary_shapes=args.vary_shapes))
    names = [f"{run_id}-{spec.window.symbol}-{spec.mode}" for spec in specs]
    for name in names:
        if (args.results_dir / f"{name}.parquet").exists():
            raise InputError(f"{args.results_dir / f'{name}.parquet'}: already exists (run id {run_id} used before); "
                             "fix: leave out --run-id, or give a new one (results are never overwritten)")
    _writable_dir(args.results_dir, "--results-dir")  # before the runs, not after them
    for spec, name in zip(specs, names, strict=True):
        if args.isolate:
            record = _isolated(args, spec, name)
            if record is None:  # the child wrote and printed its own row
                continue
        else:
            record = run(spec)
        path = write_records([record], args.results_dir, name=name)
        latency = "-" if record.latency_median_s is None else f"{record.latency_median_s:.4f}s"
        print(f"{spec.window.symbol} {spec.mode}: {record.status}, {record.n_success}/{record.n_predictions} ok, median {latency} -> {path}", flush=True)
    return int(ExitCode.OK)


def _matrix(args: argparse.Namespace) -> int:
    from harness.configs import expand

    try:
        names = expand(args.configs)
    except ValueError as exc:
        raise InputError(f"--configs {args.configs!r}: {exc}") from None
    bench_args = [a for a in args.bench_args if a != "--"]
    if any(flag in bench_args for flag in ("--mode", "--attn", "--dtype", "--freezing", "--compile-mode", "--dynamic", "--sdpa-backend")):
        raise InputError("matrix: --mode and configuration flags come from --configs; fix: pass only data, model and run flags after --")
    quiet = ["-q"] if args.quiet else []
    runs = [("eager", ["--mode", "eager"])] + [(name, ["--mode", "compiled", *CONFIGS[name]]) for name in names]
    for name, flags in runs:
        print(f"== {name}", flush=True)
        bench = _parser().parse_args([*quiet, "bench", *flags, *bench_args])
        _bench(bench)
    print(f"{len(runs)} runs per symbol written; read them with `python -m harness compare` (it names the best configuration)")
    return int(ExitCode.OK)


def _robustness(args: argparse.Namespace) -> int:
    cases = list(STRESS_CASES) if args.cases == "all" else [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in STRESS_CASES]
    if unknown:
        raise InputError(f"--cases: unknown case(s) {', '.join(unknown)}; fix: choose from {', '.join(STRESS_CASES)}")
    bench_args = [a for a in args.bench_args if a != "--"]
    if any(flag in bench_args for flag in ("--mode", "--stress")):
        raise InputError("robustness: --mode and --stress come from --cases; fix: pass only data, model and compile flags after --")
    quiet = ["-q"] if args.quiet else []
    for case in cases:
        print(f"== {case}: {STRESS_CASES[case]}", flush=True)
        for mode in ("eager", "compiled"):
            _bench(_parser().parse_args([*quiet, "bench", "--mode", mode, "--stress", case, *bench_args]))
    print(f"{len(cases)} cases written; read them with `python -m harness compare` (status and drift per case)")
    return int(ExitCode.OK)


def _isolated(args: argparse.Namespace, spec: RunSpec, name: str) -> RunRecord | None:
    """Run ``spec`` in a child process; None when it wrote its own row, else the row recording how it died."""
    from harness.isolation import harness_command, run_child
    from harness.runner import failure_record

    result = run_child(harness_command(_child_argv(args, spec)), timeout_s=args.timeout)
    if result.status == "usage":  # judged by the exit code first: a file of that name proves nothing about this child
        last = result.stderr_tail.strip().splitlines()[-1:] or [result.message]
        raise ChildRefused(last[0].removeprefix("error: "))
    if (args.results_dir / f"{name}.parquet").is_file():  # not there before the child started (checked in _bench)
        if result.returncode != 0:
            log.warning("%s %s: the child wrote its row, then exited with %s (%s); the row stands", spec.window.symbol, spec.mode,
                        result.returncode, result.error_type)
        return None
    status = result.status if result.status != "ok" else "fail_exception"  # exit 0 without a row is a harness bug
    log.warning("%s %s: %s (%s: %s)", spec.window.symbol, spec.mode, status, result.error_type, result.message)
    return failure_record(spec, status=status, error_type=result.error_type, message=result.message, stderr_tail=result.stderr_tail,
                          run_id=spec.run_id)


def _child_argv(args: argparse.Namespace, spec: RunSpec) -> list[str]:
    """The same bench, for one symbol, in-process, writing under the parent's run id."""
    argv = ["-q"] if args.quiet else []
    argv += ["bench", "--mode", spec.mode, "--symbol", spec.series.symbol, "--no-isolate", "--run-id", spec.run_id,
             "--runs", str(args.runs), "--rows", str(args.rows), "--compile-mode", args.compile_mode, "--backend", args.backend,
             "--dynamic", args.dynamic, "--inductor-cache", args.inductor_cache, "--attn", args.attn, "--dtype", args.dtype,
             "--confirm", f"{args.confirm[0]}/{args.confirm[1]}",
             "--results-dir", str(args.results_dir), "--data-dir", str(args.data_dir), "--hyperparams-dir", str(args.hyperparams_dir)]
    for flag, value in (("--model", args.model), ("--context-length", args.context_length), ("--device", args.device)):
        if value is not None:
            argv += [flag, str(value)]
    if args.date_format:
        argv += ["--date-format", args.date_format]
    if args.inject_failure:
        argv += ["--inject-failure", str(args.inject_failure)]
    if spec.plant:
        argv += ["--plant", f"{spec.plant}:{spec.series.symbol}"]
    if args.stress:
        argv += ["--stress", args.stress]
    argv += ["--warm-compile" if args.warm_compile else "--no-warm-compile"] + (["--vary-shapes"] if args.vary_shapes else [])
    argv += ["--freezing"] if args.freezing else []
    argv += ["--sdpa-backend", args.sdpa_backend] if args.sdpa_backend else []
    return argv


def _compare(args: argparse.Namespace) -> int:
    from harness.baselines import load_baselines
    from harness.compare import build_comparisons
    from harness.display import format_check, format_comparison
    from harness.gate import GateKind, check, missing, select
    from harness.results import read_records

    comparisons, orphans = build_comparisons(read_records(args.results_dir), confidence=args.confidence)
    if not comparisons:
        raise InputError(f"{args.results_dir}: no compiled-mode results to compare; fix: run `nox -s bench_eager bench_compiled` first")
    try:
        loaded = load_baselines(args.baselines_dir)
        unusable: InputError | None = None
    except InputError as exc:  # still print the verdicts, then report the baselines problem
        loaded, unusable = {}, exc
    baselines = [baseline for baseline, _ in loaded.values()]
    paths = {id(baseline): str(path) for baseline, path in loaded.values()}
    checks = []
    unmatched_against: list[str] = []
    for comparison in comparisons:
        print(format_comparison(comparison))
        if unusable is not None:
            print("  baseline: not checked (see the error below)\n")
            continue
        checked = check(comparison, baselines, against=args.against)
        if args.against and checked.match.kind is GateKind.NEW and select(comparison, baselines).kind is not GateKind.NEW:
            unmatched_against.append(comparison.key.label())
        checks.append(checked)
        print(format_check(comparison, checked, paths.get(id(checked.match.baseline), "")) + "\n")
    _print_upgrades(comparisons, baselines)
    _print_best(comparisons)
    for orphan in orphans:
        print(f"note: eager run {orphan.run_id} ({orphan.symbol}, {orphan.model_id}, torch {orphan.torch_version}) has no compiled run to compare with")
    absent = missing(comparisons, baselines) if unusable is None else []
    for baseline in absent:
        print(f"missing: {paths[id(baseline)]}: {baseline.key.label()} has a baseline but no result here "
              "(data file changed? configuration or symbol dropped?); fix: bench it, or delete the baseline on purpose")
    kinds = [c.match.kind for c in checks]
    findings = [f for c in checks for f in c.findings]
    count = {kind: sum(f.kind == kind for f in findings) for kind in ("regression", "improvement", "flaky", "swing")}
    print(f"{len(comparisons)} comparison(s): {count['regression']} regression(s), {count['improvement']} improvement(s), {count['flaky']} flaky, "
          f"{count['swing']} host swing(s), {kinds.count(GateKind.NEW)} new, {len(absent)} missing · gates: {kinds.count(GateKind.FULL)} full, "
          f"{kinds.count(GateKind.UPGRADE)} upgrade, {kinds.count(GateKind.PORTABLE)} portable (timings not gated)")
    if unusable is not None:
        raise unusable
    if unmatched_against:
        raise InputError(f"--against {','.join(f'{k}={v}' for k, v in args.against.items())}: no baseline recorded with that software for "
                         f"{'; '.join(unmatched_against)}; fix: name a version recorded in {args.baselines_dir}")
    if count["regression"] or (count["improvement"] and args.fail_on_improvement):
        return int(ExitCode.REGRESSION)
    if args.strict and (GateKind.NEW in kinds or absent):
        print("--strict: a new key or a missing result fails; record or delete baselines on purpose", file=sys.stderr)
        return int(ExitCode.USAGE)
    return int(ExitCode.OK)


def _print_upgrades(comparisons: list[Comparison], baselines: list[Baseline]) -> None:
    """Torch matrix: where one machine ran the same settings with two software versions, the newer against the older."""
    from harness.display import format_upgrade
    from harness.gate import Tolerances, select, upgrade_findings

    groups: dict[tuple[object, object], list[Comparison]] = {}
    for comparison in comparisons:
        groups.setdefault((comparison.key.what, comparison.key.where), []).append(comparison)
    for members in groups.values():
        ordered = sorted(members, key=lambda c: (_version(c.key.software.torch), c.key.software))
        for older, newer in itertools.pairwise(ordered):
            own = select(newer, baselines).baseline
            findings = upgrade_findings(older, newer, own.tolerances if own else Tolerances())
            print(format_upgrade(older, newer, findings))
            print("  (shown, not gated: each version is gated against its own baseline above)\n")


def _version(text: str) -> tuple[int, ...]:
    """``2.14.1+cu130`` -> (2, 14, 1): enough to order torch releases."""
    parts = []
    for piece in text.split("+")[0].split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _report(args: argparse.Namespace) -> int:
    try:
        from harness.report import write_report
    except ImportError as exc:
        raise InputError(f"the report needs matplotlib ({exc}); fix: pip install '.[report]' or run `nox -s report`") from exc
    from harness.results import read_records

    records = read_records(args.results_dir)
    if not records:
        raise InputError(f"{args.results_dir}: no results to report; fix: run `nox -s bench_eager bench_compiled` first")
    _writable_dir(args.output, "--output")
    written = write_report(records, args.baselines_dir, args.output, confidence=args.confidence, source=str(args.results_dir))
    print(f"wrote {written[0]}, {written[1]} and {len(written) - 2} plot(s) into {args.output}")
    return int(ExitCode.OK)


def _writable_dir(path: Path, flag: str) -> None:
    """Refuse, before any work, a directory that cannot be written: a file in the way, no permission, a read-only disk.
    Creates it when missing (it is about to be written)."""
    if path.exists() and not path.is_dir():
        raise InputError(f"{flag} {path}: is a file, not a directory; fix: name a directory (it is created if missing)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path, prefix=".harness-write-check-"):
            pass
    except OSError as exc:
        raise InputError(f"{flag} {path}: cannot write there ({exc.strerror or type(exc).__name__}); fix: name a directory you can write") from exc


def _print_best(comparisons: list[Comparison]) -> None:
    from harness.configs import pick_best

    for pick in pick_best(comparisons):
        if pick.candidates < 2:
            continue
        if pick.best is None:
            print(f"best configuration for {pick.label}: none of {pick.candidates} passes every gate: keep eager")
            continue
        best = pick.best
        interval = f" [{best.confidence:.0%} CI {best.speedup_ci[0]:.2f}, {best.speedup_ci[1]:.2f}]" if best.speedup_ci else ""
        print(f"best configuration for {pick.label}: {best.key.compile_config}, speedup {best.speedup:.2f}x{interval}, "
              f"{best.recommendation.value} ({pick.passing} of {pick.candidates} configurations pass every gate)")


def _update(args: argparse.Namespace) -> int:
    from harness.baselines import baseline_from, load_baselines, write_baseline
    from harness.compare import build_comparisons, pool_runs
    from harness.display import format_table
    from harness.fingerprint import git_commit
    from harness.gate import Tolerances, check
    from harness.results import read_records

    records = read_records(args.results_dir)
    comparisons, _ = build_comparisons(pool_runs(records) if args.pool else records)
    existing = load_baselines(args.baselines_dir) if args.baselines_dir.is_dir() else {}
    paths = {id(baseline): path for baseline, path in existing.values()}
    written = refused = 0
    for comparison in comparisons:
        if comparison.eager is None:
            print(f"skip {comparison.key.label()}: no eager run")
            continue
        checked = check(comparison, [baseline for baseline, _ in existing.values()])
        before = checked.match.baseline
        print(f"{comparison.key.label()}: " + (f"{checked.match.describe()} against {paths[id(before)]}" if before else "no earlier baseline"))
        if before is not None:
            print(format_table(checked.findings, old="old", new="new"))
        problems = [f.message for f in checked.regressions] + _failures(comparison)
        if problems and not args.accept:
            refused += 1
            print("  refused: " + "\n  refused: ".join(problems))
            print('  fix: find the cause, or record it on purpose with --accept "why" (the reason and the old values go into provenance)\n')
            continue
        previous = existing.get(comparison.key) or _legacy(comparison.key, existing)
        provenance: dict[str, object] = {
            "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "reason": args.reason,
            "git_commit": git_commit(),
            "run_ids": sorted({run for s in (comparison.eager, comparison.compiled) if s is not None for run in s.run_id.split("+")}),
            "samples": {mode: len(s.latencies_s) for mode, s in (("eager", comparison.eager), ("compiled", comparison.compiled)) if s is not None},
            "model_trained": comparison.compiled.model_trained if comparison.compiled else None,
            "fingerprint": comparison.fingerprint,
        }
        if problems:
            provenance["accepted"] = {"why": args.accept, "problems": problems}
        if before is not None:
            provenance["replaces"] = {"file": paths[id(before)].name, "gate": checked.match.kind.value, "created_utc": before.created_utc,
                                      "reason": before.provenance.get("reason", ""),
                                      "values": {f.metric: f.baseline for f in checked.findings if f.baseline is not None}}
        tolerances = previous[0].tolerances if previous and not args.default_tolerances else Tolerances()
        path, diff = write_baseline(args.baselines_dir, baseline_from(comparison, tolerances=tolerances, provenance=provenance),
                                    replace=previous[1] if previous else None)
        written += 1
        print(f"wrote {path}" + (f" (accepted: {args.accept})" if problems else ""))
        print(diff or "  (unchanged)")
    print(f"{written} baseline(s) written, {refused} refused; commit them with the reason in the message")
    return int(ExitCode.REGRESSION) if refused else int(ExitCode.OK)


def _legacy(key: Key, existing: dict[Key, tuple[Baseline, Path]]) -> tuple[Baseline, Path] | None:
    """A format-1/2 file of the same what, software and machine (its ISA flags not recorded): the file a refresh replaces."""
    for baseline, path in existing.values():
        theirs = baseline.key
        if (not theirs.where.cpu_flags and theirs.what == key.what and theirs.software.matches(key.software)
                and dataclasses.replace(theirs.where, cpu_flags=key.where.cpu_flags) == key.where):
            return baseline, path
    return None


def _failures(comparison: Comparison) -> list[str]:
    """What a baseline must not bless without --accept: failed or flaky calls, a status other than pass, broken numbers."""
    out = []
    for mode, summary in (("eager", comparison.eager), ("compiled", comparison.compiled)):
        if summary is None:
            out.append(f"{mode}: no run")
            continue
        if not summary.success_rate >= 1.0:
            out.append(f"{mode} succeeded in {summary.success_rate:.0%} of predictions")
        if summary.status != "pass":
            out.append(f"{mode} status {summary.status}" + (f" ({summary.error[:120]})" if summary.error else ""))
        if summary.n_flaky:
            out.append(f"{mode}: {summary.n_flaky} flaky call(s)")
    return out


def _train(args: argparse.Namespace) -> int:
    import dataclasses

    from harness.models import CHECKPOINTS, compare_weights
    from harness.training import DEFAULT_MODEL, TrainConfig, train

    config = TrainConfig()
    if args.steps is not None:
        config = dataclasses.replace(config, steps=args.steps)
    if args.seed is not None:
        config = dataclasses.replace(config, seed=args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    facts = train(config, data_dir=args.data_dir, hyperparams_dir=args.hyperparams_dir, output=args.output)
    print(f"wrote {args.output}: {facts['parameters']:,} parameters, {facts['file_bytes'] / 1e6:.1f} MB, trained in {facts['train_wall_s']} s")
    print(f"weights sha256 {facts['weights_sha256']}")
    for symbol, skill in facts["skill"].items():
        print(f"  {symbol:<8} model MAE {skill['model_mae_pct']:.3f}%  naive {skill['naive_mae_pct']:.3f}%  ratio {skill['ratio']:.2f}  ({skill['windows']} windows)")
    reference = args.compare_to or CHECKPOINTS / DEFAULT_MODEL
    if (reference / "model.safetensors").is_file() and reference.resolve() != args.output.resolve():
        print(compare_weights(args.output, reference))
    return int(ExitCode.OK)


def _evaluate(args: argparse.Namespace) -> int:
    from harness.models import load_pipeline, resolve_model
    from harness.training import evaluate

    pipeline = load_pipeline(resolve_model(args.model), attn_implementation="eager", device="cpu")
    print(f"{args.model}: rolling 7-step windows at the end of each series, median close vs truth")
    for skill in evaluate(pipeline, data_dir=args.data_dir, hyperparams_dir=args.hyperparams_dir):
        print(f"  {skill.symbol:<8} model MAE {skill.model_mae_pct:.3f}%  naive {skill.naive_mae_pct:.3f}%  ratio {skill.ratio:.2f}  ({skill.windows} windows)")
    return int(ExitCode.OK)


def _calibrate(args: argparse.Namespace) -> int:
    import dataclasses

    from harness.gate import Tolerances
    from harness.gate_rates import TARGET_DETECTION, TARGET_FALSE_ALARMS, calibrate, sessions_of, spread
    from harness.results import read_records

    keys = sessions_of(read_records(args.results_dir))
    usable = {label: sessions for label, sessions in keys.items() if len(sessions) >= 3}
    if not usable:
        raise InputError(
            f"{args.results_dir}: no key with 3 or more eager+compiled sessions; fix: run the bench several times into it, "
            "e.g. `nox -s bench_eager bench_compiled -- --runs 30 --results-dir calib` five times"
        )
    defaults = Tolerances()
    tolerances = [dataclasses.replace(defaults, speedup_rel=speedup, latency_rel=latency)
                  for speedup in args.speedup_tol or [defaults.speedup_rel] for latency in args.latency_tol or [defaults.latency_rel]]
    print(f"targets: A/A false alarms <= {TARGET_FALSE_ALARMS:.0%}, detection >= {TARGET_DETECTION:.0%}; {args.trials} trials per scenario")
    for label, sessions in usable.items():
        sp = spread(sessions)
        print(f"{label}\n  {len(sessions)} sessions; session-to-session CV: eager {sp.eager_raw:.1%} raw, {sp.eager_normalized:.1%} host-normalised · "
              f"compiled {sp.compiled_raw:.1%} raw, {sp.compiled_normalized:.1%} host-normalised · "
              f"speedup {sp.speedup_separate:.1%} across sessions, {sp.speedup_interleaved:.1%} interleaved")
        print(f"  {'runs':>4} {'speedup/latency tol':>19}  {'A/A':>6}  {'compiled+10%':>12}  {'eager+10%':>9}  {'MAE+2%':>6}  {'min detected':>12}  {'CI width':>8}  targets")
        for runs in args.runs:
            for tol in tolerances:
                c = calibrate(sessions, runs=runs, tolerances=tol, trials=args.trials)
                smallest = "> 50%" if c.min_detectable_slowdown is None else f"{c.min_detectable_slowdown:.0%}"
                print(f"  {runs:>4} {f'{tol.speedup_rel:.0%} / {tol.latency_rel:.0%}':>19}  {c.false_alarm_rate:>6.1%}  {c.latency_detection_rate:>12.1%}  {c.eager_detection_rate:>9.1%}  "
                      f"{c.mae_detection_rate:>6.1%}  {smallest:>12}  {c.speedup_ci_width_median:>7.3f}x  {'met' if c.meets_targets else 'missed'}")
        print()
    return int(ExitCode.OK)


def _models() -> int:
    from harness.models import PROFILES, shipped_models

    for name in shipped_models():
        print(f"{name:<20} trained by this project (harness/checkpoints/{name}/MODEL_CARD.md); the default model")
    for profile in PROFILES.values():
        print(f"{profile.name:<20} {profile.description}; untrained (seeded random weights)")
    print("or: a Hugging Face hub id (e.g. amazon/chronos-2), a local checkpoint directory, an s3:// prefix")
    return int(ExitCode.OK)
