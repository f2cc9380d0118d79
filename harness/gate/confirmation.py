"""Confirm before failing: a timing regression stands only when re-benches of the same key see it too. Pure.

Timings are the only findings a host can fake: a noisy neighbour, a thermal dip or a slow moment in a 1-second window
moves them, and it does not move a success rate, an MAE or a drift. So only the timing checks (a mode's latency and
the speedup) are confirmed: ``harness confirm`` re-benches each key with a timing regression in fresh processes
(``confirms`` names the run it re-measures), and here a timing regression found in the checked run stands only when it
is found in at least K of the first N measurements (that run and its re-benches). Fewer: it is reported as a transient
(a swing: shown, exit 0), with every measurement's value. No re-bench at all: it stands, marked unconfirmed.

A *host noisy* timing (the machine reference moved: :mod:`harness.gate.witnesses`) is re-benched too, and its own
measurement counts for nothing: it becomes a regression when every re-bench that measured on a steady host regressed,
a swing when one held, and stays host noisy (exit 0, said) while none has.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from harness.gate.checks import Check
from harness.gate.findings import Finding, FindingKind

TIMING_METRICS = frozenset({"eager.latency_s", "compiled.latency_s", "speedup", "compiled.latency_p90_s", "compiled.compile_s"})
DEFAULT_TIMING_CONFIRM = (2, 2)  # the run and one re-bench must both regress: calibrated in docs/calibration.md


def timing_regressions(check: Check) -> tuple[Finding, ...]:
    """The timing findings a re-bench must decide: regressions, and timings measured while the host moved."""
    return tuple(f for f in check.findings if f.metric in TIMING_METRICS and (f.regression or _noisy(f)))


def _noisy(finding: Finding | None) -> bool:
    return finding is not None and finding.kind is FindingKind.HOST_NOISY


def _seen(finding: Finding, rerun: Check) -> Finding | None:
    """The re-bench's finding on ``finding``'s metric, when it measured one: a re-bench that failed, crashed or gave a
    non-finite value measured nothing, and is not a measurement that could clear anything."""
    found = next((f for f in rerun.findings if f.metric == finding.metric), None)
    return found if found is not None and found.current is not None and math.isfinite(found.current) else None


def _tally(finding: Finding, reruns: Sequence[Check], n: int) -> tuple[int, int, list[Finding | None]]:
    """(measurements in which the metric regressed, measurements made, each re-bench's finding), over the first N."""
    seen = [_seen(finding, rerun) for rerun in list(reruns)[: max(n - 1, 0)]]
    made = [f for f in seen if f is not None and not _noisy(f)]  # a re-bench on a moving host measured nothing either
    own = 0 if _noisy(finding) else 1
    return own + sum(1 for f in made if f.regression), own + len(made), seen


def decided(check: Check, reruns: Sequence[Check], k_of_n: tuple[int, int] = DEFAULT_TIMING_CONFIRM) -> bool:
    """No further re-bench can change the outcome: for every timing regression, K is reached or out of reach."""
    k, n = k_of_n
    for finding in timing_regressions(check):
        hits, made, _ = _tally(finding, reruns, n)
        if _noisy(finding):
            if not made and len(reruns) < n - 1:
                return False
        elif not (hits >= k or hits + (n - made) < k):
            return False
    return True


def _value(finding: Finding | None) -> str:
    if finding is None or finding.current is None:
        return "no measurement"
    unit = "x" if finding.metric == "speedup" else "s"
    return f"{finding.current:.4g}{unit} ({finding.kind.value})"


def confirm(check: Check, reruns: Sequence[Check], k_of_n: tuple[int, int] = DEFAULT_TIMING_CONFIRM) -> Check:
    """``check`` with each timing regression confirmed (a regression in >= K of the first N measurements: it stands,
    every value named), cleared (K out of reach: a swing, exit 0), or left standing as unconfirmed (no re-bench, a
    re-bench that measured nothing, or K still within reach)."""
    k, n = k_of_n
    regressions = timing_regressions(check)
    if not regressions or n <= 1:
        return check
    out = []
    for finding in check.findings:
        if finding not in regressions:
            out.append(finding)
            continue
        hits, made, seen = _tally(finding, reruns, n)
        values = ", ".join(_value(f) for f in seen)
        if _noisy(finding):
            out.append(_settle_noisy(finding, hits, made, values))
        elif not seen:
            note = " (unconfirmed: no re-bench; `python -m harness confirm` re-measures it in fresh processes)"
            out.append(dataclasses.replace(finding, message=finding.message + note))
        elif hits >= k:
            message = f"{finding.message}; confirmed: regressed in {hits} of {made} measurements (re-bench: {values})"
            out.append(dataclasses.replace(finding, message=message))
        elif hits + (n - made) < k:
            message = (
                f"{finding.message}; not confirmed: regressed in {hits} of {made} measurements, {k} needed "
                f"(re-bench: {values}): a transient, not a regression"
            )
            out.append(dataclasses.replace(finding, kind=FindingKind.SWING, message=message))
        else:
            message = (
                f"{finding.message} (unconfirmed: regressed in {hits} of {made} measurements, {k} of {n} needed to decide; "
                f"re-bench: {values})"
            )
            out.append(dataclasses.replace(finding, message=message))
    return dataclasses.replace(check, findings=tuple(out))


def _settle_noisy(finding: Finding, hits: int, made: int, values: str) -> Finding:
    """A host-noisy timing, decided by the re-benches that measured on a steady host alone."""
    if not made:
        note = f" (re-bench: {values})" if values else " (`python -m harness confirm` re-benches it)"
        return dataclasses.replace(finding, message=finding.message + note)
    if hits == made:
        message = f"{finding.message}; re-benched on a steady host: regressed in {hits} of {made} (re-bench: {values})"
        return dataclasses.replace(finding, kind=FindingKind.REGRESSION, message=message)
    message = f"{finding.message}; re-benched on a steady host: held in {made - hits} of {made} (re-bench: {values}): the host"
    return dataclasses.replace(finding, kind=FindingKind.SWING, message=message)
