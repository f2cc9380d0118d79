"""Confirm before failing: a timing regression stands only when re-benches of the same key see it too. Pure.

Timings are the only findings a host can fake: a noisy neighbour, a thermal dip or a slow moment in a 1-second window
moves them, and it does not move a success rate, an MAE or a drift. So only the timing checks (a mode's latency and
the speedup) are confirmed: ``harness confirm`` re-benches each key with a timing regression in fresh processes
(``confirms`` names the run it re-measures), and here a timing regression found in the checked run stands only when it
is found in at least K of the first N measurements (that run and its re-benches). Fewer: it is reported as a transient
(a swing: shown, exit 0), with every measurement's value. No re-bench at all: it stands, marked unconfirmed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from harness.findings import Finding, FindingKind
from harness.gate import Check

TIMING_METRICS = frozenset({"eager.latency_s", "compiled.latency_s", "speedup"})
DEFAULT_TIMING_CONFIRM = (2, 2)  # the run and one re-bench must both regress: calibrated in docs/calibration.md


def timing_regressions(check: Check) -> tuple[Finding, ...]:
    return tuple(f for f in check.findings if f.regression and f.metric in TIMING_METRICS)


def _hits(finding: Finding, reruns: Sequence[Check]) -> int:
    """Measurements in which ``finding``'s metric regressed: the checked run, and each re-bench that regressed too."""
    return 1 + sum(1 for rerun in reruns for f in rerun.findings if f.metric == finding.metric and f.regression)


def decided(check: Check, reruns: Sequence[Check], k_of_n: tuple[int, int] = DEFAULT_TIMING_CONFIRM) -> bool:
    """No further re-bench can change the outcome: for every timing regression, K is reached or out of reach."""
    k, n = k_of_n
    measured = list(reruns)[: max(n - 1, 0)]
    left = n - 1 - len(measured)
    return all(_hits(f, measured) >= k or _hits(f, measured) + left < k for f in timing_regressions(check))


def _value(finding: Finding | None) -> str:
    if finding is None or finding.current is None:
        return "n/a"
    unit = "x" if finding.metric == "speedup" else "s"
    return f"{finding.current:.4g}{unit} ({finding.kind.value})"


def confirm(check: Check, reruns: Sequence[Check], k_of_n: tuple[int, int] = DEFAULT_TIMING_CONFIRM) -> Check:
    """``check`` with each timing regression confirmed (regression in >= K of the first N measurements: it stands,
    every value named), cleared (a swing, exit 0) or left standing as unconfirmed (no re-bench was made)."""
    k, n = k_of_n
    regressions = timing_regressions(check)
    if not regressions or n <= 1:
        return check
    measured = list(reruns)[: n - 1]
    out = []
    for finding in check.findings:
        if finding not in regressions:
            out.append(finding)
            continue
        if not measured:
            note = " (unconfirmed: no re-bench; `python -m harness confirm` re-measures it in fresh processes)"
            out.append(dataclasses.replace(finding, message=finding.message + note))
            continue
        seen = [next((f for f in rerun.findings if f.metric == finding.metric), None) for rerun in measured]
        hits = _hits(finding, measured)
        values = ", ".join(_value(f) for f in seen)
        total = 1 + len(measured)
        if hits >= k:
            message = f"{finding.message}; confirmed: regressed in {hits} of {total} measurements (re-bench: {values})"
            out.append(dataclasses.replace(finding, message=message))
        else:
            message = (
                f"{finding.message}; not confirmed: regressed in {hits} of {total} measurements, {k} needed "
                f"(re-bench: {values}): a transient, not a regression"
            )
            out.append(dataclasses.replace(finding, kind=FindingKind.SWING, message=message))
    return dataclasses.replace(check, findings=tuple(out))
