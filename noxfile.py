"""Sessions of chronos-compile-bench. The main job: ``nox -s bench_eager bench_compiled compare``.

Every session only makes an environment and calls ``python -m harness``. The torch matrix: bench sessions are
parametrized over ``HARNESS_TORCH`` (comma-separated versions, default the pinned one); ``HARNESS_TORCH=matrix``
runs every version in :data:`TORCH_MATRIX`.
"""

from __future__ import annotations

import argparse
import os

import nox

nox.needs_version = ">=2024.3.2"
nox.options.default_venv_backend = "virtualenv"  # pip: honours the machine's pip config (local wheels, caps)
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests"]

PINNED_TORCH = "2.13.0"
TORCH_MATRIX = ("2.13.0", "2.14.1")  # both install and run on this CPU machine
_requested = os.environ.get("HARNESS_TORCH", PINNED_TORCH)
TORCH_VERSIONS = list(TORCH_MATRIX) if _requested == "matrix" else [v.strip() for v in _requested.split(",") if v.strip()]
PYPROJECT = nox.project.load_toml("pyproject.toml")


def _split_posargs(session: nox.Session) -> tuple[list[str], argparse.Namespace]:
    """Posargs go to every session named on the command line: bench flags to bench, --reason to update_baselines."""
    parser = argparse.ArgumentParser(prog=f"nox -s {session.name} --")
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
    known, rest = parser.parse_known_args(session.posargs)
    if known.results_dir:
        rest += ["--results-dir", known.results_dir]
    return rest, known


def _bench(session: nox.Session, mode: str, torch: str) -> None:
    session.install(f"torch=={torch}")
    session.install(".[bench]")
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


def _compare_args(known: argparse.Namespace) -> list[str]:
    out = []
    if known.results_dir:
        out += ["--results-dir", known.results_dir]
    if known.baselines_dir:
        out += ["--baselines-dir", known.baselines_dir]
    return out


@nox.session
def compare(session: nox.Session) -> None:
    """Join eager and compiled results, print verdicts; exit 1 on a regression against baselines/."""
    session.install(".")
    _, known = _split_posargs(session)
    flags = [f"--{name.replace('_', '-')}" for name in ("strict", "fail_on_improvement") if getattr(known, name)]
    flags += ["--confidence", known.confidence] if known.confidence else []
    flags += ["--against", known.against] if known.against else []
    session.run("python", "-m", "harness", "compare", *_compare_args(known), *flags)


@nox.session
def report(session: nox.Session) -> None:
    """Write report/index.md, index.html and PNG plots from every result (and history) and the baselines."""
    session.install(".[report]")
    _, known = _split_posargs(session)
    confidence = ["--confidence", known.confidence] if known.confidence else []
    session.run("python", "-m", "harness", "report", *_compare_args(known), "--output", known.output or "report", *confidence)


@nox.session
def update_baselines(session: nox.Session) -> None:
    """Write baselines/ from the latest results, on purpose: nox -s update_baselines -- --reason "..." [--accept "why"]."""
    session.install(".")
    _, known = _split_posargs(session)
    if not known.reason:
        session.error('say why: nox -s update_baselines -- --reason "torch 2.14.1 upgrade"')
    pool = ["--pool"] if known.pool else []
    pool += ["--default-tolerances"] if known.default_tolerances else []
    pool += ["--accept", known.accept] if known.accept else []
    session.run("python", "-m", "harness", "update-baselines", "--reason", known.reason, *pool, *_compare_args(known))


@nox.session(default=False)
@nox.parametrize("torch", TORCH_VERSIONS, ids=TORCH_VERSIONS)
def calibrate(session: nox.Session, torch: str) -> None:
    """Self-check of the gate on this machine: N bench sessions, then false alarms and detection rates.

    nox -s calibrate -- [--sessions 8] [--calls 30] [--runs 5 20] [--speedup-tol 0.05 0.1] [--latency-tol 0.2] [--symbol GOOG ...]
    """
    session.install(f"torch=={torch}")
    session.install(".[bench]")
    parser = argparse.ArgumentParser(prog="nox -s calibrate --")
    parser.add_argument("--sessions", type=int, default=8, help="bench sessions, each a fresh process with a cold compile")
    parser.add_argument("--calls", default="30", help="timed calls per session, drawn from by the simulated nightly runs")
    parser.add_argument("--runs", nargs="+", default=[], help="calls per simulated nightly run (default: the bench default)")
    parser.add_argument("--speedup-tol", nargs="+", default=[], help="speedup tolerances to evaluate (default: the current default)")
    parser.add_argument("--latency-tol", nargs="+", default=[], help="latency tolerances to evaluate (default: the current default)")
    parser.add_argument("--results-dir", default=f"calibration/torch-{torch}")
    known, bench_args = parser.parse_known_args(session.posargs)
    for index in range(known.sessions):
        session.log(f"calibration session {index + 1}/{known.sessions}")
        for mode in ("eager", "compiled"):
            session.run("python", "-m", "harness", "-q", "bench", "--mode", mode, "--runs", known.calls, "--results-dir", known.results_dir, *bench_args)
    runs = ["--runs", *known.runs] if known.runs else []
    tolerance = ["--speedup-tol", *known.speedup_tol] if known.speedup_tol else []
    tolerance += ["--latency-tol", *known.latency_tol] if known.latency_tol else []
    session.run("python", "-m", "harness", "calibrate", "--results-dir", known.results_dir, *runs, *tolerance)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (pinned torch; slow tests need -- -m slow)."""
    session.install(f"torch=={PINNED_TORCH}")
    session.install(".[bench,report]", *nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("pytest", *session.posargs)


@nox.session(default=False)
def train_default_model(session: nox.Session) -> None:
    """Train the default model from scratch on CPU and compare it with the shipped one (-- --output DIR to choose)."""
    session.install(f"torch=={PINNED_TORCH}")
    session.install(".[bench]")
    session.run("python", "-m", "harness", "train", *session.posargs)


@nox.session(default=False)
def lint(session: nox.Session) -> None:
    """ruff and mypy --strict over harness, tests and this file."""
    session.install(f"torch=={PINNED_TORCH}")
    session.install(".[bench,report]", *nox.project.dependency_groups(PYPROJECT, "lint", "test"))
    session.run("ruff", "check", ".")
    session.run("mypy")
