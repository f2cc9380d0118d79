"""A signal that ends ``python -m harness`` ends every process it started: isolated children live in their own
session (a terminal's Ctrl-C never reaches them), so the parent must take them, and their workers, down itself.

Exit codes: 143 for SIGTERM, 129 for SIGHUP, 130 for SIGINT; results written before the signal stay.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from harness.results.store import read_records
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads the process table from /proc (Linux)")

SIGNALS = [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
IDS = ["TERM", "HUP", "INT"]


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, session id) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (command)", which may hold spaces
    return fields[0], int(fields[1]), int(fields[3])


def _processes() -> Iterator[tuple[int, str, int, int]]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            yield int(entry.name), *stat


def _children(pid: int) -> list[int]:
    return [child for child, state, parent, _ in _processes() if parent == pid and state != "Z"]


def _alive_in_session(sid: int) -> list[int]:
    """Processes still running in session ``sid`` (a zombie has ended; its parent has not reaped it yet)."""
    return [pid for pid, state, _, session in _processes() if session == sid and state != "Z"]


def _until(what: Callable[[], object], *, within_s: float, step_s: float = 0.05) -> object:
    deadline = time.monotonic() + within_s
    while not (found := what()):
        if time.monotonic() > deadline:
            return found
        time.sleep(step_s)
    return found


def _gone(pid: int) -> bool:
    stat = _stat(pid)
    return stat is None or stat[0] == "Z"


_SEEN: set[int] = set()  # sessions of the children the running test met


def _default_signals() -> None:
    for number in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)


@contextlib.contextmanager
def _running(command: list[str]) -> Iterator[tuple[subprocess.Popen[bytes], _Lines, _Lines]]:
    """``command`` started with its stdout and stderr read line by line. Whatever the test saw, nothing of it outlives
    the test: the sessions of the children it met (:func:`_one_child`) are killed after it, as a harness bug would leave them."""
    # the default disposition of every signal under test, whatever this pytest inherited (under nohup SIGHUP is ignored,
    # and the harness rightly keeps a signal the user ignored ignored: see test_a_signal_the_user_ignored_stays_ignored)
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_default_signals)
    out, err = _Lines(process.stdout), _Lines(process.stderr)
    _SEEN.clear()
    try:
        yield process, out, err
    finally:
        process.kill()
        process.wait()
        for pid in (pid for pid, _, _, session in _processes() if session in _SEEN):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        out.join()
        err.join()
        for stream in (process.stdout, process.stderr):
            assert stream is not None
            stream.close()


class _Lines:
    """Lines of a stream, read by a thread, so that a test can wait for one without blocking forever."""

    def __init__(self, stream: IO[bytes] | None) -> None:
        assert stream is not None
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self.lines.append(raw.decode(errors="replace"))

    def wait_for(self, needle: str, *, within_s: float) -> str | None:
        found = _until(lambda: next((line for line in self.lines if needle in line), None), within_s=within_s)
        return found if isinstance(found, str) else None

    def join(self) -> None:
        self._thread.join(timeout=10)

    @property
    def text(self) -> str:
        self.join()
        return "".join(self.lines)


# A parent that runs a child the way bench does, and a child that starts a worker in its process group and waits,
# as a compiling child with inductor's compile workers does. Pure Python: starts in well under a second.
_CHILD = (
    "import subprocess, sys, time; worker = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
    "print('worker', worker.pid, file=sys.stderr, flush=True); time.sleep(600)"
)
_PARENT = f"""
import sys
from harness.bench.isolation import Interrupted, run_child, signals_interrupt
try:
    with signals_interrupt():
        run_child([sys.executable, "-c", {_CHILD!r}], timeout_s=600)
except Interrupted as exc:
    sys.exit(exc.exit_code)
except KeyboardInterrupt:
    sys.exit(130)
"""


@pytest.mark.parametrize(("number", "code"), SIGNALS, ids=IDS)
def test_a_signal_to_the_parent_ends_the_child_and_its_workers(number: int, code: int) -> None:
    with _running([sys.executable, "-c", _PARENT]) as (parent, _, err):
        line = err.wait_for("worker ", within_s=30)
        assert line, err.lines
        worker = int(line.split()[1])
        child = _one_child(parent)
        assert _stat(worker) is not None and _stat(worker)[2] == child  # type: ignore[index]  # the child's session, not ours
        parent.send_signal(number)
        assert parent.wait(timeout=30) == code
        assert _until(lambda: _gone(child) and _gone(worker), within_s=5), (_stat(child), _stat(worker))
        assert not _alive_in_session(child)


def _bench(results: Path, *argv: str, quiet: bool = True) -> list[str]:
    return [
        sys.executable,
        "-m",
        "harness",
        *(["-q"] if quiet else []),
        "bench",
        "--mode",
        "eager",
        "--model",
        "tiny",
        "--context-length",
        "64",
        "--results-dir",
        str(results),
        "--data-dir",
        str(ROOT / "trainingdata"),
        "--hyperparams-dir",
        str(ROOT / "hyperparams"),
        *argv,
    ]


def _one_child(parent: subprocess.Popen[bytes], *, within_s: float = 60) -> int:
    children = _until(lambda: _children(parent.pid), within_s=within_s)
    assert isinstance(children, list) and len(children) == 1, children
    child = int(children[0])
    _SEEN.add(child)  # its session id: a child of bench leads a session of its own
    return child


def _ends_cleanly(parent: subprocess.Popen[bytes], child: int, number: int, code: int) -> None:
    """``number`` to the parent alone (as `kill` sends it): it exits ``code`` and nothing of its child's session lives on."""
    parent.send_signal(number)
    assert parent.wait(timeout=60) == code
    assert _until(lambda: _gone(child) and not _alive_in_session(child), within_s=10), _alive_in_session(child)


@pytest.mark.parametrize(("number", "code"), SIGNALS, ids=IDS)
def test_a_signal_to_bench_ends_its_isolated_child(number: int, code: int, tmp_path: Path) -> None:
    """The isolated child (its own session, here hanging by --plant hang) ends with the parent; nothing is written."""
    with _running(_bench(tmp_path / "results", "--runs", "2", "--symbol", "GOOG", "--plant", "hang")) as (parent, _, err):
        child = _one_child(parent)
        assert _stat(child) is not None and _stat(child)[2] == child  # type: ignore[index]  # a session of its own
        time.sleep(1.0)  # the child is under way
        _ends_cleanly(parent, child, number, code)
        said = "interrupted" if number == signal.SIGINT else f"interrupted by {signal.Signals(number).name}"
        assert err.text.strip().splitlines() == [f"{said}: results already written are kept"]  # one line, the parent's
        assert not list((tmp_path / "results").glob("*.parquet"))


@pytest.mark.heavy(seconds=7)
def test_results_written_before_a_sigterm_are_kept(tmp_path: Path) -> None:
    """GOOG's row is written, then EURUSD's child hangs and the parent gets SIGTERM (5 s on an idle 2-core machine)."""
    results = tmp_path / "results"
    with _running(_bench(results, "--runs", "2", "--symbol", "GOOG", "--symbol", "EURUSD", "--plant", "hang:EURUSD")) as (
        parent,
        out,
        _,
    ):
        assert out.wait_for("GOOG eager: pass", within_s=120), out.lines
        child = _one_child(parent)  # EURUSD's, hanging
        time.sleep(1.0)
        _ends_cleanly(parent, child, signal.SIGTERM, 143)
        (row,) = read_records(results)
        assert (row.symbol, row.status) == ("GOOG", "pass")


@pytest.mark.slow  # the reproduction of the report: a child predicting at full speed
def test_sigterm_ends_a_child_that_is_predicting(tmp_path: Path) -> None:
    with _running(_bench(tmp_path / "results", "--runs", "1000000", "--symbol", "GOOG", quiet=False)) as (parent, _, err):
        assert err.wait_for("GOOG eager: started", within_s=120), err.lines
        child = _one_child(parent)
        time.sleep(2.0)  # predicting at full speed
        _ends_cleanly(parent, child, signal.SIGTERM, 143)
        assert "Traceback" not in err.text and err.lines[-1] == "interrupted by SIGTERM: results already written are kept\n"


def test_a_signal_the_user_ignored_stays_ignored() -> None:
    """``nohup python -m harness bench ...`` must survive the hangup it was started to survive."""
    code = (
        "import signal, os; signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
        "from harness.bench.isolation import signals_interrupt\n"
        "with signals_interrupt():\n    os.kill(os.getpid(), signal.SIGHUP)\n    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL\n"
        "assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL\nprint('survived')"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, timeout=60, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, b"survived"), done.stderr
