"""Each bench run (symbol, mode, configuration) in its own child process, under a time limit.

A Python exception inside the child is recorded by the child itself: the runner turns it into a row. What the
child cannot record, the parent records from the outside: a hard crash (segfault, abort), a hang past the time
limit, a kill by the kernel's out-of-memory killer. Each becomes a row with its status, the signal or limit, and
the tail of the child's stderr, and the next run goes on. Never imports torch.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

STDERR_TAIL_LINES = 40
DEFAULT_TIMEOUT_S = 1800.0  # a cold compile of the 120M shape takes about a minute here; a hang takes forever


@dataclass(frozen=True, kw_only=True)
class ChildResult:
    """How a child ended, in the results' status vocabulary ("ok" when the child wrote its own row)."""

    status: str  # "ok" | "fail_crash" | "timeout" | "oom" | "fail_exception" | "usage"
    returncode: int | None  # None: killed by the parent at the time limit
    error_type: str
    message: str
    stderr_tail: str
    seconds: float


def classify(returncode: int | None, *, timeout_s: float) -> tuple[str, str, str]:
    """(status, error type, message) for a child's exit. Pure."""
    if returncode is None:
        return "timeout", "Timeout", f"no result within the {timeout_s:g} s time limit; the child was killed (raise it with --timeout)"
    if returncode == 0:
        return "ok", "", ""
    if returncode < 0 or returncode in (128 + signal.SIGKILL, 128 + signal.SIGSEGV, 128 + signal.SIGABRT):
        number = -returncode if returncode < 0 else returncode - 128
        name = _signal_name(number)
        if number == signal.SIGKILL:
            return "oom", name, "killed by SIGKILL, which is what the kernel's out-of-memory killer sends; check `dmesg` or lower the batch/context"
        return "fail_crash", name, f"the child process died of {name} (a hard crash: no Python exception to record)"
    if returncode == 2:
        return "usage", f"exit {returncode}", "the child refused its input"
    return "fail_exception", f"exit {returncode}", f"the child exited with status {returncode} without writing a result"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def harness_command(argv: Sequence[str]) -> list[str]:
    """``python -m harness <argv>`` with this interpreter."""
    return [sys.executable, "-m", "harness", *argv]


def run_child(command: Sequence[str], *, timeout_s: float = DEFAULT_TIMEOUT_S) -> ChildResult:
    """Run ``command`` in a new process group; its stderr is passed through live and its tail kept."""
    start = time.perf_counter()
    process = subprocess.Popen(list(command), stderr=subprocess.PIPE, start_new_session=True)
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    reader = threading.Thread(target=_pump, args=(process, tail), daemon=True)
    reader.start()
    try:
        returncode: int | None = process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill(process)
        returncode = None
    except BaseException:  # Ctrl-C: take the child down with us, then let the interrupt through
        _kill(process)
        raise
    reader.join(timeout=5)
    if process.stderr is not None:
        process.stderr.close()
    status, error_type, message = classify(returncode, timeout_s=timeout_s)
    return ChildResult(status=status, returncode=returncode, error_type=error_type, message=message,
                       stderr_tail="".join(tail)[-8000:], seconds=time.perf_counter() - start)


def _pump(process: subprocess.Popen[bytes], tail: collections.deque[str]) -> None:
    assert process.stderr is not None
    for raw in iter(process.stderr.readline, b""):
        line = raw.decode(errors="replace")
        tail.append(line)
        sys.stderr.write(line)
    sys.stderr.flush()


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # the whole group: inductor's compile workers too
    process.wait()
