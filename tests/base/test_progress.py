"""Progress output: a live line on a terminal, a few plain lines anywhere else, nothing when quiet."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from harness.base import progress as progress_module
from harness.base.progress import ENV_VAR, PLAIN_EVERY_S, Progress, elapsed_text, progress
from tests.conftest import ROOT


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _info(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Logging as the CLI sets it up without -q (INFO), and no override from the environment."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    caplog.set_level(logging.INFO, logger="harness")


def test_plain_has_no_carriage_returns_and_few_lines() -> None:
    out = io.StringIO()
    with progress("BTCUSD eager", total=1000, unit="predictions", stream=out) as bar:
        for i in range(1000):
            bar.advance(seconds=0.01 + i * 1e-6, detail=f"call {i}")
    text = out.getvalue()
    lines = text.splitlines()
    assert "\r" not in text and text.endswith("\n")
    assert len(lines) <= 6
    assert lines[0] == "BTCUSD eager: started (1000 predictions)"
    assert lines[-1].startswith("BTCUSD eager: 1000/1000 predictions in ") and "median 0.0105 s" in lines[-1]


def test_plain_milestones_every_quarter_but_not_more_often_than_every_30_s() -> None:
    out, clock = io.StringIO(), Clock()
    with progress("slow", total=100, unit="steps", stream=out, clock=clock) as bar:
        for _ in range(100):
            clock.now += 1.0  # 100 s in all: quarters at 25, 50, 75 s, but never two lines within 30 s
            bar.advance(seconds=1.0)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[0] == "slow: started (100 steps)"
    assert lines[1:-1] == [
        "slow: 30/100 steps (30%) after 30.0 s, median 1.0000 s",
        "slow: 60/100 steps (60%) after 1m00s, median 1.0000 s",
        "slow: 90/100 steps (90%) after 1m30s, median 1.0000 s",
    ]
    assert lines[-1] == "slow: 100/100 steps in 1m40s, median 1.0000 s"


def test_plain_short_loop_is_two_lines() -> None:
    out, clock = io.StringIO(), Clock()
    with progress("quick", total=40, unit="steps", stream=out, clock=clock) as bar:
        for _ in range(40):
            clock.now += PLAIN_EVERY_S / 41  # the whole loop within 30 s: no milestone
            bar.advance()
    assert len(out.getvalue().splitlines()) == 2


def test_tty_updates_in_place_throttled_and_ends_with_a_newline() -> None:
    out, clock = FakeTTY(), Clock()
    with progress("BTCUSD compiled", total=100, unit="predictions", stream=out, clock=clock) as bar:
        for i in range(100):
            clock.now += 0.05  # 20 advances a second: drawn at most 10 times a second
            bar.advance(seconds=0.05, detail=f"{i}")
    text = out.getvalue()
    assert text.startswith("\rBTCUSD compiled: 0/100 predictions (0%)")
    assert 10 <= text.count("\r") <= 1 + 100 // 2 + 2  # the first draw, then every other advance, then the final line
    assert text.endswith("\n") and text.count("\n") == 1
    assert text.rsplit("\r", 1)[-1].startswith("BTCUSD compiled: 100/100 predictions in 5.00 s, median 0.0500 s")


def test_tty_phase_shows_elapsed_time_while_the_caller_is_busy() -> None:
    out = FakeTTY()
    with progress("GOOG compiled: first call (compiles)", stream=out):
        time.sleep(0.8)  # a compile: no advance() at all, the ticker redraws
    text = out.getvalue()
    assert text.count("\r") >= 3 and "GOOG compiled: first call (compiles): ... " in text
    assert text.endswith("\n") and "GOOG compiled: first call (compiles): done in 0.8" in text.rsplit("\r", 1)[-1]


@pytest.mark.parametrize("stream", [io.StringIO, FakeTTY])
def test_quiet_logging_prints_nothing(stream: type[io.StringIO], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="harness")  # the CLI's -q
    out = stream()
    with progress("x", total=10, stream=out) as bar, progress("y", stream=out, tty=True):
        for _ in range(10):
            bar.advance()
    assert out.getvalue() == ""


@pytest.mark.parametrize(
    ("env", "stream", "carriage_returns"), [("plain", FakeTTY, False), ("tty", io.StringIO, True), ("auto", FakeTTY, True)]
)
def test_environment_override(
    env: str, stream: type[io.StringIO], carriage_returns: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, env)
    monkeypatch.setenv("TERM", "xterm")
    out = stream()
    with progress("x", total=3, stream=out) as bar:
        bar.advance(3)
    assert ("\r" in out.getvalue()) is carriage_returns and out.getvalue().endswith("\n")


def test_environment_off_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "off")
    out = FakeTTY()
    with progress("x", total=3, stream=out, tty=True) as bar:
        bar.advance(3)
    assert out.getvalue() == ""


@pytest.mark.parametrize("stream", [io.StringIO, FakeTTY])
def test_an_exception_still_ends_the_line(stream: type[io.StringIO]) -> None:
    out = stream()

    def three_then_fail() -> None:
        with progress("BTCUSD eager", total=10, unit="predictions", stream=out) as bar:
            for i in range(10):
                if i == 3:
                    raise RuntimeError("boom")
                bar.advance(seconds=0.01)

    with pytest.raises(RuntimeError, match="boom"):
        three_then_fail()
    text = out.getvalue()
    assert text.endswith("\n")
    last = text.splitlines()[-1].rsplit("\r", 1)[-1].rstrip()
    assert last.startswith("BTCUSD eager: stopped at 3/10 predictions (30%) after ") and last.endswith("(RuntimeError)")


def test_a_log_record_clears_the_live_line_first() -> None:
    out = FakeTTY()
    logger = logging.getLogger("harness.test-progress")
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    try:
        with progress("x", total=4, stream=out, logger=logger) as bar:
            bar.advance()
            logger.warning("x: prediction 2 failed")
            bar.advance()
        assert handler.filters == []  # unhooked at the end
    finally:
        logger.removeHandler(handler)
    text = out.getvalue()
    before, after = text.split("WARNING x: prediction 2 failed\n")
    assert (
        before.startswith("\rx: 0/4 (0%)") and before.endswith("\r") and before.count("\r") == 3
    )  # drawn, erased, warning at column 0
    assert after.startswith("\rx: 2/4 (50%)")  # drawn again at once


def test_without_a_stream_the_lines_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("harness.test-progress")
    with progress("GOOG eager", total=2, unit="predictions", tty=False, logger=logger) as bar:
        bar.advance(2, seconds=0.5)
    messages = [r.getMessage() for r in caplog.records if r.name == "harness.test-progress"]
    assert messages[0] == "GOOG eager: started (2 predictions)" and messages[-1].startswith("GOOG eager: 2/2 predictions in ")
    assert all(r.levelno == logging.INFO for r in caplog.records)


def test_elapsed_text() -> None:
    assert (elapsed_text(0.0123), elapsed_text(14.26), elapsed_text(187.9)) == ("0.01 s", "14.3 s", "3m07s")


def test_runner_reports_progress_only_outside_the_timed_call(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A tiny eager run with the live line forced: no progress write happens while a prediction is being timed."""
    import harness.bench.runner as runner
    from harness.bench.spec import RunSpec
    from harness.data.params import resolve_params
    from harness.data.window import bench_window, load_ohlc
    from harness.model import forecast
    from harness.model.loading import resolve_model

    monkeypatch.setenv(ENV_VAR, "tty")
    inside = {"now": False, "writes_inside": 0, "writes": 0}
    real_predict, real_write = forecast.predict, Progress._write

    def predict(*args: object, **kwargs: object) -> np.ndarray:
        inside["now"] = True
        try:
            return real_predict(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            inside["now"] = False

    def write(self: Progress, text: str) -> None:
        inside["writes"] += 1
        inside["writes_inside"] += inside["now"] and self.total is not None  # a phase's ticker may run, counted work must not
        real_write(self, text)

    monkeypatch.setattr(runner, "predict", predict)
    monkeypatch.setattr(progress_module.Progress, "_write", write)
    params = resolve_params("GOOG", ROOT / "hyperparams", model="tiny", context_length=64)
    series = load_ohlc(ROOT / "trainingdata", "GOOG")
    window = bench_window(series, rows=200, horizon=params.prediction_length, context_length=params.context_length)
    spec = RunSpec(mode="eager", series=series, window=window, params=params, source=resolve_model("tiny"), runs=5, run_id="t")
    record = runner.run(spec)
    assert record.status == "pass" and len(record.latencies_s) == 5
    assert inside["writes"] > 0 and inside["writes_inside"] == 0
    messages = [r.getMessage() for r in caplog.records if r.name == "harness.bench.runner"]
    assert any(m.startswith("GOOG eager: 5/5 predictions in ") and "median" in m for m in messages)
    assert not any("prediction 1" in m for m in messages)  # no line per prediction any more


@pytest.mark.heavy(seconds=7)
def test_a_real_bench_has_no_carriage_returns_in_its_captured_stderr(tmp_path: Path) -> None:
    """The CLI, isolated child and all, with stderr a pipe (a CI log): plain lines only, a handful of them."""
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR} | {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    argv = [
        sys.executable,
        "-m",
        "harness",
        "bench",
        "--mode",
        "eager",
        "--model",
        "tiny",
        "--symbol",
        "GOOG",
        "--runs",
        "20",
        "--context-length",
        "64",
        "--results-dir",
        str(tmp_path / "results"),
        "--data-dir",
        str(ROOT / "trainingdata"),
        "--hyperparams-dir",
        str(ROOT / "hyperparams"),
    ]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr
    lines = done.stderr.splitlines()
    assert any("GOOG eager: 20/20 predictions in " in line for line in lines), done.stderr
    assert len(lines) <= 8, done.stderr  # first call, 20 predictions, float64 reference: start and end lines each
