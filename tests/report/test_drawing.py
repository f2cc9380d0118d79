"""harness.report.drawing: charts drawn side by side in forked workers are the charts drawn one after another; a chart
that fails fails the report with its own error; no worker outlives a SIGKILLed report."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.report.drawing import Drawing, draw_all, workers_for
from tests.bench.test_orphans import _alive, _children
from tests.conftest import ROOT


def _full_disk(path: Path) -> Path:
    raise OSError(errno.ENOSPC, "No space left on device", str(path))


def _slow(path: Path) -> Path:
    time.sleep(60)
    return path


def _trend_drawings(out: Path) -> list[Drawing]:
    pytest.importorskip("matplotlib")
    from harness.gate.history import series
    from harness.report import plots
    from tests.report.test_report_page import three_nights

    return [Drawing(plots.trend, (history, None, out / f"trend-{n}.png")) for n, history in enumerate(series(three_nights()))]


def test_charts_drawn_side_by_side_are_the_charts_drawn_one_by_one(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    draw_all(_trend_drawings(tmp_path / "one"), workers=1)
    draw_all(_trend_drawings(tmp_path / "two"), workers=2)
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert len(names) == 2 and names == sorted(p.name for p in (tmp_path / "two").iterdir())
    assert all((tmp_path / "one" / n).read_bytes() == (tmp_path / "two" / n).read_bytes() for n in names)


def test_a_chart_that_fails_fails_the_report_with_its_own_error(tmp_path: Path) -> None:
    drawings = [Drawing(_full_disk, (tmp_path / "a.png",)), *_trend_drawings(tmp_path)]
    with pytest.raises(OSError, match="No space left") as caught:
        draw_all(drawings, workers=2)
    assert caught.value.errno == errno.ENOSPC


def test_workers_are_one_per_core_at_most_four_and_never_more_than_the_charts() -> None:
    assert workers_for(1) == 1
    if sys.platform == "linux":
        assert workers_for(100) == min(4, len(os.sched_getaffinity(0)))
    else:
        assert workers_for(100) == 1


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_no_drawing_worker_outlives_a_sigkilled_report(tmp_path: Path) -> None:
    code = (
        "from pathlib import Path; from harness.report.drawing import Drawing, draw_all; "
        "from tests.report.test_drawing import _slow; "
        f"draw_all([Drawing(_slow, (Path({str(tmp_path)!r}) / f'{{n}}.png',)) for n in range(4)], workers=2)"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while len(workers := _children(parent.pid, running="draw_all")) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workers) == 2, "the drawing workers never started"
        time.sleep(0.5)  # inside a chart
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        gone_by = time.monotonic() + 3
        while any(_alive(w) for w in workers) and time.monotonic() < gone_by:
            time.sleep(0.05)
        assert not any(_alive(w) for w in workers), "a drawing worker outlived its SIGKILLed report by more than 3 s"
    finally:
        for pid in [parent.pid, *_children(parent.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
