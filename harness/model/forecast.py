"""One forecast: a joint OHLC prediction of every requested quantile through ``predict_df``, checked for shape and
finite values. The one call every bench, start probe and evaluation makes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from harness.data.params import BenchParams
from harness.data.window import OHLC, BenchWindow

if TYPE_CHECKING:
    from chronos.chronos2 import Chronos2Pipeline

log = logging.getLogger(__name__)


class ForecastError(RuntimeError):
    """A forecast came back unusable (wrong shape or non-finite values)."""


def predict(pipeline: Chronos2Pipeline, window: BenchWindow, params: BenchParams) -> np.ndarray:
    """One joint OHLC forecast: every requested quantile, shape (4 targets in OHLC order, horizon, quantiles)."""
    frame = pipeline.predict_df(
        window.context,
        target=list(OHLC),
        prediction_length=params.prediction_length,
        quantile_levels=list(params.quantile_levels),
        batch_size=params.batch_size,
        context_length=params.context_length,
        cross_learning=False,
        freq=window.freq,  # the window is regular by construction: no per-call frequency inference
    )
    columns = [str(level) for level in params.quantile_levels]
    out = np.stack([frame.loc[frame["target_name"] == name, columns].to_numpy(dtype=np.float64) for name in OHLC])
    expected = (len(OHLC), params.prediction_length, len(columns))
    if out.shape != expected:
        raise ForecastError(f"expected forecasts of shape {expected} (targets, steps, quantiles), got {out.shape}")
    if not np.all(np.isfinite(out)):
        raise ForecastError(f"non-finite forecast values: {int(np.sum(~np.isfinite(out)))} of {out.size}")
    return out
