"""The command line's grammar: every command and flag of ``python -m harness``, and nothing that runs.

Each command sets ``handler`` to the name of its handler in :mod:`harness.cli.main` (aliases map to the same one); each
bench flag's dest is a field of :class:`harness.bench.request.BenchRequest`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness import __version__
from harness.base.options import DEFAULT_RUNS, STRESS_CASES
from harness.cli import argtypes
from harness.cli.bench_flags import bench_flags, dirs

DESCRIPTION = """chronos-compile-bench: is torch.compile worth it for Chronos-2 on this machine, and did an upgrade make it worse?

Exit codes: 0 all holds · 1 a regression against the baselines · 2 usage or input error (the message names
the file, the field and the fix) · 3 the harness itself failed · 130 interrupted (Ctrl-C) · 143 terminated
(SIGTERM) · 129 hung up (SIGHUP); results already written are kept, and no child process is left running."""


def program() -> str:
    """How the user called us: ``chronos-compile-bench`` (the entry point) or ``python -m harness``."""
    called = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return called if called and called not in ("__main__.py", "-c", "-m") and not called.endswith(".py") else "python -m harness"


def build() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=program(), description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"chronos-compile-bench {__version__}")
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=None,
        help="where trainingdata/, hyperparams/, results/ and baselines/ are (also HARNESS_PROJECT_DIR; default: the "
        "working directory, else the nearest directory above it holding trainingdata/ and hyperparams/)",
    )
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
    _history(compare, "name the run, first bad and last good commit a regression began with")
    compare.add_argument("--json", type=Path, metavar="PATH", help="also write the verdict as JSON (dashboards, PR comments)")
    dirs(compare, results=True, baselines=True)

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
    dirs(confirm, results=True, data=True, baselines=True)

    rank = commands.add_parser(
        "rank", help="rank compile configurations by their runs in fresh processes (run-level intervals, host moves flagged)"
    )
    rank.set_defaults(handler="rank")
    dirs(rank, results=True)

    _ab(commands)
    _lock(commands)
    report = commands.add_parser(
        "report", help="write report/index.md, index.html and PNG plots from every result and the baselines"
    )
    report.set_defaults(handler="report")
    report.add_argument("--output", type=Path, default=Path("report"), help="directory to write (default report/)")
    report.add_argument("--confidence", type=argtypes.fraction, default=0.95, help="confidence of every interval (default 0.95)")
    _history(report, "their runs join the trends, one point per run, labelled by commit")
    report.add_argument(
        "--commit-url",
        type=argtypes.commit_url,
        default=None,
        metavar="TEMPLATE",
        help="link each commit of the trend tables, e.g. https://github.com/OWNER/REPO/commit/{commit} "
        "(default: from GITHUB_SERVER_URL and GITHUB_REPOSITORY when set, else no links)",
    )
    dirs(report, results=True, baselines=True)

    publish = commands.add_parser(
        "publish",
        help="append the results to a history branch of this repository (git plumbing: your files, index and HEAD untouched; never forced)",
    )
    publish.set_defaults(handler="publish")
    publish.add_argument(
        "--to", required=True, metavar="BRANCH", help="the history branch, e.g. bench-history (created if missing)"
    )
    publish.add_argument("--remote", default="origin", help="the remote that holds it (default origin)")
    dirs(publish, results=True)

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
    dirs(update, results=True, baselines=True)

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
    dirs(train, data=True)

    evaluate = commands.add_parser("evaluate", help="rolling-window MAE %% of a model vs the naive forecast on every symbol")
    evaluate.set_defaults(handler="evaluate")
    evaluate.add_argument("--model", default="chronos-bench-mini", help="any model name (default chronos-bench-mini)")
    dirs(evaluate, data=True)

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


def _history(parser: argparse.ArgumentParser, what: str) -> None:
    """Past results, from a folder or from the branch ``publish`` writes (one or the other)."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--history-dir", type=Path, default=None, help=f"a folder of past results: {what}")
    source.add_argument(
        "--history-branch", default=None, metavar="BRANCH", help=f"past results on the branch `publish` writes (fetched): {what}"
    )
    parser.add_argument("--remote", default="origin", help="the remote holding --history-branch (default origin)")


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
