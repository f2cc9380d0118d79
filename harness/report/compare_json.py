"""``compare``'s verdict as JSON for machines (dashboards, PR comments): the same checks the terminal shows. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.gate.checks import Check
from harness.gate.comparison import Comparison
from harness.gate.verdict import Tally
from harness.report.ab_table import json_number as _number

JSON_FORMAT = 1


def compare_document(
    comparisons: Sequence[Comparison], checks: Sequence[Check], tally: Tally, *, exit_code: int, missing: Sequence[str]
) -> dict[str, Any]:
    """``format``, ``kind``, the exit code and the tally line, then one entry per checked comparison: its key, the gate
    that applied and every finding (metric, current, baseline, kind, message)."""
    checked = []
    for comparison, check in zip(comparisons, checks, strict=False):
        checked.append(
            {
                "key": comparison.key.label(),
                "gate": check.match.kind.value,
                "verdict": check.verdict,
                "speedup": _number(comparison.speedup),
                "recommendation": str(comparison.recommendation.value),
                "findings": [
                    {
                        "metric": finding.metric,
                        "current": _number(finding.current),
                        "baseline": _number(finding.baseline),
                        "kind": finding.kind.value,
                        "message": finding.message,
                    }
                    for finding in check.findings
                ],
            }
        )
    return {
        "format": JSON_FORMAT,
        "kind": "compare",
        "verdict": "regression" if tally.regressions else "holds",
        "exit_code": exit_code,
        "summary": tally.line(),
        "comparisons": checked,
        "missing": list(missing),
    }
