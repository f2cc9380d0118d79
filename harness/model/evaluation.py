"""Forecast skill on rolling windows at the end of each real series, against the naive (persistence) forecast.

The last ``windows`` x ``horizon`` rows of a series are the scored region: window k predicts rows
[n - windows*horizon + k*horizon, +horizon) from everything before it (at most ``context_length`` rows). Training
may use only the rows before the scored region (:func:`training_part`), which also holds the bench's own window
(the last ``horizon`` rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from harness.data.window import OHLC, OhlcSeries

if TYPE_CHECKING:
    from chronos.chronos2 import Chronos2Pipeline

WINDOWS = 20
HORIZON = 7


def scored_start(length: int, *, windows: int = WINDOWS, horizon: int = HORIZON) -> int:
    """Index of the first scored row of a series of ``length`` rows."""
    return max(length - windows * horizon, 0)


def training_part(series: OhlcSeries, *, windows: int = WINDOWS, horizon: int = HORIZON) -> np.ndarray:
    """(4, T) OHLC rows strictly before the scored region: the only part of a real series training may see."""
    frame = series.frame.iloc[: scored_start(len(series.frame), windows=windows, horizon=horizon)]
    return frame[list(OHLC)].to_numpy(dtype=np.float32).T


@dataclass(frozen=True, kw_only=True)
class Skill:
    symbol: str
    windows: int
    model_mae_pct: float  # 100 * mean |median close - truth| / mean |truth|, pooled over all windows
    naive_mae_pct: float  # the same for the last observed close repeated

    @property
    def ratio(self) -> float:
        """Model MAE / naive MAE: below 1 the model beats persistence."""
        return self.model_mae_pct / self.naive_mae_pct if self.naive_mae_pct else float("inf")


def rolling_skill(
    pipeline: Chronos2Pipeline, series: OhlcSeries, *, context_length: int, windows: int = WINDOWS, horizon: int = HORIZON
) -> Skill:
    values = series.frame[list(OHLC)].to_numpy(dtype=np.float32).T  # (4, n)
    start = scored_start(values.shape[1], windows=windows, horizon=horizon)
    count = min(windows, (values.shape[1] - start) // horizon)
    cutoffs = [start + k * horizon for k in range(count) if start + k * horizon >= 2]
    inputs = [values[:, max(0, cut - context_length) : cut] for cut in cutoffs]
    quantiles, _ = pipeline.predict_quantiles(
        inputs, prediction_length=horizon, quantile_levels=[0.5], context_length=context_length
    )
    close = OHLC.index("close")
    errors, naive_errors, truths = [], [], []
    for cut, forecast in zip(cutoffs, quantiles, strict=True):
        truth = values[close, cut : cut + horizon].astype(np.float64)
        errors.append(np.abs(forecast[close, :, 0].numpy().astype(np.float64) - truth))
        naive_errors.append(np.abs(values[close, cut - 1] - truth))
        truths.append(np.abs(truth))
    scale = float(np.mean(np.concatenate(truths)))
    return Skill(
        symbol=series.symbol,
        windows=len(cutoffs),
        model_mae_pct=100.0 * float(np.mean(np.concatenate(errors))) / scale,
        naive_mae_pct=100.0 * float(np.mean(np.concatenate(naive_errors))) / scale,
    )
