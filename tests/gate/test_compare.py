"""harness.gate.comparison, harness.rules.recommend and harness.gate.checks: the recommendation rules, joining runs into comparisons, and
findings against a baseline."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from harness.gate.baseline import Baseline, ModeBaseline, Tolerances
from harness.gate.checks import find_findings
from harness.gate.comparison import Comparison, build_comparisons, compare_pair
from harness.gate.findings import Finding
from harness.gate.matching import GateKind, missing, select
from harness.results.keys import Key, key_of
from harness.rules.recommend import Recommendation, mae_diff_pct, recommend, speedup_text
from tests.factories import make_record, replace

if TYPE_CHECKING:
    from harness.results.schema import RunRecord

EAGER_S = 0.2
COMPILED_S = 0.1


def jittered(center: float, *, seed: int, rel: float = 0.03, n: int = 20) -> list[float]:
    """``n`` latencies spread uniformly within ±``rel`` of ``center``."""
    return [center * (1 + float(u)) for u in np.random.default_rng(seed).uniform(-rel, rel, n)]


def pair(
    eager_s: float = EAGER_S,
    compiled_s: float = COMPILED_S,
    *,
    eager_mae: float = 10.0,
    compiled_mae: float = 10.0,
    seed: int = 0,
) -> tuple[RunRecord, RunRecord]:
    eager = make_record("eager", latencies=jittered(eager_s, seed=seed), mae=eager_mae)
    compiled = make_record("compiled", latencies=jittered(compiled_s, seed=seed + 1000), mae=compiled_mae)
    return eager, compiled


def compare(eager: RunRecord | None, compiled: RunRecord) -> Comparison:
    return compare_pair(key_of(compiled), eager, compiled)


def baseline(
    *,
    eager_s: float = EAGER_S,
    compiled_s: float = COMPILED_S,
    speedup: float = EAGER_S / COMPILED_S,
    eager_mae: float = 10.0,
    compiled_mae: float = 10.0,
    eager_rate: float = 1.0,
    compiled_rate: float = 1.0,
) -> Baseline:
    """A baseline written by hand; its key is that of the factory's compiled record."""
    return Baseline(
        key=key_of(make_record("compiled")),
        eager=ModeBaseline(success_rate=eager_rate, latency_median_s=eager_s, mae=eager_mae, mae_pct=eager_mae / 101.0 * 100),
        compiled=ModeBaseline(
            success_rate=compiled_rate, latency_median_s=compiled_s, mae=compiled_mae, mae_pct=compiled_mae / 101.0 * 100
        ),
        speedup=speedup,
        mae_diff_pct=100.0 * (compiled_mae - eager_mae) / eager_mae,
    )


def regressions(findings: list[Finding]) -> dict[str, Finding]:
    return {f.metric: f for f in findings if f.regression}


def improvements(findings: list[Finding]) -> dict[str, Finding]:
    return {f.metric: f for f in findings if f.kind == "improvement"}


def notable(findings: list[Finding]) -> list[Finding]:
    """The findings worth a line: find_findings also returns a "holds" row for every metric that held."""
    return [f for f in findings if f.notable]


# --- recommend --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "speedup", "diff", "expected"),
    [
        (1.0, 1.6, 0.5, Recommendation.ADOPT),
        (1.0, 1.6, -0.5, Recommendation.ADOPT),
        (1.0, 1.3, 0.5, Recommendation.MARGINAL),
        (1.0, 1.1, 0.5, Recommendation.NOT_WORTH_IT),
        (1.0, 0.7, 0.0, Recommendation.NOT_WORTH_IT),
        (0.8, 3.0, 0.0, Recommendation.REJECT_FAILURES),
        (0.0, None, None, Recommendation.REJECT_FAILURES),
        (0.99, 3.0, 0.0, Recommendation.REJECT_FAILURES),
        (1.0, 3.0, 2.5, Recommendation.REJECT_ACCURACY),
        (1.0, 3.0, -2.5, Recommendation.REJECT_ACCURACY),
        (1.0, 3.0, float("inf"), Recommendation.REJECT_ACCURACY),
        (1.0, 3.0, float("nan"), Recommendation.REJECT_ACCURACY),
        (1.0, None, 0.0, Recommendation.INCOMPLETE),
        (1.0, 1.6, None, Recommendation.INCOMPLETE),
        # boundaries
        (1.0, 1.5, 0.0, Recommendation.MARGINAL),
        (1.0, 1.2, 0.0, Recommendation.MARGINAL),
        (1.0, 1.1999, 0.0, Recommendation.NOT_WORTH_IT),
        (1.0, 1.5001, 0.0, Recommendation.ADOPT),
        (1.0, 1.6, 2.0, Recommendation.REJECT_ACCURACY),
        (1.0, 1.6, -2.0, Recommendation.REJECT_ACCURACY),
        (1.0, 1.6, 1.999, Recommendation.ADOPT),
    ],
)
def test_recommend(rate: float, speedup: float | None, diff: float | None, expected: Recommendation) -> None:
    recommendation, reason = recommend(compiled_success_rate=rate, speedup=speedup, mae_diff=diff)
    assert recommendation is expected
    assert reason


def test_recommend_reasons_quote_the_numbers() -> None:
    assert "80%" in recommend(compiled_success_rate=0.8, speedup=3.0, mae_diff=0.0)[1]
    assert "+2.50%" in recommend(compiled_success_rate=1.0, speedup=3.0, mae_diff=2.5)[1]
    assert "1.60x" in recommend(compiled_success_rate=1.0, speedup=1.6, mae_diff=0.5)[1]


@pytest.mark.parametrize(
    ("eager", "compiled", "expected"),
    [
        (10.0, 10.0, 0.0),
        (10.0, 10.5, 5.0),
        (10.0, 9.0, -10.0),
        (0.0, 0.0, 0.0),
        (0.0, 1.0, float("inf")),
        (None, 1.0, None),
        (1.0, None, None),
    ],
)
def test_mae_diff_pct(eager: float | None, compiled: float | None, expected: float | None) -> None:
    assert mae_diff_pct(eager, compiled) == (pytest.approx(expected) if expected not in (None, float("inf")) else expected)


# --- compare_pair -----------------------------------------------------------------------------------


def test_compare_pair_of_a_2x_speedup_adopts() -> None:
    eager, compiled = pair()
    comparison = compare(eager, compiled)
    assert comparison.recommendation is Recommendation.ADOPT
    assert comparison.speedup == pytest.approx(2.0, rel=0.05)
    assert comparison.speedup is not None
    assert comparison.speedup_ci is not None
    assert comparison.speedup_ci[0] <= comparison.speedup <= comparison.speedup_ci[1]
    assert comparison.mae_diff_pct == 0.0
    assert comparison.eager is not None
    assert comparison.eager.run_id == "run-eager"
    assert comparison.compiled is not None
    assert comparison.compiled.run_id == "run-compiled"
    assert comparison.fingerprint["torch_version"] == "2.13.0+cpu"


def test_compare_pair_without_eager_is_incomplete() -> None:
    _, compiled = pair()
    comparison = compare(None, compiled)
    assert comparison.recommendation is Recommendation.INCOMPLETE
    assert comparison.eager is None
    assert comparison.speedup is None
    assert comparison.speedup_ci is None
    assert comparison.mae_diff_pct is None
    assert "bench_eager" in comparison.reason


def test_compare_pair_with_failed_eager_is_incomplete() -> None:
    _, compiled = pair()
    eager = make_record("eager", latencies=[], status="fail_exception", error_type="RuntimeError", error_message="oom")
    comparison = compare(eager, compiled)
    assert comparison.recommendation is Recommendation.INCOMPLETE
    assert "RuntimeError: oom" in comparison.reason


def test_failed_interleaved_eager_calls_count_against_eager() -> None:
    # the uncompiled model failed (confirmed by re-runs) in 2 of the 5 calls interleaved in the compiled run: that is
    # an eager failure, wherever it happened, and no recommendation stands on a failing eager
    eager, _ = pair()
    compiled = make_record(
        "compiled",
        latencies=jittered(COMPILED_S, seed=1000, n=5),
        paired_eager_latencies_s=[0.2, float("nan"), 0.2, float("nan"), 0.2],
    )
    comparison = compare(eager, compiled)
    assert comparison.compiled is not None and comparison.compiled.n_partner_failures == 2
    assert comparison.compiled.partner_latency_median_s == pytest.approx(0.2)
    assert comparison.eager is not None
    assert (comparison.eager.n_success, comparison.eager.n_predictions) == (23, 25)
    assert comparison.eager.success_rate == pytest.approx(23 / 25)
    assert comparison.recommendation is Recommendation.INCOMPLETE
    assert "2 interleaved eager call(s) failed" in comparison.reason
    assert set(regressions(find_findings(comparison, baseline()))) == {"eager.success_rate"}


def test_compare_pair_with_failing_compiled_rejects() -> None:
    eager, _ = pair()
    compiled = make_record(
        "compiled", latencies=[], status="fail_exception", error_type="BackendCompilerFailed", error_message="boom"
    )
    comparison = compare(eager, compiled)
    assert comparison.recommendation is Recommendation.REJECT_FAILURES
    assert comparison.speedup is None
    assert comparison.compiled is not None
    assert comparison.compiled.error == "BackendCompilerFailed: boom"


# --- build_comparisons ------------------------------------------------------------------------------


def test_build_joins_the_latest_eager_and_compiled_and_ignores_older_runs() -> None:
    records = [
        make_record("eager", latencies=[0.3] * 5, run_id="e-old", timestamp_utc="2026-11-01T00:00:00+00:00"),
        make_record("eager", latencies=[0.2] * 5, run_id="e-new", timestamp_utc="2026-11-03T00:00:00+00:00"),
        make_record("compiled", latencies=[0.3] * 5, run_id="c-old", timestamp_utc="2026-11-02T00:00:00+00:00"),
        make_record("compiled", latencies=[0.1] * 5, run_id="c-new", timestamp_utc="2026-11-04T00:00:00+00:00"),
    ]
    comparisons, orphans = build_comparisons(reversed(records))
    assert orphans == []
    assert len(comparisons) == 1
    (comparison,) = comparisons
    assert comparison.eager is not None
    assert comparison.eager.run_id == "e-new"
    assert comparison.compiled is not None
    assert comparison.compiled.run_id == "c-new"
    assert comparison.speedup == pytest.approx(2.0)


def test_build_reports_eager_only_runs_as_orphans() -> None:
    eager, compiled = pair()
    lonely = make_record("eager", run_id="goog-eager", symbol="GOOG", data_file="trainingdata/GOOG.csv", data_sha256="a" * 64)
    comparisons, orphans = build_comparisons([eager, compiled, lonely])
    assert [c.key.symbol for c in comparisons] == ["BTCUSD"]
    assert orphans == [lonely]


def test_build_of_compiled_only_is_incomplete() -> None:
    _, compiled = pair()
    comparisons, orphans = build_comparisons([compiled])
    assert [c.recommendation for c in comparisons] == [Recommendation.INCOMPLETE]
    assert orphans == []


@pytest.mark.parametrize(
    ("field", "a", "b"),
    [
        ("torch_version", "2.12.0+cpu", "2.13.0+cpu"),
        ("device_name", "Test CPU", "Other CPU"),
        ("device_type", "cpu", "cuda"),
        ("torch_threads", 2, 8),
        ("context_length", 128, 64),
        ("cpu_flags", "avx,avx2,fma", "avx,avx2,fma,avx512f"),
        ("python_version", "3.11.7", "3.12.3"),
    ],
)
def test_build_separates_environments_into_keys(field: str, a: object, b: object) -> None:
    env_a: dict[str, Any] = {field: a}
    env_b: dict[str, Any] = {field: b}
    records = [
        make_record("eager", latencies=[0.2] * 5, run_id="e-a", **env_a),
        make_record("compiled", latencies=[0.1] * 5, run_id="c-a", **env_a),
        make_record("eager", latencies=[0.3] * 5, run_id="e-b", **env_b),
        make_record("compiled", latencies=[0.1] * 5, run_id="c-b", **env_b),
    ]
    comparisons, orphans = build_comparisons(records)
    assert orphans == []
    joined = {c.compiled.run_id: c.eager.run_id for c in comparisons if c.compiled and c.eager}
    assert joined == {"c-a": "e-a", "c-b": "e-b"}
    assert len({c.key for c in comparisons}) == 2
    speedups = {c.compiled.run_id: c.speedup for c in comparisons if c.compiled}
    assert speedups == {"c-a": pytest.approx(2.0), "c-b": pytest.approx(3.0)}


def test_build_gives_each_compile_config_its_own_key_sharing_one_eager() -> None:
    eager, compiled = pair()
    other = replace(compiled, run_id="run-compiled-max", compile_mode="max-autotune")
    comparisons, orphans = build_comparisons([eager, compiled, other])
    assert orphans == []
    assert sorted(c.key.compile_config for c in comparisons) == [
        "mode=default,backend=inductor,dynamic=auto,attn=eager",
        "mode=max-autotune,backend=inductor,dynamic=auto,attn=eager",
    ]
    assert {c.eager.run_id for c in comparisons if c.eager} == {"run-eager"}


# --- find_findings ----------------------------------------------------------------------------------


def test_no_findings_when_equal_to_the_baseline() -> None:
    findings = find_findings(compare(*pair()), baseline())
    assert notable(findings) == []
    # every metric checked still has its row, so tables can show what held
    assert {f.metric: f.kind for f in findings} == {
        "eager.success_rate": "holds",
        "eager.mae": "holds",
        "eager.latency_s": "holds",
        "compiled.success_rate": "holds",
        "compiled.mae": "holds",
        "compiled.latency_s": "holds",
        "compiled.drift": "holds",
        "speedup": "holds",
    }


def test_speedup_regression() -> None:
    comparison = compare(*pair(eager_s=0.12, compiled_s=0.10))  # clearly 1.2x
    findings = find_findings(comparison, baseline(eager_s=0.12, compiled_s=0.10, speedup=2.0))
    assert set(regressions(findings)) == {"speedup"}
    finding = regressions(findings)["speedup"]
    assert finding.current == pytest.approx(1.2, rel=0.05)
    assert finding.baseline == 2.0
    assert finding.key == comparison.key
    assert "below baseline 2.00x" in finding.message


def test_planted_compiled_latency_regression() -> None:
    # the baseline's compiled run was 20% faster than today's: compiled latency and speedup both regress
    findings = find_findings(compare(*pair()), baseline(compiled_s=0.08, speedup=EAGER_S / 0.08))
    found = regressions(findings)
    assert set(found) == {"compiled.latency_s", "speedup"}
    assert found["compiled.latency_s"].baseline == 0.08
    assert found["compiled.latency_s"].current == pytest.approx(COMPILED_S, rel=0.03)
    assert "compiled latency" in found["compiled.latency_s"].message


def test_eager_latency_slower_without_a_second_witness_is_a_swing_not_a_regression() -> None:
    # no interleaved eager partner here (nor in the baseline): eager's own session alone cannot tell a slower eager
    # from a slow moment of the host, so it is reported, not gated
    findings = find_findings(compare(*pair()), baseline(eager_s=0.16, speedup=0.16 / COMPILED_S))
    assert regressions(findings) == {}
    assert {f.metric: f.kind for f in notable(findings)} == {"eager.latency_s": "swing", "speedup": "improvement"}
    assert "no second witness" in next(f for f in findings if f.metric == "eager.latency_s").message


def test_latency_improvement_is_not_a_regression() -> None:
    findings = find_findings(compare(*pair()), baseline(compiled_s=0.140, speedup=EAGER_S / 0.140))  # today 29% faster
    assert regressions(findings) == {}
    assert set(improvements(findings)) == {"compiled.latency_s", "speedup"}
    assert "refresh the baseline?" in improvements(findings)["compiled.latency_s"].message


def test_mae_regression() -> None:
    findings = find_findings(compare(*pair(compiled_mae=10.5)), baseline())
    assert set(regressions(findings)) == {"compiled.mae"}
    finding = regressions(findings)["compiled.mae"]
    assert (finding.current, finding.baseline) == (10.5, 10.0)
    assert "+5.00%" in finding.message


def test_mae_within_tolerance_is_no_finding() -> None:
    findings = find_findings(compare(*pair(compiled_mae=10.08)), baseline())
    assert notable(findings) == []
    assert next(f for f in findings if f.metric == "compiled.mae").kind == "holds"


def test_mae_improvement_is_not_a_regression() -> None:
    findings = find_findings(compare(*pair(compiled_mae=9.5)), baseline())
    assert regressions(findings) == {}
    assert set(improvements(findings)) == {"compiled.mae"}
    assert improvements(findings)["compiled.mae"].regression is False


def test_success_rate_regression() -> None:
    eager, _ = pair()
    compiled = make_record(
        "compiled",
        latencies=jittered(COMPILED_S, seed=1000, n=4),
        n_predictions=5,
        n_success=4,
        success_rate=0.8,
        status="fail_exception",
        error_type="RuntimeError",
        error_message="graph break storm",
    )
    findings = find_findings(compare(eager, compiled), baseline())
    assert set(regressions(findings)) == {"compiled.success_rate"}
    finding = regressions(findings)["compiled.success_rate"]
    assert (finding.current, finding.baseline) == (0.8, 1.0)


def test_missing_eager_run_is_an_eager_success_rate_regression() -> None:
    _, compiled = pair()
    findings = find_findings(compare(None, compiled), baseline())
    # and with no eager run there is no speedup to check against the baseline's: that fails too, never passes silently
    assert set(regressions(findings)) == {"eager.success_rate", "speedup"}
    assert regressions(findings)["eager.success_rate"].current == 0.0
    assert "no speedup in this run" in regressions(findings)["speedup"].message


def test_success_rate_tolerance() -> None:
    eager, _ = pair()
    compiled = make_record(
        "compiled", latencies=jittered(COMPILED_S, seed=1000, n=19), n_predictions=20, n_success=19, success_rate=0.95
    )
    loose = dataclasses.replace(baseline(), tolerances=Tolerances(success_rate_abs=0.1))
    assert regressions(find_findings(compare(eager, compiled), loose)) == {}
    assert set(regressions(find_findings(compare(eager, compiled), baseline()))) == {"compiled.success_rate"}


def test_speedup_improvement_is_not_a_regression() -> None:
    findings = find_findings(compare(*pair()), baseline(speedup=1.2))
    assert regressions(findings) == {}
    assert set(improvements(findings)) == {"speedup"}
    finding = improvements(findings)["speedup"]
    assert finding.regression is False
    assert finding.baseline == 1.2
    assert finding.current == pytest.approx(2.0, rel=0.05)


@pytest.mark.parametrize("seed", range(5))
def test_noise_within_3_percent_is_no_finding(seed: int) -> None:
    # latencies jitter ±3% around the baseline's: nothing to report, neither regression nor improvement
    comparison = compare(*pair(seed=seed * 10))
    assert notable(find_findings(comparison, baseline())) == []


def test_tolerances_come_from_the_baseline() -> None:
    comparison = compare(*pair(compiled_mae=10.5))
    strict = dataclasses.replace(baseline(), tolerances=Tolerances(mae_rel=0.1))
    assert notable(find_findings(comparison, strict)) == []


def test_key_label_reads_well() -> None:
    key = key_of(make_record("compiled"))
    assert isinstance(key, Key)
    assert key.device == "cpu:Test CPU x2"
    assert (
        key.label()
        == "BTCUSD · tiny · torch 2.13.0+cpu · cpu:Test CPU x2 · mode=default,backend=inductor,dynamic=auto,attn=eager"
    )
    assert (key.symbol, key.model_id, key.torch_version, key.context_length, key.batch_size, key.prediction_length) == (
        "BTCUSD",
        "tiny",
        "2.13.0+cpu",
        128,
        256,
        7,
    )
    assert key.where.cpu_flags == "avx,avx2,fma"
    assert key.what.weights_sha256 == "0" * 64


def _recorded(comparison: Comparison, **what: Any) -> Baseline:
    from harness.gate.baseline_files import baseline_from

    made = baseline_from(comparison, tolerances=Tolerances(), provenance={"fingerprint": dict(comparison.fingerprint)})
    key = comparison.key
    return dataclasses.replace(made, key=dataclasses.replace(key, what=dataclasses.replace(key.what, **what)))


def test_select_baseline_paths() -> None:
    eager, compiled = pair()
    here = compare(eager, compiled)
    assert select(here, [_recorded(here)]).kind is GateKind.FULL
    # a format-1 baseline recorded no weights: not a difference
    assert select(here, [_recorded(here, weights_sha256="")]).kind is GateKind.FULL
    # other weights are another what: the retrained model's result is new, and the old baseline is missing its result
    retrained = _recorded(here, weights_sha256="1" * 64)
    assert select(here, [retrained]).kind is GateKind.NEW
    assert missing([here], [retrained]) == [retrained]
    elsewhere = compare(replace(eager, device_name="Other CPU"), replace(compiled, device_name="Other CPU"))
    moved = select(elsewhere, [_recorded(here)])
    assert moved.kind is GateKind.PORTABLE and moved.changes == ("device_name: Test CPU (baseline) vs Other CPU (this run)",)
    upgraded = compare(replace(eager, torch_version="2.14.1"), replace(compiled, torch_version="2.14.1"))
    upgrade = select(upgraded, [_recorded(here)])
    assert upgrade.kind is GateKind.UPGRADE and upgrade.changes == ("torch 2.13.0+cpu → 2.14.1",)
    longer = compare(replace(eager, context_length=256), replace(compiled, context_length=256))
    assert select(longer, [_recorded(here)]).kind is GateKind.NEW  # other settings: a new key, not another machine
    assert missing([here], [_recorded(here)]) == []
    assert select(here, []).kind is GateKind.NEW


def test_pool_runs_merges_every_session_of_a_key() -> None:
    from harness.gate.comparison import pool_runs

    older = make_record("compiled", latencies=[0.10, 0.11], run_id="a", timestamp_utc="2026-11-25T10:00:00+00:00")
    newer = make_record(
        "compiled",
        latencies=[0.20, 0.21, 0.22],
        run_id="b",
        timestamp_utc="2026-11-25T11:00:00+00:00",
        n_success=2,
        success_rate=2 / 3,
    )
    other_key = make_record("compiled", latencies=[0.5], run_id="c", context_length=256)
    eager = make_record("eager", latencies=[0.3], run_id="e")
    pooled = {(r.mode, r.context_length): r for r in pool_runs([newer, other_key, older, eager])}
    merged = pooled[("compiled", 128)]
    assert merged.latencies_s == [0.10, 0.11, 0.20, 0.21, 0.22]
    assert merged.run_id == "a+b" and merged.n_predictions == 5 and merged.n_success == 4
    assert merged.success_rate == pytest.approx(0.8)
    assert merged.latency_median_s == pytest.approx(0.20)
    assert pooled[("compiled", 256)].latencies_s == [0.5] and pooled[("eager", 128)].latencies_s == [0.3]


@pytest.mark.parametrize(
    ("speedup", "interval", "expected"),
    [
        (1.72, (1.23, 2.22), Recommendation.UNCERTAIN),  # the clean-clone run of BTCUSD: point above 1.5x, interval not
        (1.72, (1.55, 1.90), Recommendation.ADOPT),
        (1.72, (1.50, 1.90), Recommendation.UNCERTAIN),  # "> 1.5x" must hold for the lower end itself
        (1.30, (1.00, 1.70), Recommendation.UNCERTAIN),  # across both thresholds: between not worth it and adopt
        (1.10, (0.90, 1.60), Recommendation.UNCERTAIN),
        (1.199, (1.18, 1.26), Recommendation.UNCERTAIN),  # the review's BTCUSD session: was "not worth it"
        (1.21, (1.19, 1.25), Recommendation.UNCERTAIN),  # ... and the next one minutes later: was "marginal"
        (1.35, (1.25, 1.45), Recommendation.MARGINAL),
        (1.10, (1.00, 1.15), Recommendation.NOT_WORTH_IT),
    ],
)
def test_recommend_with_an_interval(speedup: float, interval: tuple[float, float], expected: Recommendation) -> None:
    verdict, reason = recommend(compiled_success_rate=1.0, speedup=speedup, mae_diff=0.0, speedup_ci=interval)
    assert verdict is expected
    assert f"[{speedup_text(interval[0])}, {speedup_text(interval[1])}]" in reason
    if expected is Recommendation.UNCERTAIN:
        assert "measure more" in reason and "between" in reason


def test_a_speedup_near_a_threshold_shows_which_side_it_is_on() -> None:
    assert (speedup_text(1.199), speedup_text(1.2049), speedup_text(1.4951), speedup_text(1.72)) == (
        "1.199x",
        "1.205x",
        "1.495x",
        "1.72x",
    )
    verdict, reason = recommend(compiled_success_rate=1.0, speedup=1.199, mae_diff=0.0)  # no interval: the point decides
    assert verdict is Recommendation.NOT_WORTH_IT and reason == "speedup 1.199x < 1.2x"


def test_a_real_session_at_1_199x_is_uncertain_not_not_worth_it() -> None:
    """The review's reproduction: a real BTCUSD session with its compiled calls scaled to an interleaved speedup of
    1.199x: the interval spans 1.2x, so the answer is "uncertain", and the figure carries three digits."""
    from harness.gate.comparison import compare_pair
    from tests.factories import real_session, replace

    eager, compiled = real_session()
    now = compare_pair(key_of(compiled), eager, compiled)
    assert now.speedup is not None
    scale = now.speedup / 1.199
    slowed = replace(
        compiled,
        latencies_s=[s * scale for s in compiled.latencies_s],
        latency_median_s=(compiled.latency_median_s or 0) * scale,
    )
    found = compare_pair(key_of(slowed), eager, slowed)
    assert found.speedup == pytest.approx(1.199, abs=5e-4)
    assert found.speedup_ci is not None and found.speedup_ci[0] < 1.2 < found.speedup_ci[1]
    assert found.recommendation is Recommendation.UNCERTAIN
    assert "speedup 1.199x [" in found.reason and "spans 1.2x" in found.reason
