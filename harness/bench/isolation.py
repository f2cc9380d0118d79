"""Each bench run (symbol, mode, configuration) in its own child process, under a time limit.

A Python exception inside the child is recorded by the child itself: the runner turns it into a row. What the
child cannot record, the parent records from the outside: a hard crash (segfault, abort), a hang past the time
limit, a kill by the kernel's out-of-memory killer. Each becomes a row with its status, the signal or limit, and
the tail of the child's stderr, and the next run goes on. Never imports torch.

A child starts in its own session, so a Ctrl-C at the terminal reaches only the parent. Whatever ends the parent
(SIGINT, SIGTERM, SIGHUP: see :func:`signals_interrupt`) ends the child's whole process group on the way out,
inductor's compile workers included; so does a time limit, and a child that exits leaves no worker behind.
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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.base.errors import InputError
from harness.base.parent import end_with_parent

STDERR_TAIL_LINES = 40
DEFAULT_TIMEOUT_S = 1800.0  # a cold compile of the 120M shape takes about a minute here; a hang takes forever
STOP_GRACE_S = 5.0  # SIGTERM first (the child removes its temporary inductor cache), SIGKILL after this long
INTERRUPTING = ("SIGTERM", "SIGHUP")  # besides SIGINT, which Python already turns into KeyboardInterrupt


class Interrupted(BaseException):
    """SIGTERM or SIGHUP reached this process: raised where it was, like KeyboardInterrupt for SIGINT.

    A BaseException, so that no ``except Exception`` (a failing prediction is data) swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return _signal_name(self.signum)

    @property
    def exit_code(self) -> int:
        """128 + the signal's number, as a shell reports a process the signal ended: 143 for SIGTERM, 129 for SIGHUP."""
        return 128 + self.signum


class ChildRefused(InputError):
    """The child refused its input (exit 2) and has already said why on stderr: the parent exits 2 without repeating it."""


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise :class:`Interrupted` in the main thread, so that ``finally`` blocks
    run and :func:`run_child` takes its child down. A signal the process was told to ignore (``nohup``) stays
    ignored; outside the main thread nothing changes (Python delivers signals to the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    previous = {}
    for name in INTERRUPTING:
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is signal.SIG_DFL:
            previous[number] = signal.signal(number, interrupt)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


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
        return (
            "timeout",
            "Timeout",
            f"no result within the {timeout_s:g} s time limit; the child was killed (raise it with --timeout)",
        )
    if returncode == 0:
        return "ok", "", ""
    ended = {signal.SIGINT, *(getattr(signal, name) for name in INTERRUPTING if hasattr(signal, name))}  # TERM, HUP
    if returncode < 0 or returncode - 128 in (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, *ended):
        number = -returncode if returncode < 0 else returncode - 128
        name = _signal_name(number)
        if number == signal.SIGKILL:
            return (
                "oom",
                name,
                "killed by SIGKILL, which is what the kernel's out-of-memory killer sends; check `dmesg` or lower the batch/context",
            )
        if number in ended:  # a child ends itself with 128 + the signal's number (see Interrupted)
            return "fail_crash", name, f"the child process was ended by {name} from outside (not by this harness)"
        return "fail_crash", name, f"the child process died of {name} (a hard crash: no Python exception to record)"
    if returncode == 2:
        return "usage", f"exit {returncode}", "the child refused its input"
    return "fail_exception", f"exit {returncode}", f"the child exited with status {returncode} without writing a result"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


PARENT_ENV = "HARNESS_PARENT_PID"
DEADLINE_ENV = "HARNESS_DEADLINE"


def start_watchdog(*, cleanup: Path | None = None) -> bool:
    """In an isolated child: a daemon thread that ends this child's whole process group (compile workers included)
    when the parent that started it is gone (a SIGKILL, a CI job cancelled) or the child's own deadline passed (a
    hang the parent can no longer time out), removing ``cleanup`` (the parent's spec folder) first. Linux and macOS:
    the parent is gone when ``getppid()`` changes. Returns whether it started (only under :func:`run_child`)."""
    parent = os.environ.get(PARENT_ENV, "")
    if not parent.isdigit():
        return False
    try:
        deadline = float(os.environ.get(DEADLINE_ENV, "inf"))
    except ValueError:
        deadline = float("inf")

    def before() -> None:
        if cleanup is not None:
            import shutil

            shutil.rmtree(cleanup, ignore_errors=True)
        with contextlib.suppress(OSError):
            if os.getpgrp() == os.getpid():  # the group this child leads (start_new_session): it and its workers
                os.killpg(os.getpid(), signal.SIGKILL)

    end_with_parent(int(parent), deadline=deadline, before=before)
    return True


def harness_command(argv: Sequence[str]) -> list[str]:
    """``python -m harness <argv>`` with this interpreter."""
    return [sys.executable, "-m", "harness", *argv]


def run_child(
    command: Sequence[str],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    grace_s: float = STOP_GRACE_S,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> ChildResult:
    """Run ``command`` in a new session; its stderr is passed through live and its tail kept.

    However it ends -- exit, crash, time limit, or an interrupt of this process (KeyboardInterrupt,
    :class:`Interrupted`, which propagate after) -- the child's whole process group is gone when this returns.
    """
    start = time.perf_counter()
    watched = {  # the child's watchdog (start_watchdog) ends its group when this process is gone or time is up
        **(dict(env) if env is not None else os.environ),
        PARENT_ENV: str(os.getpid()),
        DEADLINE_ENV: f"{time.time() + timeout_s + grace_s + 5.0:.3f}",
    }
    process = subprocess.Popen(list(command), stderr=subprocess.PIPE, start_new_session=True, cwd=cwd, env=watched)
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    echo = threading.Event()
    echo.set()
    reader = threading.Thread(target=_pump, args=(process, tail, echo), daemon=True)
    reader.start()
    try:
        try:
            exited = _exited_within(process, timeout_s)
        except BaseException:  # Ctrl-C, SIGTERM, SIGHUP: take the child's group down with us, then let the interrupt through
            echo.clear()  # the child's own "interrupted" line would repeat ours
            _end_group(process, grace_s=grace_s)
            raise
        _end_group(process, grace_s=0.0 if exited else grace_s)  # after an exit: workers a crashed child left behind
    finally:
        reader.join(timeout=5)
        if process.stderr is not None:
            process.stderr.close()
    returncode = process.returncode if exited else None
    status, error_type, message = classify(returncode, timeout_s=timeout_s)
    return ChildResult(
        status=status,
        returncode=returncode,
        error_type=error_type,
        message=message,
        stderr_tail="".join(tail)[-8000:],
        seconds=time.perf_counter() - start,
    )


def _pump(process: subprocess.Popen[bytes], tail: collections.deque[str], echo: threading.Event) -> None:
    assert process.stderr is not None
    for raw in iter(process.stderr.readline, b""):
        line = raw.decode(errors="replace")
        tail.append(line)
        if echo.is_set():
            sys.stderr.write(line)
    sys.stderr.flush()


def _exited(process: subprocess.Popen[bytes]) -> bool:
    """Whether the child has exited, without reaping it: while it stays a zombie its pid, which is also its process
    group's id, cannot be given to another process, so signalling the group cannot hit a stranger."""
    if hasattr(os, "waitid"):
        return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    return process.poll() is not None  # no waitid (macOS): reaped here, the group id is reused only after a pid wrap


def _exited_within(process: subprocess.Popen[bytes], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    delay = 0.0005
    while not _exited(process):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.05)
    return True


def _end_group(process: subprocess.Popen[bytes], *, grace_s: float) -> None:
    """End the child's process group (inductor's compile workers too) and reap the child.

    A child still running gets SIGTERM and ``grace_s`` seconds to clean up; then whatever is left of the group,
    the child included, gets SIGKILL. Reaping comes last (see :func:`_exited`). A second interrupt during the grace
    period only cuts it short.
    """
    try:
        if grace_s > 0 and not _exited(process):
            _signal_group(process.pid, signal.SIGTERM)
            _exited_within(process, grace_s)
    finally:
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()


def _signal_group(pgid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # nobody left in the group
        os.killpg(pgid, number)
