"""Self-check of the gate on real repeated measurements: false alarms, detection rates, detectable change.

Input: several bench sessions of one key (separate processes, each with many timed calls, e.g.
``--runs 20``). Each trial plays one nightly check: the baseline is pooled from all sessions but one, the current
run is ``runs`` calls drawn from the held-out session, and the gate of :func:`harness.compare.find_findings` is
applied with the given tolerances. Pure: numpy and the compare module, no torch, no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from harness.baselines import baseline_from
from harness.compare import Tolerances, compare_pair, find_findings, key_of
from harness.results import RunRecord

SLOWDOWNS: tuple[float, ...] = (0.02, 0.05, 0.10, 0.15, 0.20, 0.30, 0.50)


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
    false_alarm_rate: float  # A/A: same configuration, any regression reported
    latency_detection_rate: float  # compiled 10% slower: a regression reported
    mae_detection_rate: float  # MAE 2% worse in both modes: a regression reported
    detection_by_slowdown: dict[float, float]  # compiled slowdown -> detection rate
    min_detectable_slowdown: float | None  # smallest slowdown detected in >= 95% of trials
    speedup_ci_width_median: float  # of the current run's interval, in x


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


def _draw(record: RunRecord, runs: int, rng: np.random.Generator, *, slowdown: float = 0.0, mae_factor: float = 1.0) -> RunRecord:
    picks = rng.choice(len(record.latencies_s), size=min(runs, len(record.latencies_s)), replace=False)
    latencies = [record.latencies_s[i] * (1.0 + slowdown) for i in picks]
    mae = None if record.mae is None else record.mae * mae_factor
    return dataclasses.replace(record, latencies_s=latencies, n_predictions=len(latencies), n_success=len(latencies), success_rate=1.0, mae=mae)


def _pooled(sessions: Sequence[Session], mode: str) -> RunRecord:
    runs: list[RunRecord] = [s.eager if mode == "eager" else s.compiled for s in sessions]
    latencies = [x for r in runs for x in r.latencies_s]
    return dataclasses.replace(runs[-1], latencies_s=latencies, n_predictions=len(latencies), n_success=len(latencies), success_rate=1.0)


def calibrate(
    sessions: Sequence[Session], *, runs: int = 5, tolerances: Tolerances | None = None, trials: int = 400,
    confidence: float = 0.95, seed: int = 0,
) -> Calibration:
    if len(sessions) < 3:
        raise ValueError(f"calibration needs at least 3 sessions of one key, got {len(sessions)}")
    tol = tolerances or Tolerances()
    rng = np.random.default_rng(seed)

    baselines = {}  # one pooled baseline per held-out session, computed once
    for held in range(len(sessions)):
        rest = [s for i, s in enumerate(sessions) if i != held]
        pooled = compare_pair(key_of(rest[-1].compiled), _pooled(rest, "eager"), _pooled(rest, "compiled"), confidence=confidence)
        baselines[held] = baseline_from(pooled, tolerances=tol, provenance={})

    def trial(held: int, *, slowdown: float = 0.0, mae_factor: float = 1.0) -> tuple[bool, float]:
        baseline = baselines[held]
        current = sessions[held]
        eager = _draw(current.eager, runs, rng, mae_factor=mae_factor)
        compiled = _draw(current.compiled, runs, rng, slowdown=slowdown, mae_factor=mae_factor)
        comparison = compare_pair(baseline.key, eager, compiled, confidence=confidence)
        regressed = any(f.regression for f in find_findings(comparison, dataclasses.replace(baseline, key=comparison.key)))
        width = comparison.speedup_ci[1] - comparison.speedup_ci[0] if comparison.speedup_ci else float("nan")
        return regressed, width

    def rate(**change: float) -> tuple[float, list[float]]:
        outcomes = [trial(int(rng.integers(len(sessions))), **change) for _ in range(trials)]
        return float(np.mean([o[0] for o in outcomes])), [o[1] for o in outcomes]

    false_alarms, widths = rate()
    by_slowdown = {s: rate(slowdown=s)[0] for s in SLOWDOWNS}
    detectable = [s for s in SLOWDOWNS if by_slowdown[s] >= 0.95]
    return Calibration(
        runs=runs,
        sessions=len(sessions),
        trials=trials,
        false_alarm_rate=false_alarms,
        latency_detection_rate=by_slowdown[0.10],
        mae_detection_rate=rate(mae_factor=1.02)[0],
        detection_by_slowdown=by_slowdown,
        min_detectable_slowdown=min(detectable) if detectable else None,
        speedup_ci_width_median=float(np.nanmedian(widths)),
    )
