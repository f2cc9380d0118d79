"""The gate's error rates, replayed on hand-made sessions whose answers are known: the session is the unit, every rate
has its exact interval, tolerances are chosen on one batch and scored on another, nights are family-wise, and a
timing regression is confirmed by the next session."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from harness.cli.main import main
from harness.gate.baseline import Tolerances
from harness.gate.rates import spread
from harness.gate.replay import Scenario, Session, choose, fires, held_out, leave_one_out, plant, sessions_of, truncated
from harness.gate.stats import Rate, binomial_interval
from harness.results.store import write_records
from tests.factories import make_record

CALLS = 20


def _sessions(
    count: int,
    *,
    symbol: str = "BTCUSD",
    eager_s: float = 0.100,
    compiled_s: float = 0.050,
    jitter: float = 0.005,
    seed: int = 0,
    hosts: list[float] | None = None,
    hour: int = 10,
) -> list[Session]:
    """``count`` sessions of ``CALLS`` calls; session i runs on a host ``hosts[i]`` times slower (both modes)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        host = hosts[i] if hosts else 1.0

        def noisy(center: float) -> list[float]:
            return list(center * host * (1 + rng.uniform(-jitter, jitter, CALLS)))  # noqa: B023

        stamp = f"2026-11-25T{hour:02d}:{i:02d}"
        common: dict[str, Any] = {
            "symbol": symbol,
            "data_file": f"trainingdata/{symbol}.csv",
            "drift_max_abs": 1e-6,
            "drift_tolerance_abs": 1e-4,
        }
        eager = make_record("eager", latencies=noisy(eager_s), run_id=f"e{hour}{i}", timestamp_utc=f"{stamp}:00+00:00", **common)
        compiled = make_record(
            "compiled",
            latencies=noisy(compiled_s),
            paired_eager_latencies_s=noisy(eager_s),
            run_id=f"c{hour}{i}",
            timestamp_utc=f"{stamp}:30+00:00",
            **common,
        )
        out.append(Session(eager=eager, compiled=compiled))
    return out


def _label(sessions: list[Session]) -> str:
    (label,) = sessions_of([r for s in sessions for r in (s.eager, s.compiled)])
    return label


def test_exact_intervals_are_as_wide_as_few_sessions_make_them() -> None:
    assert binomial_interval(0, 12) == pytest.approx((0.0, 0.2646), abs=1e-4)
    assert binomial_interval(12, 12) == pytest.approx((0.7354, 1.0), abs=1e-4)
    assert binomial_interval(0, 16)[1] == pytest.approx(0.2059, abs=1e-4)  # "0 of 16" still allows 21%
    assert binomial_interval(1, 16) == pytest.approx((0.0016, 0.3023), abs=1e-4)
    assert Rate(0, 12).text() == "0/12 = 0% [95% CI 0%, 26%]"
    with pytest.raises(ValueError, match="hits"):
        binomial_interval(3, 2)


def test_steady_sessions_no_false_alarm_and_every_planted_change_caught() -> None:
    tuning, test = _sessions(6), _sessions(6, seed=1, hour=14)
    label = _label(tuning)
    seen = held_out({label: tuning}, {label: test}, runs=CALLS).outcomes(Tolerances(), tuple(Scenario))
    assert seen.nights == 6 and seen.gates[label] == "full"
    assert seen.per_key(label, Scenario.NOTHING) == Rate(0, 6)
    for scenario in (Scenario.COMPILED_SLOWER, Scenario.FAILED_CALL, Scenario.FLAKY_CALL, Scenario.DRIFT):
        assert seen.per_key(label, scenario) == Rate(6, 6), scenario
        assert seen.per_key(label, scenario, confirmed=True) == Rate(6, 6), scenario  # it persists: confirmed
    assert seen.per_key(label, Scenario.EAGER_SLOWER) == Rate(0, 6)  # 10% is inside the 20% latency tolerance


def test_one_odd_session_in_sixteen_is_one_false_alarm_not_a_resampled_percentage() -> None:
    """The issue's example: trials over resampled calls reported 5.0% or 9.2%; counted over sessions it is 1/16."""
    tuning = _sessions(8)
    odd = _sessions(16, seed=2, hour=15)
    odd[5] = _sessions(1, compiled_s=0.080, seed=3, hour=16)[0]  # one compile came out 60% slower
    label = _label(tuning)
    seen = held_out({label: tuning}, {label: odd}, runs=CALLS).outcomes(Tolerances(), (Scenario.NOTHING,))
    assert seen.per_key(label, Scenario.NOTHING) == Rate(1, 16)
    assert seen.fired[(label, Scenario.NOTHING)][5]
    # the re-bench (the next session) is a normal one: confirmation clears the one-off
    assert seen.per_key(label, Scenario.NOTHING, confirmed=True) == Rate(0, 16)


def test_a_night_fails_when_any_of_its_keys_fails() -> None:
    btc, goog = _sessions(6, seed=4), _sessions(6, symbol="GOOG", seed=5)
    test_btc, test_goog = _sessions(6, seed=6, hour=14), _sessions(6, symbol="GOOG", seed=7, hour=14)
    test_goog[2] = _sessions(1, symbol="GOOG", compiled_s=0.080, seed=8, hour=17)[0]
    test_btc[4] = _sessions(1, compiled_s=0.080, seed=9, hour=17)[0]
    tuning = {_label(btc): btc, _label(goog): goog}
    test = {_label(btc): test_btc, _label(goog): test_goog}
    seen = held_out(tuning, test, runs=CALLS).outcomes(Tolerances(), (Scenario.NOTHING,))
    assert seen.per_check(Scenario.NOTHING) == Rate(2, 12)
    assert seen.per_night(Scenario.NOTHING) == Rate(2, 6)  # two nights, one key each


def test_host_swings_false_alarm_on_seconds_but_not_on_the_interleaved_speedup() -> None:
    hosts = [1.0, 1.35, 0.85, 1.1, 0.95, 1.0]
    sp = spread(_sessions(6, hosts=hosts))
    assert sp.compiled_raw > 0.1 and sp.speedup_interleaved < 0.02
    tuning = _sessions(6, hosts=hosts)
    label = _label(tuning)
    simulator = leave_one_out({label: tuning}, runs=CALLS)
    tight = simulator.outcomes(Tolerances(speedup_rel=0.05, latency_rel=0.05), (Scenario.NOTHING,), confirm_timing=None)
    assert tight.fired[(label, Scenario.NOTHING)] == (False, True, False, True, False, False)  # the 35% and 10% slower hosts
    wide = simulator.outcomes(Tolerances(speedup_rel=0.05, latency_rel=0.5), (Scenario.NOTHING,), confirm_timing=None)
    assert wide.per_key(label, Scenario.NOTHING).hits == 0


def test_choice_prefers_no_false_alarms_then_detection_then_margin() -> None:
    hosts = [1.0, 1.35, 0.85, 1.1, 0.95, 1.0]
    tuning = _sessions(6, hosts=hosts)
    ranked = choose(leave_one_out({_label(tuning): tuning}, runs=CALLS), (0.04, 0.06, 0.20), (0.10, 0.60))
    best = ranked[0]
    assert best.false_alarm_nights.hits == 0 and best.compiled_caught == Rate(6, 6)
    # 20% misses the 10% slowdown; between 4% and 6% (both catch it) the wider margin wins; 10% latency false-alarms
    assert (best.tolerances.speedup_rel, best.tolerances.latency_rel) == (0.06, 0.60)
    assert len(ranked) == 6 and ranked[-1].false_alarm_nights.hits > 0


def test_planted_scenarios_change_only_what_they_say() -> None:
    (session,) = _sessions(1)
    slower = plant(session, Scenario.COMPILED_SLOWER, 0.2)
    assert slower.compiled.latencies_s == pytest.approx([x * 1.2 for x in session.compiled.latencies_s])
    assert slower.compiled.paired_eager_latencies_s == session.compiled.paired_eager_latencies_s
    eager = plant(session, Scenario.EAGER_SLOWER, 0.1)
    assert eager.compiled.paired_eager_latencies_s == pytest.approx([x * 1.1 for x in session.compiled.paired_eager_latencies_s])
    failed = plant(session, Scenario.FAILED_CALL)
    assert failed.compiled.success_rate == pytest.approx((CALLS - 1) / CALLS)
    assert plant(session, Scenario.NOTHING) == session
    short = truncated(session.compiled, 5)
    assert len(short.latencies_s) == 5 == short.n_predictions and len(short.paired_eager_latencies_s) == 5


def test_a_flaky_call_is_reported_but_does_not_count_as_a_regression() -> None:
    tuning = _sessions(4)
    label = _label(tuning)
    simulator = held_out({label: tuning}, {label: _sessions(3, seed=1, hour=12)}, runs=CALLS)
    checked = simulator.check(label, 0, Scenario.FLAKY_CALL, 0.1, Tolerances())
    assert fires(checked, Scenario.FLAKY_CALL) and not checked.regressions


def _write(tmp_path, sessions: list[Session]):  # type: ignore[no-untyped-def]
    tmp_path.mkdir(parents=True, exist_ok=True)
    for s in sessions:
        write_records([s.eager], tmp_path, name=f"{s.eager.run_id}-eager")
        write_records([s.compiled], tmp_path, name=f"{s.compiled.run_id}-compiled")
    return tmp_path


def test_gate_rates_command_chooses_on_tuning_and_reports_on_test(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    tuning = _write(tmp_path / "tune", _sessions(5))
    test = _write(tmp_path / "test", _sessions(5, seed=1, hour=14))
    assert main(["gate-rates", "--results-dir", str(tuning), "--test-dir", str(test), "--runs", str(CALLS)]) == 0
    out = capsys.readouterr().out
    assert "tuning batch:" in out and "5 sessions per key" in out and "chosen: speedup" in out
    assert "test batch, per key" in out and "false alarm 0/5 = 0% [95% CI 0%, 52%]" in out
    assert "per night" in out and "not shown: too few nights to bound it" in out  # 0 of 5 cannot bound 5%


def test_gate_rates_without_enough_sessions_says_how_to_get_them(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    tuning = _write(tmp_path / "tune", _sessions(2))
    assert main(["gate-rates", "--results-dir", str(tuning)]) == 2
    err = capsys.readouterr().err
    assert "no key with 3 or more" in err and "fix:" in err and len(err.strip().splitlines()) == 1


def test_rerun_sessions_are_not_sessions_of_their_own() -> None:
    sessions = _sessions(3)
    rerun = dataclasses.replace(sessions[0].compiled, run_id="again", confirms="c100", timestamp_utc="2026-11-25T11:00:00+00:00")
    found = sessions_of([r for s in sessions for r in (s.eager, s.compiled)] + [rerun])
    assert len(next(iter(found.values()))) == 3


def test_detection_counts_only_the_metric_that_was_changed() -> None:
    """An unrelated failure is not a caught slowdown: a drifting session fails, but not on latency or speedup."""
    tuning, test = _sessions(5), _sessions(5, seed=1, hour=14)
    test[2] = Session(eager=test[2].eager, compiled=dataclasses.replace(test[2].compiled, drift_max_abs=1.0))
    label = _label(tuning)
    seen = held_out({label: tuning}, {label: test}, runs=CALLS).outcomes(Tolerances(), (Scenario.NOTHING, Scenario.EAGER_SLOWER))
    assert seen.fired[(label, Scenario.NOTHING)][2]  # a false alarm (the drift)
    assert not any(seen.fired[(label, Scenario.EAGER_SLOWER)])  # but no eager slowdown was caught


def test_tuning_leaves_the_rebench_sessions_out_of_the_baseline_too() -> None:
    tuning = _sessions(5)
    label = _label(tuning)
    used: list[frozenset[int]] = []
    simulator = leave_one_out({label: tuning}, runs=CALLS)
    inner = simulator.baseline_for

    def spy(key: str, nights: frozenset[int]):  # type: ignore[no-untyped-def]
        used.append(nights)
        return inner(key, nights)

    simulator.baseline_for = spy
    simulator.outcomes(Tolerances(), (Scenario.NOTHING,), confirm_timing=(2, 3))
    assert frozenset({0, 1, 2}) in used and frozenset({4, 3, 2}) in used  # night 0 re-benched by 1, 2; night 4 by 3, 2
    assert all(len(nights) == 3 for nights in used)


def test_a_test_batch_of_other_keys_is_a_one_line_error(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    tuning = _write(tmp_path / "tune", _sessions(4))
    test = _write(tmp_path / "test", _sessions(4, symbol="GOOG", seed=1, hour=14))
    assert main(["gate-rates", "--results-dir", str(tuning), "--test-dir", str(test)]) == 2
    err = capsys.readouterr().err
    assert "--test-dir: no key in common" in err and "fix:" in err and len(err.strip().splitlines()) == 1
