"""Sessions of chronos-compile-bench. The main job: ``nox -s bench_eager bench_compiled compare``.

Every session only makes an environment and calls ``python -m harness``. The torch matrix: bench sessions are
parametrized over ``HARNESS_TORCH`` (comma-separated versions, default the pinned one); ``HARNESS_TORCH=matrix``
runs every version in :data:`TORCH_MATRIX`.

Environments: uv makes them when it is installed beside nox (``pip install nox uv``), told where pip looks for wheels
(harness/base/pipconfig.py); virtualenv and pip otherwise. Bench sessions have one per mode and torch version, holding
exactly the committed lock of that torch for this Python (locks/torch-<torch>-py<python>.txt, with hashes; ``nox -s
lock`` re-resolves them, and an upgrade is the reviewed diff); compare,
report, publish and update_baselines share ``.nox/results_env``, tests and lint ``.nox/dev_env``, each made by the session of
that name, which they require. Environments hold the requirements, not the project: a .pth file in each puts this
checkout on its path (checkout_pth_script), so `python -m harness` runs ./harness from any directory.
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys
from pathlib import Path

import nox

nox.needs_version = ">=2025.5.1"  # dependency_groups and requires= (2025.2.9); finds uv >= 0.7 (2025.5.1)
nox.options.default_venv_backend = "uv|virtualenv"  # uv when installed, else virtualenv and pip
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests"]

PINNED_TORCH = "2.13.0"
TORCH_MATRIX = ("2.13.0", "2.14.1")  # both install and run on this CPU machine
_requested = os.environ.get("HARNESS_TORCH", PINNED_TORCH)
TORCH_VERSIONS = list(TORCH_MATRIX) if _requested == "matrix" else [v.strip() for v in _requested.split(",") if v.strip()]
NO_TORCH = "HARNESS_TORCH-names-no-version"  # set but empty (an unset CI matrix variable): every torch session fails on it
TORCH_VERSIONS = TORCH_VERSIONS or [NO_TORCH]
PYPROJECT = nox.project.load_toml(Path(__file__).with_name("pyproject.toml"))
RESULTS_ENV = "results_env"  # compare, report, publish, update_baselines: the report extra, no torch
DEV_ENV = "dev_env"  # tests, lint: pinned torch, every extra, the test and lint groups

# uv looks where pip looks (harness/base/pipconfig.py: pure, standard library only, importable before any environment)
sys.path.insert(0, str(Path(__file__).parent))
from harness.base.errors import InputError  # noqa: E402
from harness.base.locks import lock_path, platform_tag, python_tag, read_lock  # noqa: E402
from harness.base.pipconfig import uv_environment  # noqa: E402


@functools.cache
def _uv_environment_here() -> dict[str, str]:
    """:func:`uv_environment` for this machine, read once per nox run (no pip beside nox: the PIP_* variables only)."""
    try:
        listed = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        listed = ""
    return uv_environment(listed, os.environ)


def _install(session: nox.Session, *args: str, compile_bytecode: bool = False) -> None:
    """session.install; under uv, with pip's wheel sources and caps (a plain `torch` is a CUDA build on PyPI).

    ``compile_bytecode``: compile every module at install, as pip does and uv does not. For an environment that starts
    many Python processes (the tests' isolated children): where PYTHONDONTWRITEBYTECODE is set, an environment without
    bytecode compiles torch from source on every import (9 s instead of 4 s here). Bench environments skip it: a
    bench starts two processes, and their import time is not measured.
    """
    if session.venv_backend != "uv":
        session.install(*args)
        return
    env = dict(_uv_environment_here())
    if compile_bytecode and "UV_COMPILE_BYTECODE" not in os.environ:
        env["UV_COMPILE_BYTECODE"] = "1"
    session.install(*args, env=env)


def _install_locked(session: nox.Session, torch: str) -> None:
    """Make the session's environment exactly the lock of ``torch`` for this Python, then prove it (``lock-check``)."""
    if torch == NO_TORCH:
        session.error(
            f"HARNESS_TORCH={_requested!r} names no torch version; fix: unset it, or name versions (2.13.0,2.14.1) or `matrix`"
        )
    path = lock_path(Path(__file__).parent, torch)
    try:
        lock = read_lock(path)
    except InputError as exc:
        session.error(f"{exc} (torch {torch}: nox -s lock -- --torch {torch})")
    mismatch = lock.fits(python=python_tag(), platform_name=platform_tag())
    if mismatch:
        session.error(f"{path}: {mismatch}; fix: `nox -s lock -- --torch {torch}` resolves one here (review the diff)")
    relative = str(path.relative_to(Path(__file__).parent))
    if session.venv_backend == "uv":  # sync: exactly the lock, removing what an earlier install left
        session.run_install(
            "uv",
            "pip",
            "sync",
            "--python",
            str(Path(session.bin) / "python"),
            relative,
            env=_uv_environment_here(),
            external=True,
        )
    else:
        session.install("-r", relative)
    session.run("python", "-m", "harness", "-q", "lock-check", relative)
    _link_checkout(session)


CHECKOUT_PTH = "chronos-compile-bench-checkout.pth"  # puts this checkout on the environment's sys.path


def checkout_pth_script(root: Path) -> str:
    """Python that writes :data:`CHECKOUT_PTH` into the running interpreter's site-packages, naming ``root``: then
    ``python -m harness`` works from any directory in that environment, without installing the project (which uv
    would rebuild on every install), and runs this checkout's code, edits included."""
    return (
        "import pathlib, sysconfig; "
        f"pathlib.Path(sysconfig.get_path('purelib'), {CHECKOUT_PTH!r}).write_text({str(root)!r} + '\\n')"
    )


def _link_checkout(session: nox.Session) -> None:
    session.run("python", "-c", checkout_pth_script(Path(__file__).resolve().parent), silent=True)


def _requirements(*extras: str) -> list[str]:
    """The project's requirements and its ``extras``', from pyproject, without the project: nox runs in the checkout,
    where ``python -m harness`` imports ./harness, and uv rebuilds a local project on every install, even when reused.
    """
    project = PYPROJECT["project"]
    return [
        *project["dependencies"],
        *(requirement for extra in extras for requirement in project["optional-dependencies"][extra]),
    ]


# ---------------------------------------------------------------------------------------------------------------------
# Shared environments
# ---------------------------------------------------------------------------------------------------------------------

_SHARED_BINS: dict[str, Path] = {}  # filled by the environment sessions: nox may hash a long envdir path


def _run_in(session: nox.Session, env: str, program: str, *args: str, extra_env: dict[str, str] | None = None) -> None:
    """Run ``program`` from the shared environment ``env``, made by the session of that name this one requires."""
    bin_dir = _SHARED_BINS.get(env, session.cache_dir.parent / env / "bin")
    if not (bin_dir / program).exists():
        session.error(f"{bin_dir / program} is missing: `nox -s {env}` makes it")
    path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    variables = {"VIRTUAL_ENV": str(bin_dir.parent), "PATH": path, **(extra_env or {})}
    session.run(str(bin_dir / program), *args, env=variables, external=True)


@nox.session(default=False)
def results_env(session: nox.Session) -> None:
    """The environment compare, report, publish and update_baselines share: the project's requirements and report extra, no torch."""
    _install(session, *_requirements("report"))
    _link_checkout(session)
    _SHARED_BINS[RESULTS_ENV] = Path(session.bin)


@nox.session(default=False)
def dev_env(session: nox.Session) -> None:
    """The environment tests and lint share: pinned torch, every extra, the test and lint groups."""
    _install(
        session,
        f"torch=={PINNED_TORCH}",
        *_requirements("bench", "report", "onnx"),
        *nox.project.dependency_groups(PYPROJECT, "test", "lint"),
        compile_bytecode=True,
    )
    _link_checkout(session)
    _SHARED_BINS[DEV_ENV] = Path(session.bin)


# ---------------------------------------------------------------------------------------------------------------------
# Sessions
# ---------------------------------------------------------------------------------------------------------------------


def _split_posargs(session: nox.Session) -> tuple[list[str], argparse.Namespace]:
    """Posargs go to every session named on the command line: bench flags to bench, --reason to update_baselines."""
    parser = argparse.ArgumentParser(prog=f"nox -s {session.name} --", allow_abbrev=False)  # --confirm is a bench flag
    parser.add_argument("--reason")
    parser.add_argument("--results-dir")
    parser.add_argument("--baselines-dir")
    parser.add_argument("--confidence")
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--pool", action="store_true")
    parser.add_argument("--default-tolerances", action="store_true")
    parser.add_argument("--against")
    parser.add_argument("--accept")
    parser.add_argument("--fail-on-improvement", action="store_true")
    parser.add_argument("--output")
    parser.add_argument("--history-dir")
    parser.add_argument("--history-branch")
    parser.add_argument("--remote")
    parser.add_argument("--commit-url")
    parser.add_argument("--to")
    parser.add_argument("--confirm-timing")
    parser.add_argument("--json")
    known, rest = parser.parse_known_args(session.posargs)
    if known.results_dir:
        rest += ["--results-dir", known.results_dir]
    return rest, known


def _bench(session: nox.Session, mode: str, torch: str) -> None:
    _install_locked(session, torch)
    bench_args, _ = _split_posargs(session)
    session.run("python", "-m", "harness", "bench", "--mode", mode, *bench_args)


@nox.session
@nox.parametrize("torch", TORCH_VERSIONS, ids=TORCH_VERSIONS)
def bench_eager(session: nox.Session, torch: str) -> None:
    """Bench eager mode (attn_implementation="eager") in its own venv per torch version."""
    _bench(session, "eager", torch)


@nox.session
@nox.parametrize("torch", TORCH_VERSIONS, ids=TORCH_VERSIONS)
def bench_compiled(session: nox.Session, torch: str) -> None:
    """Bench torch.compile mode in its own venv per torch version."""
    _bench(session, "compiled", torch)


@nox.session(default=False)
@nox.parametrize("torch", TORCH_VERSIONS, ids=TORCH_VERSIONS)
def search(session: nox.Session, torch: str) -> None:
    """The configuration search (harness/bench/configs.py SETS["search"]) with precompiled starts and 16 series per call,
    in this torch's venv (onnx-encoder is skipped, with the reason: the lock holds no onnx extra),
    then the three fastest float32 configurations re-benched in 3 fresh processes each and ranked by their runs;
    `nox -s compare` prints the search table and names the best configuration. Bench flags after --."""
    _install_locked(session, torch)
    bench_args, _ = _split_posargs(session)
    session.run(
        "python",
        "-m",
        "harness",
        "configs",
        "--configs",
        "search",
        "--rerank",
        "3",
        "--repeats",
        "3",
        "--",
        "--starts",
        "--batch-series",
        "16",  # many series per call: the throughput beside the latency
        *bench_args,
    )


def _compare_args(known: argparse.Namespace) -> list[str]:
    out = []
    if known.results_dir:
        out += ["--results-dir", known.results_dir]
    if known.baselines_dir:
        out += ["--baselines-dir", known.baselines_dir]
    return out


def _history_args(known: argparse.Namespace) -> list[str]:
    """Past results for compare and report: a folder, or the branch `publish` writes and its remote."""
    named = (("--history-dir", known.history_dir), ("--history-branch", known.history_branch), ("--remote", known.remote))
    return [part for flag, value in named if value for part in (flag, value)]


@nox.session(venv_backend="none", requires=[RESULTS_ENV])
def compare(session: nox.Session) -> None:
    """Join eager and compiled results, print verdicts; exit 1 on a regression against baselines/."""
    _, known = _split_posargs(session)
    flags = [f"--{name.replace('_', '-')}" for name in ("strict", "fail_on_improvement") if getattr(known, name)]
    flags += ["--confidence", known.confidence] if known.confidence else []
    flags += ["--against", known.against] if known.against else []
    flags += _history_args(known)
    flags += ["--confirm-timing", known.confirm_timing] if known.confirm_timing else []
    flags += ["--json", known.json] if known.json else []
    _run_in(session, RESULTS_ENV, "python", "-m", "harness", "compare", *_compare_args(known), *flags)


@nox.session(default=False)
@nox.parametrize("torch", TORCH_VERSIONS, ids=TORCH_VERSIONS)
def confirm(session: nox.Session, torch: str) -> None:
    """Re-bench every key of this torch whose latency or speedup regressed (fresh processes); compare then fails only
    if the regression holds: nox -s bench_eager bench_compiled confirm compare."""
    _install_locked(session, torch)
    _, known = _split_posargs(session)
    flags = ["--confirm-timing", known.confirm_timing] if known.confirm_timing else []
    session.run("python", "-m", "harness", "confirm", *_compare_args(known), *flags)


@nox.session(default=False, venv_backend="none", requires=[RESULTS_ENV])
def ab(session: nox.Session) -> None:
    """A/B two software stacks on this host (no baseline needed): nox -s ab -- --base STACK --head STACK [bench flags]."""
    if not session.posargs:
        session.error('nox -s ab -- --base STACK --head STACK, e.g. --base "transformers==5.24.0" --head "transformers==5.25.0"')
    _run_in(session, RESULTS_ENV, "python", "-m", "harness", "ab", *session.posargs)


@nox.session(default=False, venv_backend="none", requires=[RESULTS_ENV])
def lock(session: nox.Session) -> None:
    """Resolve the bench locks anew (every torch of the matrix, this Python, with hashes): nox -s lock [-- --torch V ...].
    Review the diff (it is the upgrade) and commit it."""
    args = session.posargs or ["--torch", *TORCH_MATRIX]
    _run_in(session, RESULTS_ENV, "python", "-m", "harness", "lock", *args)


@nox.session(venv_backend="none", requires=[RESULTS_ENV])
def report(session: nox.Session) -> None:
    """Write report/index.md, index.html and PNG plots from every result (and history) and the baselines."""
    _, known = _split_posargs(session)
    flags = ["--confidence", known.confidence] if known.confidence else []
    flags += ["--commit-url", known.commit_url] if known.commit_url else []
    _run_in(
        session,
        RESULTS_ENV,
        "python",
        "-m",
        "harness",
        "report",
        *_compare_args(known),
        "--output",
        known.output or "report",
        *_history_args(known),
        *flags,
    )


@nox.session(default=False, venv_backend="none", requires=[RESULTS_ENV])
def publish(session: nox.Session) -> None:
    """Append the results to a history branch, never forced, your checkout untouched: nox -s publish -- --to bench-history."""
    _, known = _split_posargs(session)
    if not known.to:
        session.error("name the branch: nox -s publish -- --to bench-history [--remote origin] [--results-dir merged]")
    remote = ["--remote", known.remote] if known.remote else []
    results = ["--results-dir", known.results_dir] if known.results_dir else []
    _run_in(session, RESULTS_ENV, "python", "-m", "harness", "publish", "--to", known.to, *remote, *results)


@nox.session(venv_backend="none", requires=[RESULTS_ENV])
def update_baselines(session: nox.Session) -> None:
    """Write baselines/ from the latest results, on purpose: nox -s update_baselines -- --reason "..." [--accept "why"]."""
    _, known = _split_posargs(session)
    if not known.reason:
        session.error('say why: nox -s update_baselines -- --reason "torch 2.14.1 upgrade"')
    pool = ["--pool"] if known.pool else []
    pool += ["--default-tolerances"] if known.default_tolerances else []
    pool += ["--accept", known.accept] if known.accept else []
    _run_in(
        session,
        RESULTS_ENV,
        "python",
        "-m",
        "harness",
        "update-baselines",
        "--reason",
        known.reason,
        *pool,
        *_compare_args(known),
    )


def _gate_rates(session: nox.Session, torch: str, name: str) -> None:
    _install_locked(session, torch)
    parser = argparse.ArgumentParser(prog=f"nox -s {name} --")
    parser.add_argument("--sessions", type=int, default=12, help="bench sessions, each a fresh process with a cold compile")
    parser.add_argument("--calls", default="30", help="timed calls per session (a simulated nightly run takes its first --runs)")
    parser.add_argument("--runs", default="", help="calls per simulated nightly run (default: the bench default)")
    parser.add_argument("--speedup-tol", nargs="+", default=[], help="speedup tolerances to choose from (default 3%%..10%%)")
    parser.add_argument("--latency-tol", nargs="+", default=[], help="latency tolerances to choose from (default 10%%..40%%)")
    parser.add_argument("--results-dir", default=f"calibration/torch-{torch}", help="where this batch's sessions go")
    parser.add_argument(
        "--tuning-dir", help="a batch recorded earlier (an hour or more): tolerances are chosen on it, rates reported on this one"
    )
    known, bench_args = parser.parse_known_args(session.posargs)
    for index in range(known.sessions):
        session.log(f"calibration session {index + 1}/{known.sessions}")
        for mode in ("eager", "compiled"):
            session.run(
                "python",
                "-m",
                "harness",
                "-q",
                "bench",
                "--mode",
                mode,
                "--runs",
                known.calls,
                "--results-dir",
                known.results_dir,
                *bench_args,
            )
    runs = ["--runs", known.runs] if known.runs else []
    tolerance = ["--speedup-tol", *known.speedup_tol] if known.speedup_tol else []
    tolerance += ["--latency-tol", *known.latency_tol] if known.latency_tol else []
    batches = ["--results-dir", known.tuning_dir or known.results_dir]
    batches += ["--test-dir", known.results_dir] if known.tuning_dir else []
    session.run("python", "-m", "harness", "gate-rates", *batches, *runs, *tolerance)


@nox.session(default=False)
@nox.parametrize("torch", TORCH_VERSIONS, ids=TORCH_VERSIONS)
def gate_rates(session: nox.Session, torch: str) -> None:
    """Self-check of the gate on this machine: N bench sessions, then false alarms and detection rates.

    nox -s gate_rates -- [--sessions 12] [--calls 30] [--runs 20] [--tuning-dir EARLIER_BATCH] [--symbol GOOG ...]
    """
    _gate_rates(session, torch, "gate_rates")


@nox.session(default=False)
@nox.parametrize("torch", TORCH_VERSIONS, ids=TORCH_VERSIONS)
def calibrate(session: nox.Session, torch: str) -> None:
    """Old name of gate_rates, kept for one release."""
    session.warn("`nox -s calibrate` is now `nox -s gate_rates`; the old name goes in the next release")
    _gate_rates(session, torch, "calibrate")


@nox.session(venv_backend="none", requires=[DEV_ENV])
def tests(session: nox.Session) -> None:
    """Run the test suite on up to 4 cores (pinned torch; slow tests need -- -m slow; -- -n 0 for one process).

    One OpenMP thread per worker (unless OMP_NUM_THREADS is set, or -n 0): a worker per core, each with a thread pool
    as wide as the machine, spun against each other; on 2 cores the suite took 214 s so, 147 s with one thread each."""
    one_process = any(arg in ("-n0", "-n=0") for arg in session.posargs) or "-n 0" in " ".join(session.posargs)
    threads = {} if "OMP_NUM_THREADS" in os.environ or one_process else {"OMP_NUM_THREADS": "1"}
    argv = ("pytest", "-n", "auto", "--maxprocesses", "4", "--dist", "worksteal", *session.posargs)
    _run_in(session, DEV_ENV, *argv, extra_env=threads)


@nox.session(default=False)
def train_default_model(session: nox.Session) -> None:
    """Train the default model from scratch on CPU and compare it with the shipped one (-- --output DIR to choose)."""
    _install(session, f"torch=={PINNED_TORCH}", *_requirements("bench"))
    _link_checkout(session)
    session.run("python", "-m", "harness", "train", *session.posargs)


@nox.session(default=False, venv_backend="none", requires=[DEV_ENV])
def lint(session: nox.Session) -> None:
    """ruff (lint and format), mypy --strict over harness, tests and this file, and the wings' layer contract."""
    _run_in(session, DEV_ENV, "ruff", "check", ".")
    _run_in(session, DEV_ENV, "ruff", "format", "--check", ".")
    _run_in(session, DEV_ENV, "mypy")
    _run_in(session, DEV_ENV, "lint-imports")  # pyproject [tool.importlinter]: a wing imports only the wings below it
