"""Judging an A/B of two software stacks measured on one host in process pairs (:mod:`harness.bench.abba`). Pure.

Between two processes the host itself moves (two processes a minute apart differed by up to 39% on a 2-core AMD EPYC),
so the unit of every interval here is the **process pair**, never the calls inside one process: each pair gives one
head/base ratio per metric, and the interval is a t-interval of the mean log ratio over the pairs (a geometric mean
ratio). A pair whose machine reference (``reference_s``, timed beside each call in both processes) moved by more than
``host_limit`` says the host changed state between its two processes: it is dropped and counted, never silently
averaged in. A NaN anywhere drops its pair; no pair left is "undecided", which is never a pass of a timing check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as scipy_stats

from harness.base.textenum import TextEnum

DEFAULT_CONFIDENCE = 0.95


@dataclass(frozen=True, kw_only=True)
class ProcessTiming:
    """What one fresh process measured: medians of its timed calls, and of the machine reference beside them."""

    eager_s: float
    compiled_s: float
    speedup: float  # its own interleaved speedup (uncompiled / compiled, in that process)
    reference_s: float


@dataclass(frozen=True, kw_only=True)
class Pair:
    base: ProcessTiming
    head: ProcessTiming


def host_moved(pair: Pair, *, host_limit: float) -> bool:
    """The machine reference of head and base differ by more than ``host_limit`` (relative); any NaN or non-positive
    reference counts as moved (nothing can be said of that pair)."""
    base, head = pair.base.reference_s, pair.head.reference_s
    if not (math.isfinite(base) and math.isfinite(head) and base > 0 and head > 0):
        return True
    return abs(math.log(head / base)) > math.log1p(host_limit)


def log_ratios(pairs: Sequence[Pair], metric: str) -> list[float]:
    """log(head / base) of ``metric`` (a :class:`ProcessTiming` field) per pair; pairs with a non-finite or
    non-positive value are left out."""
    out = []
    for pair in pairs:
        base, head = getattr(pair.base, metric), getattr(pair.head, metric)
        if math.isfinite(base) and math.isfinite(head) and base > 0 and head > 0:
            out.append(math.log(head / base))
    return out


@dataclass(frozen=True, kw_only=True)
class RatioEstimate:
    """head / base of one metric over the kept pairs: the geometric mean ratio and its interval."""

    metric: str
    ratio: float  # nan when no pair is left
    low: float
    high: float
    pairs: int  # pairs the estimate rests on


def estimate(pairs: Sequence[Pair], metric: str, *, confidence: float = DEFAULT_CONFIDENCE) -> RatioEstimate:
    """Geometric mean of head/base over the pairs, with a t-interval of the mean log ratio (one pair: no interval)."""
    logs = log_ratios(pairs, metric)
    if not logs:
        return RatioEstimate(metric=metric, ratio=math.nan, low=math.nan, high=math.nan, pairs=0)
    mean = math.fsum(logs) / len(logs)
    if len(logs) < 2:
        return RatioEstimate(metric=metric, ratio=math.exp(mean), low=math.nan, high=math.nan, pairs=1)
    spread = math.sqrt(math.fsum((x - mean) ** 2 for x in logs) / (len(logs) - 1))
    half = float(scipy_stats.t.ppf(0.5 + confidence / 2, len(logs) - 1)) * spread / math.sqrt(len(logs))
    return RatioEstimate(
        metric=metric, ratio=math.exp(mean), low=math.exp(mean - half), high=math.exp(mean + half), pairs=len(logs)
    )


class PairVerdict(TextEnum):
    REGRESSION = "regression"  # worse than the tolerance, and the interval excludes no change
    IMPROVEMENT = "improvement"  # better than the tolerance, and the interval excludes no change
    HOLDS = "holds"
    UNDECIDED = "undecided"  # no interval (fewer than two pairs, or a NaN): measure more pairs; exits like a regression


def judge(found: RatioEstimate, *, tolerance: float, higher_is_worse: bool) -> PairVerdict:
    """A latency (``higher_is_worse``) regresses when head/base > 1 + tolerance and the interval's low end is above 1;
    a speedup when head/base < 1 - tolerance and the interval's high end is below 1. Written so a NaN never holds."""
    if not (math.isfinite(found.ratio) and math.isfinite(found.low) and math.isfinite(found.high)):
        return PairVerdict.UNDECIDED
    ratio, low, high = (
        (found.ratio, found.low, found.high) if higher_is_worse else (1 / found.ratio, 1 / found.high, 1 / found.low)
    )
    if ratio > 1 + tolerance and low > 1:
        return PairVerdict.REGRESSION
    if ratio < 1 - tolerance and high < 1:
        return PairVerdict.IMPROVEMENT
    return PairVerdict.HOLDS


def kept_pairs(pairs: Sequence[Pair], *, host_limit: float) -> tuple[list[Pair], int]:
    """The pairs whose host held, and how many were dropped because it moved."""
    kept = [pair for pair in pairs if not host_moved(pair, host_limit=host_limit)]
    return kept, len(pairs) - len(kept)


def stack_changes(base: dict[str, str], head: dict[str, str]) -> list[str]:
    """What differs between two stacks' package versions, as every finding names it: ``transformers 5.24.0 → 5.25.0``,
    ``triton (none) → 3.4.0``; sorted by package name."""
    changes = []
    for name in sorted(set(base) | set(head)):
        old, new = base.get(name, "(none)"), head.get(name, "(none)")
        if old != new:
            changes.append(f"{name} {old} → {new}")
    return changes
