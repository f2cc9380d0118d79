"""harness.gate.onset and the change points' commits: where a regression began, named by its first bad and last good
commit, from hand-made histories whose answer is known in advance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.gate.changepoints import changes
from harness.gate.history import Series, series
from harness.gate.onset import culprits, onset
from harness.results.store import read_records
from tests.gitrepo import night

A, B, C = "a" * 40, "b" * 40, "c" * 40


def _history(tmp_path: Path, plan: list[tuple[str, float]]) -> Series:
    """One run per (commit, compiled seconds) of ``plan``, a night apart."""
    for index, (commit, compiled_s) in enumerate(plan):
        night(tmp_path / f"n{index:02d}", commit_hash=commit, index=index, compiled_s=compiled_s)
    (history,) = series(read_records(tmp_path))
    return history


def test_the_words_for_a_pair_of_commits() -> None:
    assert culprits(B, A) == "first bad commit bbbbbbbbbb, last good commit aaaaaaaaaa"
    assert culprits(B, None) == "first bad commit bbbbbbbbbb, no good run before it in the history"
    assert "not a change of this repository's code" in culprits(A, A)
    assert culprits("", A).startswith("first bad commit unknown")


def test_onset_is_the_streak_of_failing_runs_up_to_the_latest(tmp_path: Path) -> None:
    history = _history(tmp_path, [(A, 0.05), (A, 0.05), (B, 0.08), (C, 0.08)])
    found = onset(history, "speedup", [True, False, True, True])  # an old failure, then good, then failing since B
    assert found is not None and found.failing == 2
    assert found.first_bad.commit == B and found.last_good is not None and found.last_good.commit == A
    assert found.describe().endswith(f"(good in run c01): {culprits(B, A)}")
    assert "in the last 2 run(s), since run c02 (2026-11-03T03:17:30)" in found.describe()
    assert onset(history, "speedup", [True, True, False, False]) is None  # the latest holds: nothing began
    everything = onset(history, "speedup", [True] * 4)
    assert everything is not None and everything.last_good is None and everything.first_bad.run_id == "c00"
    with pytest.raises(ValueError, match="3 verdicts for 4 runs"):
        onset(history, "speedup", [True] * 3)


def test_a_history_of_one_run_says_nothing_of_when(tmp_path: Path) -> None:
    assert onset(_history(tmp_path, [(B, 0.08)]), "speedup", [True]) is None


def test_a_change_point_names_its_first_bad_and_last_good_commit(tmp_path: Path) -> None:
    plan = [(A, 0.05)] * 4 + [(B, 0.065)] * 4  # the level moved at the first run of commit B and held
    found = {change.metric: change for change in changes(_history(tmp_path, plan))}
    change = found["compiled latency"]
    assert (change.index, change.run_id, change.commit, change.last_good_commit) == (4, "c04", B, A)
    assert change.last_good_run_id == "c03"
    assert change.describe().endswith(f"from run c04 (2026-11-05T03:17:30): {culprits(B, A)}")


def test_a_change_within_one_commit_is_not_blamed_on_the_code(tmp_path: Path) -> None:
    plan = [(A, 0.05)] * 4 + [(A, 0.065)] * 4  # same code, slower machine
    change = {c.metric: c for c in changes(_history(tmp_path, plan))}["compiled latency"]
    assert change.commit == change.last_good_commit == A
    assert "both at commit aaaaaaaaaa: not a change of this repository's code" in change.describe()
    assert np.isclose(change.relative, 0.3, atol=0.02)


def test_onsets_asks_the_gate_once_a_run_and_names_only_the_metrics_failing_now(tmp_path: Path) -> None:
    from harness.gate.onset import onsets

    history = _history(tmp_path, [(A, 0.05), (B, 0.08), (C, 0.08)])
    asked: list[float | None] = []

    def regressed(past: object) -> set[str]:  # the compiled latency decides, as a gate with a 0.06 s bound would
        seconds = past.compiled.latency_median_s  # type: ignore[attr-defined]
        asked.append(seconds)
        return {"compiled.latency_s"} if seconds is not None and seconds > 0.06 else set()

    found = onsets(history, ["compiled.latency_s", "speedup"], regressed)
    assert list(found) == ["compiled.latency_s"] and len(asked) == 3  # speedup never failed: no onset claimed
    assert found["compiled.latency_s"].first_bad.commit == B and found["compiled.latency_s"].failing == 2
