"""The schema-2 gate: interleaved speedup, eager latency with two witnesses, numerical drift and flakiness."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest

from harness.gate.baseline import Baseline, Tolerances
from harness.gate.baseline_files import baseline_from
from harness.gate.checks import find_findings
from harness.gate.comparison import INTERLEAVED, SEPARATE, Comparison, compare_pair, interleaved_speedup, pool_runs, summarize
from harness.gate.findings import Finding, lower, slower
from harness.results.keys import key_of
from harness.results.schema import RunRecord
from harness.rules.recommend import Recommendation, recommend
from tests.factories import make_record


def _jitter(center: float, *, seed: int, n: int = 20, rel: float = 0.03) -> list[float]:
    return [center * (1 + float(u)) for u in np.random.default_rng(seed).uniform(-rel, rel, n)]


def run_pair(
    *,
    eager_s: float = 0.2,
    compiled_s: float = 0.1,
    paired_s: float | None = 0.2,
    reference_s: float = 0.01,
    host: float = 1.0,
    seed: int = 0,
    **compiled_fields: object,
) -> tuple[RunRecord, RunRecord]:
    """An eager session and a compiled session; ``host`` scales every time (a slower or faster machine moment)."""
    eager = make_record(
        "eager",
        latencies=[x * host for x in _jitter(eager_s, seed=seed)],
        reference_s=[x * host for x in _jitter(reference_s, seed=seed + 1)],
    )
    compiled_lat = [x * host for x in _jitter(compiled_s, seed=seed + 2)]
    extra: dict[str, Any] = {"reference_s": [x * host for x in _jitter(reference_s, seed=seed + 3)]}
    if paired_s is not None:
        extra["paired_eager_latencies_s"] = [x * host for x in _jitter(paired_s, seed=seed + 4)]
    extra.update(compiled_fields)
    return eager, make_record("compiled", latencies=compiled_lat, **extra)


def comparison(eager: RunRecord, compiled: RunRecord) -> Comparison:
    return compare_pair(key_of(compiled), eager, compiled)


def baseline_of(eager: RunRecord, compiled: RunRecord, **tolerances: float) -> Baseline:
    return baseline_from(comparison(eager, compiled), tolerances=Tolerances(**tolerances), provenance={})


def kinds(findings: list[Finding]) -> dict[str, str]:
    """The findings worth a line, by metric (a metric that held or was only shown is left out)."""
    return {f.metric: f.kind for f in findings if f.notable}


# --- decision rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "interval", "expected"),
    [
        (1.20, (1.15, 1.25), True),  # beyond tolerance and significant
        (1.20, (0.95, 1.40), False),  # beyond tolerance but the interval reaches the baseline: too few calls
        (1.05, (1.04, 1.06), False),  # significant but inside tolerance: noise between sessions
        (math.nan, (1.15, 1.25), True),  # a NaN never passes
        (1.20, (math.nan, math.nan), True),
    ],
)
def test_slower_needs_both_size_and_significance(current: float, interval: tuple[float, float], expected: bool) -> None:
    assert slower(current, interval, 1.0, 0.10) is expected
    assert lower(2 - current, (2 - interval[1], 2 - interval[0]), 1.0, 0.10) is expected  # the mirror image


# --- interleaved speedup ---------------------------------------------------------------------------------


def test_interleaved_speedup_is_the_median_of_pair_ratios() -> None:
    compiled = summarize(make_record("compiled", latencies=[0.1, 0.2, 0.1], paired_eager_latencies_s=[0.2, 0.3, 0.25]))
    result = interleaved_speedup(compiled)
    assert result is not None
    speedup, (low, high) = result
    assert speedup == pytest.approx(2.0)  # ratios 2.0, 1.5, 2.5
    assert low <= speedup <= high


def test_failed_partners_are_left_out_of_the_ratio() -> None:
    compiled = summarize(make_record("compiled", latencies=[0.1, 0.1, 0.1], paired_eager_latencies_s=[0.3, math.nan, 0.3]))
    result = interleaved_speedup(compiled)
    assert result is not None and result[0] == pytest.approx(3.0)


def test_comparison_prefers_the_interleaved_speedup_and_keeps_the_session_one() -> None:
    eager, compiled = run_pair(eager_s=0.3, compiled_s=0.1, paired_s=0.2)  # the eager session ran on a slow moment
    result = comparison(eager, compiled)
    assert result.speedup_method == INTERLEAVED
    assert result.speedup == pytest.approx(2.0, rel=0.05)
    assert result.session_speedup == pytest.approx(3.0, rel=0.05)


def test_without_partners_the_speedup_comes_from_the_sessions() -> None:
    eager, compiled = run_pair(paired_s=None)
    result = comparison(eager, compiled)
    assert result.speedup_method == SEPARATE and result.speedup == pytest.approx(2.0, rel=0.05)


def test_a_slower_machine_moves_latency_but_not_the_interleaved_speedup() -> None:
    base = baseline_of(*run_pair())
    findings = find_findings(comparison(*run_pair(host=1.3, seed=7)), base)  # everything 30% slower
    # the machine reference beside the calls moved 30% with them: the host, not the software; neither a pass nor a
    # fail: host noisy, for confirm to re-bench (before 0.5.0: eager a regression, compiled a swing)
    assert kinds(findings) == {
        "eager.latency_s": "host noisy",
        "compiled.latency_s": "host noisy",
        "compiled.latency_p90_s": "host noisy",
    }


def test_compiled_10_percent_slower_is_caught_by_speedup_and_latency() -> None:
    base = baseline_of(*run_pair(), speedup_rel=0.05, latency_rel=0.05)
    findings = find_findings(comparison(*run_pair(compiled_s=0.11, seed=7)), base)
    assert kinds(findings) == {"compiled.latency_s": "regression", "speedup": "regression"}


def test_compiled_10_percent_slower_with_wide_latency_tolerance_is_still_caught_by_speedup() -> None:
    base = baseline_of(*run_pair(), speedup_rel=0.05, latency_rel=0.25)
    findings = find_findings(comparison(*run_pair(compiled_s=0.11, seed=7)), base)
    assert kinds(findings) == {"speedup": "regression"}


def test_eager_10_percent_slower_is_caught_by_latency() -> None:
    base = baseline_of(*run_pair(), speedup_rel=0.05, latency_rel=0.05)
    findings = find_findings(comparison(*run_pair(eager_s=0.22, paired_s=0.22, seed=7)), base)
    assert kinds(findings)["eager.latency_s"] == "regression"  # its session and its interleaved partner both slower
    assert kinds(findings)["speedup"] == "improvement"  # compiled unchanged, so its lead grew


def test_eager_session_slower_but_its_interleaved_partner_held_is_a_host_swing() -> None:
    base = baseline_of(*run_pair(), speedup_rel=0.05, latency_rel=0.05)
    assert base.eager.partner_latency_median_s == pytest.approx(0.2, rel=0.05)  # the second witness, recorded
    findings = find_findings(comparison(*run_pair(eager_s=0.22, paired_s=0.2, seed=7)), base)
    assert kinds(findings) == {"eager.latency_s": "swing"}
    (swing,) = [f for f in findings if f.metric == "eager.latency_s"]
    assert not swing.regression and "host swing" in swing.message


def test_speedup_measured_another_way_is_not_gated_but_noted() -> None:
    base = dataclasses.replace(baseline_of(*run_pair()), speedup_method=SEPARATE, speedup=4.0)
    findings = find_findings(comparison(*run_pair()), base)
    (note,) = [f for f in findings if f.metric == "speedup"]
    assert note.kind == "note" and not note.regression and "refresh" in note.message


# --- drift -----------------------------------------------------------------------------------------------


def test_drift_beyond_tolerance_is_a_regression_and_rejects_compiled() -> None:
    eager, compiled = run_pair(drift_max_abs=0.5, drift_tolerance_abs=0.2, eager_float32_error_abs=0.05, status="fail_accuracy")
    result = comparison(eager, compiled)
    assert result.recommendation is Recommendation.REJECT_ACCURACY and "drift 0.5" in result.reason
    findings = find_findings(result, baseline_of(*run_pair()))
    (drift,) = [f for f in findings if f.metric == "compiled.drift"]
    assert drift.regression and "eager's own float32 error 0.05" in drift.message


def test_drift_within_tolerance_is_no_finding() -> None:
    eager, compiled = run_pair(drift_max_abs=0.1, drift_tolerance_abs=0.2)
    findings = find_findings(comparison(eager, compiled), baseline_of(*run_pair()))
    assert "compiled.drift" not in kinds(findings)
    assert [f.kind for f in findings if f.metric == "compiled.drift"] == ["holds"]


# --- flakiness -------------------------------------------------------------------------------------------


def test_a_flaky_compiled_mode_is_reported_not_failed_and_not_adopted() -> None:
    eager, compiled = run_pair(compiled_s=0.05, n_flaky=1, flip_rate=0.025)
    result = comparison(eager, compiled)
    assert result.recommendation is Recommendation.REJECT_FLAKY
    findings = find_findings(result, baseline_of(*run_pair()))
    assert kinds(findings)["compiled.flip_rate"] == "flaky"
    assert not any(f.regression for f in findings if f.metric == "compiled.flip_rate")


def test_recommend_rejects_flaky_before_looking_at_speed() -> None:
    verdict, reason = recommend(compiled_success_rate=1.0, speedup=3.0, mae_diff=0.0, compiled_flaky=2)
    assert verdict is Recommendation.REJECT_FLAKY and "2 call(s)" in reason


def test_pooling_keeps_pairs_and_references_aligned() -> None:
    first = run_pair(seed=1)
    second = tuple(
        dataclasses.replace(r, run_id=r.run_id + "-2", timestamp_utc="2026-11-25T13:00:00+00:00") for r in run_pair(seed=2)
    )
    pooled = {r.mode: r for r in pool_runs([*first, *second])}
    compiled = pooled["compiled"]
    assert len(compiled.latencies_s) == len(compiled.paired_eager_latencies_s) == len(compiled.reference_s) == 40
    assert len(pooled["eager"].reference_s) == 40
