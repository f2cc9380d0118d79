"""The latency checks and their witnesses: a slower latency is a regression of the software only while the host's own
witnesses held. The witnesses: the uncompiled model interleaved with compiled in the same process (the partner),
eager's own session, and the machine reference timed beside every call (``reference_s``), whose median a baseline
records. A reference that moved by more than :data:`REFERENCE_REL` from the baseline's makes the run *host noisy*:
neither a pass nor a fail, re-bench it (``confirm``). Pure: no I/O, no torch.
"""

from __future__ import annotations

import math

from harness.gate import stats
from harness.gate.baseline import Baseline, ModeBaseline, Tolerances
from harness.gate.comparison import ModeSummary
from harness.gate.findings import FindingKind, Findings, lower, pct, slower

REFERENCE_REL = 0.20  # the machine reference moved more than this from the baseline's: the host, not the software


def reference_median(summary: ModeSummary | None) -> float | None:
    """The median machine reference beside a run's calls (None when it recorded none, or only broken values)."""
    values = [v for v in (summary.reference_s if summary else ()) if math.isfinite(v) and v > 0]
    return stats.median(values) if values else None


def reference_moved(summary: ModeSummary | None, base: ModeBaseline) -> str | None:
    """How the machine reference moved, when by more than :data:`REFERENCE_REL` from the baseline's; else None."""
    current, recorded = reference_median(summary), base.reference_median_s
    if current is None or not recorded:
        return None
    if abs(math.log(current / recorded)) <= math.log1p(REFERENCE_REL):
        return None
    return f"machine reference {current * 1e3:.3f} ms vs {recorded * 1e3:.3f} ms ({pct(current, recorded)})"


def latency(
    found: Findings, mode: str, current: float, interval: tuple[float, float], base: float, tolerance: float, ci: str
) -> None:
    shown = f"{current:.4f}s ({pct(current, base)}) [{ci} {interval[0]:.4f}, {interval[1]:.4f}]"
    if slower(current, interval, base, tolerance):
        found.add(
            f"{mode}.latency_s",
            current,
            base,
            "regression",
            f"{mode} latency {shown} slower than baseline {base:.4f}s by more than {tolerance:.0%}",
        )
    elif lower(current, interval, base, tolerance):
        found.add(
            f"{mode}.latency_s",
            current,
            base,
            "improvement",
            f"{mode} latency {shown} faster than baseline {base:.4f}s by more than {tolerance:.0%}: refresh the baseline?",
        )
    else:
        found.add(f"{mode}.latency_s", current, base, "holds", f"{mode} latency {shown}")


def compiled_latency(
    found: Findings, compiled: ModeSummary, eager: ModeSummary | None, baseline: Baseline, tolerance: float, ci: str
) -> None:
    """Compiled seconds slower than the baseline's beyond tolerance are:

    - *host noisy* when the machine reference beside the compiled calls moved from the baseline's (re-bench);
    - a regression when the interleaved partner held (compiling got slower), and also when the partner slowed too but
      the host's witnesses held, the machine reference and eager's own session (the whole compiled process slowed:
      threads, lingering compile workers, OpenMP contention from inductor's kernels);
    - a host swing when the partner slowed too and a witness did not hold or was not recorded (a baseline written
      before 0.5.0 has no reference: the rule before it).
    """
    assert compiled.latency_median_s is not None and compiled.latency_ci_s is not None
    base, base_s = baseline.compiled, baseline.compiled.latency_median_s
    assert base_s
    current, interval = compiled.latency_median_s, compiled.latency_ci_s
    if not slower(current, interval, base_s, tolerance):
        latency(found, "compiled", current, interval, base_s, tolerance, ci)
        return
    shown = f"compiled latency {current:.4f}s ({pct(current, base_s)}) slower than baseline {base_s:.4f}s by more than {tolerance:.0%}"
    moved = reference_moved(compiled, base)
    if moved:
        found.add(
            "compiled.latency_s", current, base_s, "host noisy", f"{shown}, but the {moved}: the host moved; re-bench (confirm)"
        )
        return
    partner, partner_ci, base_partner = (
        compiled.partner_latency_median_s,
        compiled.partner_latency_ci_s,
        baseline.eager.partner_latency_median_s,
    )
    if partner is None or partner_ci is None or not base_partner or not slower(partner, partner_ci, base_partner, tolerance):
        latency(found, "compiled", current, interval, base_s, tolerance, ci)
        return
    partner_text = (
        f"the uncompiled model interleaved with it ({partner:.4f}s, {pct(partner, base_partner)} vs {base_partner:.4f}s)"
    )
    session_held = (
        eager is not None
        and eager.latency_median_s is not None
        and eager.latency_ci_s is not None
        and bool(baseline.eager.latency_median_s)
        and not slower(eager.latency_median_s, eager.latency_ci_s, baseline.eager.latency_median_s or 0.0, tolerance)
    )
    reference_held = reference_median(compiled) is not None and bool(base.reference_median_s)
    if session_held and reference_held and eager is not None and eager.latency_median_s is not None:
        found.add(
            "compiled.latency_s",
            current,
            base_s,
            "regression",
            f"{shown}, and so is {partner_text}, while the host's witnesses held (machine reference within "
            f"{REFERENCE_REL:.0%}, eager's own session {pct(eager.latency_median_s, baseline.eager.latency_median_s or 0.0)}): "
            "the whole compiled process slowed",
        )
        return
    why = "eager's own session slowed too" if not session_held else "no machine reference in this run or the baseline"
    found.add(
        "compiled.latency_s", current, base_s, "swing", f"{shown}, but so is {partner_text} and {why}: the host, not the compile"
    )


def eager_latency(
    found: Findings, eager: ModeSummary, compiled: ModeSummary | None, base: ModeBaseline, tolerance: float, ci: str
) -> None:
    """Eager's latency needs two witnesses: its own session and its interleaved partner in the compiled run must both
    be slower than their baselines before it is a regression; one of them alone is a host swing, reported, exit 0."""
    assert eager.latency_median_s is not None and eager.latency_ci_s is not None and base.latency_median_s
    current, interval, base_s = eager.latency_median_s, eager.latency_ci_s, base.latency_median_s
    session_slow = slower(current, interval, base_s, tolerance)
    partner = compiled.partner_latency_median_s if compiled else None
    partner_ci = compiled.partner_latency_ci_s if compiled else None
    shown = f"{current:.4f}s ({pct(current, base_s)}) [{ci} {interval[0]:.4f}, {interval[1]:.4f}]"
    if partner is None or partner_ci is None or not base.partner_latency_median_s:
        if session_slow:
            found.add(
                "eager.latency_s",
                current,
                base_s,
                "swing",
                f"eager latency {shown} slower than baseline {base_s:.4f}s by more than {tolerance:.0%}, but there is no second witness "
                "(no interleaved eager median in this run or the baseline): not gated; refresh the baseline (format 3) to gate it",
            )
        else:
            latency(found, "eager", current, interval, base_s, tolerance, ci)
        return
    partner_slow = slower(partner, partner_ci, base.partner_latency_median_s, tolerance)
    witness = f"interleaved partner {partner:.4f}s ({pct(partner, base.partner_latency_median_s)}) vs {base.partner_latency_median_s:.4f}s"
    moved = reference_moved(eager, base)
    if session_slow and partner_slow and moved:
        found.add(
            "eager.latency_s",
            current,
            base_s,
            "host noisy",
            f"eager latency {shown} and its {witness} slower by more than {tolerance:.0%}, but the {moved}: the host moved; re-bench (confirm)",
        )
    elif session_slow and partner_slow:
        found.add(
            "eager.latency_s",
            current,
            base_s,
            "regression",
            f"eager latency {shown} slower than baseline {base_s:.4f}s by more than {tolerance:.0%}, and so is its {witness}",
        )
    elif session_slow or partner_slow:
        slow, held = (
            ("eager session", "its interleaved partner") if session_slow else ("interleaved eager partner", "eager's own session")
        )
        found.add(
            "eager.latency_s",
            current,
            base_s,
            "swing",
            f"{slow} slower than baseline by more than {tolerance:.0%} but {held} held (session {shown}; {witness}): a host swing, not a regression",
        )
    elif lower(current, interval, base_s, tolerance) and lower(partner, partner_ci, base.partner_latency_median_s, tolerance):
        found.add(
            "eager.latency_s",
            current,
            base_s,
            "improvement",
            f"eager latency {shown} and its {witness} both faster by more than {tolerance:.0%}: refresh the baseline?",
        )
    else:
        found.add("eager.latency_s", current, base_s, "holds", f"eager latency {shown}; {witness}")


TAIL_Q = 0.90
TAIL_MIN_CALLS = 10  # fewer calls than this give no p90 worth gating


def tail(summary: ModeSummary) -> float | None:
    """The 90th percentile of a run's calls (None under :data:`TAIL_MIN_CALLS` calls)."""
    calls = [s for s in summary.latencies_s if math.isfinite(s)]
    return stats.quantile(calls, TAIL_Q) if len(calls) >= TAIL_MIN_CALLS else None


def compiled_extras(
    found: Findings, compiled: ModeSummary, base: ModeBaseline, tolerances: Tolerances, ci: str, *, timed: bool
) -> None:
    """What the median hides: the tail of compiled calls (p90, with its interval), the cold compile time and the
    recompiles, each against what the baseline recorded (nothing when it recorded none: a baseline before format 4).
    Timings under the full and upgrade gates only, and host noisy when the machine reference moved; recompiles under
    every gate (they do not depend on the machine): any increase is a regression."""
    if base.recompiles is not None and compiled.n_recompiles is not None:
        more = compiled.n_recompiles > base.recompiles
        found.add(
            "compiled.recompiles",
            float(compiled.n_recompiles),
            base.recompiles,
            "regression" if more else "holds",
            f"compiled recompiles {compiled.n_recompiles} (baseline {base.recompiles:g})"
            + (": more graphs compiled after the first call" if more else ""),
        )
    if not timed:
        return
    moved = reference_moved(compiled, base)
    p90 = tail(compiled)
    if base.latency_p90_s and p90 is not None:
        calls = [s for s in compiled.latencies_s if math.isfinite(s)]
        interval = stats.quantile_ci(calls, TAIL_Q)
        shown = f"compiled p90 {p90:.4f}s ({pct(p90, base.latency_p90_s)}) [{ci} {interval[0]:.4f}, {interval[1]:.4f}]"
        median = next((f for f in found.out if f.metric == "compiled.latency_s"), None)
        excused = median is not None and median.kind in (FindingKind.SWING, FindingKind.HOST_NOISY)
        if slower(p90, interval, base.latency_p90_s, tolerances.p90_rel):
            kind, why = ("host noisy", f", but the {moved}: re-bench (confirm)") if moved else ("regression", "")
            if excused and median is not None and not moved:  # the partner slowed as much: the host, as for the median
                kind, why = str(median.kind), ", as the median: its interleaved partner slowed too"
            found.add(
                "compiled.latency_p90_s",
                p90,
                base.latency_p90_s,
                kind,
                f"{shown} slower than baseline {base.latency_p90_s:.4f}s by more than {tolerances.p90_rel:.0%}: "
                f"the tail of compiled calls{why}",
            )
        else:
            found.add("compiled.latency_p90_s", p90, base.latency_p90_s, "holds", shown)
    if base.compile_s and compiled.compile_s and compiled.compile_cache == "cold":
        change = compiled.compile_s / base.compile_s - 1
        shown = f"cold compile {compiled.compile_s:.1f}s vs {base.compile_s:.1f}s ({change:+.0%}, tolerance {tolerances.compile_rel:.0%})"
        if not compiled.compile_s <= base.compile_s * (1 + tolerances.compile_rel):
            kind, why = ("host noisy", f", but the {moved}: re-bench (confirm)") if moved else ("regression", "")
            found.add("compiled.compile_s", compiled.compile_s, base.compile_s, kind, f"{shown}{why}")
        else:
            found.add("compiled.compile_s", compiled.compile_s, base.compile_s, "holds", shown)
