"""The one judgement of compiled-vs-eager drift, used by the runner (status), the recommendation and the gate.

Drift is the largest absolute difference between compiled and eager forecasts over every target, step and quantile;
its tolerance is measured in each run from eager's own float32 error (see ``harness.bench.rows.drift_tolerance``).
Pure: no torch, no numpy.
"""

from __future__ import annotations

import math


def exceeds(drift_abs: float | None, tolerance_abs: float | None) -> bool:
    """True when drift is beyond tolerance, or when either number is not finite (a NaN never passes).

    Nothing measured (either is None) is not a verdict: False; the caller reports it as not judged.
    """
    if drift_abs is None or tolerance_abs is None:
        return False
    if not (math.isfinite(drift_abs) and math.isfinite(tolerance_abs)):
        return True
    return drift_abs > tolerance_abs


def describe(drift_abs: float, tolerance_abs: float, float32_error_abs: float | None) -> str:
    return (
        f"compiled forecasts drift {drift_abs:.3g} (max abs, every quantile) from eager's, beyond tolerance {tolerance_abs:.3g} "
        f"(from eager's own float32 error {float32_error_abs or 0:.3g})"
    )
