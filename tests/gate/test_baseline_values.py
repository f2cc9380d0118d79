"""A baseline value that would switch a check off is refused with one line naming the file and the field (the review
recorded a real session's baseline, rewrote one value, and `compare` exited 0 with the check gone or neutered)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli.main import main
from harness.results.store import write_records
from tests.factories import real_session, record_baselines


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A real session's results and the baseline update-baselines writes from them."""
    root = tmp_path_factory.mktemp("real")
    write_records(list(real_session()), root / "results", name="session")
    record_baselines(root / "results", root / "baselines")
    return root / "results", root / "baselines"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("speedup",), None, "speedup"),
        (("speedup",), 0, "speedup"),
        (("compiled", "latency_median_s"), 0, "compiled.latency_median_s"),
        (("eager", "latency_median_s"), None, "eager.latency_median_s"),
        (("compiled", "mae"), 0, "compiled.mae"),
        (("compiled", "mae"), None, "compiled.mae"),
        (("eager", "partner_latency_median_s"), 0, "eager.partner_latency_median_s"),
        (("compiled", "success_rate"), 0, "compiled.success_rate"),
        (("tolerances", "speedup_rel"), 5, "tolerances.speedup_rel"),
        (("tolerances", "latency_rel"), 3.0, "tolerances.latency_rel"),
        (("tolerances", "mae_rel"), 0.5, "tolerances.mae_rel"),
        (("speedup_method",), "bogus", "speedup_method"),
    ],
)
def test_a_value_that_switches_a_check_off_is_refused(
    path: tuple[str, ...], value: Any, field: str, recorded: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results, baselines = recorded
    [original] = baselines.glob("*.json")
    data = json.loads(original.read_text())
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    edited = tmp_path / "baselines"
    edited.mkdir()
    (edited / original.name).write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["compare", "--results-dir", str(results), "--baselines-dir", str(edited)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {edited / original.name}: field {field} ") and "; fix: " in err and "\n" not in err


def test_the_unedited_baseline_holds(recorded: tuple[Path, Path]) -> None:
    results, baselines = recorded
    assert main(["compare", "--results-dir", str(results), "--baselines-dir", str(baselines)]) == 0
