"""Change points in a key's history (PELT): found where a level moved and stayed, not in noise, and named by
compare and the report."""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import numpy as np
import pytest

from harness.cli.main import main
from harness.gate.changepoints import change_points, changes, segment
from harness.gate.history import series
from harness.results.schema import RunRecord
from harness.results.store import write_records
from tests.factories import make_record, record_baselines


def test_a_step_is_found_where_it_starts() -> None:
    rng = np.random.default_rng(0)
    values = list(1.0 + rng.normal(0, 0.01, 12)) + list(0.88 + rng.normal(0, 0.01, 8))
    assert change_points(values) == [12]


@pytest.mark.parametrize("seed", range(5))
def test_noise_alone_has_no_change_point(seed: int) -> None:
    values = list(1.0 + np.random.default_rng(seed).normal(0, 0.02, 40))
    assert change_points(values) == []


def test_a_step_smaller_than_the_minimum_shift_is_not_reported() -> None:
    values = [1.0] * 10 + [1.01] * 10  # a clean step, but 1%: under the 3% a change must move
    assert change_points(values) == []
    assert change_points(values, min_shift=0.005) == [10]


def test_one_outlier_is_not_a_change_and_short_or_broken_series_give_none() -> None:
    rng = np.random.default_rng(1)
    values = list(1.0 + rng.normal(0, 0.01, 20))
    values[9] = 1.4
    assert change_points(values) == []
    assert change_points([1.0, 2.0, 2.0]) == []
    assert change_points([1.0, 1.0, float("nan"), 2.0, 2.0, 2.0]) == []


def _optimal_ends(signal: np.ndarray, penalty: float, min_size: int) -> tuple[list[int], float]:
    """Optimal partitioning by brute force (Jackson et al. 2005, O(n^2)): what PELT must equal exactly."""
    n = len(signal)
    best, last = [math.inf] * (n + 1), [0] * (n + 1)
    best[0] = -penalty
    for end in range(min_size, n + 1):
        for start in range(0, end - min_size + 1):
            if math.isfinite(best[start]):
                part = signal[start:end]
                value = best[start] + float(((part - part.mean()) ** 2).sum()) + penalty
                if value < best[end] - 1e-9:
                    best[end], last[end] = value, start
    ends = [n]
    while last[ends[-1]] > 0:
        ends.append(last[ends[-1]])
    return ends[::-1], best[n]


@pytest.mark.parametrize("seed", range(4))
def test_pelt_finds_the_optimal_segmentation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(60):
        n, min_size, penalty = int(rng.integers(2, 50)), int(rng.integers(1, 6)), float(rng.uniform(0.5, 15.0))
        signal = rng.normal(0, 1, n) + np.repeat(rng.normal(0, 3, 5), n // 5 + 1)[:n]
        assert segment(signal, penalty=penalty, min_size=min_size) == _optimal_ends(signal, penalty, min_size)[0]


def test_pelt_agrees_with_ruptures() -> None:
    import ruptures

    rng = np.random.default_rng(7)
    for _ in range(40):
        n = int(rng.integers(6, 150))
        signal = rng.normal(0, 1, n) + np.where(np.arange(n) >= n // 2, rng.choice([0.0, 6.0]), 0.0)
        reference = ruptures.Pelt(model="l2", min_size=3, jump=1).fit(signal.reshape(-1, 1)).predict(pen=5 * math.log(n))
        assert segment(signal, penalty=5 * math.log(n), min_size=3) == reference


def test_thousands_of_runs_are_segmented_in_well_under_a_second() -> None:
    rng = np.random.default_rng(4)
    values = list(1.0 + rng.normal(0, 0.02, 3000)) + list(1.2 + rng.normal(0, 0.02, 2000))
    began = time.perf_counter()
    assert change_points(values) == [3000]
    assert time.perf_counter() - began < 2.0  # ruptures' PELT: about 4 s at 2,500 runs; this one: about 0.1 s at 5,000


def _night(index: int, compiled_s: float, rng: np.random.Generator) -> list[RunRecord]:
    stamp = f"2026-11-{index + 1:02d}T03:17"
    eager = make_record(
        "eager",
        latencies=list(0.1 * (1 + rng.uniform(-0.01, 0.01, 20))),
        run_id=f"e{index:02d}",
        timestamp_utc=f"{stamp}:00+00:00",
    )
    compiled = make_record(
        "compiled",
        latencies=list(compiled_s * (1 + rng.uniform(-0.01, 0.01, 20))),
        paired_eager_latencies_s=list(0.1 * (1 + rng.uniform(-0.01, 0.01, 20))),
        run_id=f"c{index:02d}",
        timestamp_utc=f"{stamp}:30+00:00",
        git_commit=f"commit{index:02d}",
    )
    return [eager, compiled]


def _history(directory: Path, nights: int = 14, change_at: int = 9) -> Path:
    rng = np.random.default_rng(2)
    for index in range(nights):
        write_records(_night(index, 0.050 if index < change_at else 0.065, rng), directory / f"n{index:02d}", name="run")
    return directory


def test_history_changes_name_the_run_and_commit_where_the_level_moved(tmp_path: Path) -> None:
    from harness.results.store import read_records

    (history,) = series(read_records(_history(tmp_path)))
    found = {change.metric: change for change in changes(history)}
    assert set(found) == {"speedup", "compiled latency"}
    assert found["compiled latency"].run_id == "c09" and found["compiled latency"].commit == "commit09"
    assert found["compiled latency"].relative == pytest.approx(0.3, abs=0.02)
    assert found["speedup"].relative == pytest.approx(-0.3 / 1.3, abs=0.02)


def test_compare_says_when_the_regression_began(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history = _history(tmp_path / "history")
    baselines = tmp_path / "baselines"
    record_baselines(history / "n00", baselines)
    capsys.readouterr()
    latest = ["--results-dir", str(history / "n13"), "--baselines-dir", str(baselines)]
    assert main(["compare", *latest, "--history-dir", str(history)]) == 1
    out = capsys.readouterr().out
    assert (
        "history: this regression began at speedup" in out and "from run c09" in out and "commit09" in out
    )  # +20% latency is inside 25%
    assert main(["compare", *latest]) == 1
    assert "history:" not in capsys.readouterr().out  # no --history-dir, nothing claimed


def test_report_marks_the_change_point_in_the_trend_and_names_it(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    history = _history(tmp_path / "history")
    out = tmp_path / "report"
    assert (
        main(["-q", "report", "--results-dir", str(history), "--baselines-dir", str(tmp_path / "none"), "--output", str(out)])
        == 0
    )
    text = (out / "index.md").read_text()
    assert "Change points (PELT" in text and "from run c09" in text
    assert list(out.glob("trend-*.png"))


def test_an_old_improvement_is_not_where_a_regression_began(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(3)
    levels = [0.060] * 6 + [0.050] * 8  # faster from run 6 on: an improvement, the only change
    for index, level in enumerate(levels):
        write_records(_night(index, level, rng), tmp_path / "history" / f"n{index:02d}", name="run")
    baselines = tmp_path / "baselines"
    record_baselines(tmp_path / "history" / "n00", baselines)
    from harness.cli.compare import began, load_histories
    from harness.gate.baseline_files import load_baselines
    from harness.gate.checks import check as gate_check
    from harness.gate.comparison import build_comparisons
    from harness.results.store import read_records

    (comparison,), _ = build_comparisons(read_records(tmp_path / "history" / "n13"))
    histories = load_histories(tmp_path / "history", confidence=0.95)
    recorded = [b for b, _ in load_baselines(baselines).values()]
    faster = [dataclasses.replace(b, speedup=(b.speedup or 0.0) * 1.5) for b in recorded]  # a speedup regression
    checked = gate_check(comparison, faster)
    lines = began(comparison, checked, histories)
    assert lines and all("began at" not in line for line in lines)  # the only change was for the better
    assert "no change point in speedup" in lines[0]
