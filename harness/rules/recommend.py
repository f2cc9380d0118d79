"""The recommendation: adopt torch.compile, keep eager, or reject it. Pure: no I/O, no torch.

The rules (the project's, not tuned): adopt compiled only at 100% success, speedup > 1.5x and |MAE difference| < 2%;
below 1.2x it is not worth it. Where the speedup has an interval, each answer needs the whole interval on its side of
every threshold: an interval across 1.2x or 1.5x is "uncertain: measure more", not whichever side the point fell on. Every comparison is written so
that a NaN fails it: a NaN speedup is never "worth it", a NaN MAE difference never "within 2%".
"""

from __future__ import annotations

import enum
import math

from harness.rules import drift as drift_judge

ADOPT_SPEEDUP = 1.5  # adopt compiled only above this speedup...
WORTH_SPEEDUP = 1.2  # ...and below this it is not worth it
ADOPT_MAE_DIFF_PCT = 2.0  # ...and only if MAE moves by less than this (percent of eager's MAE)


class Recommendation(enum.Enum):
    ADOPT = "adopt compiled"
    MARGINAL = "marginal: keep eager unless every millisecond counts"
    NOT_WORTH_IT = "not worth it: keep eager"
    REJECT_FAILURES = "reject compiled: it fails"
    REJECT_ACCURACY = "reject compiled: forecasts differ"
    REJECT_FLAKY = "reject compiled: flaky"
    INCOMPLETE = "incomplete: a mode is missing or failed"
    UNCERTAIN = "uncertain: measure more"


REJECTED = (
    Recommendation.REJECT_FAILURES,
    Recommendation.REJECT_FLAKY,
    Recommendation.REJECT_ACCURACY,
    Recommendation.INCOMPLETE,
)


def mae_diff_pct(eager_mae: float | None, compiled_mae: float | None) -> float | None:
    """(compiled MAE - eager MAE) / eager MAE, in percent; NaN in, NaN out."""
    if eager_mae is None or compiled_mae is None:
        return None
    if eager_mae == 0:
        return 0.0 if compiled_mae == 0 else math.inf
    return 100.0 * (compiled_mae - eager_mae) / eager_mae


def recommend(
    *,
    compiled_success_rate: float,
    speedup: float | None,
    mae_diff: float | None,
    speedup_ci: tuple[float, float] | None = None,
    compiled_flaky: int = 0,
    drift: tuple[float, float] | None = None,
    precision: str = "float32",
    precision_mae_diff: float | None = None,
    precision_windows: int = 0,
    dtype_gain: float | None = None,
    compile_gain: tuple[float, tuple[float, float] | None] | None = None,
    precision_wql_diff: float | None = None,
    trained: bool = True,
) -> tuple[Recommendation, str]:
    """The rules above, in order: failures, flakiness, drift (``(max abs difference, tolerance)``), MAE, speed.

    With an interval, every threshold is judged by it: a point estimate above 1.5x whose interval reaches down to 1.5x
    is UNCERTAIN, not ADOPT (5 calls of a fast model often are), and so is 1.199x [1.18, 1.26] at 1.2x.

    A reduced ``precision`` (bfloat16) answers two questions apart: drift (compiled against eager in the same dtype,
    with that dtype's own error as tolerance: did compiling change the numbers?) and accuracy (the dtype's MAE over
    ``precision_windows`` rolling evaluation windows against float32 eager, ``precision_mae_diff``: within the same
    2%, and required: one 7-step window says too little about a dtype). The compiled model's own MAE difference on the
    7-step window (``mae_diff``) is still checked, as for float32. Its verdicts name the precision.

    The recommendation is about compiling. Where the dtype's own eager model was timed beside the compiled one,
    ``compile_gain`` ((gain, interval): the dtype's eager latency over compiled) is what compiling adds, and the speed
    rules judge it, not the total: bfloat16's 3.4x over float32 eager was 1.9x from the dtype and 1.1x from compiling
    ("not worth it"). ``dtype_gain`` (float32 eager over the dtype's eager) is named as its own option.

    ``precision_wql_diff``: the *compiled* model's weighted quantile loss over the rolling windows against float32
    eager's, percent (every quantile, not the median alone), held to the same 2% when measured. Untrained weights
    (``trained`` False) have no accuracy to judge: the recommendation says so and rests on speed only.
    """
    reduced = precision != "float32"
    if reduced:
        if not compiled_success_rate >= 1.0 or compiled_flaky or (drift is not None and drift_judge.exceeds(*drift)):
            pass  # the rules below say why, in order
        elif not trained:
            pass  # untrained weights: no accuracy to judge (said in the reason below), speed only
        elif precision_mae_diff is None or not precision_windows:
            return (
                Recommendation.INCOMPLETE,
                f"no rolling-window MAE in {precision} against float32 eager: cannot judge the dtype",
            )
        elif not abs(precision_mae_diff) < ADOPT_MAE_DIFF_PCT:
            return (
                Recommendation.REJECT_ACCURACY,
                f"{precision} moves the MAE over {precision_windows} rolling windows by {precision_mae_diff:+.2f}% "
                f"(limit ±{ADOPT_MAE_DIFF_PCT:g}%)",
            )
        elif precision_wql_diff is not None and not abs(precision_wql_diff) < ADOPT_MAE_DIFF_PCT:
            return (
                Recommendation.REJECT_ACCURACY,
                f"compiled {precision} moves the weighted quantile loss over {precision_windows} rolling windows by "
                f"{precision_wql_diff:+.2f}% (limit ±{ADOPT_MAE_DIFF_PCT:g}%)",
            )
    split = reduced and compile_gain is not None
    recommendation, reason = _recommend(
        compiled_success_rate=compiled_success_rate,
        speedup=compile_gain[0] if split and compile_gain is not None else speedup,
        mae_diff=mae_diff,
        speedup_ci=compile_gain[1] if split and compile_gain is not None else speedup_ci,
        compiled_flaky=compiled_flaky,
        drift=drift,
    )
    if reduced and recommendation not in REJECTED:
        if not trained:
            accuracy = "untrained weights: accuracy not judged, speed only"
        else:
            quantiles = "" if precision_wql_diff is None else f", compiled wQL {precision_wql_diff:+.3f}%"
            accuracy = f"MAE over {precision_windows} rolling windows {precision_mae_diff:+.3f}%{quantiles} vs float32 eager"
        if split:
            alone = speedup_text(dtype_gain) if dtype_gain is not None and math.isfinite(dtype_gain) else "unmeasured"
            reason = (
                f"in {precision} ({accuracy}): {precision} eager alone gives {alone} over float32 eager, no compile; "
                f"compiling adds {reason.replace('speedup ', '', 1)}"
            )
        else:
            reason = f"in {precision} ({accuracy}): {reason}"
    return recommendation, reason


def _recommend(
    *,
    compiled_success_rate: float,
    speedup: float | None,
    mae_diff: float | None,
    speedup_ci: tuple[float, float] | None,
    compiled_flaky: int,
    drift: tuple[float, float] | None,
) -> tuple[Recommendation, str]:
    if not compiled_success_rate >= 1.0:
        return Recommendation.REJECT_FAILURES, f"compiled succeeded in {compiled_success_rate:.0%} of predictions (100% required)"
    if compiled_flaky:
        return Recommendation.REJECT_FLAKY, f"{compiled_flaky} call(s) failed, then passed on re-run"
    if drift is not None and drift_judge.exceeds(*drift):
        return Recommendation.REJECT_ACCURACY, f"compiled forecasts drift {drift[0]:.3g} from eager's (tolerance {drift[1]:.3g})"
    if speedup is None or mae_diff is None:
        return Recommendation.INCOMPLETE, "no successful eager run to compare against"
    if not abs(mae_diff) < ADOPT_MAE_DIFF_PCT:
        return Recommendation.REJECT_ACCURACY, f"MAE differs by {mae_diff:+.2f}% (limit ±{ADOPT_MAE_DIFF_PCT:g}%)"
    if not math.isfinite(speedup):
        return Recommendation.INCOMPLETE, f"speedup is {speedup}: the latencies are broken"
    return _by_speed(speedup, speedup_ci)


def speedup_text(value: float) -> str:
    """A speedup with enough digits to show which side of a threshold it is on: 1.199x, not 1.20x."""
    near = any(abs(value - threshold) < 0.01 for threshold in (WORTH_SPEEDUP, ADOPT_SPEEDUP))
    return f"{value:.3f}x" if near else f"{value:.2f}x"


def _by_speed(speedup: float, ci: tuple[float, float] | None) -> tuple[Recommendation, str]:
    """Adopt, marginal or not worth it, from the interval where there is one: an answer stands only when the whole
    interval is on its side of every threshold; an interval across 1.2x or 1.5x is UNCERTAIN (between two answers)."""
    shown = speedup_text(speedup)
    low, high = ci if ci is not None and all(math.isfinite(v) for v in ci) else (speedup, speedup)
    interval = f" [{speedup_text(low)}, {speedup_text(high)}]" if ci is not None else ""
    crossed = [t for t in (WORTH_SPEEDUP, ADOPT_SPEEDUP) if low <= t <= high and ci is not None]
    if crossed:
        names = {WORTH_SPEEDUP: ("not worth it", "marginal"), ADOPT_SPEEDUP: ("marginal", "adopt")}
        below, above = names[crossed[0]][0], names[crossed[-1]][1]
        return (
            Recommendation.UNCERTAIN,
            f"speedup {shown}{interval}: the interval spans {' and '.join(f'{t:g}x' for t in crossed)}, between "
            f"{below} and {above}; measure more (--runs 40)",
        )
    if speedup < WORTH_SPEEDUP:
        return Recommendation.NOT_WORTH_IT, f"speedup {shown}{interval} < {WORTH_SPEEDUP:g}x"
    if speedup > ADOPT_SPEEDUP:
        return (
            Recommendation.ADOPT,
            f"speedup {shown}{interval} > {ADOPT_SPEEDUP:g}x, 100% success, MAE within {ADOPT_MAE_DIFF_PCT:g}%",
        )
    return Recommendation.MARGINAL, f"speedup {shown}{interval} between {WORTH_SPEEDUP:g}x and {ADOPT_SPEEDUP:g}x"
