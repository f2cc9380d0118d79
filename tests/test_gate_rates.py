"""The gate's self-check on hand-made sessions whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from harness.gate import Tolerances
from harness.gate_rates import Session, calibrate, sessions_of, spread
from tests.factories import make_record


def _sessions(
    count: int,
    *,
    eager_s: float = 0.100,
    compiled_s: float = 0.050,
    jitter: float = 0.005,
    seed: int = 0,
    hosts: list[float] | None = None,
    paired: bool = True,
) -> list[Session]:
    """``count`` sessions of 20 calls; session i runs on a host ``hosts[i]`` times slower (reference included)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        host = hosts[i] if hosts else 1.0

        def noisy(center: float) -> list[float]:
            return list(center * host * (1 + rng.uniform(-jitter, jitter, 20)))  # noqa: B023

        eager = make_record(
            "eager",
            latencies=noisy(eager_s),
            reference_s=noisy(0.01),
            run_id=f"e{i}",
            timestamp_utc=f"2026-11-25T10:{i:02d}:00+00:00",
        )
        compiled = make_record(
            "compiled",
            latencies=noisy(compiled_s),
            reference_s=noisy(0.01),
            paired_eager_latencies_s=noisy(eager_s) if paired else [],
            run_id=f"c{i}",
            timestamp_utc=f"2026-11-25T10:{i:02d}:30+00:00",
        )
        out.append(Session(eager=eager, compiled=compiled))
    return out


def test_steady_sessions_give_no_false_alarms_and_catch_big_slowdowns() -> None:
    result = calibrate(_sessions(4), runs=5, trials=40, tolerances=Tolerances(speedup_rel=0.15, latency_rel=0.15))
    assert result.false_alarm_rate == 0.0
    assert result.detection_by_slowdown[0.50] == 1.0 and result.detection_by_slowdown[0.30] == 1.0
    assert result.detection_by_slowdown[0.02] == 0.0  # inside the 15% tolerance by construction
    assert result.mae_detection_rate == 1.0  # deterministic MAE: a 2% change always shows
    assert result.eager_detection_rate == 0.0  # 10% is inside the 15% latency tolerance
    assert result.min_detectable_slowdown is not None and 0.15 < result.min_detectable_slowdown <= 0.30


def test_tight_tolerances_on_steady_sessions_meet_the_targets() -> None:
    result = calibrate(_sessions(4), runs=5, trials=40, tolerances=Tolerances(speedup_rel=0.05, latency_rel=0.05))
    assert result.false_alarm_rate == 0.0 and result.latency_detection_rate == 1.0 and result.eager_detection_rate == 1.0
    assert result.meets_targets


def test_host_speed_swings_are_cancelled_by_pairing_and_the_reference() -> None:
    hosts = [1.0, 1.25, 0.85, 1.1, 0.95]  # the machine itself 15-25% faster or slower from session to session
    sp = spread(_sessions(5, hosts=hosts))
    assert sp.compiled_raw > 0.1 and sp.eager_raw > 0.1
    assert sp.compiled_normalized < 0.02 and sp.eager_normalized < 0.02 and sp.speedup_interleaved < 0.02
    # seconds swing with the host, so a tight latency tolerance false-alarms; the interleaved speedup does not
    tight = calibrate(_sessions(5, hosts=hosts), runs=5, trials=60, tolerances=Tolerances(speedup_rel=0.05, latency_rel=0.05))
    assert tight.false_alarm_rate > 0.2
    result = calibrate(_sessions(5, hosts=hosts), runs=5, trials=60, tolerances=Tolerances(speedup_rel=0.05, latency_rel=0.5))
    assert result.false_alarm_rate == 0.0 and result.latency_detection_rate == 1.0


def test_a_session_far_from_the_others_raises_false_alarms() -> None:
    sessions = _sessions(3) + _sessions(1, compiled_s=0.080, seed=1)  # one compile came out 60% slower
    result = calibrate(sessions, runs=5, trials=80, tolerances=Tolerances(speedup_rel=0.15, latency_rel=0.15))
    assert 0.1 < result.false_alarm_rate < 0.5  # the odd session is held out about a quarter of the time


def test_too_few_sessions_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 3 sessions"):
        calibrate(_sessions(2))


def test_sessions_pair_each_compiled_run_with_the_eager_run_before_it() -> None:
    records = [s.eager for s in _sessions(3)] + [s.compiled for s in _sessions(3)]
    found = sessions_of(records)
    (label,) = found
    assert [(s.eager.run_id, s.compiled.run_id) for s in found[label]] == [("e0", "c0"), ("e1", "c1"), ("e2", "c2")]
