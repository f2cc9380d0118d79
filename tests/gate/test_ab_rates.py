"""harness.gate.ab_rates: the A/B's own calibration, a whole run as the unit, from hand-made verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli.main import main
from harness.gate.ab_rates import kind_of, rates, table


def _run(
    *,
    exit_code: int,
    fault: str | None = None,
    caught: bool = False,
    cpu: str = "AMD EPYC",
    changes: list[str] | None = None,
    minute: int = 0,
) -> dict[str, Any]:
    timing = "regression" if caught else "holds"
    return {
        "kind": "ab",
        "exit_code": exit_code,
        "changes": changes or [],
        "run": {
            "head_fault": fault,
            "machine": {"cpu_model": cpu},
            "started_utc": f"2026-12-04T21:{minute:02d}:00+00:00",
            "elapsed_s": 300.0 + minute,
        },
        "findings": [
            {"metric": "compiled.latency_s", "verdict": timing},
            {"metric": "speedup", "verdict": timing},
            {"metric": "compiled.mae", "verdict": "regression" if exit_code and not caught else "holds"},
        ],
    }


def test_aa_false_alarms_and_planted_detections_are_counted_per_machine_with_exact_intervals() -> None:
    documents = [
        *(_run(exit_code=0, minute=i) for i in range(9)),
        _run(exit_code=1, minute=9),  # one A/A run failed: a false alarm
        *(_run(exit_code=1, fault="slow@0.1", caught=True, minute=10 + i) for i in range(4)),
        _run(exit_code=1, fault="slow@0.1", caught=False, minute=14),  # failed, but not on timing: not a detection
        _run(exit_code=0, cpu="Intel Xeon"),
        _run(exit_code=1, changes=["transformers 5.24.0 → 5.25.0"]),  # a real A/B: not calibration material
    ]
    rows = {(r.machine, r.kind): r for r in rates(documents)}
    assert set(rows) == {("AMD EPYC", "A/A"), ("AMD EPYC", "slow@0.1"), ("Intel Xeon", "A/A")}
    aa, planted = rows["AMD EPYC", "A/A"], rows["AMD EPYC", "slow@0.1"]
    assert (aa.runs, aa.failed.hits) == (10, 1) and aa.failed.text() == "1/10 = 10% [95% CI 0%, 45%]"
    assert (planted.runs, planted.failed.hits) == (5, 4) and planted.median_s == 312.0
    assert (aa.first_utc, aa.last_utc) == ("2026-12-04T21:00:00+00:00", "2026-12-04T21:09:00+00:00")
    assert "1/10 = 10%" in table(list(rows.values()))


def test_kind_of_a_run() -> None:
    assert kind_of(_run(exit_code=0)) == "A/A" and kind_of(_run(exit_code=1, fault="slow@0.3")) == "slow@0.3"
    assert kind_of(_run(exit_code=0, changes=["torch 2.13.0 → 2.14.1"])) is None and kind_of({"kind": "compare"}) is None


def test_ab_rates_reads_a_directory_and_refuses_one_with_nothing_to_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i, document in enumerate([_run(exit_code=0), _run(exit_code=1, fault="slow@0.1", caught=True)]):
        (tmp_path / f"run-{i}.json").write_text(json.dumps(document))
    assert main(["ab-rates", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "A/A" in out and "slow@0.1" in out and "1/1 = 100%" in out and "0/1 = 0%" in out
    assert main(["ab-rates", str(tmp_path / "empty")]) == 2
    assert "no A/A or planted" in capsys.readouterr().err
