"""Join eager and compiled runs into comparisons: speedup (interleaved or across sessions), MAE difference and the
recommendation. Pure: no I/O, no torch. Checking a comparison against a baseline is :mod:`harness.gate.checks`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from harness.base.textenum import TextEnum
from harness.gate import stats
from harness.results.keys import Key, environment_of, key_of, settings_of
from harness.results.schema import FINGERPRINT_FIELDS, RunRecord
from harness.rules.recommend import Recommendation, mae_diff_pct, recommend


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
    paired_dtype_eager_latencies_s: tuple[float, ...] = ()  # a reduced precision's uncompiled model, interleaved too
    reference_s: tuple[float, ...] = ()  # machine reference next to each call (diagnostic; see harness calibrate)
    warm_compile_s: float | None = None
    n_graphs: int | None = None
    n_graph_breaks: int | None = None
    graph_break_reasons: tuple[str, ...] = ()
    n_recompiles: int | None = None
    compile_cache: str = ""  # "cold" (the default), "warm", a directory...: compile times compare only cold to cold
    break_even_calls: float | None = None
    peak_rss_mb: float | None = None
    peak_cuda_mb: float | None = None
    drift_max_abs: float | None = None
    drift_max_rel: float | None = None
    drift_tolerance_abs: float | None = None
    eager_float32_error_abs: float | None = None
    # compiled: the interleaved eager partner, eager's second witness (its median), and its confirmed failures
    partner_latency_median_s: float | None = None
    partner_latency_ci_s: tuple[float, float] | None = None
    n_partner_failures: int = 0
    # schema v5: GEMM kernels, reduced precision judged on its own, the floor, precompiled starts
    dtype: str = "float32"
    compile_threads: int = 0
    cpp_template_kernels: int | None = None
    extern_kernel_calls: int | None = None
    drift_reference: str = ""
    precision_mae_diff_pct: float | None = None
    precision_windows: int = 0
    precision_wql_diff_pct: float | None = None
    flops_per_prediction: float | None = None
    matmul_gflops: float | None = None
    matmul_gflops_compiled: float | None = None
    start_warm_disk_s: float | None = None
    start_precompiled_s: float | None = None
    precompiled_kind: str = ""
    # schema v7: the floor on the model's own GEMMs; shape variants; many series per call
    gemm_floor_s: float | None = None
    gemm_floor_compiled_s: float | None = None
    shape_variants: tuple[str, ...] = ()
    shape_variant_s: tuple[float, ...] = ()
    batch_series: int = 0
    batch_eager_s: float | None = None
    batch_compiled_s: float | None = None


def summarize(
    record: RunRecord, *, confidence: float = stats.DEFAULT_CONFIDENCE, resamples: int = stats.DEFAULT_RESAMPLES
) -> ModeSummary:
    samples = tuple(record.latencies_s)
    partner = tuple(seconds for seconds in record.paired_eager_latencies_s if math.isfinite(seconds))
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
        paired_dtype_eager_latencies_s=tuple(record.paired_dtype_eager_latencies_s),
        reference_s=tuple(record.reference_s),
        warm_compile_s=record.warm_compile_s,
        n_graphs=record.n_graphs,
        n_graph_breaks=record.n_graph_breaks,
        graph_break_reasons=tuple(record.graph_break_reasons),
        n_recompiles=record.n_recompiles,
        compile_cache=record.compile_cache,
        break_even_calls=record.break_even_calls,
        peak_rss_mb=record.peak_rss_mb,
        peak_cuda_mb=record.peak_cuda_mb,
        drift_max_abs=record.drift_max_abs,
        drift_max_rel=record.drift_max_rel,
        drift_tolerance_abs=record.drift_tolerance_abs,
        eager_float32_error_abs=record.eager_float32_error_abs,
        partner_latency_median_s=stats.median(partner) if partner else None,
        partner_latency_ci_s=stats.median_ci(partner, confidence=confidence, resamples=resamples) if partner else None,
        n_partner_failures=len(record.paired_eager_latencies_s) - len(partner),
        dtype=record.dtype,
        compile_threads=record.compile_threads,
        cpp_template_kernels=record.cpp_template_kernels,
        extern_kernel_calls=record.extern_kernel_calls,
        drift_reference=record.drift_reference,
        precision_mae_diff_pct=record.precision_mae_diff_pct,
        precision_windows=record.precision_windows,
        precision_wql_diff_pct=record.precision_wql_diff_pct,
        flops_per_prediction=record.flops_per_prediction,
        matmul_gflops=record.matmul_gflops,
        matmul_gflops_compiled=record.matmul_gflops_compiled,
        start_warm_disk_s=record.start_warm_disk_s,
        start_precompiled_s=record.start_precompiled_s,
        precompiled_kind=record.precompiled_kind,
        gemm_floor_s=record.gemm_floor_s,
        gemm_floor_compiled_s=record.gemm_floor_compiled_s,
        shape_variants=tuple(record.shape_variants),
        shape_variant_s=tuple(record.shape_variant_s),
        batch_series=record.batch_series,
        batch_eager_s=record.batch_eager_s,
        batch_compiled_s=record.batch_compiled_s,
    )


def with_partner_failures(eager: ModeSummary, compiled: ModeSummary) -> ModeSummary:
    """Eager's summary with the interleaved partner's calls counted in its success rate: a confirmed failure of
    eager mode's model inside the compiled run is an eager failure, wherever it happened."""
    calls = len(compiled.paired_eager_latencies_s)
    if not calls:
        return eager
    successes = eager.n_success + calls - compiled.n_partner_failures
    predictions = eager.n_predictions + calls
    return dataclasses.replace(eager, n_success=successes, n_predictions=predictions, success_rate=successes / predictions)


class SpeedupMethod(TextEnum):
    INTERLEAVED = "interleaved"  # eager and compiled calls alternating in the compiled run's process
    SEPARATE = "separate sessions"  # the eager session's median over the compiled session's


INTERLEAVED, SEPARATE = SpeedupMethod.INTERLEAVED, SpeedupMethod.SEPARATE


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
    speedup_method: SpeedupMethod = SEPARATE
    session_speedup: float | None = None  # eager session median / compiled session median, for reference
    environment: str = ""  # environment_of(compiled run): with the key, what sets this comparison apart in merged results
    # a reduced precision with its own eager partner: the speedup split in two, each a median of per-round ratios
    dtype_gain: float | None = None  # float32 eager / the dtype's eager: what the dtype gives, without compiling
    dtype_gain_ci: tuple[float, float] | None = None
    compile_gain: float | None = None  # the dtype's eager / compiled: what compiling adds on top; the recommendation's
    compile_gain_ci: tuple[float, float] | None = None


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


def dtype_split(
    compiled: ModeSummary, *, confidence: float = stats.DEFAULT_CONFIDENCE, resamples: int = stats.DEFAULT_RESAMPLES
) -> tuple[tuple[float, tuple[float, float]], tuple[float, tuple[float, float]]] | None:
    """(dtype gain, its interval) and (compile gain, its interval) from the rounds where the float32 partner, the
    dtype's partner and the compiled call all passed; None without a dtype partner."""
    rounds = [
        (e, d, c)
        for e, d, c in zip(
            compiled.paired_eager_latencies_s, compiled.paired_dtype_eager_latencies_s, compiled.latencies_s, strict=False
        )
        if math.isfinite(e) and math.isfinite(d)
    ]
    if not rounds:
        return None
    dtype = [e / d for e, d, _ in rounds]
    compiling = [d / c for _, d, c in rounds]
    return (
        (stats.median(dtype), stats.median_ci(dtype, confidence=confidence, resamples=resamples)),
        (stats.median(compiling), stats.median_ci(compiling, confidence=confidence, resamples=resamples)),
    )


def compare_pair(
    key: Key,
    eager: RunRecord | None,
    compiled: RunRecord,
    *,
    confidence: float = stats.DEFAULT_CONFIDENCE,
    resamples: int = stats.DEFAULT_RESAMPLES,
) -> Comparison:
    compiled_summary = summarize(compiled, confidence=confidence, resamples=resamples)
    eager_summary = summarize(eager, confidence=confidence, resamples=resamples) if eager is not None else None
    if eager_summary is not None:
        eager_summary = with_partner_failures(eager_summary, compiled_summary)
    session: float | None = None
    if eager_summary and eager_summary.latencies_s and compiled_summary.latencies_s:
        session = stats.median(eager_summary.latencies_s) / stats.median(compiled_summary.latencies_s)
    speedup, interval, method = session, None, SEPARATE
    paired = interleaved_speedup(compiled_summary, confidence=confidence, resamples=resamples)
    if paired is not None:
        speedup, interval = paired
        method = INTERLEAVED
    elif session is not None and eager_summary is not None:
        interval = stats.speedup_ci(
            eager_summary.latencies_s, compiled_summary.latencies_s, confidence=confidence, resamples=resamples
        )
    split = dtype_split(compiled_summary, confidence=confidence, resamples=resamples)
    diff = mae_diff_pct(eager_summary.mae if eager_summary else None, compiled_summary.mae)
    drift = (compiled_summary.drift_max_abs, compiled_summary.drift_tolerance_abs)
    if eager_summary is None:
        recommendation, reason = Recommendation.INCOMPLETE, "no eager run for this key: run `nox -s bench_eager`"
    elif not eager_summary.success_rate >= 1.0:
        failed = (
            eager_summary.error or f"{compiled_summary.n_partner_failures} interleaved eager call(s) failed in the compiled run"
        )
        recommendation, reason = Recommendation.INCOMPLETE, f"eager itself failed: {failed}"
    else:
        recommendation, reason = recommend(
            compiled_success_rate=compiled_summary.success_rate,
            speedup=speedup,
            mae_diff=diff,
            speedup_ci=interval,
            compiled_flaky=compiled_summary.n_flaky,
            drift=drift if drift[0] is not None and drift[1] is not None else None,  # type: ignore[arg-type]
            precision=compiled_summary.dtype,
            precision_mae_diff=compiled_summary.precision_mae_diff_pct,
            precision_windows=compiled_summary.precision_windows,
            precision_wql_diff=compiled_summary.precision_wql_diff_pct,
            trained=compiled_summary.model_trained,
            dtype_gain=split[0][0] if split else None,
            compile_gain=split[1] if split else None,
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
        dtype_gain=split[0][0] if split else None,
        dtype_gain_ci=split[0][1] if split else None,
        compile_gain=split[1][0] if split else None,
        compile_gain_ci=split[1][1] if split else None,
    )


def pool_runs(records: Iterable[RunRecord]) -> list[RunRecord]:
    """One record per (mode, key) holding the raw latencies of all its runs, so a baseline can rest on many sessions.

    Success counts add up; the latest run supplies every other field (forecast, MAE, fingerprint, run id).
    The pooled run ids are joined with "+" so provenance names every session.
    """
    groups: dict[tuple[str, Key], list[RunRecord]] = {}
    for record in sorted(records, key=lambda r: (r.timestamp_utc, r.run_id)):
        group = settings_of(record) if record.mode == "eager" else key_of(record)
        groups.setdefault((record.mode, group), []).append(record)
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
                paired_dtype_eager_latencies_s=[x for r in runs for x in r.paired_dtype_eager_latencies_s]
                if aligned and all(len(r.paired_dtype_eager_latencies_s) == len(r.latencies_s) for r in runs)
                else [],
                reference_s=[x for r in runs for x in r.reference_s] if referenced else [],
                n_flaky=flaky,
                flip_rate=sum(r.flip_rate * r.n_predictions for r in runs) / predictions if predictions else 0.0,
                drift_max_abs=max((r.drift_max_abs for r in runs if r.drift_max_abs is not None), default=None),
            )
        )
    return pooled


def build_comparisons(
    records: Iterable[RunRecord], *, confidence: float = stats.DEFAULT_CONFIDENCE
) -> tuple[list[Comparison], list[RunRecord]]:
    """The latest compiled run per key, joined with the latest eager run of the same settings, machine and software.

    Records may come from many machines, CI jobs and torch versions: the key's *where* and *software*
    (:mod:`harness.results.keys`) are part of what identifies a comparison, so an eager run is never paired with the compiled
    run of another machine or torch. Re-benches (``confirms`` set) are left out: :func:`rebenched` reads them.
    Returns the comparisons and the eager runs no compiled run matched.
    """
    latest_eager: dict[Key, RunRecord] = {}
    latest_compiled: dict[Key, RunRecord] = {}
    for record in sorted(records, key=lambda r: (r.timestamp_utc, r.run_id)):
        if record.confirms:  # a re-bench of a timing regression: read by rebenched(), never the run being checked
            continue
        if record.mode == "eager":
            latest_eager[settings_of(record)] = record
        else:
            latest_compiled[key_of(record)] = record
    comparisons = [
        compare_pair(key, latest_eager.get(settings_of(rec)), rec, confidence=confidence)
        for key, rec in sorted(latest_compiled.items())
    ]
    matched = {settings_of(rec) for rec in latest_compiled.values()}
    orphans = [rec for settings, rec in sorted(latest_eager.items()) if settings not in matched]
    return comparisons, orphans


def rebenched(
    records: Iterable[RunRecord], *, confidence: float = stats.DEFAULT_CONFIDENCE
) -> dict[tuple[str, Key], list[Comparison]]:
    """The re-benches ``harness confirm`` made, per (compiled run id they re-measure, key), oldest first: each re-benched
    compiled run joined with the eager re-bench of the same settings and environment that ran just before it."""
    out: dict[tuple[str, Key], list[Comparison]] = {}
    eager: dict[tuple[str, Key], RunRecord] = {}
    for record in sorted(records, key=lambda r: (r.timestamp_utc, r.run_id)):
        if not record.confirms:
            continue
        if record.mode == "eager":
            eager[(record.confirms, settings_of(record))] = record
            continue
        partner = eager.pop((record.confirms, settings_of(record)), None)
        key = key_of(record)
        out.setdefault((record.confirms, key), []).append(compare_pair(key, partner, record, confidence=confidence))
    return out
