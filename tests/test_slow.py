"""Opt-in (``nox -s tests -- -m slow``): the real-size architecture through the whole bench, a few minutes on CPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.results import read_records
from tests.conftest import ROOT


@pytest.mark.slow
def test_chronos_2_arch_eager_and_compiled(tmp_path: Path) -> None:
    common = [
        "--symbol",
        "BTCUSD",
        "--model",
        "chronos-2-arch",
        "--runs",
        "2",
        "--results-dir",
        str(tmp_path),
        "--data-dir",
        str(ROOT / "trainingdata"),
        "--hyperparams-dir",
        str(ROOT / "hyperparams"),
    ]
    assert main(["-q", "bench", "--mode", "eager", *common]) == 0
    assert main(["-q", "bench", "--mode", "compiled", *common]) == 0
    records = {r.mode: r for r in read_records(tmp_path)}
    assert records["eager"].status == records["compiled"].status == "pass"
    assert (
        records["eager"].context_length == records["compiled"].context_length == 493
    )  # the seed scenario: 500 daily rows - 7 held back
    assert 100_000_000 < records["eager"].model_parameters < 140_000_000
    assert records["compiled"].mae == pytest.approx(records["eager"].mae, rel=1e-3)
