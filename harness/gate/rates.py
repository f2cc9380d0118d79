"""``gate-rates``: choose the gate's tolerances on one batch of bench sessions and report its error rates on another.

How sessions are replayed through the gate is :mod:`harness.gate.replay`; this module reads the batches and prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.base.options import DEFAULT_RUNS
from harness.gate import stats
from harness.gate.baseline import Tolerances
from harness.gate.confirmation import DEFAULT_TIMING_CONFIRM
from harness.gate.replay import (
    LATENCY_GRID,
    PLANTED,
    SPEEDUP_GRID,
    TARGET_DETECTION,
    TARGET_NIGHT_FALSE_ALARMS,
    Scenario,
    Session,
    Simulator,
    choose,
    held_out,
    leave_one_out,
    sessions_of,
    smallest_caught,
)
from harness.gate.stats import Rate


@dataclass(frozen=True, kw_only=True)
class Spread:
    """Session-to-session coefficient of variation of each statistic: which measurement the gate should trust."""

    eager_raw: float  # eager session medians, seconds
    compiled_raw: float
    speedup_separate: float  # eager session median / compiled session median
    speedup_interleaved: float  # median of per-pair ratios inside the compiled session


def _cv(values: Sequence[float]) -> float:
    data = np.asarray(values, dtype=np.float64)
    return float(data.std(ddof=1) / data.mean()) if len(data) > 1 and data.mean() else float("nan")


def spread(sessions: Sequence[Session]) -> Spread:
    interleaved = [
        stats.median(pairs)
        for s in sessions
        if (pairs := stats.ratios(s.compiled.paired_eager_latencies_s, s.compiled.latencies_s))
    ]
    return Spread(
        eager_raw=_cv([stats.median(s.eager.latencies_s) for s in sessions]),
        compiled_raw=_cv([stats.median(s.compiled.latencies_s) for s in sessions]),
        speedup_separate=_cv([stats.median(s.eager.latencies_s) / stats.median(s.compiled.latencies_s) for s in sessions]),
        speedup_interleaved=_cv(interleaved),
    )


@dataclass(frozen=True, kw_only=True)
class RatesOptions:
    results_dir: Path  # the tuning batch
    test_dir: Path | None = None  # the test batch, recorded at another time
    runs: int = DEFAULT_RUNS
    speedup_tol: list[float] | None = None
    latency_tol: list[float] | None = None
    confirm_timing: tuple[int, int] = DEFAULT_TIMING_CONFIRM


def _batch(directory: Path, flag: str) -> dict[str, list[Session]]:
    from harness.base.errors import InputError
    from harness.results.store import read_records

    usable = {key: sessions for key, sessions in sessions_of(read_records(directory)).items() if len(sessions) >= 3}
    if not usable:
        raise InputError(
            f"{directory}: no key with 3 or more eager+compiled sessions ({flag}); fix: bench sessions into it, each a fresh "
            "process, e.g. `nox -s gate_rates -- --sessions 12`"
        )
    return usable


def _span(sessions: dict[str, list[Session]]) -> str:
    times = sorted(s.compiled.timestamp_utc for group in sessions.values() for s in group)
    return f"{min(len(g) for g in sessions.values())} sessions per key, {times[0][:16]} to {times[-1][:16]} UTC"


def print_rates(options: RatesOptions) -> None:
    """``gate-rates``: tolerances chosen on the tuning batch, then the rates they give on the test batch."""
    tuning = _batch(options.results_dir, "--results-dir")
    test = _batch(options.test_dir, "--test-dir") if options.test_dir else None
    print(f"tuning batch: {options.results_dir} ({_span(tuning)})")
    print(
        f"test batch:   {options.test_dir} ({_span(test)})"
        if test
        else "test batch:   none (--test-dir): every rate below is in-sample"
    )
    print(
        f"a rate is sessions (or nights) in which it happened / sessions, with its exact 95% interval; a session is one eager "
        f"and one compiled process of {options.runs} calls; a night is one session of every key\n"
    )
    for key, sessions in sorted(tuning.items()):
        sp = spread(sessions + (test or {}).get(key, []))
        print(
            f"{key}: session-to-session CV eager {sp.eager_raw:.1%}, compiled {sp.compiled_raw:.1%}, speedup {sp.speedup_separate:.1%} "
            f"across processes, {sp.speedup_interleaved:.1%} interleaved"
        )
    ranked = choose(
        leave_one_out(tuning, runs=options.runs), options.speedup_tol or SPEEDUP_GRID, options.latency_tol or LATENCY_GRID
    )
    print(f"\ntolerances on the tuning batch (each session against the others pooled; {len(ranked)} settings, best first):")
    print(
        f"  {'speedup / latency':>17}  {'false-alarm nights':<32}  {'compiled +10% caught (checks)':<34}  eager +10% caught (checks)"
    )
    for choice in ranked[:6]:
        tol = choice.tolerances
        print(
            f"  {f'{tol.speedup_rel:.0%} / {tol.latency_rel:.0%}':>17}  {choice.false_alarm_nights.text():<32}  "
            f"{choice.compiled_caught.text():<34}  {choice.eager_caught.text()}"
        )
    chosen = ranked[0].tolerances
    defaults = Tolerances()
    same = (chosen.speedup_rel, chosen.latency_rel) == (defaults.speedup_rel, defaults.latency_rel)
    print(
        f"chosen: speedup {chosen.speedup_rel:.0%}, latency {chosen.latency_rel:.0%} "
        + (
            "(the shipped defaults)"
            if same
            else f"(the shipped defaults are {defaults.speedup_rel:.0%} / {defaults.latency_rel:.0%})"
        )
    )
    simulator = held_out(tuning, test, runs=options.runs) if test else leave_one_out(tuning, runs=options.runs)
    _print_outcomes(simulator, chosen, options.confirm_timing, in_sample=test is None)


def _print_outcomes(simulator: Simulator, tolerances: Tolerances, confirm_timing: tuple[int, int], *, in_sample: bool) -> None:
    k, n = confirm_timing
    seen = simulator.outcomes(tolerances, tuple(Scenario), confirm_timing=confirm_timing)
    where = "tuning batch, in-sample" if in_sample else "test batch"
    print(
        f"\n{where}, per key ({simulator.nights} sessions each; 'confirmed': a timing regression also in the re-bench, {k} of {n}):"
    )
    for key in seen.keys:
        print(f"  {key} (gate: {seen.gates[key]})")
        for scenario in Scenario:
            label = (
                scenario.value
                if scenario not in (Scenario.COMPILED_SLOWER, Scenario.EAGER_SLOWER)
                else f"{scenario.value} by {PLANTED:.0%}"
            )
            verb = "false alarm" if scenario is Scenario.NOTHING else "caught"
            print(
                f"    {label:<34} {verb:<11} {seen.per_key(key, scenario).text():<36} confirmed {seen.per_key(key, scenario, confirmed=True).text()}"
            )
        smallest = smallest_caught(simulator, key, tolerances, confirmed=True, confirm_timing=confirm_timing)
        print(
            f"    smallest compiled slowdown caught (confirmed) in every session: {'> 50%' if smallest is None else f'{smallest:.0%}'}"
        )
    print(f"\n{where}, per night ({len(seen.keys)} keys, one session each; a night fails when any check fails):")
    for confirmed in (False, True):
        word = "confirmed" if confirmed else "unconfirmed"
        alarms = seen.per_night(Scenario.NOTHING, confirmed=confirmed)
        caught = seen.per_night(Scenario.COMPILED_SLOWER, confirmed=confirmed)
        print(
            f"  {word:<11} nights with a false alarm {alarms.text():<36} (target <= {TARGET_NIGHT_FALSE_ALARMS:.0%}: "
            f"{_verdict(alarms, upper=TARGET_NIGHT_FALSE_ALARMS)})"
        )
        print(
            f"  {word:<11} nights catching compiled +{PLANTED:.0%} (planted in every key) {caught.text():<36} "
            f"(target >= {TARGET_DETECTION:.0%}: {_verdict(caught, lower=TARGET_DETECTION)})"
        )
        print(
            f"  {word:<11} per check: false alarms {seen.per_check(Scenario.NOTHING, confirmed=confirmed).text()} (checks of a night are not independent)"
        )


def _verdict(rate: Rate, *, upper: float | None = None, lower: float | None = None) -> str:
    """Met only when the whole interval is on the right side; a point estimate on the right side is 'not shown'."""
    low, high = rate.interval()
    if upper is not None:
        return "met" if high <= upper else ("not shown: too few nights to bound it" if rate.value <= upper else "missed")
    assert lower is not None
    return "met" if low >= lower else ("not shown: too few nights to bound it" if rate.value >= lower else "missed")
