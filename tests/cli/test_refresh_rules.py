"""`update-baselines` questions what it used to bless: the review's reproductions, each from real sessions (a 2-core
AMD EPYC, 2026-11-26) rewritten with the change under test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli.main import main
from harness.results.schema import RunRecord
from harness.results.store import write_records
from tests.factories import real_session, real_sessions, record_baselines, replace


def _scaled(record: RunRecord, *, calls: float = 1.0, partner: float = 1.0, reference: float = 1.0, **extra: Any) -> RunRecord:
    return replace(
        record,
        latencies_s=[s * calls for s in record.latencies_s],
        latency_median_s=(record.latency_median_s or 0.0) * calls,
        paired_eager_latencies_s=[s * partner for s in record.paired_eager_latencies_s],
        reference_s=[s * reference for s in record.reference_s],
        **extra,
    )


def _update(results: Path, baselines: Path, *extra: str) -> int:
    return main(
        ["update-baselines", "--reason", "test", "--results-dir", str(results), "--baselines-dir", str(baselines), *extra]
    )


def _fresh(tmp_path: Path, name: str, rows: list[RunRecord]) -> Path:
    write_records(rows, tmp_path / name, name="rows")
    return tmp_path / name


@pytest.mark.parametrize(
    ("eager_change", "compiled_change", "says"),
    [
        ({}, {"calls": 1.39, "reference": 1.63}, "HOST NOISY"),  # compiled +39% while the host moved
        ({"calls": 1.39}, {}, "host swing"),  # eager's session +39%, its interleaved partner held
    ],
)
def test_a_timing_excused_as_the_host_is_not_written_without_accept(
    eager_change: dict[str, float],
    compiled_change: dict[str, float],
    says: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    eager, compiled = real_session()
    baselines = tmp_path / "baselines"
    record_baselines(_fresh(tmp_path, "first", [eager, compiled]), baselines)
    before = {p.name: p.read_text() for p in baselines.glob("*.json")}
    rows = [
        _scaled(eager, **eager_change, run_id=eager.run_id + "-later"),
        _scaled(compiled, **compiled_change, run_id=compiled.run_id + "-later"),
    ]
    later = _fresh(tmp_path, "later", rows)
    capsys.readouterr()
    assert _update(later, baselines) == 1
    out = capsys.readouterr().out
    assert (
        "refused: " in out
        and "a timing the gate excused as the host is no bar" in out
        and "0 baseline(s) written, 1 refused" in out
    )
    assert {p.name: p.read_text() for p in baselines.glob("*.json")} == before
    assert _update(later, baselines, "--accept", "the host is ours now") == 0


def test_a_baseline_of_three_sessions_is_not_replaced_by_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sessions = real_sessions(4)
    baselines = tmp_path / "baselines"
    three = _fresh(tmp_path, "three", [row for session in sessions[:3] for row in session])
    assert _update(three, baselines, "--pool") == 0
    [path] = baselines.glob("*.json")
    assert json.loads(path.read_text())["provenance"]["sessions"] == 3
    capsys.readouterr()
    assert _update(_fresh(tmp_path, "one", list(sessions[3])), baselines) == 1
    assert "this refresh rests on 1 session(s), the baseline it replaces on 3 session(s)" in capsys.readouterr().out


def test_refreshes_cannot_ratchet_the_speedup_down_step_by_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    eager, compiled = real_session()
    baselines = tmp_path / "baselines"
    record_baselines(_fresh(tmp_path, "s0", [eager, compiled]), baselines)
    for step, expected in ((1, 0), (2, 1)):  # each step 5% slower compiled calls: within 6% of the last, not of the first
        slower = _scaled(compiled, calls=(1 / 0.95) ** step, run_id=f"{compiled.run_id}-{step}")
        code = _update(_fresh(tmp_path, f"s{step}", [replace(eager, run_id=f"{eager.run_id}-{step}"), slower]), baselines)
        assert code == expected, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "from the first baseline of this key" in out and "ratchet the bar down" in out
    [path] = baselines.glob("*.json")
    first = json.loads(path.read_text())["provenance"]["first"]
    assert first["speedup"] > 0 and first["created_utc"]  # carried forward by the step that was written


def test_pool_ignores_confirmation_rebenches(tmp_path: Path) -> None:
    eager, compiled = real_session()
    rebench = [replace(r, run_id=r.run_id + "-confirm", confirms=compiled.run_id) for r in (eager, compiled)]
    baselines = tmp_path / "baselines"
    assert _update(_fresh(tmp_path, "r", [eager, compiled, *rebench]), baselines, "--pool") == 0
    [path] = baselines.glob("*.json")
    recorded = json.loads(path.read_text())["provenance"]
    assert recorded["sessions"] == 1 and not any("confirm" in run for run in recorded["run_ids"])
