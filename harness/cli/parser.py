"""The command line's grammar: every command and flag of ``python -m harness``, and nothing that runs.

Each command sets ``handler`` to the name of its handler in :mod:`harness.cli.main` (aliases map to the same one); each
bench flag's dest is a field of :class:`harness.bench.request.BenchRequest`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness import __version__
from harness.base.options import BENCH_ROWS, DEFAULT_CONFIRM, DEFAULT_RUNS, STRESS_CASES
from harness.bench.faults import Fault, FaultKind
from harness.bench.isolation import DEFAULT_TIMEOUT_S
from harness.cli import argtypes

DESCRIPTION = """chronos-compile-bench: is torch.compile worth it for Chronos-2 on this machine, and did an upgrade make it worse?

Exit codes: 0 all holds · 1 a regression against the baselines · 2 usage or input error (the message names
the file, the field and the fix) · 3 the harness itself failed · 130 interrupted (Ctrl-C) · 143 terminated
(SIGTERM) · 129 hung up (SIGHUP); results already written are kept, and no child process is left running."""


def build() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m harness", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"chronos-compile-bench {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and the final table")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    bench = commands.add_parser("bench", help="run one mode on one or more symbols and write Parquet results", allow_abbrev=False)
    bench.set_defaults(handler="bench")
    bench_flags(bench)

    configs = commands.add_parser(
        "configs", aliases=["matrix"], help="eager once, then compiled in every configuration of a set, each run isolated"
    )
    configs.set_defaults(handler="configs")
    from harness.bench.configs import CONFIGS, SETS

    configs.add_argument(
        "--configs",
        default="default",
        help=f"a set ({', '.join(sorted(SETS))}) or comma-separated names of: {', '.join(CONFIGS)} (default: the default set)",
    )
    configs.add_argument(
        "--rerank",
        type=argtypes.positive,
        default=0,
        metavar="K",
        help="then re-bench the K fastest float32 configurations that pass every gate, in fresh processes, and rank them "
        "by their runs (harness.gate.ranking; default 0: no re-bench)",
    )
    configs.add_argument(
        "--repeats", type=argtypes.positive, default=3, help="fresh processes per re-benched configuration (default 3)"
    )
    configs.add_argument(
        "bench_args",
        nargs=argparse.REMAINDER,
        help="bench flags after --, e.g. -- --model chronos-2-arch --symbol GOOG --runs 20",
    )

    extreme = commands.add_parser(
        "extreme", aliases=["robustness"], help="eager and compiled on extreme distortions of a real window, each run isolated"
    )
    extreme.set_defaults(handler="extreme")
    extreme.add_argument("--cases", default="all", help=f"comma-separated cases (default all): {', '.join(STRESS_CASES)}")
    extreme.add_argument("bench_args", nargs=argparse.REMAINDER, help="bench flags after --, e.g. -- --symbol GOOG --runs 5")

    compare = commands.add_parser("compare", help="join eager and compiled results, print verdicts, check the baselines")
    compare.set_defaults(handler="compare")
    compare.add_argument(
        "--confidence", type=argtypes.fraction, default=0.95, help="confidence of every interval and of the gate (default 0.95)"
    )
    compare.add_argument(
        "--strict", action="store_true", help="exit 2 when a result has no baseline (new) or a baseline has no result (missing)"
    )
    compare.add_argument(
        "--against",
        type=argtypes.against,
        default=None,
        metavar="NAME=VERSION[,...]",
        help="check against the baseline recorded with this software, e.g. torch=2.13.0 (default: the same software, else the newest)",
    )
    compare.add_argument(
        "--fail-on-improvement", action="store_true", help="an improvement beyond tolerance exits 1 too (baseline is stale)"
    )
    _confirm_timing(compare)
    compare.add_argument(
        "--history-dir",
        type=Path,
        default=None,
        help="past results (e.g. the nightly's history/): name the run and commit a regression began with",
    )
    compare.add_argument("--json", type=Path, metavar="PATH", help="also write the verdict as JSON (dashboards, PR comments)")
    _dirs(compare, results=True, baselines=True)

    confirm = commands.add_parser(
        "confirm",
        help="re-bench each key whose latency or speedup regressed (fresh processes), so compare fails only if it holds",
    )
    confirm.set_defaults(handler="confirm")
    _confirm_timing(confirm)
    confirm.add_argument(
        "--fault",
        type=argtypes.slow_fault,
        default=None,
        metavar="slow@F",
        help="self-test: plant this fault in the compiled re-benches too (slow@0.3: a compiled slowdown that persists, and is confirmed)",
    )
    _dirs(confirm, results=True, data=True, baselines=True)

    rank = commands.add_parser(
        "rank", help="rank compile configurations by their runs in fresh processes (run-level intervals, host moves flagged)"
    )
    rank.set_defaults(handler="rank")
    _dirs(rank, results=True)

    _ab(commands)
    _lock(commands)
    report = commands.add_parser(
        "report", help="write report/index.md, index.html and PNG plots from every result and the baselines"
    )
    report.set_defaults(handler="report")
    report.add_argument("--output", type=Path, default=Path("report"), help="directory to write (default report/)")
    report.add_argument("--confidence", type=argtypes.fraction, default=0.95, help="confidence of every interval (default 0.95)")
    _dirs(report, results=True, baselines=True)

    update = commands.add_parser("update-baselines", help="write baselines from the latest results, with provenance")
    update.set_defaults(handler="update")
    update.add_argument("--reason", required=True, help="why the baselines change (recorded in each file)")
    update.add_argument(
        "--pool", action="store_true", help="rest each baseline on all runs of its key in the results dir, not only the latest"
    )
    update.add_argument(
        "--default-tolerances",
        action="store_true",
        help="write the current default tolerances instead of keeping each file's own",
    )
    update.add_argument(
        "--accept",
        default=None,
        metavar="WHY",
        help="write even a baseline that regresses against the one it replaces, or records failures; WHY goes into provenance",
    )
    _dirs(update, results=True, baselines=True)

    train = commands.add_parser(
        "train", help="train the default model from scratch (CPU, minutes) and compare it with the shipped one"
    )
    train.set_defaults(handler="train")
    train.add_argument(
        "--output",
        type=Path,
        default=Path("build") / "chronos-bench-mini",
        help="checkpoint directory to write (default build/chronos-bench-mini)",
    )
    train.add_argument(
        "--compare-to", type=Path, default=None, help="checkpoint to compare the new weights with (default: the shipped one)"
    )
    train.add_argument("--steps", type=argtypes.positive, help="override the training steps (changes the weights)")
    train.add_argument("--seed", type=int, help="override the seed (changes the weights)")
    _dirs(train, data=True)

    evaluate = commands.add_parser("evaluate", help="rolling-window MAE %% of a model vs the naive forecast on every symbol")
    evaluate.set_defaults(handler="evaluate")
    evaluate.add_argument("--model", default="chronos-bench-mini", help="any model name (default chronos-bench-mini)")
    _dirs(evaluate, data=True)

    rates = commands.add_parser(
        "gate-rates",
        aliases=["calibrate"],
        help="the gate's false-alarm and detection rates over bench sessions: tolerances chosen on one batch, rates on another",
    )
    rates.set_defaults(handler="gate_rates")
    rates.add_argument(
        "--test-dir",
        type=Path,
        default=None,
        help="the test batch: sessions recorded at another time (the rates are reported on it; without it they are in-sample)",
    )
    rates.add_argument(
        "--runs",
        type=argtypes.positive,
        default=DEFAULT_RUNS,
        help=f"timed calls per simulated nightly run: the first N of each session (default {DEFAULT_RUNS})",
    )
    rates.add_argument(
        "--speedup-tol", type=float, nargs="+", default=None, help="speedup tolerances to choose from (default 3%%..10%%)"
    )
    rates.add_argument(
        "--latency-tol", type=float, nargs="+", default=None, help="latency tolerances to choose from (default 10%%..40%%)"
    )
    rates.add_argument("--trials", type=argtypes.positive, default=None, help=argparse.SUPPRESS)  # before 0.3; ignored
    _confirm_timing(rates)
    rates.add_argument(
        "--results-dir", type=Path, default=Path("calibration"), help="the tuning batch of sessions (default calibration/)"
    )

    commands.add_parser("models", help="list the built-in models").set_defaults(handler="models")
    probe = commands.add_parser("start-probe")  # no help: internal, a fresh process measuring one precompiled start
    probe.set_defaults(handler="start_probe")
    probe.add_argument("probe", type=Path)
    child = commands.add_parser("run-spec")  # no help: internal, an isolated child reading the bench its parent wrote
    child.set_defaults(handler="run_spec")
    child.add_argument("spec", type=Path)
    return parser


def bench_flags(bench: argparse.ArgumentParser, *, mode: bool = True) -> None:
    """The flags of ``bench``; each dest is a field of :class:`harness.bench.request.BenchRequest`. ``mode``: whether
    the command asks for ``--mode`` (``ab`` always benches compiled, with its eager partner interleaved)."""
    if mode:
        bench.add_argument("--mode", choices=("eager", "compiled"), required=True)
    bench.add_argument("--symbol", action="append", help="symbol(s) in the data dir (repeatable; default BTCUSD)")
    bench.add_argument(
        "--model", help="override the hyperparams' model: a profile (see `models`), a hub id, a local dir, s3://..."
    )
    bench.add_argument(
        "--runs",
        type=argtypes.positive,
        default=DEFAULT_RUNS,
        help=f"timed predictions after the first call (default {DEFAULT_RUNS})",
    )
    bench.add_argument(
        "--rows",
        type=argtypes.positive,
        default=BENCH_ROWS,
        help=f"last rows of the CSV to use, horizon included (default {BENCH_ROWS})",
    )
    bench.add_argument(
        "--context-length",
        type=argtypes.positive,
        help="override the hyperparams' context_length (clipped, with a note, to what the window holds)",
    )
    bench.add_argument(
        "--date-format",
        default=None,
        metavar="ORDER|FORMAT",
        help="how the CSV writes dates: auto (default, read from the file), day-first, month-first, or a strptime format such as %%d/%%m/%%Y",
    )
    bench.add_argument("--device", help="override the hyperparams' device: auto, cpu, cuda, cuda:N")
    bench.add_argument(
        "--compile-mode",
        default="default",
        choices=("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"),
        help="torch.compile mode (default: default)",
    )
    bench.add_argument("--backend", default="inductor", help="torch.compile backend (default: inductor)")
    bench.add_argument(
        "--dynamic", choices=("auto", "true", "false"), default="auto", help="torch.compile dynamic= (default: auto, i.e. None)"
    )
    bench.add_argument(
        "--inductor-cache",
        default="cold",
        help="'cold' (default): a fresh inductor cache per run, so compile time is cold; "
        "'off': inductor's caches disabled (TORCHINDUCTOR_FORCE_DISABLE_CACHES); or a directory to reuse (warm)",
    )
    bench.add_argument(
        "--attn",
        choices=("eager", "sdpa"),
        default="eager",
        help="attention the compiled model loads with (default: eager, as in eager mode)",
    )
    bench.add_argument(
        "--dtype",
        choices=("float32", "bfloat16", "int8-dynamic"),
        default="float32",
        help="the compiled model's dtype (default float32; eager mode is always float32); int8-dynamic: float32 weights, "
        "every Linear dynamically quantized to int8 (CPU)",
    )
    bench.add_argument(
        "--sdpa-backend",
        choices=("math", "flash", "efficient", "cudnn"),
        default="",
        help="with --attn sdpa: restrict SDPA to one backend (default: torch chooses)",
    )
    bench.add_argument(
        "--freezing",
        action="store_true",
        help="compile with torch._inductor.config.freezing (constant-folded weights, a CPU inference switch)",
    )
    bench.add_argument(
        "--gemm-backends",
        default="",
        metavar="LIST",
        help="inductor's max_autotune_gemm_backends, e.g. CPP,ATEN (C++ GEMM templates; with --compile-mode max-autotune)",
    )
    bench.add_argument(
        "--cpp-wrapper", action="store_true", help="inductor's cpp_wrapper: the generated wrapper code in C++, not Python"
    )
    bench.add_argument(
        "--compile-scope",
        choices=("model", "encoder", "aot-encoder"),
        default="model",
        help="what compiled mode compiles: the whole model (default), its encoder stack with fullgraph=True, or the encoder "
        "exported and built as an AOTInductor package at the first call",
    )
    bench.add_argument(
        "--compile-threads",
        type=argtypes.positive,
        default=None,
        metavar="N",
        help="intra-op threads for the compiled model's calls (the interleaved eager calls keep the process's)",
    )
    bench.add_argument(
        "--omp-bind",
        choices=("close", "spread"),
        default="",
        help="OMP_PROC_BIND (with OMP_PLACES=cores) for the run's process, eager partner included",
    )
    bench.add_argument(
        "--starts",
        action="store_true",
        help="compiled mode: after the timed calls, measure precompiled starts in fresh processes (warm disk cache, "
        "portable cache artifacts or the AOTInductor package)",
    )
    bench.add_argument(
        "--fault",
        type=argtypes.fault,
        default=None,
        metavar="KIND[@P][:SYMBOL]",
        help="self-test: exception, crash, hang or oom at the measured mode's first call; or raise@P: each prediction attempt raises "
        "with probability P (default 1; P < 1 plants a flaky run); or slow@F: each measured prediction 1+F times as long "
        "(default 0.3), a planted timing regression. :SYMBOL limits it to one symbol",
    )
    bench.add_argument(
        "--plant", dest="fault", type=argtypes.planted, metavar="KIND[:SYMBOL]", help="deprecated alias of --fault KIND[:SYMBOL]"
    )
    bench.add_argument(
        "--inject-failure",
        dest="fault",
        nargs="?",
        type=argtypes.failure_rate,
        const=Fault(kind=FaultKind.RAISE),
        metavar="P",
        help="deprecated alias of --fault raise@P",
    )
    bench.add_argument(
        "--isolate",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run each symbol in its own child process, so a crash, hang or OOM kill becomes a result row (default: on)",
    )
    bench.add_argument(
        "--timeout",
        type=argtypes.seconds,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"seconds one isolated run may take before it is killed and recorded as timeout (default {DEFAULT_TIMEOUT_S:g})",
    )
    bench.add_argument(
        "--warm-compile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="compiled mode: compile a second time on the filled inductor cache and record the warm compile time (default: on)",
    )
    bench.add_argument(
        "--vary-shapes",
        action="store_true",
        help="compiled mode: after the timed calls, 3 calls on shorter contexts (new shapes); recompiles and their cost recorded",
    )
    bench.add_argument(
        "--keep-artifacts",
        type=Path,
        default=None,
        metavar="DIR",
        help="compiled mode: keep the AOTInductor package (aot-encoder) or inductor's cache artifacts in DIR, with a "
        "manifest (torch, CPU/GPU, shapes, the lines that load it)",
    )
    bench.add_argument(
        "--extreme",
        "--stress",
        dest="extreme",
        choices=sorted(STRESS_CASES),
        help="distort the real window as CASE (see `extreme`); the symbol becomes SYMBOL~CASE (--stress: deprecated alias)",
    )
    bench.add_argument("--run-id", help=argparse.SUPPRESS)  # a run id to write under (tests; results are never overwritten)
    bench.add_argument("--confirms", default="", help=argparse.SUPPRESS)  # a re-bench: the compiled run id it re-measures
    bench.add_argument(
        "--confirm",
        type=argtypes.k_of_n,
        default=DEFAULT_CONFIRM,
        metavar="K/N",
        help="a failing prediction is tried up to N times and counts as failed after K failures (default 2/3); "
        "fewer than K failures make it flaky, recorded with its flip rate",
    )
    _dirs(bench, results=True, data=True)


def _ab(commands: Any) -> None:
    from harness.cli.ab import DEFAULT_PAIRS
    from harness.gate.pairs import ABTolerances

    ab = commands.add_parser(
        "ab",
        help="A/B two software stacks on this host: process pairs in ABBA order, judged per pair (no baseline needed)",
        allow_abbrev=False,
    )
    ab.set_defaults(handler="ab", mode="compiled")
    stack = 'package pins ("transformers==5.24.0", several separated by spaces), a requirements/lock file, env:PATH or a git ref'
    ab.add_argument("--base", required=True, metavar="STACK", help=f"what head is judged against: {stack}")
    ab.add_argument("--head", required=True, metavar="STACK", help=f"the candidate: {stack}")
    ab.add_argument("--pairs", type=argtypes.pairs, default=DEFAULT_PAIRS, help=f"process pairs, ABBA (default {DEFAULT_PAIRS})")
    ab.add_argument(
        "--head-fault",
        type=argtypes.slow_fault,
        metavar="slow@F",
        help="self-test: head's compiled calls 1+F times as long (slow@0.1: a 10%% compiled slowdown to catch)",
    )
    ab.add_argument("--json", type=Path, metavar="PATH", help="also write the verdict as JSON (dashboards, PR comments)")
    bisect = "on a regression, A/B base against stacks between it and head (a binary search over the packages that differ)"
    ab.add_argument("--bisect", action="store_true", help=f"{bisect} and name the package that carries it")
    ab.add_argument("--work-dir", type=Path, default=Path(".ab"), help="environments, source trees and runs (default .ab/)")
    ab.add_argument(
        "--host-limit",
        type=argtypes.relative_limit,
        default=ABTolerances.host_limit,
        metavar="R",
        help=f"a pair whose machine reference moved more than this is dropped and re-run (default {ABTolerances.host_limit:g})",
    )
    bench_flags(ab, mode=False)
    rates = commands.add_parser(
        "ab-rates", help="false alarms of A/A runs and detections of planted slowdowns, from ab --json files"
    )
    rates.set_defaults(handler="ab-rates")
    rates.add_argument("directory", type=Path, help="a directory of `ab --json` verdicts (searched recursively)")


def _lock(commands: Any) -> None:
    lock = commands.add_parser(
        "lock", help="resolve the bench locks (locks/torch-<torch>-py<python>.txt) anew, with hashes; review the diff, commit"
    )
    lock.set_defaults(handler="lock")
    lock.add_argument("--torch", nargs="+", metavar="VERSION", help="torch versions to lock (default: the noxfile's pinned one)")
    lock.add_argument("--python", metavar="X.Y", help="the Python minor version to resolve for (default: this one)")
    check = commands.add_parser(
        "lock-check", help="exit 2 unless this environment holds exactly the lock (pip, setuptools aside)"
    )
    check.set_defaults(handler="lock-check")
    check.add_argument("lock", type=Path, help="a lock file, e.g. locks/torch-2.13.0-py3.11.txt")


def _confirm_timing(parser: argparse.ArgumentParser) -> None:
    from harness.gate.confirmation import DEFAULT_TIMING_CONFIRM

    k, n = DEFAULT_TIMING_CONFIRM
    parser.add_argument(
        "--confirm-timing",
        type=argtypes.k_of_n,
        default=DEFAULT_TIMING_CONFIRM,
        metavar="K/N",
        help=f"a latency or speedup regression stands when K of N measurements (the run and `confirm`'s re-benches) show it (default {k}/{n})",
    )


def _dirs(parser: argparse.ArgumentParser, *, results: bool = False, data: bool = False, baselines: bool = False) -> None:
    if results:
        parser.add_argument(
            "--results-dir", type=Path, default=Path("results"), help="where Parquet results live (default results/)"
        )
    if data:
        parser.add_argument("--data-dir", type=Path, default=Path("trainingdata"), help="OHLC CSVs (default trainingdata/)")
        parser.add_argument(
            "--hyperparams-dir", type=Path, default=Path("hyperparams"), help="per-symbol JSON (default hyperparams/)"
        )
    if baselines:
        parser.add_argument(
            "--baselines-dir", type=Path, default=Path("baselines"), help="committed baselines (default baselines/)"
        )
