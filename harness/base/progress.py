"""Progress of long work (building a model, compiling, N timed predictions) that stays quiet in CI logs.

::

    with progress("BTCUSD eager", total=30, unit="predictions", logger=log) as bar:
        for ...:
            seconds = timed_call()          # measure first ...
            bar.advance(seconds=seconds)    # ... report after: never inside the timed region

    with progress("BTCUSD compiled: first call (compiles)", logger=log) as phase:   # no total: a phase
        ...
        phase.note = "failed"               # optional: appended to the final line

How it shows is chosen when the block starts:

* **quiet** -- the logger is not enabled for INFO (the CLI's ``-q``; a library caller that never configured
  logging): nothing at all. Warnings are not progress and are logged by the caller as before.
* **tty** -- the stream is a terminal (``stream.isatty()``, and ``TERM`` is not ``dumb``): one line rewritten in
  place with ``\\r``: count, total, percent, elapsed and the last detail, at most :data:`TTY_REFRESH_S` apart. A
  phase without a total shows its elapsed time, refreshed by a small daemon thread every :data:`TICK_S` while
  the main thread is busy (compiling); counted work is redrawn only by :meth:`Progress.advance`, so nothing runs
  beside a timed prediction. Log records that reach a handler writing to the same stream clear the line first,
  so a warning never lands in the middle of it. At the end the live line is erased and the summary logged (with
  an explicit ``stream``: the summary is written there, ending with a newline).
* **plain** -- anything else (CI logs, pipes, an isolated child whose stderr its parent captures): no carriage
  returns at all. One line when the work starts, one when it ends (with count, elapsed, median and failures),
  and for counted work at most three milestone lines in between: one when a further quarter of the total is
  done *and* at least :data:`PLAIN_EVERY_S` seconds have passed since the last line (whichever is rarer), so a
  30-second loop prints two lines and a 30-minute loop five. Without an explicit ``stream`` the lines are
  logged (same format and timestamps as every other log line); with one, they are written to it.

Whatever ends the block -- an exception included -- ends the line: the final line then says where it stopped
and what was raised, and the exception propagates unchanged.

Environment: ``HARNESS_PROGRESS`` = ``off`` (no progress output at all) | ``plain`` (the plain lines even on a
terminal) | ``tty`` (the live line even when the stream is not a terminal) | ``auto`` (the default: decide by
the stream). ``off`` always wins; an explicit ``tty=`` argument wins over ``plain``/``tty``; quiet logging wins
over everything. Note that bench runs are isolated by default in a child process whose stderr is read line by
line by its parent (:mod:`harness.bench.isolation`): the child sees a pipe and prints the plain lines.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Literal, TextIO

ENV_VAR = "HARNESS_PROGRESS"
TTY_REFRESH_S = 0.1  # the live line is redrawn at most 10 times a second
TICK_S = 0.25  # a phase's elapsed time on a terminal, while the main thread is busy
PLAIN_EVERY_S = 30.0  # plain mode: a milestone line at most this often ...
PLAIN_EVERY_FRACTION = 0.25  # ... and only when a further quarter of the total is done

Mode = Literal["off", "plain", "tty"]


def choose_mode(stream: TextIO, *, tty: bool | None, logger: logging.Logger) -> Mode:
    """How a progress block shows on ``stream`` (see the module docstring for the order of the rules)."""
    if not logger.isEnabledFor(logging.INFO):
        return "off"
    env = os.environ.get(ENV_VAR, "auto").strip().lower()
    if env == "off":
        return "off"
    if tty is not None:
        return "tty" if tty else "plain"
    if env in ("plain", "tty"):
        return "plain" if env == "plain" else "tty"
    return "tty" if _isatty(stream) and os.environ.get("TERM") != "dumb" else "plain"


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # closed or odd streams
        return False


def _columns(stream: TextIO) -> int:
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):  # not a real terminal (a test's fake, a closed stream)
        columns = 0
    return columns or shutil.get_terminal_size().columns  # a pseudo-terminal may say 0: $COLUMNS, else 80


def elapsed_text(seconds: float) -> str:
    """``0.42 s`` below 10 s, ``14.2 s`` below a minute, ``3m07s`` above."""
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


class Progress:
    """One block of work being reported; made by :func:`progress`, which starts and finishes it."""

    def __init__(
        self,
        label: str,
        total: int | None,
        *,
        unit: str,
        mode: Mode,
        stream: TextIO,
        to_logger: bool,
        logger: logging.Logger,
        clock: Callable[[], float],
    ) -> None:
        self.label, self.total, self.unit, self.mode = label, total, unit, mode
        self.count = 0
        self.failed = 0
        self.seconds: list[float] = []  # what advance() was told each step took (for the median)
        self.detail = ""
        self.note = ""  # appended to the final line
        self._stream, self._to_logger, self._logger, self._clock = stream, to_logger, logger, clock
        self._start = clock()
        self._lock = threading.RLock()
        self._drawn = 0  # characters of the live line now on the terminal (0: none)
        self._shown = ""  # and what they say
        self._last_draw = -float("inf")
        self._last_line = self._start  # plain mode: when the last line was printed
        self._quarters_shown = 0
        self._width = max(_columns(stream) - 1, 20) if mode == "tty" else 0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._filters: list[tuple[logging.Handler, logging.Filter]] = []

    @property
    def elapsed(self) -> float:
        return self._clock() - self._start

    def advance(self, n: int = 1, detail: str = "", *, seconds: float | None = None, failed: bool = False) -> None:
        """``n`` more steps done; ``seconds``: what the step took (measured by the caller), ``failed``: it failed."""
        with self._lock:
            self.count += n
            self.failed += int(failed)
            if seconds is not None:
                self.seconds.append(seconds)
            if detail:
                self.detail = detail
            if self.mode == "tty":
                self._draw(force=self._drawn == 0)  # just cleared for a log record: back at once
            elif self.mode == "plain":
                self._milestone()

    # -- tty --------------------------------------------------------------------------------------------------

    def _live_text(self) -> str:
        parts = [f"{self.label}:"]
        if self.total is not None:
            parts.append(f"{self.count}/{self.total} {self.unit}".rstrip())
            if self.total:
                parts.append(f"({100 * self.count // self.total}%)")
        elif self.count:
            parts.append(f"{self.count} {self.unit}".rstrip())
        else:
            parts.append("...")
        parts.append(elapsed_text(self.elapsed))
        if self.failed:
            parts.append(f"{self.failed} failed")
        if self.detail:
            parts.append(f"- {self.detail}")
        return " ".join(parts)

    def _draw(self, *, force: bool = False) -> None:
        now = self._clock()
        if not force and now - self._last_draw < TTY_REFRESH_S:
            return
        self._last_draw = now
        text = self._live_text()[: self._width]
        if text == self._shown and self._drawn:
            return
        self._shown = text
        self._write("\r" + text + " " * max(self._drawn - len(text), 0))
        self._drawn = len(text)

    def clear(self) -> None:
        """Erase the live line (a terminal only); the next update draws it again."""
        with self._lock:
            if self._drawn:
                self._write("\r" + " " * self._drawn + "\r")
                self._drawn = 0

    def _tick(self) -> None:
        while not self._stop.wait(TICK_S):
            with self._lock:
                if self._clock() - self._last_draw >= TICK_S:  # just cleared for a log record: let it through first
                    self._draw(force=True)

    def _write(self, text: str) -> None:
        with contextlib.suppress(ValueError, OSError):  # a closed stream must not turn progress into a failure
            self._stream.write(text)
            self._stream.flush()

    # -- plain ------------------------------------------------------------------------------------------------

    def _milestone(self) -> None:
        now = self._clock()
        if now - self._last_line < PLAIN_EVERY_S:
            return
        if self.total is not None:
            if not self.total or self.count >= self.total:
                return  # the final line says it
            quarters = int(self.count / self.total / PLAIN_EVERY_FRACTION)
            if quarters <= self._quarters_shown:
                return
            self._quarters_shown = quarters
        self._last_line = now
        self._line(f"{self.label}: {self._counted()} after {elapsed_text(now - self._start)}{self._stats()}")

    def _line(self, text: str) -> None:
        if self._to_logger:
            self._logger.info("%s", text)
        else:
            self._write(text + "\n")

    # -- both -------------------------------------------------------------------------------------------------

    def _counted(self) -> str:
        if self.total is None:
            return f"{self.count} {self.unit}".rstrip()
        percent = f" ({100 * self.count // self.total}%)" if self.total and self.count < self.total else ""
        return f"{self.count}/{self.total} {self.unit}".rstrip() + percent

    def _stats(self) -> str:
        text = f", median {statistics.median(self.seconds):.4f} s" if self.seconds else ""
        return text + (f", {self.failed} failed" if self.failed else "")

    def summary(self, error: BaseException | None = None) -> str:
        """The final line: what was done in how long (and, after an exception, where it stopped and why)."""
        took = elapsed_text(self.elapsed)
        counted = self.total is not None or self.count > 0
        if error is not None:
            where = f"stopped at {self._counted()} after {took}" if counted else f"stopped after {took}"
            text = f"{self.label}: {where}{self._stats()} ({type(error).__name__})"
        elif counted:
            text = f"{self.label}: {self._counted()} in {took}{self._stats()}"
        else:
            text = f"{self.label}: done in {took}"
        return text + (f", {self.note}" if self.note else "")

    def _begin(self) -> None:
        if self.mode == "plain":
            size = " (" + f"{self.total} {self.unit}".rstrip() + ")" if self.total is not None else ""
            self._line(f"{self.label}: started{size}")
        elif self.mode == "tty":
            self._hook_log_handlers()
            self._draw(force=True)
            if self.total is None:
                self._ticker = threading.Thread(target=self._tick, name="harness-progress", daemon=True)
                self._ticker.start()

    def _end(self, error: BaseException | None) -> None:
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join()
        if self.mode == "off":
            return
        text = self.summary(error)
        with self._lock:
            if self.mode == "tty":
                self._unhook_log_handlers()
                if self._to_logger:
                    self.clear()
                    self._logger.info("%s", text)
                else:
                    self._write("\r" + text + " " * max(self._drawn - len(text), 0) + "\n")
                    self._drawn = 0
            else:
                self._line(text)

    def _hook_log_handlers(self) -> None:
        """Every handler a record of ``logger`` reaches that writes to our stream clears the live line first."""
        progress = self

        class _ClearLine(logging.Filter):
            def filter(self, record: logging.LogRecord) -> bool:
                progress.clear()
                return True

        current: logging.Logger | None = self._logger
        while current is not None:
            for handler in current.handlers:
                if getattr(handler, "stream", None) is self._stream:
                    line_filter = _ClearLine()
                    handler.addFilter(line_filter)
                    self._filters.append((handler, line_filter))
            current = current.parent if current.propagate else None

    def _unhook_log_handlers(self) -> None:
        for handler, line_filter in self._filters:
            handler.removeFilter(line_filter)
        self._filters.clear()


@contextlib.contextmanager
def progress(
    label: str,
    total: int | None = None,
    *,
    unit: str = "",
    stream: TextIO | None = None,
    tty: bool | None = None,
    logger: logging.Logger | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Progress]:
    """Report the progress of the work inside the block (see the module docstring for how it shows).

    ``total``: steps expected (``None``: a phase, shown with its elapsed time). ``unit``: what a step is
    ("predictions"). ``stream``: where the live line goes (default ``sys.stderr``); given explicitly, the plain
    and final lines go there too instead of to ``logger`` (default ``harness.base.progress``), whose level decides
    quiet. ``tty``: force the live line (True) or the plain lines (False) instead of asking the stream.
    """
    log = logger or logging.getLogger("harness.base.progress")
    out = stream if stream is not None else sys.stderr
    mode = choose_mode(out, tty=tty, logger=log)
    bar = Progress(label, total, unit=unit, mode=mode, stream=out, to_logger=stream is None, logger=log, clock=clock)
    bar._begin()
    try:
        yield bar
    except BaseException as exc:
        bar._end(exc)
        raise
    bar._end(None)
