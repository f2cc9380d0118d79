"""The gate: which baseline a comparison is checked against, and what it finds. Pure: no I/O, no torch.

A baseline is chosen by the three parts of the key (:mod:`harness.results.keys`):

- **full**: same what, where and software. Every metric is gated.
- **upgrade**: same what and where, other software (the baseline with the fewest software changes, the newest of
  those, or the one ``against`` picks). Every
  metric is gated, and every finding names what changed ("torch 2.13.0+cpu → 2.14.1: compiled latency +18% ...").
- **portable**: same what, another machine. Only what does not depend on the machine is gated: success rate,
  flakiness, compiled-vs-eager drift (judged against each run's own tolerance) and MAE (deterministic: 17582.9576 on
  an Intel Xeon vs 17582.9621 on an AMD EPYC, 2.6e-7 relative, far inside the 1% tolerance). Seconds and speedups
  are printed for information only.
- **new**: nothing recorded for this what. Only broken numbers (NaN, inf) are gated.

Every check is written so that a NaN fails it (``not value <= limit``), never passes it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from harness.gate.baseline import Baseline, ModeBaseline, Tolerances
from harness.gate.comparison import INTERLEAVED, Comparison, ModeSummary
from harness.gate.findings import Finding, Findings, lower, pct, slower
from harness.gate.matching import GateKind, Match, select
from harness.gate.witnesses import compiled_extras, compiled_latency, eager_latency, reference_median, tail
from harness.rules import drift as drift_judge


def broken_numbers(comparison: Comparison) -> list[Finding]:
    """A NaN or inf in any metric the gate reads is a regression: the run is broken, whatever the baseline says."""
    found = Findings(comparison, "")
    for mode, summary in (("eager", comparison.eager), ("compiled", comparison.compiled)):
        if summary is None:
            continue
        for name in (
            "success_rate",
            "latency_median_s",
            "mae",
            "mae_pct",
            "flip_rate",
            "partner_latency_median_s",
            "drift_max_abs",
            "drift_tolerance_abs",
        ):
            value = getattr(summary, name)
            if value is not None and not math.isfinite(value):
                found.add(
                    f"{mode}.{name}",
                    value,
                    None,
                    "regression",
                    f"{mode} {name} is {value}: not a finite number, the run is broken",
                )
        partner = [s for s in summary.paired_eager_latencies_s if not math.isnan(s) and not (math.isfinite(s) and s > 0)]
        if partner:  # NaN marks a failed partner call; inf, zero or a negative number is a broken one
            found.add(
                f"{mode}.paired_eager_latencies_s",
                partner[0],
                None,
                "regression",
                f"{mode} paired_eager_latencies_s holds {len(partner)} value(s) that are not a positive finite number or NaN ({partner[0]}): the run is broken",
            )
        bad = [seconds for seconds in summary.latencies_s if not (math.isfinite(seconds) and seconds > 0)]
        if bad:
            found.add(
                f"{mode}.latencies_s",
                bad[0],
                None,
                "regression",
                f"{mode} latencies_s holds {len(bad)} value(s) that are not a positive finite number ({bad[0]}): the run is broken",
            )
    for name in ("speedup", "mae_diff_pct"):
        value = getattr(comparison, name)
        if value is not None and not math.isfinite(value):
            found.add(name, value, None, "regression", f"{name} is {value}: not a finite number, the run is broken")
    return found.out


def find_findings(
    comparison: Comparison, baseline: Baseline, *, kind: GateKind = GateKind.FULL, changes: Sequence[str] = ()
) -> list[Finding]:
    """Every metric of ``comparison`` checked against ``baseline`` as the gate ``kind`` says (see the module doc)."""
    tol = baseline.tolerances
    timed = kind in (GateKind.FULL, GateKind.UPGRADE)
    found = Findings(comparison, "; ".join(changes) if kind is GateKind.UPGRADE else "")
    ci = f"{comparison.confidence:.0%} CI"
    for mode, summary, base in (
        ("eager", comparison.eager, baseline.eager),
        ("compiled", comparison.compiled, baseline.compiled),
    ):
        rate = summary.success_rate if summary else 0.0
        if not rate >= base.success_rate - tol.success_rate_abs:
            found.add(
                f"{mode}.success_rate",
                rate,
                base.success_rate,
                "regression",
                f"{mode} success rate {rate:.0%} < baseline {base.success_rate:.0%} (each failure confirmed by re-runs)",
            )
        else:
            found.add(f"{mode}.success_rate", rate, base.success_rate, "holds", f"{mode} success rate {rate:.0%}")
        if summary is None:
            continue
        if not summary.flip_rate <= base.flip_rate:
            found.add(
                f"{mode}.flip_rate",
                summary.flip_rate,
                base.flip_rate,
                "flaky",
                f"{mode}: {summary.n_flaky} call(s) failed, then passed on re-run (flip rate {summary.flip_rate:.0%}, baseline {base.flip_rate:.0%})",
            )
        _mae(found, mode, summary, base, tol.mae_rel)
        judgeable = summary.latency_median_s is not None and summary.latency_ci_s
        if timed and base.latency_median_s and summary.success_rate > 0 and not judgeable:
            found.add(
                f"{mode}.latency_s",
                summary.latency_median_s,
                base.latency_median_s,
                "not judged",
                f"{mode} latency not judged: the run has {len(summary.latencies_s)} timed call(s), too few for a median "
                "and its interval; fails under --strict",
            )
        elif base.latency_median_s and summary.latency_median_s is not None and summary.latency_ci_s:
            if not timed:
                found.add(
                    f"{mode}.latency_s",
                    summary.latency_median_s,
                    base.latency_median_s,
                    "info",
                    f"{mode} latency {summary.latency_median_s:.4f}s vs {base.latency_median_s:.4f}s on the baseline's machine (not gated)",
                )
            elif mode == "eager":
                eager_latency(found, summary, comparison.compiled, base, tol.latency_rel, ci)
            else:
                compiled_latency(found, summary, comparison.eager, baseline, tol.latency_rel, ci)
    if comparison.compiled is not None:
        compiled_extras(found, comparison.compiled, baseline.compiled, tol, ci, timed=timed)
    _drift(found, comparison.compiled)
    _speedup(found, comparison, baseline, tol.speedup_rel, ci, timed=timed)
    return found.out


def _mae(found: Findings, mode: str, summary: ModeSummary, base: ModeBaseline, tolerance: float) -> None:
    if base.mae is None or not base.mae > 0:
        return
    if summary.mae is None:
        if summary.success_rate > 0:
            found.add(f"{mode}.mae", None, base.mae, "regression", f"{mode} MAE missing (baseline {base.mae:.9g})")
        return
    change = (summary.mae - base.mae) / base.mae
    if not change <= tolerance:
        found.add(
            f"{mode}.mae",
            summary.mae,
            base.mae,
            "regression",
            f"{mode} MAE {summary.mae:.9g} worse than baseline {base.mae:.9g} by {change:+.2%} (tolerance {tolerance:.0%})",
        )
    elif change < -tolerance:
        found.add(
            f"{mode}.mae",
            summary.mae,
            base.mae,
            "improvement",
            f"{mode} MAE {summary.mae:.9g} better than baseline {base.mae:.9g} by {change:+.2%}: refresh the baseline?",
        )
    else:
        found.add(f"{mode}.mae", summary.mae, base.mae, "holds", f"{mode} MAE {summary.mae:.9g} ({change:+.4%})")


def _drift(found: Findings, compiled: ModeSummary | None) -> None:
    """Self-relative in each run: compiled vs eager, against eager's own float32 error measured in the same run."""
    if compiled is None or not compiled.success_rate > 0:
        return
    if compiled.drift_max_abs is None or compiled.drift_tolerance_abs is None:
        found.add(
            "compiled.drift",
            compiled.drift_max_abs,
            compiled.drift_tolerance_abs,
            "not judged",
            "compiled drift not judged: the run recorded no drift or no tolerance (the float64 reference did not run?); "
            "fails under --strict",
        )
        return
    if drift_judge.exceeds(compiled.drift_max_abs, compiled.drift_tolerance_abs):
        found.add(
            "compiled.drift",
            compiled.drift_max_abs,
            compiled.drift_tolerance_abs,
            "regression",
            drift_judge.describe(compiled.drift_max_abs, compiled.drift_tolerance_abs, compiled.eager_float32_error_abs),
        )
    else:
        found.add(
            "compiled.drift",
            compiled.drift_max_abs,
            compiled.drift_tolerance_abs,
            "holds",
            f"drift {compiled.drift_max_abs:.3g} within tolerance {compiled.drift_tolerance_abs:.3g}",
        )


def _speedup(found: Findings, comparison: Comparison, baseline: Baseline, tolerance: float, ci: str, *, timed: bool) -> None:
    base = baseline.speedup
    if not base:
        return
    current, interval = comparison.speedup, comparison.speedup_ci
    if not timed:
        if current is not None:
            found.add(
                "speedup", current, base, "info", f"speedup {current:.2f}x vs {base:.2f}x on the baseline's machine (not gated)"
            )
        return
    if comparison.speedup_method != baseline.speedup_method and baseline.speedup_method == INTERLEAVED:
        found.add(
            "speedup",
            current,
            base,
            "regression",
            f"no valid interleaved eager/compiled pairs in this run (the baseline's speedup {base:.2f}x is interleaved): the speedup cannot be checked",
        )
        return
    if current is None or interval is None:
        found.add(
            "speedup", current, base, "regression", f"no speedup in this run (baseline {base:.2f}x): a mode has no latencies"
        )
        return
    if comparison.speedup_method != baseline.speedup_method:
        found.add(
            "speedup",
            current,
            base,
            "note",
            f"speedup not gated: the baseline measured it {baseline.speedup_method}, this run {comparison.speedup_method}; refresh the baseline",
        )
        return
    low, high = interval
    shown = f"speedup {current:.2f}x ({pct(current, base)}) [{ci} {low:.2f}, {high:.2f}]"
    if lower(current, interval, base, tolerance):
        found.add("speedup", current, base, "regression", f"{shown} below baseline {base:.2f}x by more than {tolerance:.0%}")
    elif slower(current, interval, base, tolerance):
        found.add(
            "speedup",
            current,
            base,
            "improvement",
            f"{shown} above baseline {base:.2f}x by more than {tolerance:.0%}: refresh the baseline?",
        )
    else:
        found.add("speedup", current, base, "holds", shown)


# --- which baseline --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Check:
    """A comparison checked against the baselines: which baseline applied, how, and every finding."""

    match: Match
    findings: tuple[Finding, ...]

    @property
    def gated(self) -> bool:
        """Timings gated too (full or upgrade)."""
        return self.match.kind in (GateKind.FULL, GateKind.UPGRADE)

    @property
    def regressions(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.regression)

    @property
    def verdict(self) -> str:
        """One word for tables: regression, flaky, improved, holds or new."""
        kinds = {finding.kind for finding in self.findings}
        for kind, word in (("regression", "regression"), ("flaky", "flaky")):
            if kind in kinds:
                return word
        if self.match.kind is GateKind.NEW:
            return "new"
        return "improved" if "improvement" in kinds else "holds"


def check(comparison: Comparison, baselines: Iterable[Baseline], *, against: dict[str, str] | None = None) -> Check:
    """Select the baseline for ``comparison`` and check every metric against it; broken numbers fail in every case."""
    match = select(comparison, baselines, against=against)
    findings = broken_numbers(comparison)
    if match.baseline is not None:
        findings += find_findings(comparison, match.baseline, kind=match.kind, changes=match.changes)
    return Check(match=match, findings=tuple(findings))


def upgrade_findings(older: Comparison, newer: Comparison, tolerances: Tolerances) -> list[Finding]:
    """The newer software's comparison checked against the older one's, as if the older were its baseline (torch matrix)."""
    as_baseline = Baseline(
        key=older.key,
        eager=mode_baseline(older.eager, partner=older.compiled.partner_latency_median_s if older.compiled else None),
        compiled=mode_baseline(older.compiled),
        speedup=older.speedup,
        mae_diff_pct=older.mae_diff_pct,
        tolerances=tolerances,
        speedup_method=older.speedup_method,
    )
    return find_findings(newer, as_baseline, kind=GateKind.UPGRADE, changes=newer.key.software.changes_from(older.key.software))


def mode_baseline(summary: ModeSummary | None, *, partner: float | None = None, compiled: bool = False) -> ModeBaseline:
    """What a baseline records of one mode: eager also its interleaved partner's median (the second witness); compiled
    also the tail of its calls (p90), its cold compile time and its recompiles; both the machine reference."""
    if summary is None:
        return ModeBaseline(success_rate=0.0, latency_median_s=None, mae=None, mae_pct=None)
    extra: dict[str, float | None] = {}
    if compiled:
        extra["latency_p90_s"] = tail(summary)
        extra["compile_s"] = summary.compile_s if summary.compile_cache == "cold" and summary.compile_s else None
        extra["recompiles"] = float(summary.n_recompiles) if summary.n_recompiles is not None else None
    return ModeBaseline(
        **extra,
        success_rate=summary.success_rate,
        latency_median_s=summary.latency_median_s,
        mae=summary.mae,
        mae_pct=summary.mae_pct,
        flip_rate=summary.flip_rate,
        partner_latency_median_s=partner,
        reference_median_s=reference_median(summary),
    )
