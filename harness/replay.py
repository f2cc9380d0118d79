"""Replay nightly checks on recorded bench sessions: the gate's own error rates, counted over independent sessions.

Pure: numpy, scipy and the gate; no torch, no I/O. The command that prints them is :mod:`harness.gate_rates`.

The unit is the **session**: one eager and one compiled bench process of a key, ``--runs`` calls each, with its cold
start, its compile and its moment of the host. Calls inside a session are not independent (they share that moment),
so no rate here resamples them: each session gives one outcome per scenario, and every rate is *sessions in which it
happened / sessions*, with its exact (Clopper-Pearson) interval.

- **Tuning and test.** Tolerances are chosen on one batch of sessions (``--results-dir``: each session held out in
  turn, the baseline pooled from the others) and rates are reported on another (``--test-dir``, recorded at another
  time: the baseline pools every tuning session, as a committed baseline would, and each test session is one night).
- **Nights.** A nightly benches several keys in one go, so night *i* is the *i*-th session of every key, and a night
  has a false alarm when any of its checks fails: the family-wise rate, which is what a team sees.
- **Confirmation.** ``confirm`` re-benches a key whose timing regressed, in fresh processes. Here the re-bench of
  night *i* is night *i + 1*'s session of the same key (the next fresh process; for the last night, the one before),
  with the same change planted, decided by :func:`harness.confirmation.confirm`.
- **Scenarios.** Nothing changed (false alarms); compiled or eager slower (each timed call scaled); one compiled call
  failed; one flaky; compiled drifting beyond its own tolerance. Each is planted into the real session, and the real
  gate (:func:`harness.gate.check`, baseline matching included) decides.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from harness import stats
from harness.baselines import baseline_from
from harness.compare import Comparison, compare_pair, pool_runs
from harness.confirmation import DEFAULT_TIMING_CONFIRM, confirm
from harness.findings import FindingKind
from harness.gate import Baseline, Check, Tolerances, check
from harness.keys import key_of
from harness.results import RunRecord
from harness.stats import Rate
from harness.textenum import TextEnum

SLOWDOWNS: tuple[float, ...] = (0.05, 0.10, 0.15, 0.20, 0.30, 0.50)
SPEEDUP_GRID: tuple[float, ...] = (0.03, 0.04, 0.05, 0.06, 0.08, 0.10)
LATENCY_GRID: tuple[float, ...] = (0.10, 0.15, 0.20, 0.25, 0.30, 0.40)
PLANTED = 0.10  # the slowdown the gate exists to catch
TARGET_NIGHT_FALSE_ALARMS = 0.05  # at most this share of nights with a false alarm
TARGET_DETECTION = 0.95  # a 10% compiled slowdown caught on at least this share of nights


class Scenario(TextEnum):
    NOTHING = "nothing changed"
    COMPILED_SLOWER = "compiled slower"
    EAGER_SLOWER = "eager slower"  # both witnesses: its own session and the interleaved partner
    FAILED_CALL = "one compiled call failed"
    FLAKY_CALL = "one compiled call flaky"
    DRIFT = "compiled drifts 2x its tolerance"


@dataclass(frozen=True, kw_only=True)
class Session:
    """One bench session of a key: its eager and compiled runs."""

    eager: RunRecord
    compiled: RunRecord


def sessions_of(records: Iterable[RunRecord]) -> dict[str, list[Session]]:
    """Sessions per key label, oldest first: each compiled run paired with the eager run just before it. Re-benches
    (``confirms``) are not sessions of their own."""
    ordered = sorted((r for r in records if not r.confirms), key=lambda r: (r.timestamp_utc, r.run_id))
    out: dict[str, list[Session]] = {}
    last_eager: dict[str, RunRecord] = {}
    for record in ordered:
        shared = f"{record.symbol}|{record.model_id}|{record.torch_version}|{record.context_length}|{record.data_sha256}"
        if record.mode == "eager":
            last_eager[shared] = record
        elif shared in last_eager and record.latencies_s and last_eager[shared].latencies_s:
            out.setdefault(key_of(record).label(), []).append(Session(eager=last_eager.pop(shared), compiled=record))
    return out


def truncated(record: RunRecord, runs: int) -> RunRecord:
    """The first ``runs`` timed calls of ``record``: a shorter nightly run, still one session."""
    if len(record.latencies_s) <= runs:
        return record
    aligned = len(record.paired_eager_latencies_s) == len(record.latencies_s)
    referenced = len(record.reference_s) == len(record.latencies_s)
    failed = record.n_predictions - record.n_success
    kept = runs + min(failed, runs)
    return dataclasses.replace(
        record,
        latencies_s=record.latencies_s[:runs],
        latency_median_s=stats.median(record.latencies_s[:runs]),
        paired_eager_latencies_s=record.paired_eager_latencies_s[:runs] if aligned else [],
        reference_s=record.reference_s[:runs] if referenced else [],
        n_predictions=kept,
        n_success=runs,
        success_rate=runs / kept,
    )


def _scaled(values: Sequence[float], factor: float) -> list[float]:
    return [value * factor for value in values]


def plant(session: Session, scenario: Scenario, size: float = PLANTED) -> Session:
    """``session`` as it would have measured with ``scenario`` true (a slowdown of ``size``)."""
    eager, compiled = session.eager, session.compiled
    if scenario is Scenario.COMPILED_SLOWER:
        latencies = _scaled(compiled.latencies_s, 1 + size)
        compiled = dataclasses.replace(compiled, latencies_s=latencies, latency_median_s=stats.median(latencies))
    elif scenario is Scenario.EAGER_SLOWER:
        latencies = _scaled(eager.latencies_s, 1 + size)
        eager = dataclasses.replace(eager, latencies_s=latencies, latency_median_s=stats.median(latencies))
        compiled = dataclasses.replace(compiled, paired_eager_latencies_s=_scaled(compiled.paired_eager_latencies_s, 1 + size))
    elif scenario is Scenario.FAILED_CALL:
        kept = compiled.latencies_s[:-1]
        paired = compiled.paired_eager_latencies_s[:-1] if compiled.paired_eager_latencies_s else []
        compiled = dataclasses.replace(
            compiled,
            latencies_s=kept,
            latency_median_s=stats.median(kept),
            paired_eager_latencies_s=paired,
            reference_s=compiled.reference_s[:-1] if compiled.reference_s else [],
            n_success=compiled.n_success - 1,
            success_rate=(compiled.n_success - 1) / compiled.n_predictions,
        )
    elif scenario is Scenario.FLAKY_CALL:
        compiled = dataclasses.replace(
            compiled, n_flaky=compiled.n_flaky + 1, flip_rate=compiled.flip_rate + 1 / (2 * compiled.n_predictions)
        )
    elif scenario is Scenario.DRIFT and compiled.drift_tolerance_abs is not None:
        compiled = dataclasses.replace(compiled, drift_max_abs=2 * compiled.drift_tolerance_abs)
    return Session(eager=eager, compiled=compiled)


def fires(checked: Check, scenario: Scenario) -> bool:
    """Whether the gate reported what ``scenario`` plants: for a change, the finding on its metric; for nothing
    changed, any regression (a false alarm); for a flaky call, a flaky finding (it is reported, not failed)."""
    if scenario is Scenario.FLAKY_CALL:
        return any(f.kind is FindingKind.FLAKY for f in checked.findings)
    metric = {Scenario.FAILED_CALL: "compiled.success_rate", Scenario.DRIFT: "compiled.drift"}.get(scenario)
    return any(f.regression and (metric is None or f.metric == metric) for f in checked.findings)


def comparison_of(session: Session) -> Comparison:
    return compare_pair(key_of(session.compiled), session.eager, session.compiled)


def pooled_baseline(sessions: Sequence[Session]) -> Baseline:
    """The baseline a team would commit from these sessions (``update-baselines --pool``), default tolerances."""
    pooled = {r.mode: r for r in pool_runs([r for s in sessions for r in (s.eager, s.compiled)])}
    return baseline_from(
        comparison_of(Session(eager=pooled["eager"], compiled=pooled["compiled"])), tolerances=Tolerances(), provenance={}
    )


@dataclass(frozen=True, kw_only=True)
class Outcomes:
    """What the gate reported, per (key, scenario): one entry per night, unconfirmed and after confirmation."""

    fired: dict[tuple[str, Scenario], tuple[bool, ...]]
    confirmed: dict[tuple[str, Scenario], tuple[bool, ...]]
    keys: tuple[str, ...]
    nights: int
    gates: dict[str, str]  # key -> the gate the baseline was matched with (full, upgrade, portable, new)

    def _table(self, confirmed: bool) -> dict[tuple[str, Scenario], tuple[bool, ...]]:
        return self.confirmed if confirmed else self.fired

    def per_key(self, key: str, scenario: Scenario, *, confirmed: bool = False) -> Rate:
        seen = self._table(confirmed)[(key, scenario)]
        return Rate(sum(seen), len(seen))

    def per_check(self, scenario: Scenario, *, confirmed: bool = False) -> Rate:
        """Over every key and night: checks of one night share the host's moment, so these are not independent."""
        seen = [hit for key in self.keys for hit in self._table(confirmed)[(key, scenario)]]
        return Rate(sum(seen), len(seen))

    def per_night(self, scenario: Scenario, *, confirmed: bool = False) -> Rate:
        """Nights on which any key reported it: the family-wise rate of a nightly over all these keys."""
        table = self._table(confirmed)
        hits = sum(any(table[(key, scenario)][night] for key in self.keys) for night in range(self.nights))
        return Rate(hits, self.nights)


class Simulator:
    """Checks of planted sessions against baselines, with every comparison computed once and reused across tolerances."""

    def __init__(self, current: dict[str, list[Session]], baseline_for: Callable[[str, int], Baseline], *, runs: int) -> None:
        self.keys = tuple(sorted(current))
        self.nights = min(len(current[key]) for key in self.keys)
        self.current = {
            key: [
                Session(eager=truncated(s.eager, runs), compiled=truncated(s.compiled, runs)) for s in current[key][: self.nights]
            ]
            for key in self.keys
        }
        self.baseline_for = baseline_for
        self._comparisons: dict[tuple[str, int, Scenario, float], Comparison] = {}

    def comparison(self, key: str, night: int, scenario: Scenario, size: float) -> Comparison:
        slot = (key, night, scenario, size)
        if slot not in self._comparisons:
            self._comparisons[slot] = comparison_of(plant(self.current[key][night], scenario, size))
        return self._comparisons[slot]

    def check(
        self, key: str, night: int, scenario: Scenario, size: float, tolerances: Tolerances, *, against: int | None = None
    ) -> Check:
        baseline = dataclasses.replace(self.baseline_for(key, night if against is None else against), tolerances=tolerances)
        return check(self.comparison(key, night, scenario, size), [baseline])

    def outcomes(
        self,
        tolerances: Tolerances,
        scenarios: Sequence[Scenario],
        *,
        size: float = PLANTED,
        confirm_timing: tuple[int, int] | None = DEFAULT_TIMING_CONFIRM,
    ) -> Outcomes:
        fired: dict[tuple[str, Scenario], tuple[bool, ...]] = {}
        confirmed: dict[tuple[str, Scenario], tuple[bool, ...]] = {}
        gates: dict[str, str] = {}
        for key in self.keys:
            for scenario in scenarios:
                checks = [self.check(key, night, scenario, size, tolerances) for night in range(self.nights)]
                gates[key] = checks[0].match.kind.value
                fired[(key, scenario)] = tuple(fires(c, scenario) for c in checks)
                if confirm_timing is None or self.nights < 2:
                    confirmed[(key, scenario)] = fired[(key, scenario)]
                    continue
                again = [
                    self.check(key, _next(night, self.nights), scenario, size, tolerances, against=night)
                    for night in range(self.nights)
                ]
                confirmed[(key, scenario)] = tuple(
                    fires(confirm(c, [r], confirm_timing), scenario) for c, r in zip(checks, again, strict=True)
                )
        return Outcomes(fired=fired, confirmed=confirmed, keys=self.keys, nights=self.nights, gates=gates)


def _next(night: int, nights: int) -> int:
    """The session that stands in for night ``night``'s re-bench: the next fresh process (the previous, for the last)."""
    return night + 1 if night + 1 < nights else night - 1


def leave_one_out(sessions: dict[str, list[Session]], *, runs: int) -> Simulator:
    """The tuning batch: each session checked against a baseline pooled from the others of its key."""
    cache: dict[tuple[str, int], Baseline] = {}

    def baseline_for(key: str, night: int) -> Baseline:
        if (key, night) not in cache:
            cache[(key, night)] = pooled_baseline([s for i, s in enumerate(sessions[key]) if i != night])
        return cache[(key, night)]

    return Simulator(sessions, baseline_for, runs=runs)


def held_out(tuning: dict[str, list[Session]], test: dict[str, list[Session]], *, runs: int) -> Simulator:
    """The test batch: each test session checked against the baseline pooled from every tuning session of its key."""
    shared = sorted(set(tuning) & set(test))
    baselines = {key: pooled_baseline(tuning[key]) for key in shared}
    return Simulator({key: test[key] for key in shared}, lambda key, _night: baselines[key], runs=runs)


@dataclass(frozen=True, kw_only=True)
class Choice:
    """One tolerance setting scored on the tuning batch."""

    tolerances: Tolerances
    false_alarm_nights: Rate
    compiled_caught: Rate  # per check
    eager_caught: Rate  # per check

    def rank(self) -> tuple[float, ...]:
        """Fewest false-alarm nights, then most slowdowns caught, then the widest tolerances (margin for a new day)."""
        return (
            self.false_alarm_nights.hits,
            -self.compiled_caught.hits,
            -self.eager_caught.hits,
            -self.tolerances.speedup_rel,
            -self.tolerances.latency_rel,
        )


def choose(
    simulator: Simulator, speedups: Sequence[float] = SPEEDUP_GRID, latencies: Sequence[float] = LATENCY_GRID
) -> list[Choice]:
    """Every (speedup, latency) tolerance scored on the tuning batch, best first (see :meth:`Choice.rank`)."""
    scored = []
    for speedup in speedups:
        for latency in latencies:
            tolerances = dataclasses.replace(Tolerances(), speedup_rel=speedup, latency_rel=latency)
            seen = simulator.outcomes(
                tolerances, (Scenario.NOTHING, Scenario.COMPILED_SLOWER, Scenario.EAGER_SLOWER), confirm_timing=None
            )
            scored.append(
                Choice(
                    tolerances=tolerances,
                    false_alarm_nights=seen.per_night(Scenario.NOTHING),
                    compiled_caught=seen.per_check(Scenario.COMPILED_SLOWER),
                    eager_caught=seen.per_check(Scenario.EAGER_SLOWER),
                )
            )
    return sorted(scored, key=Choice.rank)


def smallest_caught(simulator: Simulator, key: str, tolerances: Tolerances, *, confirmed: bool) -> float | None:
    """The smallest compiled slowdown of :data:`SLOWDOWNS` caught in every session of ``key``."""
    for size in SLOWDOWNS:
        seen = simulator.outcomes(tolerances, (Scenario.COMPILED_SLOWER,), size=size).per_key(
            key, Scenario.COMPILED_SLOWER, confirmed=confirmed
        )
        if seen.hits == seen.trials:
            return size
    return None
