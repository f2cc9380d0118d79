"""harness.gate.stats: medians and bootstrap intervals on raw latency samples."""

from __future__ import annotations

import numpy as np
import pytest

from harness.gate import stats


def normal(center: float, n: int, *, seed: int, rel_sd: float = 0.05) -> list[float]:
    return [center * (1 + rel_sd * float(z)) for z in np.random.default_rng(seed).standard_normal(n)]


@pytest.mark.parametrize(
    ("samples", "expected"), [([3.0], 3.0), ([3.0, 1.0, 2.0], 2.0), ([4.0, 1.0, 3.0, 2.0], 2.5), ((0.1, 0.1, 9.0), 0.1)]
)
def test_median(samples: list[float], expected: float) -> None:
    assert stats.median(samples) == expected


def test_median_ci_contains_the_median() -> None:
    samples = normal(0.1, 25, seed=1)
    low, high = stats.median_ci(samples)
    assert low <= stats.median(samples) <= high
    assert low < high


def test_median_ci_of_constant_samples_is_a_point() -> None:
    assert stats.median_ci([0.25] * 10) == (0.25, 0.25)


def test_median_ci_narrows_with_more_samples() -> None:
    few_low, few_high = stats.median_ci(normal(0.1, 10, seed=2))
    many_low, many_high = stats.median_ci(normal(0.1, 1000, seed=2))
    assert many_high - many_low < (few_high - few_low) / 3
    assert many_low <= 0.1 <= many_high


def test_median_ci_wider_at_higher_confidence() -> None:
    samples = normal(0.1, 30, seed=3)
    low90, high90 = stats.median_ci(samples, confidence=0.90)
    low99, high99 = stats.median_ci(samples, confidence=0.99)
    assert low99 <= low90 <= high90 <= high99


def test_speedup_ci_of_identical_distributions_contains_one() -> None:
    samples = normal(0.1, 30, seed=4)
    low, high = stats.speedup_ci(samples, samples)
    assert low < 1.0 < high


def test_speedup_ci_of_twice_slower_baseline_centres_on_two() -> None:
    fast = normal(0.1, 40, seed=5)
    slow = [2 * x for x in fast]  # the same run, every prediction twice as slow
    low, high = stats.speedup_ci(slow, fast)
    assert 1.8 < low < 2.0 < high < 2.2
    assert abs((low + high) / 2 - 2.0) < 0.05


def test_speedup_ci_of_twice_slower_candidate_centres_on_half() -> None:
    fast = normal(0.1, 40, seed=5)
    low, high = stats.speedup_ci(fast, [2 * x for x in fast])
    assert 0.45 < low < 0.5 < high < 0.55


def test_intervals_are_deterministic_for_a_seed() -> None:
    a, b = normal(0.1, 20, seed=7), normal(0.05, 20, seed=8)
    assert stats.median_ci(a, seed=3) == stats.median_ci(a, seed=3)
    assert stats.speedup_ci(a, b, seed=3) == stats.speedup_ci(a, b, seed=3)
    assert stats.median_ci(a) == stats.median_ci(a, seed=0)
    assert stats.speedup_ci(a, b, seed=3) != stats.speedup_ci(a, b, seed=4)


def test_empty_input_raises_value_error() -> None:
    with pytest.raises(ValueError, match="no samples"):
        stats.median([])
    with pytest.raises(ValueError, match="no samples"):
        stats.median_ci([])
    with pytest.raises(ValueError, match="no samples"):
        stats.speedup_ci([], [0.1])
    with pytest.raises(ValueError, match="no samples"):
        stats.speedup_ci([0.1], [])
