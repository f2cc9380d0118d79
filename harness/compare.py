"""Join eager and compiled runs, derive speedup and the recommendation, and find regressions. Pure: no I/O, no torch."""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from harness import stats
from harness.results import FINGERPRINT_FIELDS, RunRecord

ADOPT_SPEEDUP = 1.5  # adopt compiled only above this speedup...
WORTH_SPEEDUP = 1.2  # ...and below this it is not worth it
ADOPT_MAE_DIFF_PCT = 2.0  # ...and only if MAE moves by less than this (percent of eager's MAE)


@dataclass(frozen=True, kw_only=True, order=True)
class Key:
    """What a comparison (and its baseline) is about: the environment and settings both modes share."""

    symbol: str
    model_id: str
    torch_version: str
    device: str  # "<type>:<name> x<threads>"
    context_length: int
    batch_size: int
    prediction_length: int
    data_sha256: str
    compile_config: str  # "mode=...,backend=...,dynamic=...,attn=..."

    def as_dict(self) -> dict[str, str | int]:
        return asdict(self)

    def label(self) -> str:
        return f"{self.symbol} · {self.model_id} · torch {self.torch_version} · {self.device} · {self.compile_config}"


Settings = tuple[str, str, str, str, int, int, int, str]  # a Key without the compile configuration


def shared_settings(record: RunRecord) -> Settings:
    device = f"{record.device_type}:{record.device_name} x{record.torch_threads}"
    return (
        record.symbol,
        record.model_id,
        record.torch_version,
        device,
        record.context_length,
        record.batch_size,
        record.prediction_length,
        record.data_sha256,
    )


# fingerprint fields that set a machine apart beyond the key's torch and device: results from many machines or CI jobs
# merge into one directory, and an eager run is only ever paired with a compiled run of the same environment
ENVIRONMENT_FINGERPRINT: tuple[str, ...] = ("python_version", "chronos_version", "transformers_version", "cpu_model", "cpu_count", "cuda_version", "cuda_driver")


def environment_of(record: RunRecord) -> str:
    """A readable label of the environment around the key: ``python 3.11.7 · chronos 2.3.2 · transformers 5.24.0 · <CPU> x2``."""
    parts = [f"python {record.python_version}", f"chronos {record.chronos_version}", f"transformers {record.transformers_version}",
             f"{record.cpu_model} x{record.cpu_count}"]
    if record.cuda_version:
        parts.append(f"cuda {record.cuda_version}" + (f" (driver {record.cuda_driver})" if record.cuda_driver else ""))
    return " · ".join(parts)


def compile_config(record: RunRecord) -> str:
    """The compile configuration label; dtype and freezing appear only when not the defaults (older keys stay valid)."""
    label = f"mode={record.compile_mode},backend={record.compile_backend},dynamic={record.compile_dynamic},attn={record.attn_implementation}"
    if record.dtype != "float32":
        label += f",dtype={record.dtype}"
    if record.compile_freezing:
        label += ",freezing=true"
    if record.sdpa_backend:
        label += f",sdpa_backend={record.sdpa_backend}"
    return label


def key_of(compiled: RunRecord) -> Key:
    symbol, model, torch_version, device, context, batch, horizon, sha = shared_settings(compiled)
    return Key(
        symbol=symbol,
        model_id=model,
        torch_version=torch_version,
        device=device,
        context_length=context,
        batch_size=batch,
        prediction_length=horizon,
        data_sha256=sha,
        compile_config=compile_config(compiled),
    )


@dataclass(frozen=True, kw_only=True)
class ModeSummary:
    """One mode's figures for one key."""

    run_id: str
    status: str
    error: str
    n_success: int
    n_predictions: int
    success_rate: float
    latencies_s: tuple[float, ...]
    latency_median_s: float | None
    latency_ci_s: tuple[float, float] | None
    first_call_s: float | None
    compile_s: float | None
    mae: float | None
    mae_pct: float | None
    naive_mae_pct: float | None
    model_trained: bool
    n_flaky: int = 0
    flip_rate: float = 0.0
    paired_eager_latencies_s: tuple[float, ...] = ()  # compiled: the uncompiled model, interleaved (NaN: failed)
    reference_s: tuple[float, ...] = ()  # machine reference next to each call (diagnostic; see harness calibrate)
    warm_compile_s: float | None = None
    n_graphs: int | None = None
    n_graph_breaks: int | None = None
    graph_break_reasons: tuple[str, ...] = ()
    n_recompiles: int | None = None
    break_even_calls: float | None = None
    peak_rss_mb: float | None = None
    peak_cuda_mb: float | None = None
    drift_max_abs: float | None = None
    drift_max_rel: float | None = None
    drift_tolerance_abs: float | None = None
    eager_float32_error_abs: float | None = None


def summarize(record: RunRecord, *, confidence: float = stats.DEFAULT_CONFIDENCE, resamples: int = stats.DEFAULT_RESAMPLES) -> ModeSummary:
    samples = tuple(record.latencies_s)
    return ModeSummary(
        run_id=record.run_id,
        status=record.status,
        error=f"{record.error_type}: {record.error_message}" if record.error_type else "",
        n_success=record.n_success,
        n_predictions=record.n_predictions,
        success_rate=record.success_rate,
        latencies_s=samples,
        latency_median_s=stats.median(samples) if samples else None,
        latency_ci_s=stats.median_ci(samples, confidence=confidence, resamples=resamples) if samples else None,
        first_call_s=record.first_call_s,
        compile_s=record.compile_s,
        mae=record.mae,
        mae_pct=record.mae_pct,
        naive_mae_pct=record.naive_mae_pct,
        model_trained=record.model_trained,
        n_flaky=record.n_flaky,
        flip_rate=record.flip_rate,
        paired_eager_latencies_s=tuple(record.paired_eager_latencies_s),
        reference_s=tuple(record.reference_s),
        warm_compile_s=record.warm_compile_s,
        n_graphs=record.n_graphs,
        n_graph_breaks=record.n_graph_breaks,
        graph_break_reasons=tuple(record.graph_break_reasons),
        n_recompiles=record.n_recompiles,
        break_even_calls=record.break_even_calls,
        peak_rss_mb=record.peak_rss_mb,
        peak_cuda_mb=record.peak_cuda_mb,
        drift_max_abs=record.drift_max_abs,
        drift_max_rel=record.drift_max_rel,
        drift_tolerance_abs=record.drift_tolerance_abs,
        eager_float32_error_abs=record.eager_float32_error_abs,
    )


class Recommendation(enum.Enum):
    ADOPT = "adopt compiled"
    MARGINAL = "marginal: keep eager unless every millisecond counts"
    NOT_WORTH_IT = "not worth it: keep eager"
    REJECT_FAILURES = "reject compiled: it fails"
    REJECT_ACCURACY = "reject compiled: forecasts differ"
    REJECT_FLAKY = "reject compiled: flaky"
    INCOMPLETE = "incomplete: a mode is missing or failed"
    UNCERTAIN = "uncertain: measure more"


INTERLEAVED = "interleaved"  # speedup from eager and compiled calls alternating in the compiled run's process
SEPARATE = "separate sessions"  # speedup from the eager session's median over the compiled session's


@dataclass(frozen=True, kw_only=True)
class Comparison:
    key: Key
    eager: ModeSummary | None
    compiled: ModeSummary | None
    speedup: float | None  # eager latency / compiled latency, measured as `speedup_method` says
    speedup_ci: tuple[float, float] | None
    mae_diff_pct: float | None  # (compiled MAE - eager MAE) / eager MAE, in percent
    confidence: float = stats.DEFAULT_CONFIDENCE  # of every interval in this comparison
    recommendation: Recommendation
    reason: str
    fingerprint: dict[str, object] = field(default_factory=dict)  # the compiled run's environment
    speedup_method: str = SEPARATE
    session_speedup: float | None = None  # eager session median / compiled session median, for reference
    environment: str = ""  # environment_of(compiled run): with the key, what sets this comparison apart in merged results


def mae_diff_pct(eager_mae: float | None, compiled_mae: float | None) -> float | None:
    if eager_mae is None or compiled_mae is None:
        return None
    if eager_mae == 0:
        return 0.0 if compiled_mae == 0 else math.inf
    return 100.0 * (compiled_mae - eager_mae) / eager_mae


def recommend(
    *, compiled_success_rate: float, speedup: float | None, mae_diff: float | None, speedup_ci: tuple[float, float] | None = None,
    compiled_flaky: int = 0, drift: tuple[float, float] | None = None,
) -> tuple[Recommendation, str]:
    """The rules: adopt only at 100% success, speedup > 1.5x and |MAE difference| < 2%; < 1.2x is not worth it.

    With an interval, "speedup > 1.5x" must hold for its lower end: a point estimate above 1.5x whose interval
    reaches down to 1.5x is UNCERTAIN, not ADOPT (5 calls of a fast model often are). A call that failed and
    passed on re-run (flaky) is not 100% success; compiled output drifting from eager's beyond its tolerance
    (``drift`` = (max abs difference, tolerance)) is rejected like an MAE change.
    """
    if compiled_success_rate < 1.0:
        return Recommendation.REJECT_FAILURES, f"compiled succeeded in {compiled_success_rate:.0%} of predictions (100% required)"
    if compiled_flaky:
        return Recommendation.REJECT_FLAKY, f"{compiled_flaky} call(s) failed, then passed on re-run"
    if drift is not None and drift[0] > drift[1]:
        return Recommendation.REJECT_ACCURACY, f"compiled forecasts drift {drift[0]:.3g} from eager's (tolerance {drift[1]:.3g})"
    if speedup is None or mae_diff is None:
        return Recommendation.INCOMPLETE, "no successful eager run to compare against"
    if not abs(mae_diff) < ADOPT_MAE_DIFF_PCT:
        return Recommendation.REJECT_ACCURACY, f"MAE differs by {mae_diff:+.2f}% (limit ±{ADOPT_MAE_DIFF_PCT:g}%)"
    if speedup < WORTH_SPEEDUP:
        return Recommendation.NOT_WORTH_IT, f"speedup {speedup:.2f}x < {WORTH_SPEEDUP:g}x"
    if speedup > ADOPT_SPEEDUP and speedup_ci is not None and speedup_ci[0] <= ADOPT_SPEEDUP:
        return Recommendation.UNCERTAIN, f"speedup {speedup:.2f}x but its interval starts at {speedup_ci[0]:.2f}x, not above {ADOPT_SPEEDUP:g}x; try --runs 40"
    if speedup > ADOPT_SPEEDUP:
        return Recommendation.ADOPT, f"speedup {speedup:.2f}x > {ADOPT_SPEEDUP:g}x, 100% success, MAE within {ADOPT_MAE_DIFF_PCT:g}%"
    return Recommendation.MARGINAL, f"speedup {speedup:.2f}x between {WORTH_SPEEDUP:g}x and {ADOPT_SPEEDUP:g}x"


def interleaved_speedup(
    compiled: ModeSummary, *, confidence: float = stats.DEFAULT_CONFIDENCE, resamples: int = stats.DEFAULT_RESAMPLES
) -> tuple[float, tuple[float, float]] | None:
    """Median of per-pair ratios eager/compiled from the compiled run's interleaved calls, and its interval.

    Each pair ran back to back in one process, so a slow moment of the machine slows both and cancels out.
    """
    pairs = [(e, c) for e, c in zip(compiled.paired_eager_latencies_s, compiled.latencies_s, strict=False) if math.isfinite(e)]
    if not pairs:
        return None
    ratios = [e / c for e, c in pairs]
    return stats.median(ratios), stats.median_ci(ratios, confidence=confidence, resamples=resamples)


def compare_pair(
    key: Key, eager: RunRecord | None, compiled: RunRecord, *, confidence: float = stats.DEFAULT_CONFIDENCE, resamples: int = stats.DEFAULT_RESAMPLES
) -> Comparison:
    compiled_summary = summarize(compiled, confidence=confidence, resamples=resamples)
    eager_summary = summarize(eager, confidence=confidence, resamples=resamples) if eager is not None else None
    session: float | None = None
    if eager_summary and eager_summary.latencies_s and compiled_summary.latencies_s:
        session = stats.median(eager_summary.latencies_s) / stats.median(compiled_summary.latencies_s)
    speedup, interval, method = session, None, SEPARATE
    paired = interleaved_speedup(compiled_summary, confidence=confidence, resamples=resamples)
    if paired is not None:
        speedup, interval = paired
        method = INTERLEAVED
    elif session is not None and eager_summary is not None:
        interval = stats.speedup_ci(eager_summary.latencies_s, compiled_summary.latencies_s, confidence=confidence, resamples=resamples)
    diff = mae_diff_pct(eager_summary.mae if eager_summary else None, compiled_summary.mae)
    drift = (compiled_summary.drift_max_abs, compiled_summary.drift_tolerance_abs)
    if eager_summary is None:
        recommendation, reason = Recommendation.INCOMPLETE, "no eager run for this key: run `nox -s bench_eager`"
    elif eager_summary.success_rate < 1.0:
        recommendation, reason = Recommendation.INCOMPLETE, f"eager itself failed: {eager_summary.error}"
    else:
        recommendation, reason = recommend(
            compiled_success_rate=compiled_summary.success_rate, speedup=speedup, mae_diff=diff, speedup_ci=interval,
            compiled_flaky=compiled_summary.n_flaky, drift=drift if drift[0] is not None and drift[1] is not None else None,  # type: ignore[arg-type]
        )
    return Comparison(
        key=key,
        eager=eager_summary,
        compiled=compiled_summary,
        speedup=speedup,
        speedup_ci=interval,
        mae_diff_pct=diff,
        confidence=confidence,
        recommendation=recommendation,
        reason=reason,
        fingerprint={**{name: getattr(compiled, name) for name in FINGERPRINT_FIELDS}, "weights_sha256": compiled.weights_sha256},
        speedup_method=method,
        session_speedup=session,
        environment=environment_of(compiled),
    )


def pool_runs(records: Iterable[RunRecord]) -> list[RunRecord]:
    """One record per (mode, key) holding the raw latencies of all its runs, so a baseline can rest on many sessions.

    Success counts add up; the latest run supplies every other field (forecast, MAE, fingerprint, run id).
    The pooled run ids are joined with "+" so provenance names every session.
    """
    groups: dict[tuple[str, object, str], list[RunRecord]] = {}
    for record in sorted(records, key=lambda r: (r.timestamp_utc, r.run_id)):
        group = shared_settings(record) if record.mode == "eager" else key_of(record)
        groups.setdefault((record.mode, group, environment_of(record)), []).append(record)
    pooled = []
    for runs in groups.values():
        latest = runs[-1]
        predictions = sum(r.n_predictions for r in runs)
        successes = sum(r.n_success for r in runs)
        latencies = [seconds for r in runs for seconds in r.latencies_s]
        aligned = all(len(r.paired_eager_latencies_s) == len(r.latencies_s) for r in runs)
        referenced = all(len(r.reference_s) == len(r.latencies_s) for r in runs)
        flaky = sum(r.n_flaky for r in runs)
        pooled.append(
            dataclasses.replace(
                latest,
                run_id="+".join(r.run_id for r in runs),
                latencies_s=latencies,
                latency_median_s=stats.median(latencies) if latencies else None,
                n_predictions=predictions,
                n_success=successes,
                success_rate=successes / predictions if predictions else 0.0,
                paired_eager_latencies_s=[x for r in runs for x in r.paired_eager_latencies_s] if aligned else [],
                reference_s=[x for r in runs for x in r.reference_s] if referenced else [],
                n_flaky=flaky,
                flip_rate=sum(r.flip_rate * r.n_predictions for r in runs) / predictions if predictions else 0.0,
                drift_max_abs=max((r.drift_max_abs for r in runs if r.drift_max_abs is not None), default=None),
            )
        )
    return pooled


def build_comparisons(records: Iterable[RunRecord], *, confidence: float = stats.DEFAULT_CONFIDENCE) -> tuple[list[Comparison], list[RunRecord]]:
    """The latest compiled run per key and environment, joined with the latest eager run of the same settings and environment.

    Records may come from many machines or CI jobs: the environment (:func:`environment_of`) is part of what
    identifies a comparison, so two machines with the same key are two comparisons, never one eager run of one
    machine against the compiled run of another. Returns the comparisons and the eager runs no compiled run matched.
    """
    latest_eager: dict[tuple[Settings, str], RunRecord] = {}
    latest_compiled: dict[tuple[Key, str], RunRecord] = {}
    for record in sorted(records, key=lambda r: (r.timestamp_utc, r.run_id)):
        if record.mode == "eager":
            latest_eager[(shared_settings(record), environment_of(record))] = record
        else:
            latest_compiled[(key_of(record), environment_of(record))] = record
    comparisons = [
        compare_pair(key, latest_eager.get((shared_settings(rec), environment)), rec, confidence=confidence)
        for (key, environment), rec in sorted(latest_compiled.items())
    ]
    matched = {(shared_settings(rec), environment) for (_, environment), rec in latest_compiled.items()}
    orphans = [rec for shared, rec in sorted(latest_eager.items()) if shared not in matched]
    return comparisons, orphans


# --- regressions against a baseline ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Tolerances:
    """How far a result may move from its baseline before it is a regression.

    A change is a regression only when it is both larger than the tolerance (point estimate) and significant
    (the interval excludes the baseline value): the tolerance absorbs session-to-session noise, the interval
    protects runs with few calls. The defaults come from ``harness calibrate`` on this project's machine.
    """

    speedup_rel: float = 0.06  # speedup below baseline x (1 - this); interleaved speedup moves ~1-2% between sessions here
    latency_rel: float = 0.25  # a mode's latency above baseline x (1 + this); seconds move ~7-9% between sessions here
    mae_rel: float = 0.01  # MAE above baseline x (1 + this); MAE is deterministic here (0 spread across sessions)
    success_rate_abs: float = 0.0  # success rate below baseline - this


@dataclass(frozen=True, kw_only=True)
class ModeBaseline:
    success_rate: float
    latency_median_s: float | None
    mae: float | None
    mae_pct: float | None
    flip_rate: float = 0.0  # absent in format 1


@dataclass(frozen=True, kw_only=True)
class Baseline:
    key: Key
    eager: ModeBaseline
    compiled: ModeBaseline
    speedup: float | None
    mae_diff_pct: float | None
    tolerances: Tolerances = field(default_factory=Tolerances)
    provenance: dict[str, object] = field(default_factory=dict)
    speedup_method: str = SEPARATE


@dataclass(frozen=True, kw_only=True)
class Finding:
    """A regression, an improvement beyond tolerance, a flaky mode, or a note (nothing gated), with a message."""

    key: Key
    metric: str
    current: float
    baseline: float
    kind: str  # "regression" | "improvement" | "flaky" | "note"
    message: str

    @property
    def regression(self) -> bool:
        return self.kind == "regression"


def slower(current: float, interval: tuple[float, float], base: float, tolerance: float) -> bool:
    """Larger than ``base`` by more than ``tolerance`` (relative) and significantly so (interval above base)."""
    return current > base * (1 + tolerance) and interval[0] > base


def lower(current: float, interval: tuple[float, float], base: float, tolerance: float) -> bool:
    """Smaller than ``base`` by more than ``tolerance`` (relative) and significantly so (interval below base)."""
    return current < base * (1 - tolerance) and interval[1] < base


def find_findings(comparison: Comparison, baseline: Baseline) -> list[Finding]:
    """Every metric of ``comparison`` checked against ``baseline``: regressions and improvements beyond tolerance."""
    tol = baseline.tolerances
    ci = f"{comparison.confidence:.0%} CI"
    out: list[Finding] = []

    def add(metric: str, current: float, base: float, kind: str, message: str) -> None:
        out.append(Finding(key=comparison.key, metric=metric, current=current, baseline=base, kind=kind, message=message))

    for mode, summary, base in (("eager", comparison.eager, baseline.eager), ("compiled", comparison.compiled, baseline.compiled)):
        current_rate = summary.success_rate if summary else 0.0
        if current_rate < base.success_rate - tol.success_rate_abs:
            add(f"{mode}.success_rate", current_rate, base.success_rate, "regression",
                f"{mode} success rate {current_rate:.0%} < baseline {base.success_rate:.0%} (each failure confirmed by re-runs)")
        if summary is None:
            continue
        if summary.flip_rate > base.flip_rate:
            add(f"{mode}.flip_rate", summary.flip_rate, base.flip_rate, "flaky",
                f"{mode}: {summary.n_flaky} call(s) failed, then passed on re-run (flip rate {summary.flip_rate:.0%}, baseline {base.flip_rate:.0%})")
        if summary.latency_ci_s and summary.latency_median_s is not None and base.latency_median_s:
            _latency(add, mode, summary.latency_median_s, summary.latency_ci_s, base.latency_median_s, tol.latency_rel, ci)
        if summary.mae is not None and base.mae is not None and base.mae > 0:
            change = (summary.mae - base.mae) / base.mae
            if change > tol.mae_rel:
                add(f"{mode}.mae", summary.mae, base.mae, "regression", f"{mode} MAE {summary.mae:.6g} worse than baseline {base.mae:.6g} by {change:+.2%} (tolerance {tol.mae_rel:.0%})")
            elif change < -tol.mae_rel:
                add(f"{mode}.mae", summary.mae, base.mae, "improvement", f"{mode} MAE {summary.mae:.6g} better than baseline {base.mae:.6g} by {change:+.2%}: refresh the baseline?")
    compiled = comparison.compiled
    if compiled and compiled.drift_max_abs is not None and compiled.drift_tolerance_abs is not None and compiled.drift_max_abs > compiled.drift_tolerance_abs:
        add("compiled.drift", compiled.drift_max_abs, compiled.drift_tolerance_abs, "regression",
            f"compiled forecasts drift {compiled.drift_max_abs:.3g} (max abs, every quantile) from eager's, beyond tolerance {compiled.drift_tolerance_abs:.3g} "
            f"(from eager's own float32 error {compiled.eager_float32_error_abs or 0:.3g})")
    if comparison.speedup is not None and comparison.speedup_ci and baseline.speedup:
        low, high = comparison.speedup_ci
        if comparison.speedup_method != baseline.speedup_method:
            add("speedup", comparison.speedup, baseline.speedup, "note",
                f"speedup not gated: the baseline measured it {baseline.speedup_method}, this run {comparison.speedup_method}; refresh the baseline")
        elif lower(comparison.speedup, (low, high), baseline.speedup, tol.speedup_rel):
            add("speedup", comparison.speedup, baseline.speedup, "regression",
                f"speedup {comparison.speedup:.2f}x [{ci} {low:.2f}, {high:.2f}] below baseline {baseline.speedup:.2f}x by more than {tol.speedup_rel:.0%}")
        elif slower(comparison.speedup, (low, high), baseline.speedup, tol.speedup_rel):
            add("speedup", comparison.speedup, baseline.speedup, "improvement",
                f"speedup {comparison.speedup:.2f}x above baseline {baseline.speedup:.2f}x by more than {tol.speedup_rel:.0%}: refresh the baseline?")
    return out


def _latency(add: Callable[[str, float, float, str, str], None], mode: str, current: float, interval: tuple[float, float], base: float,
             tolerance: float, ci: str) -> None:
    shown = f"{current:.4f}s [{ci} {interval[0]:.4f}, {interval[1]:.4f}]"
    if slower(current, interval, base, tolerance):
        add(f"{mode}.latency_s", current, base, "regression", f"{mode} latency {shown} slower than baseline {base:.4f}s by more than {tolerance:.0%}")
    elif lower(current, interval, base, tolerance):
        add(f"{mode}.latency_s", current, base, "improvement", f"{mode} latency {shown} faster than baseline {base:.4f}s by more than {tolerance:.0%}: refresh the baseline?")


# --- which baseline a comparison may be checked against ----------------------------------------------

ENVIRONMENT_FIELDS: tuple[str, ...] = ("torch_version", "device")  # key fields that say "another machine or torch"
CHECKED_FINGERPRINT: tuple[str, ...] = ("chronos_version", "transformers_version", "cpu_model", "cuda_version", "weights_sha256")


class MatchKind(enum.Enum):
    EXACT = "exact"
    ENVIRONMENT_MISMATCH = "environment mismatch"
    NEW = "new"


@dataclass(frozen=True, kw_only=True)
class Match:
    kind: MatchKind
    baseline: Baseline | None
    differences: tuple[str, ...] = ()  # "torch_version: 2.13.0+cpu (baseline) vs 2.14.1 (this run)"


def match_baseline(comparison: Comparison, baselines: Iterable[Baseline]) -> Match:
    """The baseline ``comparison`` may be gated against, or why not.

    - EXACT: same key and the same chronos/transformers/CPU/CUDA/weights as recorded in the baseline's fingerprint.
    - ENVIRONMENT_MISMATCH: a baseline for the same settings exists but was recorded on another torch, device,
      chronos, transformers, CPU, CUDA or model weights: comparing would measure the environment, not a regression.
    - NEW: nothing recorded for these settings (symbol, model, context, batch, horizon, data, compile configuration).
    """
    pool = list(baselines)
    for baseline in pool:
        if baseline.key == comparison.key:
            recorded = baseline.provenance.get("fingerprint")
            recorded = recorded if isinstance(recorded, dict) else {}
            differ = tuple(
                f"{name}: {recorded[name]} (baseline) vs {comparison.fingerprint[name]} (this run)"
                for name in CHECKED_FINGERPRINT
                if name in recorded and name in comparison.fingerprint and recorded[name] != comparison.fingerprint[name]
            )
            return Match(kind=MatchKind.ENVIRONMENT_MISMATCH if differ else MatchKind.EXACT, baseline=baseline, differences=differ)
    wanted = comparison.key.as_dict()
    for baseline in pool:
        theirs = baseline.key.as_dict()
        differ_fields = [name for name in wanted if wanted[name] != theirs[name]]
        if differ_fields and all(name in ENVIRONMENT_FIELDS for name in differ_fields):
            return Match(
                kind=MatchKind.ENVIRONMENT_MISMATCH,
                baseline=baseline,
                differences=tuple(f"{name}: {theirs[name]} (baseline) vs {wanted[name]} (this run)" for name in differ_fields),
            )
    return Match(kind=MatchKind.NEW, baseline=None)


@dataclass(frozen=True, kw_only=True)
class Check:
    """A comparison checked against the baselines: which baseline applied, and what it found."""

    match: Match
    findings: tuple[Finding, ...]  # against an EXACT baseline; against another environment only when informational

    @property
    def gated(self) -> bool:
        return self.match.kind is MatchKind.EXACT

    @property
    def verdict(self) -> str:
        """One word for tables: regression, flaky, improved, holds, new or "other environment"."""
        if self.match.kind is MatchKind.NEW:
            return "new"
        if not self.gated:
            return "other environment"
        kinds = {finding.kind for finding in self.findings}
        for kind, word in (("regression", "regression"), ("flaky", "flaky"), ("improvement", "improved")):
            if kind in kinds:
                return word
        return "holds"


def check(comparison: Comparison, baselines: Iterable[Baseline], *, informational: bool = False) -> Check:
    """Match ``comparison`` to its baseline and find what moved (against another environment only if ``informational``)."""
    match = match_baseline(comparison, baselines)
    if match.baseline is None or (match.kind is MatchKind.ENVIRONMENT_MISMATCH and not informational):
        return Check(match=match, findings=())
    return Check(match=match, findings=tuple(find_findings(comparison, match.baseline)))
