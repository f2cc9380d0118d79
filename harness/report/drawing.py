"""Draw the report's charts side by side. Each chart is a pure function of its data into one file, so a report of many
keys (one trend chart each: 30 keys, 33 charts of 0.3 to 2 s) draws them in forked worker processes, as many as there
are cores (at most 4). Elsewhere than Linux (fork is not safe on macOS), and for a single chart, one after another.
A chart that fails fails the report with its own exception, as drawn in this process. A worker ends itself within a
quarter of a second of its parent being gone (:mod:`harness.base.parent`)."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.base.parent import end_with_parent

MAX_WORKERS = 4


@dataclass(frozen=True)
class Drawing:
    """One chart to draw: ``draw(*args, **kwargs)`` writes it (a module-level function of :mod:`harness.report.plots`)."""

    draw: Callable[..., Path]
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)


def draw_all(drawings: Sequence[Drawing], *, workers: int | None = None) -> None:
    """Draw every chart; side by side where :func:`workers_for` allows."""
    count = workers_for(len(drawings)) if workers is None else workers
    if count <= 1:
        for drawing in drawings:
            drawing.draw(*drawing.args, **drawing.kwargs)
        return
    pool = ProcessPoolExecutor(
        max_workers=count,
        mp_context=multiprocessing.get_context("fork"),
        initializer=end_with_parent,  # a SIGKILLed report leaves no worker waiting for charts that never come
        initargs=(os.getpid(),),
    )
    try:
        futures = [pool.submit(drawing.draw, *drawing.args, **drawing.kwargs) for drawing in drawings]
        for future in futures:
            future.result()
    finally:
        pool.shutdown(cancel_futures=True)  # the first failure ends the report: nothing queued behind it is drawn


def workers_for(charts: int) -> int:
    """Processes to draw ``charts`` with: one per core up to :data:`MAX_WORKERS`, and never more than the charts."""
    if sys.platform != "linux":
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(MAX_WORKERS, cores, charts))
