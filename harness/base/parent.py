"""A process that must not outlive the process that started it: a daemon thread that ends it once its parent is gone.

A SIGKILLed parent (a CI job cancelled, a runner out of memory) cannot end its children. A child that watches
``getppid()`` notices within :data:`WATCH_EVERY_S` that it was re-parented and ends itself. Linux and macOS."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

WATCH_EVERY_S = 0.25


def end_with_parent(parent: int, *, deadline: float = float("inf"), before: Callable[[], None] | None = None) -> None:
    """From now on, this process exits (status 137) within :data:`WATCH_EVERY_S` of ``parent`` (a pid) being gone or
    of ``deadline`` (a ``time.time()``) passing, after calling ``before`` (which may end other processes too)."""

    def watch() -> None:
        while os.getppid() == parent and time.time() < deadline:
            time.sleep(WATCH_EVERY_S)
        if before is not None:
            before()
        os._exit(137)

    threading.Thread(target=watch, name="harness-end-with-parent", daemon=True).start()
