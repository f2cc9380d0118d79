"""How far a compiled model may drift from eager (harness.bench.rows.drift_tolerance): from eager's own measured error,
so that a drift a user would see fails, in float32 and in a reduced precision alike."""

from __future__ import annotations

import numpy as np
import pytest

from harness.bench.rows import DRIFT_FACTOR, drift_tolerance
from harness.rules import drift as drift_judge
from harness.rules.recommend import Recommendation, recommend

# a BTC-USD forecast: 4 targets, 7 steps, 21 quantiles, prices around $100,000
FORECAST = 100_000.0 + np.linspace(-2_000.0, 2_000.0, 4 * 7 * 21).reshape(4, 7, 21)
BF16_OWN_ERROR = 108.0  # bfloat16 eager against float32 eager, max abs, as measured on BTCUSD (issue 26)


def test_a_planted_thousand_dollar_drift_in_bfloat16_fails() -> None:
    tolerance = drift_tolerance(BF16_OWN_ERROR, FORECAST, dtype="bfloat16")
    assert tolerance is not None
    assert tolerance == pytest.approx(DRIFT_FACTOR * BF16_OWN_ERROR)  # $432: from bfloat16's own error, no price floor
    compiled = FORECAST.copy()
    compiled[3, 6, 10] += 1_000.0  # one step of the median close, $1,000 off
    drift = float(np.max(np.abs(compiled - FORECAST)))
    assert drift_judge.exceeds(drift, tolerance)
    verdict, reason = recommend(
        compiled_success_rate=1.0,
        speedup=3.0,
        mae_diff=0.1,
        drift=(drift, tolerance),
        precision="bfloat16",
        precision_mae_diff=0.0,
        precision_windows=20,
    )
    assert verdict is Recommendation.REJECT_ACCURACY and "drift 1e+03" in reason


def test_bfloat16s_own_rounding_passes() -> None:
    tolerance = drift_tolerance(BF16_OWN_ERROR, FORECAST, dtype="bfloat16")
    assert tolerance is not None and not drift_judge.exceeds(2 * BF16_OWN_ERROR, tolerance)


def test_a_float32_tolerance_keeps_its_floor_of_a_few_float32_ulps() -> None:
    ulp = float(np.finfo(np.float32).eps) * float(np.max(np.abs(FORECAST)))
    assert drift_tolerance(1e-9, FORECAST) == pytest.approx(DRIFT_FACTOR * ulp)  # float64 agreed almost exactly
    assert drift_tolerance(0.05, FORECAST) == pytest.approx(DRIFT_FACTOR * 0.05)


def test_nothing_measured_is_no_tolerance_and_an_exact_agreement_a_few_ulps() -> None:
    assert drift_tolerance(None, FORECAST) is None and drift_tolerance(0.01, None) is None
    tolerance = drift_tolerance(0.0, FORECAST, dtype="bfloat16")
    assert tolerance is not None and 0 < tolerance < 1e5


def _bf16(**given: object) -> tuple[Recommendation, str]:
    """The recommendation for a passing bfloat16 run (20 rolling windows), with ``given`` in place of the defaults."""
    settings: dict[str, object] = {
        "compiled_success_rate": 1.0,
        "speedup": 2.0,
        "speedup_ci": (1.9, 2.1),
        "mae_diff": 0.1,
        "precision": "bfloat16",
        "precision_mae_diff": 0.2,
        "precision_windows": 20,
        **given,
    }
    return recommend(**settings)  # type: ignore[arg-type]


def test_the_compile_decision_of_a_reduced_precision_is_compilings_own_gain() -> None:
    # issue 26: bfloat16 at 3.41x over float32 eager was 1.87x from the dtype and 1.14x from compiling
    speedy = {"speedup": 3.41, "speedup_ci": (3.30, 3.50), "precision_mae_diff": -0.03}
    recommendation, reason = _bf16(**speedy, dtype_gain=1.87, compile_gain=(1.14, (1.10, 1.18)))
    assert recommendation is Recommendation.NOT_WORTH_IT
    assert "bfloat16 eager alone gives 1.87x over float32 eager, no compile" in reason and "compiling adds 1.14x" in reason
    assert _bf16(**speedy, dtype_gain=1.1, compile_gain=(3.1, (3.0, 3.2)))[0] is Recommendation.ADOPT
    assert _bf16(**speedy)[0] is Recommendation.ADOPT  # an older row, without the dtype's partner: the total, as before


def test_the_split_is_a_median_of_per_round_ratios_over_rounds_where_every_model_passed() -> None:
    import dataclasses

    from harness.gate.comparison import dtype_split, summarize
    from tests.factories import make_record

    record = make_record(
        "compiled",
        latencies=[0.010, 0.011, 0.010, 0.012],
        paired_eager_latencies_s=[0.034, 0.035, float("nan"), 0.036],
        dtype="bfloat16",
    )
    record = dataclasses.replace(record, paired_dtype_eager_latencies_s=[0.018, 0.019, 0.018, 0.019])
    split = dtype_split(summarize(record))
    assert split is not None
    (dtype_gain, _), (compile_gain, (low, high)) = split
    assert dtype_gain == pytest.approx(np.median([0.034 / 0.018, 0.035 / 0.019, 0.036 / 0.019]))
    assert compile_gain == pytest.approx(np.median([0.018 / 0.010, 0.019 / 0.011, 0.019 / 0.012]))
    assert low <= compile_gain <= high
    assert dtype_split(summarize(dataclasses.replace(record, paired_dtype_eager_latencies_s=[]))) is None


def test_the_weighted_quantile_loss_scores_every_level() -> None:
    from harness.model.evaluation import weighted_quantile_loss

    truth = np.array([[100.0, 110.0]])
    perfect = np.repeat(truth[..., None], 3, axis=-1)
    assert weighted_quantile_loss(perfect, truth, (0.1, 0.5, 0.9)) == 0.0
    # every level 10 below the truth: pinball q * 10 at each level and step; 2 * (0.1 + 0.5 + 0.9) * 10 * 2 / (3 * 210)
    low = perfect - 10.0
    assert weighted_quantile_loss(low, truth, (0.1, 0.5, 0.9)) == pytest.approx(100 * 2 * 1.5 * 10 * 2 / (3 * 210))
    # a band too wide on the high side costs at the high levels only a little, at the low ones much
    assert weighted_quantile_loss(perfect + 10.0, truth, (0.1, 0.5, 0.9)) == pytest.approx(100 * 2 * 1.5 * 10 * 2 / (3 * 210))


def test_a_reduced_precision_is_held_to_its_quantile_loss_and_untrained_weights_to_speed_only() -> None:
    rejected, reason = _bf16(precision_wql_diff=3.1)
    assert rejected is Recommendation.REJECT_ACCURACY and "weighted quantile loss" in reason and "+3.10%" in reason
    adopted, reason = _bf16(precision_wql_diff=0.4)
    assert adopted is Recommendation.ADOPT and "compiled wQL +0.400%" in reason
    untrained, reason = _bf16(precision_mae_diff=None, precision_windows=0, trained=False)
    assert untrained is Recommendation.ADOPT and "untrained weights: accuracy not judged, speed only" in reason
