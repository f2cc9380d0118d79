"""Pure statistics on raw latency samples: medians and bootstrap confidence intervals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_CONFIDENCE = 0.95
DEFAULT_RESAMPLES = 4000


def median(samples: Sequence[float]) -> float:
    if len(samples) == 0:
        raise ValueError("median of no samples")
    return float(np.median(np.asarray(samples, dtype=np.float64)))


def _resampled_medians(samples: Sequence[float], resamples: int, rng: np.random.Generator) -> np.ndarray:
    data = np.asarray(samples, dtype=np.float64)
    picks = rng.integers(0, len(data), size=(resamples, len(data)))
    return np.median(data[picks], axis=1)


def median_ci(
    samples: Sequence[float], *, confidence: float = DEFAULT_CONFIDENCE, resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> tuple[float, float]:
    """Percentile-bootstrap interval of the median."""
    if len(samples) == 0:
        raise ValueError("interval of no samples")
    medians = _resampled_medians(samples, resamples, np.random.default_rng(seed))
    alpha = (1.0 - confidence) / 2.0
    return float(np.quantile(medians, alpha)), float(np.quantile(medians, 1.0 - alpha))


def speedup_ci(
    baseline: Sequence[float],
    candidate: Sequence[float],
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile-bootstrap interval of median(baseline) / median(candidate), each side resampled on its own."""
    if len(baseline) == 0 or len(candidate) == 0:
        raise ValueError("interval of no samples")
    rng = np.random.default_rng(seed)
    ratios = _resampled_medians(baseline, resamples, rng) / _resampled_medians(candidate, resamples, rng)
    alpha = (1.0 - confidence) / 2.0
    return float(np.quantile(ratios, alpha)), float(np.quantile(ratios, 1.0 - alpha))


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> tuple[float, ...]:
    """Element-wise numerator / denominator over pairs where both are finite and the denominator is positive."""
    return tuple(n / d for n, d in zip(numerators, denominators, strict=True) if np.isfinite(n) and np.isfinite(d) and d > 0)
