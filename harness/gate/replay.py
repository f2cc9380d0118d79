"""Replay nightly checks on recorded bench sessions: the gate's own error rates, counted over independent sessions.

Pure: numpy, scipy and the gate; no torch, no I/O. The command that prints them is :mod:`harness.gate.rates`.

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
  with the same change planted, decided by :func:`harness.gate.confirmation.confirm`.
- **Scenarios.** Nothing changed (false alarms); compiled or eager slower (each timed call scaled); one compiled call
  failed; one flaky; compiled drifting beyond its own tolerance. Each is planted into the real session, and the real
  gate (:func:`harness.gate.checks.check`, baseline matching included) decides.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from harness.base.textenum import TextEnum
from harness.gate import stats
from harness.gate.baseline import Baseline, Tolerances
from harness.gate.baseline_files import baseline_from
from harness.gate.checks import Check, check
from harness.gate.comparison import Comparison, compare_pair, pool_runs
from harness.gate.confirmation import DEFAULT_TIMING_CONFIRM, confirm
from harness.gate.findings import FindingKind
from harness.gate.stats import Rate
from harness.results.keys import environment_of, key_of, settings_of
from harness.results.schema import RunRecord

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
    last_eager: dict[tuple[object, str], RunRecord] = {}
    for record in ordered:
        shared = (settings_of(record), environment_of(record))  # same settings, machine and software: as compare pairs
        if record.mode == "eager":
            last_eager[shared] = record
        elif shared in last_eager and record.latencies_s and last_eager[shared].latencies_s:
            out.setdefault(key_of(record).label(), []).append(Session(eager=last_eager[shared], compiled=record))
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
    metrics = PLANTED_METRICS.get(scenario)
    return any(f.regression and (metrics is None or f.metric in metrics) for f in checked.findings)


PLANTED_METRICS: dict[Scenario, frozenset[str]] = {  # a change counts as caught only by a finding on what it changed
    Scenario.COMPILED_SLOWER: frozenset({"compiled.latency_s", "speedup"}),
    Scenario.EAGER_SLOWER: frozenset({"eager.latency_s"}),
    Scenario.FAILED_CALL: frozenset({"compiled.success_rate"}),
    Scenario.DRIFT: frozenset({"compiled.drift"}),
}


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

    def __init__(
        self, current: dict[str, list[Session]], baseline_for: Callable[[str, frozenset[int]], Baseline], *, runs: int
    ) -> None:
        self.keys = tuple(sorted(current))
        self.nights = min(len(current[key]) for key in self.keys)
        self.current = {
            key: [
                Session(eager=truncated(s.eager, runs), compiled=truncated(s.compiled, runs)) for s in current[key][: self.nights]
            ]
            for key in self.keys
        }
        self.baseline_for = baseline_for  # (key, the nights this check uses) -> the baseline it is checked against
        self._comparisons: dict[tuple[str, int, Scenario, float], Comparison] = {}

    def comparison(self, key: str, night: int, scenario: Scenario, size: float) -> Comparison:
        slot = (key, night, scenario, size)
        if slot not in self._comparisons:
            self._comparisons[slot] = comparison_of(plant(self.current[key][night], scenario, size))
        return self._comparisons[slot]

    def check(
        self, key: str, night: int, scenario: Scenario, size: float, tolerances: Tolerances, *, used: frozenset[int] = frozenset()
    ) -> Check:
        baseline = dataclasses.replace(self.baseline_for(key, used | {night}), tolerances=tolerances)
        return check(self.comparison(key, night, scenario, size), [baseline])

    def outcomes(
        self,
        tolerances: Tolerances,
        scenarios: Sequence[Scenario],
        *,
        size: float = PLANTED,
        confirm_timing: tuple[int, int] | None = DEFAULT_TIMING_CONFIRM,
    ) -> Outcomes:
        """Each night of each key checked with ``scenario`` planted; with ``confirm_timing`` (K, N), its re-benches are
        the next N - 1 sessions of the key, with the same change planted, against the same baseline (which, when
        tuning, leaves out the night and its re-benches alike)."""
        fired: dict[tuple[str, Scenario], tuple[bool, ...]] = {}
        confirmed: dict[tuple[str, Scenario], tuple[bool, ...]] = {}
        gates: dict[str, str] = {}
        for key in self.keys:
            for scenario in scenarios:
                seen, after = [], []
                for night in range(self.nights):
                    reruns = _following(night, self.nights, (confirm_timing[1] - 1) if confirm_timing else 0)
                    used = frozenset(reruns)
                    checked = self.check(key, night, scenario, size, tolerances, used=used)
                    gates[key] = checked.match.kind.value
                    seen.append(fires(checked, scenario))
                    if confirm_timing is None or not reruns:
                        after.append(seen[-1])
                        continue
                    again = [self.check(key, rerun, scenario, size, tolerances, used=used | {night}) for rerun in reruns]
                    after.append(fires(confirm(checked, again, confirm_timing), scenario))
                fired[(key, scenario)], confirmed[(key, scenario)] = tuple(seen), tuple(after)
        return Outcomes(fired=fired, confirmed=confirmed, keys=self.keys, nights=self.nights, gates=gates)


def _following(night: int, nights: int, count: int) -> list[int]:
    """The sessions that stand in for night ``night``'s re-benches: the next fresh processes (wrapping to the earlier
    ones at the end of the batch), never the night itself."""
    order = [*range(night + 1, nights), *range(night - 1, -1, -1)]
    return order[: max(count, 0)]


def leave_one_out(sessions: dict[str, list[Session]], *, runs: int) -> Simulator:
    """The tuning batch: each session checked against a baseline pooled from the other sessions of its key (those
    standing in for its re-benches left out too)."""
    cache: dict[tuple[str, frozenset[int]], Baseline] = {}

    def baseline_for(key: str, used: frozenset[int]) -> Baseline:
        if (key, used) not in cache:
            cache[(key, used)] = pooled_baseline([s for i, s in enumerate(sessions[key]) if i not in used])
        return cache[(key, used)]

    return Simulator(sessions, baseline_for, runs=runs)


def held_out(tuning: dict[str, list[Session]], test: dict[str, list[Session]], *, runs: int) -> Simulator:
    """The test batch: each test session checked against the baseline pooled from every tuning session of its key."""
    from harness.base.errors import InputError

    shared = sorted(set(tuning) & set(test))
    if not shared:
        raise InputError(
            "--test-dir: no key in common with --results-dir (the test batch must bench the keys the tuning batch did, "
            "with the same settings, machine and software); fix: record both batches with the same bench flags"
        )
    baselines = {key: pooled_baseline(tuning[key]) for key in shared}
    return Simulator({key: test[key] for key in shared}, lambda key, _used: baselines[key], runs=runs)


@dataclass(frozen=True, kw_only=True)
class Choice:
    """One tolerance setting scored on the tuning batch."""

    tolerances: Tolerances
    false_alarm_nights: Rate
    compiled_caught: Rate  # per check
    eager_caught: Rate  # per check

    def rank(self) -> tuple[float, ...]:
        """A 10% compiled slowdown caught in >= 95% of checks first, then the fewest false-alarm nights, then the most
        slowdowns caught, then the widest tolerances (margin for a new day)."""
        return (
            not self.compiled_caught.value >= TARGET_DETECTION,
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


def smallest_caught(
    simulator: Simulator,
    key: str,
    tolerances: Tolerances,
    *,
    confirmed: bool,
    confirm_timing: tuple[int, int] = DEFAULT_TIMING_CONFIRM,
) -> float | None:
    """The smallest compiled slowdown of :data:`SLOWDOWNS` caught in every session of ``key``."""
    for size in SLOWDOWNS:
        seen = simulator.outcomes(tolerances, (Scenario.COMPILED_SLOWER,), size=size, confirm_timing=confirm_timing).per_key(
            key, Scenario.COMPILED_SLOWER, confirmed=confirmed
        )
        if seen.hits == seen.trials:
            return size
    return None
