"""An A/B's verdict as a terminal table and as JSON for machines (dashboards, PR comments). Pure: no I/O, no torch."""

from __future__ import annotations

import math
from typing import Any

from harness.gate.pairs import ABVerdict

JSON_FORMAT = 1


def json_number(value: float | None) -> float | None:
    """JSON has no NaN: a missing or non-finite number is null (the ``--json`` verdicts of ``ab`` and ``compare``)."""
    return value if value is not None and math.isfinite(value) else None


def _shown(metric: str, value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if metric.endswith("latency_s"):
        return f"{value * 1000:.2f} ms"
    if metric == "speedup":
        return f"{value:.3f}x"
    if metric == "success":
        return f"{value:.0%}"
    return f"{value:.5g}"


def render(verdict: ABVerdict, *, base: str, head: str) -> str:
    """The table ``ab`` prints: one line per metric, head against base, the ratio with its interval, the verdict."""
    changes = "; ".join(verdict.changes) if verdict.changes else "no package differs"
    lines = [
        f"A/B on this host · base {base} · head {head}",
        f"  differs: {changes}",
        f"  pairs: {verdict.pairs_used} used of {verdict.pairs_planned} planned, {verdict.pairs_dropped} dropped (host moved), "
        f"failed processes: base {verdict.failed.get('base', 0)}, head {verdict.failed.get('head', 0)}",
    ]
    header = ("metric", "base", "head", "head/base", "95% CI", "verdict")
    rows = []
    for finding in verdict.findings:
        ratio = f"{finding.ratio:.3f}" if finding.ratio is not None and math.isfinite(finding.ratio) else ""
        interval = (
            f"[{finding.low:.3f}, {finding.high:.3f}]"
            if finding.low is not None and finding.high is not None and math.isfinite(finding.low) and math.isfinite(finding.high)
            else ""
        )
        rows.append(
            (
                finding.metric,
                _shown(finding.metric, finding.base),
                _shown(finding.metric, finding.head),
                ratio,
                interval,
                finding.verdict.value,
            )
        )
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        lines.append("    " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    failing = [finding for finding in verdict.findings if finding.fails]
    for finding in failing:
        lines.append(f"  {finding.verdict.value.upper()}: {finding.message}")
    lines.append(f"  ab: {'REGRESSION' if failing else 'every metric holds'}")
    return "\n".join(lines)


def as_json(
    verdict: ABVerdict, *, base: dict[str, Any], head: dict[str, Any], exit_code: int, run: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The same verdict for machines: ``format``, both stacks, what differs, the pairs, one entry per metric; ``run``:
    where and when it ran (machine, start, seconds, head fault), so that runs can be pooled into rates."""
    return {
        "format": JSON_FORMAT,
        "kind": "ab",
        "verdict": "regression" if verdict.fails else "holds",
        "exit_code": exit_code,
        "run": run or {},
        "base": base,
        "head": head,
        "changes": list(verdict.changes),
        "pairs": {"planned": verdict.pairs_planned, "used": verdict.pairs_used, "dropped_host_moved": verdict.pairs_dropped},
        "failed_processes": dict(verdict.failed),
        "findings": [
            {
                "metric": finding.metric,
                "base": json_number(finding.base),
                "head": json_number(finding.head),
                "ratio": json_number(finding.ratio),
                "interval": [json_number(finding.low), json_number(finding.high)] if finding.low is not None else None,
                "verdict": finding.verdict.value,
                "message": finding.message,
            }
            for finding in verdict.findings
        ],
    }
