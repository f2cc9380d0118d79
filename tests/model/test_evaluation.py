"""Rolling-window skill and the leak-free training split, with fake pipelines whose answers are known."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest
import torch

from harness.data.params import fit_window, resolve_params
from harness.data.window import OHLC, load_ohlc
from harness.model.evaluation import HORIZON, WINDOWS, rolling_skill, scored_start, training_part
from tests.conftest import ROOT

SYMBOLS = ("BTCUSD", "GOOG", "EURUSD")


class _Oracle:
    """Stands in for Chronos2Pipeline.predict_quantiles: forecasts the truth, or the last value (persistence)."""

    def __init__(self, values: np.ndarray, *, perfect: bool) -> None:
        self.values, self.perfect = values, perfect

    def predict_quantiles(
        self, inputs: list[np.ndarray], prediction_length: int, quantile_levels: list[float], **_: Any
    ) -> tuple[list[torch.Tensor], None]:
        out = []
        for context in inputs:
            cut = self._cut(context)
            if self.perfect:
                future = self.values[:, cut : cut + prediction_length]
            else:
                future = np.repeat(context[:, -1:], prediction_length, axis=1)
            levels = len(quantile_levels)  # every level the same: a point forecast, as the real call's shape
            out.append(torch.from_numpy(future.astype(np.float32))[:, :, None].repeat(1, 1, levels))
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
    assert perfect.model_wql_pct == pytest.approx(0.0, abs=1e-9) and perfect.naive_mae_pct > 0
    # a point forecast at every level: the weighted quantile loss is the MAE (mean pinball over 0.1..0.9 is |e| / 2)
    assert naive.model_wql_pct == pytest.approx(naive.model_mae_pct, rel=1e-6)


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_training_part_ends_before_every_scored_row_and_the_bench_window(symbol: str) -> None:
    series = load_ohlc(ROOT / "trainingdata", symbol)
    n = len(series.frame)
    part = training_part(series)
    start = scored_start(n)
    assert start == n - WINDOWS * HORIZON
    assert part.shape == (4, start)
    np.testing.assert_array_equal(part, series.frame[list(OHLC)].to_numpy(dtype=np.float32)[:start].T)
    # the bench, with the shipped settings, scores the last prediction_length rows: all of them lie in the scored region
    params, window, _ = fit_window(series, resolve_params(symbol, ROOT / "hyperparams"), rows=500)
    truth_rows = series.frame["close"].to_numpy()[n - params.prediction_length :]
    np.testing.assert_array_equal(window.truth_close, truth_rows)
    assert n - params.prediction_length >= start


def test_training_inputs_hold_no_scored_row() -> None:
    from harness.model.training import TrainConfig, training_inputs

    config = TrainConfig(synthetic_count=6, synthetic_length=64)
    inputs, summary = training_inputs(config, ROOT / "trainingdata")
    assert set(summary["real"]) == set(SYMBOLS)
    before_scoring = {}
    for symbol, facts in summary["real"].items():
        values = load_ohlc(ROOT / "trainingdata", symbol).frame[list(OHLC)].to_numpy(dtype=np.float32).T
        assert facts["rows"] == values.shape[1]
        assert facts["training_rows"] == facts["scored_from_row"] == facts["rows"] - WINDOWS * HORIZON  # 20 scored 7-row windows
        assert facts["used"] is (facts["training_rows"] >= config.min_real_rows)
        before_scoring[symbol] = values[:, : facts["scored_from_row"]]
    # every real training input is exactly one symbol's rows before its scored windows, so no scored row (nor any
    # later one, the bench's own window included) is in it; and each used symbol is in real_copies times
    real = inputs[config.synthetic_count :]
    found = Counter(symbol for series in real for symbol, part in before_scoring.items() if np.array_equal(series, part))
    assert sum(found.values()) == len(real)
    assert found == {symbol: config.real_copies for symbol, facts in summary["real"].items() if facts["used"]}
    # the daily BTCUSD (issue 13): its 3,951 days before the scored windows are used, up to 2025-07-12; scoring starts 2025-07-13
    btc = summary["real"]["BTCUSD"]
    assert (btc["rows"], btc["scored_from_row"], btc["training_rows"], btc["used"]) == (4091, 3951, 3951, True)
    frame = load_ohlc(ROOT / "trainingdata", "BTCUSD").frame
    assert str(frame["timestamp"].iloc[3950].date()) == "2025-07-12" and str(frame["timestamp"].iloc[3951].date()) == "2025-07-13"
    assert summary["real"]["GOOG"]["used"] is True and summary["real"]["EURUSD"]["used"] is True


class _Recorder:
    """Records the context length each predict call was given."""

    def __init__(self) -> None:
        self.lengths: list[int] = []

    def predict_quantiles(
        self, inputs: list[np.ndarray], prediction_length: int, context_length: int, quantile_levels: list[float], **_: Any
    ) -> tuple[list[torch.Tensor], None]:
        self.lengths.append(context_length)
        assert all(x.shape[1] <= context_length for x in inputs)
        levels = len(quantile_levels)
        return [
            torch.from_numpy(np.repeat(x[:, -1:], prediction_length, axis=1))[:, :, None].repeat(1, 1, levels) for x in inputs
        ], None


def test_evaluate_scores_each_symbol_with_the_context_the_bench_uses() -> None:
    from harness.base.options import BENCH_ROWS
    from harness.model.training import evaluate

    recorder = _Recorder()
    skills = evaluate(recorder, data_dir=ROOT / "trainingdata", hyperparams_dir=ROOT / "hyperparams" / "chronos2")
    expected = []
    for skill in skills:
        series = load_ohlc(ROOT / "trainingdata", skill.symbol)
        params, _, _ = fit_window(series, resolve_params(skill.symbol, ROOT / "hyperparams" / "chronos2"), rows=BENCH_ROWS)
        expected.append(params.context_length)
    assert recorder.lengths == expected
    assert (
        dict(zip([s.symbol for s in skills], recorder.lengths, strict=True))["BTCUSD"] == BENCH_ROWS - HORIZON
    )  # 493, not the 512 cap
