"""Plain-text tables of comparisons and findings. Never imports torch."""

from __future__ import annotations

import math
from collections.abc import Sequence

from harness.gate.checks import Check
from harness.gate.comparison import INTERLEAVED, Comparison, ModeSummary
from harness.gate.findings import Finding
from harness.gate.matching import GateKind


def _s(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _mode_line(name: str, summary: ModeSummary | None) -> str:
    if summary is None:
        return f"  {name:<9} (no run)"
    ci = f"[{summary.latency_ci_s[0]:.4f}, {summary.latency_ci_s[1]:.4f}]" if summary.latency_ci_s else "-"
    line = (
        f"  {name:<9} {summary.n_success}/{summary.n_predictions} {summary.success_rate:>5.0%}  "
        f"{_s(summary.latency_median_s):>8} {ci:<18}  {_s(summary.first_call_s, 2):>8}  {_s(summary.compile_s, 2):>8}  "
        f"{_s(summary.mae, 4):>12}  {_s(summary.mae_pct, 2):>6}  {_s(summary.naive_mae_pct, 2):>6}  {skill(summary):>5}"
    )
    if summary.error:
        line += f"\n            error: {summary.error[:200]}"
    return line


def header(confidence: float) -> str:
    ci = f"{confidence:.0%} CI"
    return (
        f"  {'mode':<9} {'success':<11}  {'latency_s':>8} {ci:<18}  {'first_s':>8}  {'compile_s':>8}  "
        f"{'MAE':>12}  {'MAE%':>6}  {'naive%':>6}  {'skill':>5}"
    )


def skill(summary: ModeSummary) -> str:
    """Model MAE / naive MAE: below 1 the model beats persistence."""
    if summary.mae_pct is None or not summary.naive_mae_pct:
        return "-"
    return f"{summary.mae_pct / summary.naive_mae_pct:.2f}"


def sessions_disagree(comparison: Comparison) -> bool:
    """Whether the across-session ratio (eager session median / compiled session median) lies outside the interleaved
    interval: then the two sessions did not see the same machine (on an H200 they swung 2x minutes apart), and only
    the interleaved ratio, measured within one process, should be read."""
    interval, session = comparison.speedup_ci, comparison.session_speedup
    if interval is None or session is None or not math.isfinite(session):
        return False
    return not interval[0] <= session <= interval[1]


def format_comparison(comparison: Comparison) -> str:
    key = comparison.key
    trained = comparison.compiled.model_trained if comparison.compiled else True
    lines = [
        f"{key.symbol} · {key.model_id}{'' if trained else ' (UNTRAINED weights: MAE only tracks numerical change)'}",
        f"  torch {key.torch_version} · {key.device} · context {key.context_length} · horizon {key.prediction_length}",
        f"  where {key.where.label()}",
        f"  software {key.software.label()}",
        f"  compiled with {key.compile_config}",
        header(comparison.confidence),
        _mode_line("eager", comparison.eager),
        _mode_line("compiled", comparison.compiled),
    ]
    speed = "-" if comparison.speedup is None else f"{comparison.speedup:.2f}x"
    if comparison.speedup_ci:
        speed += f" [{comparison.confidence:.0%} CI {comparison.speedup_ci[0]:.2f}, {comparison.speedup_ci[1]:.2f}]"
    if comparison.speedup is not None:
        speed += f", {comparison.speedup_method}"
        if comparison.speedup_method == INTERLEAVED and comparison.session_speedup is not None:
            speed += f"; across sessions {comparison.session_speedup:.2f}x"
            if sessions_disagree(comparison):
                speed += " (outside the interleaved interval: the sessions ran on a different host or process state; the interleaved figure is the one judged)"
    diff = "-" if comparison.mae_diff_pct is None else f"{comparison.mae_diff_pct:+.3f}%"
    lines.append(f"  speedup {speed} · MAE difference {diff}")
    compiled = comparison.compiled
    if compiled is not None and compiled.drift_max_abs is not None:
        rel = f" (relative {compiled.drift_max_rel:.2g})" if compiled.drift_max_rel is not None else ""
        tol = (
            ""
            if compiled.drift_tolerance_abs is None
            else (
                f", tolerance {compiled.drift_tolerance_abs:.3g} (from eager's own float32 error {compiled.eager_float32_error_abs or 0:.3g})"
            )
        )
        lines.append(f"  drift compiled vs eager, every quantile: max abs {compiled.drift_max_abs:.3g}{rel}{tol}")
    if compiled is not None and compiled.compile_s is not None:
        lines.append("  " + diagnostics(compiled))
    flaky = [
        f"{name} {s.n_flaky} flaky call(s) (flip rate {s.flip_rate:.0%})"
        for name, s in (("eager", comparison.eager), ("compiled", compiled))
        if s and s.n_flaky
    ]
    if flaky:
        lines.append("  " + "; ".join(flaky))
    lines.append(f"  recommendation: {comparison.recommendation.value.upper()} ({comparison.reason})")
    return "\n".join(lines)


_WORDS = {
    "regression": "REGRESSION",
    "improvement": "improved",
    "flaky": "FLAKY",
    "note": "note",
    "swing": "host swing",
    "not judged": "NOT JUDGED",
    "host noisy": "HOST NOISY",
    "info": "info only",
    "holds": "holds",
}


def format_findings(findings: Sequence[Finding]) -> str:
    """One line per finding worth reading (regressions, improvements, flaky, host swings, notes)."""
    notable = [f for f in findings if f.notable]
    if not notable:
        return "  baseline: every gated metric within tolerance"
    return "\n".join(f"  {_WORDS[f.kind]}: {f.message}" for f in notable)


def _value(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    if metric.endswith("rate"):
        return f"{value:.0%}"
    if metric.endswith("latency_s"):
        return f"{value * 1000:.2f} ms"
    if metric == "speedup":
        return f"{value:.3f}x"
    if metric.endswith("mae"):
        return f"{value:.9g}"
    return f"{value:.3g}"


def format_table(
    findings: Sequence[Finding], *, old: str = "baseline", new: str = "this run", words: dict[str, str] | None = None
) -> str:
    """Every metric checked, old and new side by side, with the change and the verdict. Drift is judged against the
    tolerance measured in the same run, so its "old" column shows that tolerance."""
    words = {**_WORDS, **(words or {})}
    rows = [("metric", old, new, "change", "verdict")]
    for f in findings:
        if f.metric.endswith("drift"):
            rows.append((f.metric, f"tolerance {_value(f.metric, f.baseline)}", _value(f.metric, f.current), "", words[f.kind]))
            continue
        relative = f.current is not None and f.baseline and not f.metric.endswith("rate")
        change = f"{(f.current - f.baseline) / f.baseline:+.2%}" if relative and f.current is not None and f.baseline else ""
        rows.append((f.metric, _value(f.metric, f.baseline), _value(f.metric, f.current), change, words[f.kind]))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join(
        "    " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def format_check(comparison: Comparison, checked: Check, path: str) -> str:
    """What the gate did for one comparison: which baseline, which gate, the table, the findings worth a line."""
    match = checked.match
    if match.kind is GateKind.NEW:
        lines = ['  baseline: new, no baseline for these settings; record one with `nox -s update_baselines -- --reason "..."`']
        lines += [f"  {_WORDS[f.kind]}: {f.message}" for f in checked.findings if f.notable]
        return "\n".join(lines)
    lines = [f"  gate: {match.describe()}", f"  baseline: {path}"]
    if match.kind is GateKind.PORTABLE:
        lines.append(
            "  not gated here: latency and speedup (seconds do not travel between machines); gate them on this machine by "
            'recording its own baseline: `nox -s bench_eager bench_compiled update_baselines -- --reason "this machine"`'
        )
    old = (
        "baseline"
        if match.kind is not GateKind.UPGRADE or match.baseline is None
        else f"torch {match.baseline.key.software.torch}"
    )
    new = "this run" if match.kind is not GateKind.UPGRADE else f"torch {comparison.key.software.torch}"
    lines.append(format_table(checked.findings, old=old, new=new))
    lines.append(format_findings(checked.findings))
    return "\n".join(lines)


def format_upgrade(older: Comparison, newer: Comparison, findings: Sequence[Finding]) -> str:
    """The torch matrix's upgrade table: the newer software's run against the older one's, on the same machine."""
    changes = "; ".join(newer.key.software.changes_from(older.key.software)) or "no software change"
    worse = [f for f in findings if f.notable]
    lines = [
        f"upgrade {changes} · {newer.key.symbol} · {newer.key.model_id} · {newer.key.device} · {newer.key.compile_config}",
        format_table(
            findings,
            old=f"torch {older.key.software.torch}",
            new=f"torch {newer.key.software.torch}",
            words={"regression": "WORSE", "improvement": "better"},
        ),
        *(f"  {'worse' if f.regression else _WORDS[f.kind]}: {f.message}" for f in worse),
    ]
    if not worse:
        lines.append("  the upgrade moves nothing beyond tolerance")
    return "\n".join(lines)


def diagnostics(compiled: ModeSummary) -> str:
    """One line of compile diagnostics: cold/warm compile, graphs, breaks, recompiles, break-even, memory."""
    parts = [f"compile cold {_s(compiled.compile_s, 1)} s"]
    if compiled.warm_compile_s is not None:
        parts[0] += f", warm {compiled.warm_compile_s:.1f} s"
    if compiled.n_graphs is not None:
        parts.append(f"{compiled.n_graphs} graph(s), {compiled.n_graph_breaks} break(s), {compiled.n_recompiles} recompile(s)")
    if compiled.compile_s is not None:
        parts.append(
            "break-even never (not faster)"
            if compiled.break_even_calls is None
            else f"break-even after {compiled.break_even_calls:,.0f} predictions"
        )
    if compiled.peak_rss_mb is not None:
        parts.append(
            f"peak RSS {compiled.peak_rss_mb:,.0f} MiB"
            + ("" if compiled.peak_cuda_mb is None else f", CUDA {compiled.peak_cuda_mb:,.0f} MiB")
        )
    line = " · ".join(parts)
    if compiled.graph_break_reasons:
        line += "\n  graph breaks: " + "; ".join(compiled.graph_break_reasons[:3])
    return line
