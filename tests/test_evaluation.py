"""Rolling-window skill and the leak-free training split, with fake pipelines whose answers are known."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from harness.data import OHLC, bench_window, load_ohlc
from harness.evaluation import HORIZON, WINDOWS, rolling_skill, scored_start, training_part
from tests.conftest import ROOT

SYMBOLS = ("BTCUSD", "GOOG", "EURUSD")


class _Oracle:
    """Stands in for Chronos2Pipeline.predict_quantiles: forecasts the truth, or the last value (persistence)."""

    def __init__(self, values: np.ndarray, *, perfect: bool) -> None:
        self.values, self.perfect = values, perfect

    def predict_quantiles(self, inputs: list[np.ndarray], prediction_length: int, **_: Any) -> tuple[list[torch.Tensor], None]:
        out = []
        for context in inputs:
            cut = self._cut(context)
            if self.perfect:
                future = self.values[:, cut : cut + prediction_length]
            else:
                future = np.repeat(context[:, -1:], prediction_length, axis=1)
            out.append(torch.from_numpy(future.astype(np.float32))[:, :, None])
        return out, None

    def _cut(self, context: np.ndarray) -> int:
        n = context.shape[1]
        for cut in range(n, self.values.shape[1] + 1):
            if np.array_equal(self.values[:, cut - n : cut], context):
                return cut
        raise AssertionError("context not found in the series")


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_persistence_scores_exactly_naive_and_truth_scores_zero(symbol: str) -> None:
    series = load_ohlc(ROOT / "trainingdata", symbol)
    values = series.frame[list(OHLC)].to_numpy(dtype=np.float32).T
    naive = rolling_skill(_Oracle(values, perfect=False), series, context_length=64)
    assert naive.windows == WINDOWS
    assert naive.model_mae_pct == pytest.approx(naive.naive_mae_pct, rel=1e-6)
    assert naive.ratio == pytest.approx(1.0, rel=1e-6)
    perfect = rolling_skill(_Oracle(values, perfect=True), series, context_length=64)
    assert perfect.model_mae_pct == pytest.approx(0.0, abs=1e-9)
    assert perfect.naive_mae_pct > 0


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_training_part_ends_before_every_scored_row_and_the_bench_window(symbol: str) -> None:
    series = load_ohlc(ROOT / "trainingdata", symbol)
    n = len(series.frame)
    part = training_part(series)
    start = scored_start(n)
    assert start == n - WINDOWS * HORIZON
    assert part.shape == (4, start)
    np.testing.assert_array_equal(part, series.frame[list(OHLC)].to_numpy(dtype=np.float32)[:start].T)
    # the bench scores the last prediction_length rows: all of them lie in the scored region
    window = bench_window(series, rows=500, horizon=7, context_length=min(128, n - 7))
    truth_rows = series.frame["close"].to_numpy()[n - 7 :]
    np.testing.assert_array_equal(window.truth_close, truth_rows)
    assert n - 7 >= start


def test_training_inputs_hold_no_scored_row(tmp_path: Path) -> None:
    from harness.training import TrainConfig, training_inputs

    config = TrainConfig(synthetic_count=6, synthetic_length=64)
    inputs, summary = training_inputs(config, ROOT / "trainingdata")
    assert len(inputs) == 6 + config.real_copies * sum(r["used"] for r in summary["real"].values())
    for symbol, facts in summary["real"].items():
        series = load_ohlc(ROOT / "trainingdata", symbol)
        values = series.frame[list(OHLC)].to_numpy(dtype=np.float32).T
        scored = values[:, facts["scored_from_row"] :]
        assert facts["training_rows"] == facts["scored_from_row"]
        for real in inputs[6:]:
            if real.shape[1] == facts["training_rows"] and np.array_equal(real, values[:, : real.shape[1]]):
                # a prefix of the series that stops where scoring begins: no scored value can be in it
                assert real.shape[1] <= facts["scored_from_row"]
        assert scored.shape[1] == WINDOWS * HORIZON or facts["rows"] < WINDOWS * HORIZON
    assert summary["real"]["BTCUSD"]["used"] is False  # 16 months before its windows: too short, left out
    assert summary["real"]["GOOG"]["used"] is True
