"""Pure statistics: medians and bootstrap intervals of latency samples, exact intervals of rates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


def quantile(samples: Sequence[float], q: float) -> float:
    """The ``q`` quantile (linear interpolation, numpy's default)."""
    return float(np.quantile(np.asarray(samples, dtype=float), q))


def quantile_ci(
    samples: Sequence[float],
    q: float,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile-bootstrap interval of the ``q`` quantile."""
    if len(samples) == 0:
        raise ValueError("interval of no samples")
    data = np.asarray(samples, dtype=float)
    draws = np.random.default_rng(seed).integers(0, len(data), size=(resamples, len(data)))
    values = np.quantile(data[draws], q, axis=1)
    alpha = (1.0 - confidence) / 2.0
    return float(np.quantile(values, alpha)), float(np.quantile(values, 1.0 - alpha))


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


def binomial_interval(hits: int, trials: int, *, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a rate seen ``hits`` times in ``trials`` independent trials: 0 of 12 still
    allows up to 26%. Never narrower than the data supports, which is the point."""
    if not 0 <= hits <= trials or trials <= 0:
        raise ValueError(f"need 0 <= hits <= trials and trials > 0, got {hits} of {trials}")
    from scipy.stats import beta

    alpha = 1.0 - confidence
    low = 0.0 if hits == 0 else float(beta.ppf(alpha / 2, hits, trials - hits + 1))
    high = 1.0 if hits == trials else float(beta.ppf(1 - alpha / 2, hits + 1, trials - hits))
    return low, high


@dataclass(frozen=True)
class Rate:
    """``hits`` of ``trials`` independent trials (bench sessions, or nights), with its exact interval."""

    hits: int
    trials: int

    @property
    def value(self) -> float:
        return self.hits / self.trials if self.trials else float("nan")

    def interval(self, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float]:
        return binomial_interval(self.hits, self.trials, confidence=confidence)

    def text(self, confidence: float = DEFAULT_CONFIDENCE) -> str:
        """``0/12 = 0% [95% CI 0%, 26%]``."""
        if not self.trials:
            return "no trials"
        low, high = self.interval(confidence)
        return f"{self.hits}/{self.trials} = {self.value:.0%} [{confidence:.0%} CI {low:.0%}, {high:.0%}]"
