"""Self-check of the gate on real repeated measurements: false alarms, detection rates, detectable change.

Input: several bench sessions of one key (separate processes, each with many timed calls, e.g.
``--runs 30``). Each trial plays one nightly check: the baseline is pooled from all sessions but one, the current
run is ``runs`` calls drawn from the held-out session (compiled calls keep their interleaved eager partner and
machine reference), a change is planted or not, and the gate of :func:`harness.gate.find_findings` decides.
Pure: numpy and the compare module, no torch, no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from harness import stats
from harness.baselines import baseline_from
from harness.compare import compare_pair, pool_runs
from harness.gate import Baseline, Tolerances, find_findings
from harness.keys import key_of
from harness.results import RunRecord

SLOWDOWNS: tuple[float, ...] = (0.02, 0.05, 0.10, 0.15, 0.20, 0.30, 0.50)
TARGET_FALSE_ALARMS = 0.01
TARGET_DETECTION = 0.95
RESAMPLES = 1000  # bootstrap resamples per interval inside a trial (the gate itself uses 4000); thousands of trials run


@dataclass(frozen=True, kw_only=True)
class Session:
    """One bench session of a key: its eager and compiled runs."""

    eager: RunRecord
    compiled: RunRecord


@dataclass(frozen=True, kw_only=True)
class Calibration:
    runs: int
    sessions: int
    trials: int
    tolerances: Tolerances
    false_alarm_rate: float  # A/A: same configuration, any regression reported
    latency_detection_rate: float  # compiled 10% slower: a regression reported
    eager_detection_rate: float  # eager 10% slower (both its session and the interleaved reference): a regression reported
    mae_detection_rate: float  # MAE 2% worse in both modes: a regression reported
    detection_by_slowdown: dict[float, float]  # compiled slowdown -> detection rate
    min_detectable_slowdown: float | None  # smallest compiled slowdown detected in >= 95% of trials
    speedup_ci_width_median: float  # of the current run's interval, in x

    @property
    def meets_targets(self) -> bool:
        return (
            self.false_alarm_rate <= TARGET_FALSE_ALARMS
            and self.latency_detection_rate >= TARGET_DETECTION
            and self.mae_detection_rate >= TARGET_DETECTION
        )


@dataclass(frozen=True, kw_only=True)
class Spread:
    """Session-to-session coefficient of variation of each statistic: which measurement the gate should trust."""

    eager_raw: float  # eager session medians, seconds
    eager_normalized: float  # eager session medians of latency / machine reference
    compiled_raw: float
    compiled_normalized: float
    speedup_separate: float  # eager session median / compiled session median
    speedup_interleaved: float  # median of per-pair ratios inside the compiled session


def sessions_of(records: Iterable[RunRecord]) -> dict[str, list[Session]]:
    """Sessions per key label: each compiled run paired with the eager run just before it (same environment)."""
    ordered = sorted(records, key=lambda r: (r.timestamp_utc, r.run_id))
    out: dict[str, list[Session]] = {}
    last_eager: dict[str, RunRecord] = {}
    for record in ordered:
        shared = f"{record.symbol}|{record.model_id}|{record.torch_version}|{record.context_length}|{record.data_sha256}"
        if record.mode == "eager":
            last_eager[shared] = record
        elif shared in last_eager and record.latencies_s and last_eager[shared].latencies_s:
            out.setdefault(key_of(record).label(), []).append(Session(eager=last_eager.pop(shared), compiled=record))
    return out


def _cv(values: Sequence[float]) -> float:
    data = np.asarray(values, dtype=np.float64)
    return float(data.std(ddof=1) / data.mean()) if len(data) > 1 and data.mean() else float("nan")


def spread(sessions: Sequence[Session]) -> Spread:
    def medians(records: Iterable[RunRecord], *, normalized: bool) -> list[float]:
        out = []
        for r in records:
            samples = stats.ratios(r.latencies_s, r.reference_s) if normalized else tuple(r.latencies_s)
            if samples:
                out.append(stats.median(samples))
        return out

    eager = [s.eager for s in sessions]
    compiled = [s.compiled for s in sessions]
    interleaved = [
        stats.median(stats.ratios(c.paired_eager_latencies_s, c.latencies_s))
        for c in compiled
        if stats.ratios(c.paired_eager_latencies_s, c.latencies_s)
    ]
    return Spread(
        eager_raw=_cv(medians(eager, normalized=False)),
        eager_normalized=_cv(medians(eager, normalized=True)),
        compiled_raw=_cv(medians(compiled, normalized=False)),
        compiled_normalized=_cv(medians(compiled, normalized=True)),
        speedup_separate=_cv([stats.median(s.eager.latencies_s) / stats.median(s.compiled.latencies_s) for s in sessions]),
        speedup_interleaved=_cv(interleaved),
    )


def _pick(values: Sequence[float], picks: np.ndarray, factor: float) -> list[float]:
    return [values[i] * factor for i in picks] if len(values) else []


def _draw(
    record: RunRecord,
    runs: int,
    rng: np.random.Generator,
    *,
    slowdown: float = 0.0,
    paired_slowdown: float = 0.0,
    mae_factor: float = 1.0,
) -> RunRecord:
    """``runs`` calls of ``record`` (with their reference and interleaved partner), latencies scaled by 1 + slowdown."""
    picks = rng.choice(len(record.latencies_s), size=min(runs, len(record.latencies_s)), replace=False)
    latencies = _pick(record.latencies_s, picks, 1.0 + slowdown)
    aligned = len(record.paired_eager_latencies_s) == len(record.latencies_s)
    referenced = len(record.reference_s) == len(record.latencies_s)
    return dataclasses.replace(
        record,
        latencies_s=latencies,
        paired_eager_latencies_s=_pick(record.paired_eager_latencies_s, picks, 1.0 + paired_slowdown) if aligned else [],
        reference_s=_pick(record.reference_s, picks, 1.0) if referenced else [],
        n_predictions=len(latencies),
        n_success=len(latencies),
        success_rate=1.0,
        mae=None if record.mae is None else record.mae * mae_factor,
    )


def calibrate(
    sessions: Sequence[Session],
    *,
    runs: int = 5,
    tolerances: Tolerances | None = None,
    trials: int = 400,
    confidence: float = 0.95,
    seed: int = 0,
) -> Calibration:
    if len(sessions) < 3:
        raise ValueError(f"calibration needs at least 3 sessions of one key, got {len(sessions)}")
    tol = tolerances or Tolerances()
    rng = np.random.default_rng(seed)

    baselines: dict[int, Baseline] = {}  # one pooled baseline per held-out session, computed once
    for held in range(len(sessions)):
        rest = [s for i, s in enumerate(sessions) if i != held]
        pooled = {r.mode: r for r in pool_runs([r for s in rest for r in (s.eager, s.compiled)])}
        comparison = compare_pair(
            key_of(pooled["compiled"]), pooled["eager"], pooled["compiled"], confidence=confidence, resamples=RESAMPLES
        )
        baselines[held] = baseline_from(comparison, tolerances=tol, provenance={})

    def trial(
        held: int, *, compiled_slowdown: float = 0.0, eager_slowdown: float = 0.0, mae_factor: float = 1.0
    ) -> tuple[bool, float]:
        baseline, current = baselines[held], sessions[held]
        eager = _draw(current.eager, runs, rng, slowdown=eager_slowdown, mae_factor=mae_factor)
        compiled = _draw(
            current.compiled, runs, rng, slowdown=compiled_slowdown, paired_slowdown=eager_slowdown, mae_factor=mae_factor
        )
        comparison = compare_pair(baseline.key, eager, compiled, confidence=confidence, resamples=RESAMPLES)
        regressed = any(f.regression for f in find_findings(comparison, dataclasses.replace(baseline, key=comparison.key)))
        width = comparison.speedup_ci[1] - comparison.speedup_ci[0] if comparison.speedup_ci else float("nan")
        return regressed, width

    def rate(**change: float) -> tuple[float, list[float]]:
        outcomes = [trial(int(rng.integers(len(sessions))), **change) for _ in range(trials)]
        return float(np.mean([o[0] for o in outcomes])), [o[1] for o in outcomes]

    false_alarms, widths = rate()
    by_slowdown = {s: rate(compiled_slowdown=s)[0] for s in SLOWDOWNS}
    detectable = [s for s in SLOWDOWNS if by_slowdown[s] >= TARGET_DETECTION]
    return Calibration(
        runs=runs,
        sessions=len(sessions),
        trials=trials,
        tolerances=tol,
        false_alarm_rate=false_alarms,
        latency_detection_rate=by_slowdown[0.10],
        eager_detection_rate=rate(eager_slowdown=0.10)[0],
        mae_detection_rate=rate(mae_factor=1.02)[0],
        detection_by_slowdown=by_slowdown,
        min_detectable_slowdown=min(detectable) if detectable else None,
        speedup_ci_width_median=float(np.nanmedian(widths)),
    )


def print_rates(
    records: list[RunRecord],
    *,
    runs: list[int],
    speedup_tols: list[float] | None,
    latency_tols: list[float] | None,
    trials: int,
    source: str,
) -> None:
    """``gate-rates``: the rates of every tolerance and call count asked for, per key with 3 or more sessions."""
    from harness.errors import InputError

    usable = {label: sessions for label, sessions in sessions_of(records).items() if len(sessions) >= 3}
    if not usable:
        raise InputError(
            f"{source}: no key with 3 or more eager+compiled sessions; fix: run the bench several times into it, "
            "e.g. `nox -s bench_eager bench_compiled -- --runs 30 --results-dir calib` five times"
        )
    defaults = Tolerances()
    tolerances = [
        dataclasses.replace(defaults, speedup_rel=speedup, latency_rel=latency)
        for speedup in speedup_tols or [defaults.speedup_rel]
        for latency in latency_tols or [defaults.latency_rel]
    ]
    print(
        f"targets: A/A false alarms <= {TARGET_FALSE_ALARMS:.0%}, detection >= {TARGET_DETECTION:.0%}; {trials} trials per scenario"
    )
    for label, sessions in usable.items():
        sp = spread(sessions)
        print(
            f"{label}\n  {len(sessions)} sessions; session-to-session CV: eager {sp.eager_raw:.1%} raw, {sp.eager_normalized:.1%} host-normalised · "
            f"compiled {sp.compiled_raw:.1%} raw, {sp.compiled_normalized:.1%} host-normalised · "
            f"speedup {sp.speedup_separate:.1%} across sessions, {sp.speedup_interleaved:.1%} interleaved"
        )
        print(
            f"  {'runs':>4} {'speedup/latency tol':>19}  {'A/A':>6}  {'compiled+10%':>12}  {'eager+10%':>9}  {'MAE+2%':>6}  {'min detected':>12}  {'CI width':>8}  targets"
        )
        for count in runs:
            for tol in tolerances:
                c = calibrate(sessions, runs=count, tolerances=tol, trials=trials)
                smallest = "> 50%" if c.min_detectable_slowdown is None else f"{c.min_detectable_slowdown:.0%}"
                print(
                    f"  {count:>4} {f'{tol.speedup_rel:.0%} / {tol.latency_rel:.0%}':>19}  {c.false_alarm_rate:>6.1%}  {c.latency_detection_rate:>12.1%}  "
                    f"{c.eager_detection_rate:>9.1%}  {c.mae_detection_rate:>6.1%}  {smallest:>12}  {c.speedup_ci_width_median:>7.3f}x  "
                    f"{'met' if c.meets_targets else 'missed'}"
                )
        print()
