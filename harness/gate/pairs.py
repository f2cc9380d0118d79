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
from harness.bench.abba import Pair, host_moved

DEFAULT_CONFIDENCE = 0.95


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


@dataclass(frozen=True, kw_only=True)
class ABTolerances:
    """How far head may move from base before it is a regression (each also needs its interval to exclude 1)."""

    latency_rel: float = 0.10  # eager or compiled latency, head/base above 1 + this
    speedup_rel: float = 0.05  # speedup, head/base below 1 - this
    mae_rel: float = 0.01  # compiled MAE, head above base x (1 + this): same host, same data, so nearly exact
    host_limit: float = 0.25  # a pair whose machine reference moved more than this is dropped (and re-run)


@dataclass(frozen=True, kw_only=True)
class ABFinding:
    metric: str
    base: float | None
    head: float | None
    ratio: float | None  # head / base
    low: float | None
    high: float | None
    verdict: PairVerdict
    message: str

    @property
    def fails(self) -> bool:
        return self.verdict in (PairVerdict.REGRESSION, PairVerdict.UNDECIDED)


@dataclass(frozen=True, kw_only=True)
class ABVerdict:
    findings: tuple[ABFinding, ...]
    changes: tuple[str, ...]  # what differs between the stacks ("transformers 5.24.0 → 5.25.0")
    pairs_planned: int
    pairs_used: int  # complete pairs whose host held
    pairs_dropped: int  # complete pairs whose host moved
    failed: dict[str, int]  # side -> processes without a passing row

    @property
    def fails(self) -> bool:
        return any(finding.fails for finding in self.findings)


TIMINGS = (  # metric, ProcessTiming field, higher is worse
    ("eager.latency_s", "eager_s", True),
    ("compiled.latency_s", "compiled_s", True),
    ("speedup", "speedup", False),
)


def _median(values: Sequence[float]) -> float:
    finite = sorted(v for v in values if math.isfinite(v))
    if not finite:
        return math.nan
    middle = len(finite) // 2
    return finite[middle] if len(finite) % 2 else (finite[middle - 1] + finite[middle]) / 2


def judge_ab(
    pairs: Sequence[Pair],
    *,
    base_mae: Sequence[float],
    head_mae: Sequence[float],
    head_drift: Sequence[bool],
    failed: dict[str, int],
    processes: dict[str, int],
    changes: Sequence[str],
    pairs_planned: int,
    tolerances: ABTolerances,
) -> ABVerdict:
    """The A/B's verdict: timings per pair, then accuracy, success and drift of head against base on the same host.

    ``pairs``: complete pairs (both processes passed); ``head_drift``: per head process, whether its compiled forecasts
    drifted beyond its own tolerance; ``failed`` / ``processes``: per side, processes without a passing row / run.
    """
    named = "; ".join(changes) if changes else "no package differs"
    kept, dropped = kept_pairs(pairs, host_limit=tolerances.host_limit)
    findings = []
    for metric, field_name, higher_is_worse in TIMINGS:
        found = estimate(kept, field_name)
        tolerance = tolerances.latency_rel if higher_is_worse else tolerances.speedup_rel
        verdict = judge(found, tolerance=tolerance, higher_is_worse=higher_is_worse)
        base_value = _median([getattr(p.base, field_name) for p in kept])
        head_value = _median([getattr(p.head, field_name) for p in kept])
        interval = f"[{found.low:.3f}, {found.high:.3f}]" if math.isfinite(found.low) else "(no interval)"
        message = (
            f"{named}: {metric} head/base {found.ratio:.3f} {interval} over {found.pairs} pair(s), tolerance {tolerance:.0%}"
        )
        if verdict is PairVerdict.UNDECIDED:
            message += "; fix: more pairs (--pairs), on a quieter host"
        findings.append(
            ABFinding(
                metric=metric,
                base=base_value,
                head=head_value,
                ratio=found.ratio,
                low=found.low,
                high=found.high,
                verdict=verdict,
                message=message,
            )
        )
    findings.append(_mae(base_mae, head_mae, tolerances.mae_rel, named))
    findings.append(_success(failed, processes, named))
    drifted = sum(head_drift)
    findings.append(
        ABFinding(
            metric="compiled.drift",
            base=None,
            head=float(drifted),
            ratio=None,
            low=None,
            high=None,
            verdict=PairVerdict.REGRESSION if drifted else PairVerdict.HOLDS,
            message=f"{named}: compiled forecasts drifted beyond eager's own noise in {drifted} head process(es)",
        )
    )
    return ABVerdict(
        findings=tuple(findings),
        changes=tuple(changes),
        pairs_planned=pairs_planned,
        pairs_used=len(kept),
        pairs_dropped=dropped,
        failed=dict(failed),
    )


def _mae(base_mae: Sequence[float], head_mae: Sequence[float], tolerance: float, named: str) -> ABFinding:
    base, head = _median(base_mae), _median(head_mae)
    ratio = head / base if math.isfinite(base) and math.isfinite(head) and base > 0 else math.nan
    if not math.isfinite(ratio):
        verdict = PairVerdict.UNDECIDED
    elif not ratio <= 1 + tolerance:
        verdict = PairVerdict.REGRESSION
    elif ratio < 1 - tolerance:
        verdict = PairVerdict.IMPROVEMENT
    else:
        verdict = PairVerdict.HOLDS
    return ABFinding(
        metric="compiled.mae",
        base=base,
        head=head,
        ratio=ratio,
        low=None,
        high=None,
        verdict=verdict,
        message=f"{named}: compiled MAE head/base {ratio:.5f}, tolerance {tolerance:.0%}",
    )


def _success(failed: dict[str, int], processes: dict[str, int], named: str) -> ABFinding:
    base_failed, head_failed = failed.get("base", 0), failed.get("head", 0)
    base_rate = 1 - base_failed / processes["base"] if processes.get("base") else math.nan
    head_rate = 1 - head_failed / processes["head"] if processes.get("head") else math.nan
    verdict = PairVerdict.HOLDS if head_rate >= base_rate else PairVerdict.REGRESSION  # NaN: a regression
    return ABFinding(
        metric="success",
        base=base_rate,
        head=head_rate,
        ratio=None,
        low=None,
        high=None,
        verdict=verdict,
        message=f"{named}: {head_failed} of {processes.get('head', 0)} head process(es) failed, {base_failed} of {processes.get('base', 0)} base",
    )
