"""Synthetic OHLC series for training the default model, generated in code from a seed.

Four families, each rendered as open/high/low/close (4 x length, float32):

- ``random_walk``: geometric random walk of the close with a small drift and volatility regimes (daily
  volatility switching among 0.5%, 1.5% and 4% with probability 2% per step), the look of prices;
- ``seasonal``: a level plus a sinusoid of period 7, 12, 24 or 52 and noise;
- ``ar``: an AR(1) process (phi 0.5 … 0.98) around a positive mean;
- ``trend``: a linear trend (up or down) plus noise.

Half of the series are random walks (the bench forecasts prices), a sixth each of the other families.

Every close is scaled to a random level between 1 and 100,000 (log-uniform) so that the model sees prices of every
size (EURUSD ~1, GOOG ~700, BTC ~60,000). Open is the previous close with a little noise; high and low widen
max/min(open, close) by a half-normal amount.
"""

from __future__ import annotations

import numpy as np

FAMILIES: tuple[str, ...] = ("random_walk", "seasonal", "ar", "trend")
_ROTATION: tuple[str, ...] = ("random_walk", "seasonal", "random_walk", "ar", "random_walk", "trend")


def close_path(family: str, length: int, rng: np.random.Generator) -> np.ndarray:
    """A positive close series of one family, before scaling (values around 1)."""
    if family == "random_walk":
        vols = np.array([0.005, 0.015, 0.04])
        regime = rng.integers(len(vols))
        steps = np.empty(length)
        drift = rng.normal(0.0, 0.001)
        for step in range(length):
            if rng.random() < 0.02:
                regime = rng.integers(len(vols))
            steps[step] = drift + vols[regime] * rng.standard_normal()
        return np.asarray(np.exp(np.cumsum(steps)))
    t = np.arange(length, dtype=np.float64)
    if family == "seasonal":
        period = rng.choice([7, 12, 24, 52])
        amplitude = rng.uniform(0.02, 0.3)
        return np.asarray(
            1.0
            + amplitude * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
            + rng.normal(0, amplitude / 5, length)
            + 0.5
        )
    if family == "ar":
        phi = rng.uniform(0.5, 0.98)
        noise = rng.normal(0, rng.uniform(0.01, 0.1), length)
        x = np.zeros(length)
        for i in range(1, length):
            x[i] = phi * x[i - 1] + noise[i]
        return np.asarray(1.0 + np.clip(x, -0.9, None))
    if family == "trend":
        slope = rng.uniform(-0.5, 1.5) / length
        return np.asarray(np.clip(1.0 + slope * t + rng.normal(0, rng.uniform(0.005, 0.05), length), 0.05, None))
    raise ValueError(f"unknown family {family!r}; valid: {', '.join(FAMILIES)}")


def ohlc_from_close(close: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(4, T) open/high/low/close around a close path."""
    spread = np.abs(np.diff(close, prepend=close[0])).mean() + 1e-9
    open_ = np.concatenate([[close[0]], close[:-1]]) + rng.normal(0, spread * 0.1, len(close))
    high = np.maximum(open_, close) + np.abs(rng.normal(0, spread * 0.5, len(close)))
    low = np.minimum(open_, close) - np.abs(rng.normal(0, spread * 0.5, len(close)))
    return np.stack([open_, high, low, close]).astype(np.float32)


def generate(count: int, *, length: int, seed: int) -> list[np.ndarray]:
    """``count`` synthetic OHLC series of ``length`` steps, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    out = []
    for index in range(count):
        close = close_path(_ROTATION[index % len(_ROTATION)], length, rng)
        scale = 10 ** rng.uniform(0, 5)
        out.append(ohlc_from_close(close * scale, rng))
    return out
