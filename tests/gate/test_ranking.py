"""harness.gate.ranking: configurations ranked by their runs in fresh processes -- run-level intervals, runs on a moved
host left out, ties with the leader broken by what a start costs."""

from __future__ import annotations

from harness.gate.comparison import Comparison, compare_pair
from harness.gate.ranking import rank
from harness.results.keys import key_of
from tests.factories import make_record


def _run(speedup: float, *, reference: float = 0.002, start: float | None = None, n: int = 0) -> Comparison:
    compiled = [0.010] * 9
    record = make_record(
        "compiled",
        latencies=compiled,
        paired_eager_latencies_s=[c * speedup for c in compiled],
        reference_s=[reference] * 9,
        run_id=f"r{n}-{speedup}",
        compile_s=60.0,
        start_precompiled_s=start,
        precompiled_kind="AOTInductor package" if start is not None else "",
    )
    return compare_pair(key_of(record), None, record)


def test_the_interval_is_the_spread_of_the_runs_with_its_stated_confidence() -> None:
    (standing,) = rank({"freezing": [_run(2.0, n=1), _run(2.2, n=2), _run(2.1, n=3)]})
    assert (standing.low, standing.median, standing.high) == (2.0, 2.1, 2.2)
    assert standing.confidence == 0.75  # 1 - 2^(1-3): the lowest and highest of 3 runs bracket the median run's
    assert "2.10x over 3 run(s) [2.00, 2.20] (75% run-level interval)" in standing.describe()
    (two,) = rank({"freezing": [_run(2.0), _run(2.2)]})
    assert two.confidence is None and "fewer than 3 runs: no run-level interval" in two.describe()


def test_a_run_on_a_moved_host_is_left_out_of_the_interval() -> None:
    runs = {
        "freezing-dynamic": [_run(2.2, n=1), _run(2.58, reference=0.0026, n=2), _run(2.25, n=3)],  # one run 30% slow host
        "encoder-freezing": [_run(2.2, n=4), _run(2.25, n=5), _run(2.21, n=6)],
    }
    standings = {s.config: s for s in rank(runs)}
    moved = standings["freezing-dynamic"]
    assert [run.host_moved for run in moved.runs] == [False, True, False]
    assert (moved.low, moved.high) == (2.2, 2.25) and "1 run(s) on a moved host left out" in moved.describe()


def test_a_tie_with_the_leader_goes_to_the_cheaper_start() -> None:
    runs = {
        "freezing-dynamic": [_run(2.22, n=1), _run(2.30, n=2), _run(2.26, n=3)],  # compiles for 60 s
        "aot-encoder-freezing": [_run(2.18, start=6.3, n=4), _run(2.24, start=6.3, n=5), _run(2.21, start=6.3, n=6)],
        "default": [_run(1.5, n=7), _run(1.52, n=8), _run(1.49, n=9)],
    }
    order = rank(runs)
    assert [s.config for s in order] == ["aot-encoder-freezing", "freezing-dynamic", "default"]
    assert order[0].tied_with_leader and order[1].tied_with_leader and not order[2].tied_with_leader
    assert order[0].start_s == 6.3 and order[0].start_how == "AOTInductor package"


def test_a_clear_leader_ranks_first_whatever_its_start() -> None:
    runs = {"slow-start": [_run(3.0, n=1), _run(3.1, n=2), _run(3.05, n=3)], "quick": [_run(2.0, start=1.0, n=4)] * 3}
    order = rank(runs)
    assert order[0].config == "slow-start" and not order[0].tied_with_leader


def test_rank_prints_each_group_ranked_by_its_runs(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from harness.cli.main import main
    from harness.results.store import write_records

    for n, speedup in enumerate((2.0, 2.1, 2.2)):
        compiled = [0.010] * 5
        record = make_record(
            "compiled",
            latencies=compiled,
            paired_eager_latencies_s=[c * speedup for c in compiled],
            reference_s=[0.002] * 5,
            run_id=f"r{n}",
            timestamp_utc=f"2026-12-05T0{n}:00:00+00:00",
        )
        write_records([dataclasses.replace(record, compile_freezing=True)], tmp_path, name=f"r{n}")
    assert main(["rank", "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "between runs, BTCUSD" in out and "freezing: 2.10x over 3 run(s) [2.00, 2.20]" in out
    assert "Best between runs: freezing" in out
