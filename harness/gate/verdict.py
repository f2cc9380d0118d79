"""From what the gate found to the process's exit code: a pure tally, so the rules are stated once and tested alone.

Exit 1 on any regression (or, with ``--fail-on-improvement``, an improvement beyond tolerance: the baseline is stale);
with ``--strict``, exit 2 when a result has no baseline (new), a baseline has no result (missing) or a check could not be
judged (the result lacks what it reads); else 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.base.errors import ExitCode
from harness.gate.checks import Check
from harness.gate.findings import FindingKind
from harness.gate.matching import GateKind


@dataclass(frozen=True, kw_only=True)
class Tally:
    comparisons: int
    regressions: int = 0
    improvements: int = 0
    flaky: int = 0
    swings: int = 0
    noisy: int = 0
    not_judged: int = 0
    missing: int = 0
    gates: tuple[GateKind, ...] = ()

    def count(self, kind: GateKind) -> int:
        return self.gates.count(kind)

    def line(self) -> str:
        return (
            f"{self.comparisons} comparison(s): {self.regressions} regression(s), {self.improvements} improvement(s), {self.flaky} flaky, "
            f"{self.swings} host swing(s), {self.noisy} host noisy, {self.not_judged} not judged, {self.count(GateKind.NEW)} new, {self.missing} missing · gates: {self.count(GateKind.FULL)} full, "
            f"{self.count(GateKind.UPGRADE)} upgrade, {self.count(GateKind.PORTABLE)} portable (timings not gated)"
        )


def tally(comparisons: int, checks: Sequence[Check], *, missing: int) -> Tally:
    kinds = [finding.kind for check in checks for finding in check.findings]
    return Tally(
        comparisons=comparisons,
        regressions=kinds.count(FindingKind.REGRESSION),
        improvements=kinds.count(FindingKind.IMPROVEMENT),
        flaky=kinds.count(FindingKind.FLAKY),
        swings=kinds.count(FindingKind.SWING),
        noisy=kinds.count(FindingKind.HOST_NOISY),
        not_judged=kinds.count(FindingKind.NOT_JUDGED),
        missing=missing,
        gates=tuple(check.match.kind for check in checks),
    )


def exit_code(result: Tally, *, strict: bool, fail_on_improvement: bool) -> ExitCode:
    if result.regressions or (result.improvements and fail_on_improvement):
        return ExitCode.REGRESSION
    if strict and (result.count(GateKind.NEW) or result.missing or result.not_judged):
        return ExitCode.USAGE
    return ExitCode.OK
