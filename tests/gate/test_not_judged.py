"""A result that lacks what a check reads says "not judged" (and fails under --strict), and a broken partner timing is
a broken run: the review's reproductions, each a real session's rows rewritten (the row used to vanish, exit 0)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from harness.cli.main import main
from harness.results.store import write_records
from tests.factories import real_session, replace


@pytest.fixture
def baselines(real_baselines: Path) -> Path:
    return real_baselines


def _compare(tmp_path: Path, baselines: Path, *flags: str, eager: dict[str, Any], compiled: dict[str, Any]) -> int:
    real_eager, real_compiled = real_session()
    rows = [replace(real_eager, **eager), replace(real_compiled, **compiled)]
    if not (tmp_path / "today").is_dir():
        write_records(rows, tmp_path / "today", name="session")
    return main(["compare", "--results-dir", str(tmp_path / "today"), "--baselines-dir", str(baselines), *flags])


@pytest.mark.parametrize(
    ("eager", "compiled", "metric"),
    [
        ({}, {"drift_max_abs": None}, "compiled.drift"),
        ({"latencies_s": [], "latency_median_s": None}, {}, "eager.latency_s"),
    ],
)
def test_a_check_that_cannot_be_judged_says_so_and_fails_strict(
    eager: dict[str, Any],
    compiled: dict[str, Any],
    metric: str,
    baselines: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _compare(tmp_path, baselines, eager=eager, compiled=compiled) == 0
    out = capsys.readouterr().out
    assert f"{metric.split('.')[0]} " in out and "not judged" in out and "1 not judged" in out, out
    assert _compare(tmp_path, baselines, "--strict", eager=eager, compiled=compiled) == 2


def test_inf_in_the_interleaved_partner_is_a_broken_run(
    baselines: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, compiled = real_session()
    partner = list(compiled.paired_eager_latencies_s)
    partner[3] = math.inf
    assert _compare(tmp_path, baselines, eager={}, compiled={"paired_eager_latencies_s": partner}) == 1
    out = capsys.readouterr().out
    assert "paired_eager_latencies_s holds 1 value(s) that are not a positive finite number or NaN (inf)" in out
