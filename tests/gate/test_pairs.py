"""harness.gate.pairs: an A/B judged with the process pair as the unit, from hand-made pairs whose answer is known."""

from __future__ import annotations

import math

import pytest

from harness.bench.abba import Pair, ProcessTiming, host_moved
from harness.gate.pairs import (
    ABTolerances,
    ABVerdict,
    PairVerdict,
    estimate,
    judge,
    judge_ab,
    kept_pairs,
    log_ratios,
    stack_changes,
)


def _process(eager: float, compiled: float, *, reference: float = 2.0e-3) -> ProcessTiming:
    return ProcessTiming(eager_s=eager, compiled_s=compiled, speedup=eager / compiled, reference_s=reference)


def _pairs(compiled_factors: list[float], *, host: list[float] | None = None) -> list[Pair]:
    """Pairs of a base at 20 ms eager / 16 ms compiled; the host (both processes of a pair) scaled by ``host``."""
    host = host or [1.0] * len(compiled_factors)
    return [
        Pair(
            base=_process(0.020 * scale, 0.016 * scale),
            head=_process(0.020 * scale, 0.016 * scale * factor),
        )
        for factor, scale in zip(compiled_factors, host, strict=True)
    ]


def test_a_planted_10_percent_compiled_slowdown_is_a_regression_of_latency_and_speedup() -> None:
    # the host swings 40% from pair to pair; inside each pair head is 9-11% slower: the pair ratio sees only that
    pairs = _pairs([1.09, 1.11, 1.10, 1.10, 1.09, 1.11], host=[1.0, 1.4, 0.9, 1.2, 1.0, 1.3])
    latency = estimate(pairs, "compiled_s")
    assert latency.ratio == pytest.approx(1.10, abs=0.002) and 1.0 < latency.low < latency.ratio < latency.high < 1.12
    assert judge(latency, tolerance=0.05, higher_is_worse=True) == PairVerdict.REGRESSION
    speedup = estimate(pairs, "speedup")
    assert speedup.ratio == pytest.approx(1 / 1.10, abs=0.002)
    assert judge(speedup, tolerance=0.05, higher_is_worse=False) == PairVerdict.REGRESSION
    assert judge(estimate(pairs, "eager_s"), tolerance=0.05, higher_is_worse=True) == PairVerdict.HOLDS


def test_the_same_stack_twice_holds() -> None:
    pairs = _pairs([1.01, 0.99, 1.00, 1.02, 0.98, 1.00], host=[1.0, 1.3, 0.8, 1.1, 1.2, 0.9])
    for metric, worse in (("compiled_s", True), ("eager_s", True), ("speedup", False)):
        assert judge(estimate(pairs, metric), tolerance=0.05, higher_is_worse=worse) == PairVerdict.HOLDS


def test_a_big_ratio_with_wild_pairs_holds_until_the_interval_excludes_no_change() -> None:
    noisy = _pairs([1.6, 0.8, 1.5, 0.85])  # mean ratio ~1.15 but the pairs disagree: no evidence
    found = estimate(noisy, "compiled_s")
    assert found.ratio > 1.05 and found.low < 1.0
    assert judge(found, tolerance=0.05, higher_is_worse=True) == PairVerdict.HOLDS


def test_a_faster_head_is_an_improvement_not_a_regression() -> None:
    pairs = _pairs([0.80, 0.81, 0.79, 0.80])
    assert judge(estimate(pairs, "compiled_s"), tolerance=0.05, higher_is_worse=True) == PairVerdict.IMPROVEMENT
    assert judge(estimate(pairs, "speedup"), tolerance=0.05, higher_is_worse=False) == PairVerdict.IMPROVEMENT


def test_the_interval_is_the_t_interval_of_the_mean_log_ratio_over_pairs() -> None:
    pairs = _pairs([math.exp(0.1), math.exp(0.3)])  # log ratios 0.1 and 0.3: mean 0.2, sd 0.1414, t(0.975, 1) = 12.706
    found = estimate(pairs, "compiled_s")
    half = 12.7062 * 0.141421 / math.sqrt(2)
    assert found.pairs == 2 and found.ratio == pytest.approx(math.exp(0.2))
    assert found.low == pytest.approx(math.exp(0.2 - half), rel=1e-4)
    assert found.high == pytest.approx(math.exp(0.2 + half), rel=1e-4)


@pytest.mark.parametrize(
    "pairs",
    [
        [],
        _pairs([1.5]),  # one pair: a ratio, no interval
        [Pair(base=_process(0.02, math.nan), head=_process(0.02, 0.03))] * 3,  # NaN: every pair left out
        [Pair(base=_process(0.02, 0.016), head=ProcessTiming(eager_s=0.02, compiled_s=0.0, speedup=math.inf, reference_s=2e-3))]
        * 3,  # a zero time is no measurement
    ],
    ids=["no pairs", "one pair", "NaN", "zero"],
)
def test_no_interval_is_undecided_never_holds(pairs: list[Pair]) -> None:
    found = estimate(pairs, "compiled_s")
    assert judge(found, tolerance=0.05, higher_is_worse=True) == PairVerdict.UNDECIDED
    assert judge(found, tolerance=0.05, higher_is_worse=False) == PairVerdict.UNDECIDED


def test_a_pair_whose_host_moved_is_dropped_and_counted() -> None:
    steady = Pair(base=_process(0.020, 0.016), head=_process(0.021, 0.017))
    slow_host = Pair(base=_process(0.020, 0.016, reference=2.1e-3), head=_process(0.028, 0.022, reference=3.2e-3))
    broken = Pair(base=_process(0.020, 0.016, reference=math.nan), head=_process(0.020, 0.016))
    assert not host_moved(steady, host_limit=0.15)
    assert host_moved(slow_host, host_limit=0.15) and not host_moved(slow_host, host_limit=0.6)
    assert host_moved(broken, host_limit=0.15)  # a NaN reference says nothing: never kept
    kept, dropped = kept_pairs([steady, slow_host, broken, steady], host_limit=0.15)
    assert kept == [steady, steady] and dropped == 2
    assert log_ratios(kept, "eager_s") == [pytest.approx(math.log(1.05))] * 2


def test_stack_changes_name_each_package_that_differs() -> None:
    base = {"torch": "2.13.0", "transformers": "5.24.0", "numpy": "2.4.6"}
    head = {"torch": "2.13.0", "transformers": "5.25.0", "triton": "3.4.0"}
    assert stack_changes(base, head) == ["numpy 2.4.6 → (none)", "transformers 5.24.0 → 5.25.0", "triton (none) → 3.4.0"]
    assert stack_changes(base, base) == []


def _verdict(pairs: list[Pair], **overrides: object) -> ABVerdict:
    arguments: dict[str, object] = {
        "base_mae": [5232.9330] * len(pairs),
        "head_mae": [5232.9330] * len(pairs),
        "head_drift": [False] * len(pairs),
        "failed": {"base": 0, "head": 0},
        "processes": {"base": len(pairs), "head": len(pairs)},
        "changes": ["transformers 5.24.0 → 5.25.0"],
        "pairs_planned": len(pairs),
        "tolerances": ABTolerances(),
    }
    arguments.update(overrides)
    return judge_ab(pairs, **arguments)  # type: ignore[arg-type]


def _by_metric(verdict: ABVerdict) -> dict[str, PairVerdict]:
    return {finding.metric: finding.verdict for finding in verdict.findings}


def test_an_ab_whose_head_compiles_slower_fails_naming_the_change() -> None:
    verdict = _verdict(_pairs([1.3, 1.31, 1.29, 1.3, 1.3, 1.3], host=[1.0, 1.2, 0.9, 1.1, 1.0, 1.05]))
    assert verdict.fails
    found = _by_metric(verdict)
    assert found["compiled.latency_s"] == found["speedup"] == PairVerdict.REGRESSION
    assert found["eager.latency_s"] == found["compiled.mae"] == found["success"] == found["compiled.drift"] == PairVerdict.HOLDS
    failing = [f for f in verdict.findings if f.fails]
    assert all(f.message.startswith("transformers 5.24.0 → 5.25.0: ") for f in failing)


def test_an_identical_ab_holds_everywhere() -> None:
    verdict = _verdict(_pairs([1.0, 1.01, 0.99, 1.0]), changes=[])
    assert not verdict.fails and set(_by_metric(verdict).values()) == {PairVerdict.HOLDS}
    assert verdict.findings[0].message.startswith("no package differs: ")


def test_pairs_whose_host_moved_are_not_judged_and_are_counted() -> None:
    steady = _pairs([1.0, 1.0, 1.0])
    moved = [Pair(base=_process(0.02, 0.016, reference=2e-3), head=_process(0.03, 0.03, reference=3.5e-3))]
    verdict = _verdict([*steady, *moved], pairs_planned=3)
    assert (verdict.pairs_used, verdict.pairs_dropped) == (3, 1) and not verdict.fails


@pytest.mark.parametrize(
    ("overrides", "metric"),
    [
        ({"failed": {"base": 0, "head": 1}}, "success"),
        ({"processes": {"base": 0, "head": 4}}, "success"),  # nothing to compare with: never a pass
        ({"head_mae": [5232.9330 * 1.02] * 4}, "compiled.mae"),
        ({"head_mae": [math.nan] * 4}, "compiled.mae"),
        ({"head_drift": [False, True, False, False]}, "compiled.drift"),
    ],
    ids=["a head process failed", "no base process", "MAE +2%", "MAE NaN", "drift"],
)
def test_accuracy_success_and_drift_of_head_fail_the_ab(overrides: dict[str, object], metric: str) -> None:
    verdict = _verdict(_pairs([1.0, 1.0, 1.0, 1.0]), **overrides)
    assert verdict.fails and [f.metric for f in verdict.findings if f.fails] == [metric]


def test_too_few_pairs_is_undecided_and_fails() -> None:
    verdict = _verdict(_pairs([1.0]))
    assert verdict.fails and _by_metric(verdict)["compiled.latency_s"] == PairVerdict.UNDECIDED
