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
WQL_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # the levels of the mean weighted quantile loss (GluonTS's)


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
    # weighted quantile loss of the close over every quantile level asked for, pooled over all windows, percent:
    # 100 * 2 * sum over levels and steps of the pinball loss / (levels * sum |truth|) (GluonTS's mean wQL)
    model_wql_pct: float | None = None

    @property
    def ratio(self) -> float:
        """Model MAE / naive MAE: below 1 the model beats persistence."""
        return self.model_mae_pct / self.naive_mae_pct if self.naive_mae_pct else float("inf")


def weighted_quantile_loss(forecasts: np.ndarray, truth: np.ndarray, levels: tuple[float, ...]) -> float:
    """Mean weighted quantile loss, percent: ``forecasts`` (..., steps, levels) against ``truth`` (..., steps). Pure."""
    q = np.asarray(levels, dtype=np.float64)
    error = truth[..., None] - forecasts  # positive: the forecast was below the truth
    pinball = np.maximum(q * error, (q - 1.0) * error)
    return float(100.0 * 2.0 * pinball.sum() / (len(levels) * np.abs(truth).sum()))


def rolling_skill(
    pipeline: Chronos2Pipeline,
    series: OhlcSeries,
    *,
    context_length: int,
    windows: int = WINDOWS,
    horizon: int = HORIZON,
    quantile_levels: tuple[float, ...] = WQL_LEVELS,
) -> Skill:
    values = series.frame[list(OHLC)].to_numpy(dtype=np.float32).T  # (4, n)
    start = scored_start(values.shape[1], windows=windows, horizon=horizon)
    count = min(windows, (values.shape[1] - start) // horizon)
    cutoffs = [start + k * horizon for k in range(count) if start + k * horizon >= 2]
    inputs = [values[:, max(0, cut - context_length) : cut] for cut in cutoffs]
    levels = tuple(sorted({*quantile_levels, 0.5}))
    quantiles, _ = pipeline.predict_quantiles(
        inputs, prediction_length=horizon, quantile_levels=list(levels), context_length=context_length
    )
    close, median = OHLC.index("close"), levels.index(0.5)
    errors, naive_errors, truths, bands, targets = [], [], [], [], []
    for cut, forecast in zip(cutoffs, quantiles, strict=True):
        truth = values[close, cut : cut + horizon].astype(np.float64)
        band = forecast[close].float().numpy().astype(np.float64)  # (steps, levels)
        errors.append(np.abs(band[:, median] - truth))
        naive_errors.append(np.abs(values[close, cut - 1] - truth))
        truths.append(np.abs(truth))
        bands.append(band)
        targets.append(truth)
    scale = float(np.mean(np.concatenate(truths)))
    return Skill(
        symbol=series.symbol,
        windows=len(cutoffs),
        model_mae_pct=100.0 * float(np.mean(np.concatenate(errors))) / scale,
        naive_mae_pct=100.0 * float(np.mean(np.concatenate(naive_errors))) / scale,
        model_wql_pct=weighted_quantile_loss(np.stack(bands), np.stack(targets), levels),
    )
