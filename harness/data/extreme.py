"""Extreme inputs for the robustness check: transforms of a real bench window, never invented market data.

Each case takes the window cut from a shipped CSV and distorts it the way production data goes wrong (prices near
zero, a frozen feed, a spike or a drop, huge values, missing rows, a short history). The truth is transformed the
same way where the case rescales the series, so MAE stays meaningful. The case name joins the symbol
(``GOOG~near_zero``), so each case is its own key in results and compare. Pure: pandas and numpy only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from harness.base.options import STRESS_CASES
from harness.data.window import OHLC, BenchWindow


def _scaled(factor_of: Callable[[float], float]) -> Callable[[BenchWindow], BenchWindow]:
    def transform(window: BenchWindow) -> BenchWindow:
        peak = float(window.context["high"].abs().max()) or 1.0
        factor = factor_of(peak)
        context = window.context.copy()
        context[list(OHLC)] = context[list(OHLC)] * factor
        return dataclasses.replace(window, context=context, truth_close=window.truth_close * factor)

    return transform


def _constant(window: BenchWindow) -> BenchWindow:
    level = float(window.context["close"].iloc[-1])
    context = window.context.copy()
    context[list(OHLC)] = level
    return dataclasses.replace(window, context=context, truth_close=np.full_like(window.truth_close, level))


def _one_row(factor: float) -> Callable[[BenchWindow], BenchWindow]:
    def transform(window: BenchWindow) -> BenchWindow:
        context = window.context.copy()
        row = len(context) - max(len(context) // 10, 2)  # near the end, where the model looks hardest
        context.loc[row, list(OHLC)] = context.loc[row, list(OHLC)] * factor
        return dataclasses.replace(window, context=context)

    return transform


def _nan_gaps(window: BenchWindow) -> BenchWindow:
    context = window.context.copy()
    rng = np.random.default_rng(0)
    rows = rng.choice(np.arange(1, len(context) - 1), size=max(len(context) // 10, 1), replace=False)  # never the last row
    context.loc[rows, list(OHLC)] = np.nan
    return dataclasses.replace(window, context=context)


def _short(window: BenchWindow) -> BenchWindow:
    return dataclasses.replace(window, context=window.context.iloc[-20:].reset_index(drop=True))


TRANSFORMS: dict[str, Callable[[BenchWindow], BenchWindow]] = {
    "near_zero": _scaled(lambda peak: 9e-4 / peak),
    "constant": _constant,
    "spike": _one_row(50.0),
    "drop": _one_row(0.02),
    "huge": _scaled(lambda peak: 1e9 / peak),
    "nan_gaps": _nan_gaps,
    "short_context": _short,
}
CASES: dict[str, tuple[str, Callable[[BenchWindow], BenchWindow]]] = {
    name: (STRESS_CASES[name], TRANSFORMS[name]) for name in STRESS_CASES
}


def stressed(window: BenchWindow, case: str) -> BenchWindow:
    """``window`` distorted by ``case``; the symbol becomes ``<symbol>~<case>``."""
    _, transform = CASES[case]
    out = transform(window)
    context = out.context.copy()
    context["item_id"] = f"{window.symbol}~{case}"
    return dataclasses.replace(out, symbol=f"{window.symbol}~{case}", context=context)
