"""Extreme-data cases: each a transform of a real window, recorded per case, never a traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.cli.main import main
from harness.data.extreme import CASES, stressed
from harness.data.window import OHLC, bench_window, load_ohlc
from harness.results.store import read_records
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def window():  # type: ignore[no-untyped-def]
    return bench_window(load_ohlc(ROOT / "trainingdata", "GOOG"), rows=200, horizon=7, context_length=64)


def test_every_case_keeps_shape_and_renames_the_symbol(window) -> None:  # type: ignore[no-untyped-def]
    for case in CASES:
        out = stressed(window, case)
        assert out.symbol == f"GOOG~{case}" and set(out.context["item_id"]) == {f"GOOG~{case}"}
        assert len(out.truth_close) == 7 and list(out.context.columns) == list(window.context.columns)


def test_near_zero_and_huge_rescale_context_and_truth_alike(window) -> None:  # type: ignore[no-untyped-def]
    tiny, huge = stressed(window, "near_zero"), stressed(window, "huge")
    assert float(tiny.context[list(OHLC)].abs().max().max()) < 1e-3
    assert float(huge.context["high"].max()) == pytest.approx(1e9)
    ratio = tiny.truth_close / window.truth_close
    assert np.allclose(ratio, ratio[0])  # the same factor as the context


def test_constant_nan_spike_and_short(window) -> None:  # type: ignore[no-untyped-def]
    constant = stressed(window, "constant")
    assert constant.context[list(OHLC)].nunique().max() == 1 and np.all(
        constant.truth_close == constant.context["close"].iloc[-1]
    )
    gaps = stressed(window, "nan_gaps")
    assert gaps.context["close"].isna().mean() == pytest.approx(0.1, abs=0.02) and not np.isnan(gaps.context["close"].iloc[-1])
    spike = stressed(window, "spike")
    assert float((spike.context["close"] / window.context["close"]).max()) == pytest.approx(50.0)
    assert len(stressed(window, "short_context").context) == 20


@pytest.mark.slow  # every extreme case in both modes through real child processes (~11 s)
def test_robustness_records_a_row_per_case_and_mode(tmp_path: Path) -> None:
    results = tmp_path / "results"
    code = main(
        [
            "-q",
            "robustness",
            "--cases",
            "near_zero,nan_gaps,short_context",
            "--",
            "--symbol",
            "GOOG",
            "--model",
            "tiny",
            "--runs",
            "2",
            "--context-length",
            "64",
            "--backend",
            "eager",
            "--no-isolate",
            "--no-warm-compile",
            "--results-dir",
            str(results),
            "--data-dir",
            str(ROOT / "trainingdata"),
            "--hyperparams-dir",
            str(ROOT / "hyperparams"),
        ]
    )
    assert code == 0
    rows = {(r.symbol, r.mode): r for r in read_records(results)}
    assert set(rows) == {
        (f"GOOG~{case}", mode) for case in ("near_zero", "nan_gaps", "short_context") for mode in ("eager", "compiled")
    }
    for (symbol, mode), row in rows.items():
        assert row.status in ("pass", "fail_exception", "fail_accuracy", "eager_nondeterministic"), (symbol, mode, row.status)
        if mode == "compiled" and row.status == "pass":
            assert row.drift_max_abs is not None and row.drift_tolerance_abs is not None


def test_unknown_case_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["robustness", "--cases", "meteor"]) == 2
    assert "unknown case(s) meteor" in capsys.readouterr().err
