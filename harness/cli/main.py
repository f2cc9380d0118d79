"""``python -m harness``: parse (:mod:`harness.cli.parser`), then one call into the module that does the work.

Every error the harness raises on purpose becomes one line on stderr and its exit code (see the parser's description);
anything else is a harness bug: its traceback, and exit 3.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import faulthandler
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from harness.base.errors import ExitCode, HarnessError, InputError
from harness.base.options import STRESS_CASES
from harness.bench.isolation import ChildRefused, Interrupted, signals_interrupt
from harness.cli.parser import build

if TYPE_CHECKING:
    from harness.bench.request import BenchRequest

log = logging.getLogger("harness")
T = TypeVar("T")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        _project_dir(sys.argv[1:] if argv is None else list(argv))  # before the parser finds the folders' defaults
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    args = build().parse_args(argv)  # exits 2 on usage errors, like every argparse program
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    with contextlib.suppress(Exception):  # no real stderr (e.g. captured): no stack on a crash, nothing else changes
        faulthandler.enable()  # a hard crash prints the Python stack to stderr: an isolated run's parent keeps its tail
    try:
        with signals_interrupt():  # SIGTERM, SIGHUP: unwind like Ctrl-C, so that isolated children end with us
            return int(_HANDLERS[args.handler](args))
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
        print(
            f"error: the harness itself failed ({type(exc).__name__}: {exc}); please report it with the traceback above",
            file=sys.stderr,
        )
        return int(ExitCode.HARNESS_FAILED)


def _project_dir(argv: list[str]) -> None:
    """``--project-dir DIR`` (a top-level flag) as ``HARNESS_PROJECT_DIR``, so every folder default resolves in it."""
    from harness.base.project import PROJECT_ENV

    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--project-dir", type=Path, default=None)
    known, _ = early.parse_known_args(argv)
    if known.project_dir is not None:
        if not known.project_dir.is_dir():
            raise InputError(f"--project-dir {known.project_dir}: no such directory; fix: name your project's folder")
        os.environ[PROJECT_ENV] = str(known.project_dir.resolve())


def _bench(args: argparse.Namespace) -> int:
    from harness.bench.benching import bench
    from harness.bench.request import BenchRequest

    return bench(BenchRequest.from_args(args))


def _run_spec(args: argparse.Namespace) -> int:
    from harness.bench.benching import run_spec_file

    return run_spec_file(args.spec)


def _start_probe(args: argparse.Namespace) -> int:
    from harness.bench.starts import probe

    return probe(args.probe)


def _sweep_base(args: argparse.Namespace, command: str, *owned: str) -> BenchRequest:
    """The bench flags after ``--`` as the request every run of a sweep starts from."""
    from harness.bench.request import BenchRequest

    bench_args = [a for a in args.bench_args if a != "--"]
    given = [flag for flag in ("--mode", *owned) if any(a == flag or a.startswith(flag + "=") for a in bench_args)]
    if given:
        raise InputError(
            f"{command}: {', '.join(given)} come(s) from the {command} itself; fix: pass only data, model and run flags after --"
        )
    return BenchRequest.from_args(build().parse_args([*(["-q"] if args.quiet else []), "bench", "--mode", "eager", *bench_args]))


def _configs(args: argparse.Namespace) -> int:
    from harness.bench.benching import configs
    from harness.bench.configs import CONFIG_FLAGS, expand

    try:
        names = expand(args.configs)
    except ValueError as exc:
        raise InputError(f"--configs {args.configs!r}: {exc}") from None
    base = _sweep_base(args, "configs", *CONFIG_FLAGS)
    status = configs(base, names)
    if args.rerank:
        from harness.cli.rank import rerank

        status = rerank(base, names, top=args.rerank, repeats=args.repeats)
    return status


def _rank(args: argparse.Namespace) -> int:
    from harness.cli.rank import print_ranking

    print_ranking(args.results_dir)
    return 0


def _extreme(args: argparse.Namespace) -> int:
    from harness.bench.benching import extreme

    cases = list(STRESS_CASES) if args.cases == "all" else [c.strip() for c in args.cases.split(",") if c.strip()]
    return extreme(_sweep_base(args, "extreme", "--extreme", "--stress"), cases)


def _options(cls: type[T], args: argparse.Namespace) -> T:
    """A command's options dataclass from its flags: each field is the flag of the same name."""
    names: Any = dataclasses.fields(cls)  # type: ignore[arg-type]
    return cls(**{field.name: getattr(args, field.name) for field in names})


def _compare(args: argparse.Namespace) -> int:
    from harness.cli.compare import CompareOptions, compare

    return compare(_options(CompareOptions, args))


def _ab(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.bench.request import BenchRequest
    from harness.cli.ab import AbOptions, ab

    root = Path(__file__).resolve().parents[2]
    return ab(BenchRequest.from_args(args), _options(AbOptions, args), root=root)


def _ab_rates(args: argparse.Namespace) -> int:
    from harness.cli.ab import print_ab_rates

    return print_ab_rates(args.directory)


def _lock(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.bench.locking import compile_lock
    from harness.bench.stacks import pinned_torch, uv_environment_here

    root = Path(__file__).resolve().parents[2]
    versions = args.torch or [pinned_torch(root)]
    if None in versions:
        raise InputError(f"{root / 'noxfile.py'}: no PINNED_TORCH to lock; fix: name the versions with --torch")
    uv_env = uv_environment_here()
    for version in versions:
        print(f"wrote {compile_lock(root, version, python=args.python, uv_env=uv_env)}")
    return int(ExitCode.OK)


def _lock_check(args: argparse.Namespace) -> int:
    from harness.bench.locking import check_environment

    found = check_environment(args.lock)
    if found:
        shown = "; ".join(found[:5]) + (f"; and {len(found) - 5} more" if len(found) > 5 else "")
        raise InputError(
            f"{args.lock}: this environment ({sys.prefix}) is not the lock: {shown}; fix: reinstall it from the lock (nox -s bench_eager does)"
        )
    print(f"{args.lock}: this environment holds exactly the lock")
    return int(ExitCode.OK)


def _confirm(args: argparse.Namespace) -> int:
    from harness.cli.confirm import ConfirmOptions, confirm_timings

    return confirm_timings(_options(ConfirmOptions, args))


def _update(args: argparse.Namespace) -> int:
    from harness.cli.update_baselines import RefreshOptions, refresh

    return refresh(_options(RefreshOptions, args))


def _report(args: argparse.Namespace) -> int:
    try:
        from harness.report.page import write_report
    except ImportError as exc:
        raise InputError(
            f"the report needs matplotlib ({exc}); fix: pip install 'chronos-compile-bench[report]' (in a checkout: pip install '.[report]') or run `nox -s report`"
        ) from exc
    from harness.cli.history import with_history
    from harness.results.commits import url_template
    from harness.results.store import check_writable_dir

    records, source = with_history(args.results_dir, args.history_dir, args.history_branch, args.remote)
    if not records:
        raise InputError(f"{args.results_dir}: no results to report; fix: run `nox -s bench_eager bench_compiled` first")
    check_writable_dir(args.output, "--output")
    links = url_template(args.commit_url, os.environ)
    written = write_report(records, args.baselines_dir, args.output, confidence=args.confidence, source=source, commit_url=links)
    print(f"wrote {written[0]}, {written[1]} and {len(written) - 2} plot(s) into {args.output}")
    return int(ExitCode.OK)


def _publish(args: argparse.Namespace) -> int:
    from harness.cli.history import PublishOptions, publish

    return publish(_options(PublishOptions, args))


def _train(args: argparse.Namespace) -> int:
    from harness.model.training import TrainConfig, train_and_report

    changes = {name: value for name, value in (("steps", args.steps), ("seed", args.seed)) if value is not None}
    train_and_report(
        dataclasses.replace(TrainConfig(), **changes),
        data_dir=args.data_dir,
        hyperparams_dir=args.hyperparams_dir,
        output=args.output,
        compare_to=args.compare_to,
    )
    return int(ExitCode.OK)


def _evaluate(args: argparse.Namespace) -> int:
    from harness.model.training import evaluate_and_report

    evaluate_and_report(args.model, data_dir=args.data_dir, hyperparams_dir=args.hyperparams_dir)
    return int(ExitCode.OK)


def _gate_rates(args: argparse.Namespace) -> int:
    from harness.gate.rates import RatesOptions, print_rates

    if args.trials is not None:
        print("note: --trials is ignored since 0.3: every rate is counted over sessions, not resampled trials", file=sys.stderr)
    print_rates(_options(RatesOptions, args))
    return int(ExitCode.OK)


def _models(args: argparse.Namespace) -> int:
    from harness.model.loading import print_models

    print_models()
    return int(ExitCode.OK)


_HANDLERS = {
    "bench": _bench,
    "run_spec": _run_spec,
    "start_probe": _start_probe,
    "configs": _configs,
    "rank": _rank,
    "extreme": _extreme,
    "compare": _compare,
    "confirm": _confirm,
    "ab": _ab,
    "ab-rates": _ab_rates,
    "lock": _lock,
    "lock-check": _lock_check,
    "update": _update,
    "report": _report,
    "publish": _publish,
    "train": _train,
    "evaluate": _evaluate,
    "gate_rates": _gate_rates,
    "models": _models,
}
