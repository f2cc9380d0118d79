"""Fault isolation: every way a run can die becomes a row with its status, and the other runs complete."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest

from harness.bench import isolation
from harness.bench.isolation import classify, run_child
from harness.cli.main import main
from harness.results.store import read_records
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("returncode", "status", "error_type"),
    [
        (None, "timeout", "Timeout"),
        (0, "ok", ""),
        (-signal.SIGSEGV, "fail_crash", "SIGSEGV"),
        (-signal.SIGABRT, "fail_crash", "SIGABRT"),
        (128 + signal.SIGSEGV, "fail_crash", "SIGSEGV"),  # the same death reported by a shell
        (-signal.SIGKILL, "oom", "SIGKILL"),
        (128 + signal.SIGTERM, "fail_crash", "SIGTERM"),  # a child ended from outside, by its own Interrupted handler
        (-signal.SIGTERM, "fail_crash", "SIGTERM"),
        (2, "usage", "exit 2"),
        (3, "fail_exception", "exit 3"),
    ],
)
def test_classify(returncode: int | None, status: str, error_type: str) -> None:
    assert classify(returncode, timeout_s=5)[:2] == (status, error_type)


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_hard_crash_is_fail_crash_with_the_stderr_tail() -> None:
    result = run_child(
        _python("import os, sys; sys.stderr.write('about to abort\\n'); sys.stderr.flush(); os.abort()"), timeout_s=30
    )
    assert (result.status, result.error_type) == ("fail_crash", "SIGABRT")
    assert "about to abort" in result.stderr_tail


def test_a_hang_is_killed_at_the_limit_and_is_timeout() -> None:
    result = run_child(_python("import time; time.sleep(600)"), timeout_s=0.5)
    assert result.status == "timeout" and result.returncode is None and 0.5 <= result.seconds < 10


def test_a_sigkill_reads_as_the_oom_killer() -> None:
    result = run_child(_python("import os, signal; os.kill(os.getpid(), signal.SIGKILL)"), timeout_s=30)
    assert result.status == "oom" and "out-of-memory killer" in result.message


def test_an_exit_without_a_row_is_fail_exception() -> None:
    result = run_child(_python("import sys; sys.stderr.write('boom\\n'); sys.exit(3)"), timeout_s=30)
    assert (result.status, result.returncode) == ("fail_exception", 3) and "boom" in result.stderr_tail


def _bench(tmp_path: Path, *argv: str) -> int:
    return main(
        [
            "-q",
            "bench",
            "--model",
            "tiny",
            "--runs",
            "2",
            "--context-length",
            "64",
            "--results-dir",
            str(tmp_path / "results"),
            "--data-dir",
            str(ROOT / "trainingdata"),
            "--hyperparams-dir",
            str(ROOT / "hyperparams"),
            *argv,
        ]
    )


@pytest.mark.heavy(seconds=17)
def test_planted_crash_in_compiled_mode_is_a_row_and_the_next_symbol_completes(tmp_path: Path) -> None:
    assert (
        _bench(
            tmp_path,
            "--mode",
            "compiled",
            "--backend",
            "eager",
            "--symbol",
            "GOOG",
            "--symbol",
            "EURUSD",
            "--fault",
            "crash:GOOG",
            "--no-warm-compile",
        )
        == 0
    )
    rows = {r.symbol: r for r in read_records(tmp_path / "results")}
    assert rows["GOOG"].status == "fail_crash" and rows["GOOG"].error_type == "SIGABRT" and rows["GOOG"].success_rate == 0.0
    assert rows["GOOG"].mode == "compiled" and rows["GOOG"].stderr_tail  # what the child said before dying
    assert rows["EURUSD"].status == "pass" and len(rows["EURUSD"].latencies_s) == 2
    assert rows["GOOG"].run_id == rows["EURUSD"].run_id  # one bench invocation, one run id


def test_a_child_past_the_time_limit_is_a_timeout_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent writes the row of a child it had to kill. The child here hangs before importing anything, so the test
    waits the limit and no more; a real child hanging at a planted fault is ended the same way in tests/cli/test_signals.py."""
    monkeypatch.setattr(isolation, "harness_command", lambda argv: _python("import time; time.sleep(600)"))
    assert _bench(tmp_path, "--mode", "eager", "--symbol", "GOOG", "--timeout", "0.5") == 0
    (row,) = read_records(tmp_path / "results")
    assert row.status == "timeout" and "0.5 s time limit" in row.error_message
    assert (row.symbol, row.mode, row.success_rate) == ("GOOG", "eager", 0.0)


@pytest.mark.parametrize(
    ("kind", "status", "error_type"), [("exception", "fail_exception", "InjectedFailure"), ("oom", "oom", "MemoryError")]
)
def test_planted_exceptions_are_recorded_by_the_run_itself(tmp_path: Path, kind: str, status: str, error_type: str) -> None:
    assert (
        _bench(tmp_path, "--mode", "eager", "--symbol", "GOOG", "--symbol", "EURUSD", "--fault", f"{kind}:GOOG", "--no-isolate")
        == 0
    )
    rows = {r.symbol: r for r in read_records(tmp_path / "results")}
    assert (rows["GOOG"].status, rows["GOOG"].error_type) == (status, error_type)
    assert rows["EURUSD"].status == "pass"


def test_a_model_the_child_cannot_load_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "-q",
            "bench",
            "--mode",
            "eager",
            "--model",
            str(tmp_path / "no-such-model"),
            "--results-dir",
            str(tmp_path / "results"),
            "--data-dir",
            str(ROOT / "trainingdata"),
            "--hyperparams-dir",
            str(ROOT / "hyperparams"),
        ]
    )
    assert code == 2
    assert "no-such-model" in capsys.readouterr().err


def _worker_gone(pid: int, *, within_s: float = 5) -> bool:
    """Whether process ``pid`` has ended (gone from /proc, or a zombie waiting for init to reap it)."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


_WITH_WORKER = (
    "import subprocess, sys, time; worker = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
    "print('worker', worker.pid, file=sys.stderr, flush=True); "
)


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads /proc (Linux)")
@pytest.mark.parametrize(
    ("ending", "status"),
    [
        ("import os; os.abort()", "fail_crash"),
        ("time.sleep(600)", "timeout"),
        ("import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)", "timeout"),
        ("sys.exit(0)", "ok"),
    ],
    ids=["crash", "hang", "hang-ignoring-sigterm", "exit"],
)
def test_no_worker_of_a_child_outlives_it(ending: str, status: str) -> None:
    """Inductor's compile workers live in the child's process group: however the child ends, they end too."""
    result = run_child(_python(_WITH_WORKER + ending), timeout_s=1.5, grace_s=0.5)
    assert result.status == status
    worker = int(result.stderr_tail.split("worker ", 1)[1].split()[0])
    assert _worker_gone(worker)
    assert result.seconds < 30


@pytest.mark.heavy(seconds=5)
def test_a_model_the_child_cannot_load_is_said_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{not json")
    code = _bench(tmp_path, "--mode", "eager", "--symbol", "GOOG", "--model", str(tmp_path / "model"))
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("could not be loaded") == 1, err  # by the child; the parent does not repeat it
