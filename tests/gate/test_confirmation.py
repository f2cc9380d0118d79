"""Confirm before failing: a timing regression stands only when a re-bench sees it too; everything else needs no
confirmation. Pure rules first, then compare reading re-benches, then the confirm command's orchestration."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.bench.faults import Fault, FaultKind
from harness.cli.confirm import ConfirmOptions, request_for
from harness.cli.main import main
from harness.gate.baseline import Tolerances
from harness.gate.baseline_files import baseline_from, render
from harness.gate.checks import check
from harness.gate.comparison import compare_pair, rebenched
from harness.gate.confirmation import confirm, decided, timing_regressions
from harness.gate.findings import FindingKind
from harness.gate.provenance import support
from harness.results.keys import key_of
from harness.results.schema import RunRecord, RunStatus
from harness.results.store import write_records
from tests.factories import make_record, record_baselines


def _pair(compiled_s: float, *, run: str, stamp: str, confirms: str = "", seed: int = 0, **extra: Any) -> list[RunRecord]:
    rng = np.random.default_rng(seed)

    def noisy(center: float) -> list[float]:
        return list(center * (1 + rng.uniform(-0.005, 0.005, 20)))

    common: dict[str, Any] = {"confirms": confirms}
    eager = make_record("eager", latencies=noisy(0.100), run_id=f"{run}e", timestamp_utc=f"{stamp}:00+00:00", **common)
    compiled = make_record(
        "compiled",
        latencies=noisy(compiled_s),
        paired_eager_latencies_s=noisy(0.100),
        run_id=run,
        timestamp_utc=f"{stamp}:30+00:00",
        **{**common, "drift_max_abs": 1e-6, "drift_tolerance_abs": 1e-4, **extra},
    )
    return [eager, compiled]


def _checked(records: list[RunRecord], base: list[RunRecord]) -> Any:
    baseline = baseline_from(compare_pair(key_of(base[1]), *base), tolerances=Tolerances(), provenance={})
    return check(compare_pair(key_of(records[1]), *records), [baseline])


BASE = _pair(0.050, run="b", stamp="2026-11-25T09:00")


def test_a_slowdown_the_rebench_also_sees_is_confirmed_and_fails() -> None:
    slow = _checked(_pair(0.070, run="r1", stamp="2026-11-25T10:00"), BASE)
    assert {f.metric for f in timing_regressions(slow)} == {"compiled.latency_s", "compiled.latency_p90_s", "speedup"}
    again = _checked(_pair(0.071, run="r2", stamp="2026-11-25T10:05", seed=1), BASE)
    assert decided(slow, [again])
    outcome = confirm(slow, [again])
    assert {f.metric for f in outcome.regressions} == {"compiled.latency_s", "compiled.latency_p90_s", "speedup"}
    message = next(f.message for f in outcome.regressions if f.metric == "speedup")
    assert "confirmed: regressed in 2 of 2 measurements" in message and "(re-bench: 1.4" in message  # both values shown


def test_a_slowdown_the_rebench_does_not_see_is_a_transient_and_passes() -> None:
    slow = _checked(_pair(0.070, run="r1", stamp="2026-11-25T10:00"), BASE)
    clean = _checked(_pair(0.050, run="r2", stamp="2026-11-25T10:05", seed=1), BASE)
    outcome = confirm(slow, [clean])
    assert not outcome.regressions
    swings = [f for f in outcome.findings if f.kind is FindingKind.SWING]
    assert {f.metric for f in swings} == {"compiled.latency_s", "compiled.latency_p90_s", "speedup"}
    assert all("not confirmed: regressed in 1 of 2 measurements, 2 needed" in f.message for f in swings)


def test_without_a_rebench_a_timing_regression_stands_marked_unconfirmed() -> None:
    slow = _checked(_pair(0.070, run="r1", stamp="2026-11-25T10:00"), BASE)
    assert not decided(slow, [])
    outcome = confirm(slow, [])
    assert len(outcome.regressions) == 3 and all("unconfirmed: no re-bench" in f.message for f in outcome.regressions)


def test_accuracy_and_success_regressions_need_no_confirmation() -> None:
    broken = _pair(0.050, run="r1", stamp="2026-11-25T10:00", mae=12.0, drift_max_abs=1.0)
    checked = _checked(broken, BASE)
    assert not timing_regressions(checked) and decided(checked, [])
    clean = _checked(_pair(0.050, run="r2", stamp="2026-11-25T10:05", seed=1), BASE)
    assert confirm(checked, [clean]) == checked  # a re-bench cannot clear a wrong answer
    assert {f.metric for f in checked.regressions} >= {"compiled.mae", "compiled.drift"}


def test_a_rebench_that_measured_nothing_cannot_clear_a_regression() -> None:
    slow = _checked(_pair(0.070, run="r1", stamp="2026-11-25T10:00"), BASE)
    crashed = _pair(0.050, run="r2", stamp="2026-11-25T10:05", seed=1)
    crashed[1] = dataclasses.replace(
        crashed[1],
        status=RunStatus.FAIL_CRASH,
        latencies_s=[],
        latency_median_s=None,
        paired_eager_latencies_s=[],
        n_success=0,
        success_rate=0.0,
    )
    outcome = confirm(slow, [_checked(crashed, BASE)])
    assert {f.metric for f in outcome.regressions} >= {
        "compiled.latency_s",
        "compiled.latency_p90_s",
        "speedup",
    }  # stands, unconfirmed
    speedup = next(f for f in outcome.findings if f.metric == "speedup")
    assert "unconfirmed" in speedup.message and "no measurement" in speedup.message
    assert not decided(slow, [_checked(crashed, BASE)], (2, 3))  # a third measurement is still owed


def test_an_undecided_k_of_n_stands_unconfirmed() -> None:
    slow = _checked(_pair(0.070, run="r1", stamp="2026-11-25T10:00"), BASE)
    slow_again = _checked(_pair(0.070, run="r3", stamp="2026-11-25T10:10", seed=2), BASE)
    outcome = confirm(slow, [slow_again], (3, 3))  # 2 of 2 so far, 3 needed: not cleared
    assert len(outcome.regressions) == 3  # median, p90 and speedup
    assert all("3 of 3 needed to decide" in f.message for f in outcome.regressions)


def test_k_of_n_counts_every_measurement() -> None:
    slow = _checked(_pair(0.070, run="r1", stamp="2026-11-25T10:00"), BASE)
    clean = _checked(_pair(0.050, run="r2", stamp="2026-11-25T10:05", seed=1), BASE)
    slow_again = _checked(_pair(0.070, run="r3", stamp="2026-11-25T10:10", seed=2), BASE)
    assert not decided(slow, [clean], (2, 3))  # 1 of 2 so far: one more re-bench can still confirm it
    assert len(confirm(slow, [clean, slow_again], (2, 3)).regressions) == 3
    assert not confirm(slow, [clean, clean], (3, 3)).regressions
    assert confirm(slow, [], (1, 1)) == slow  # 1/1: no confirmation at all


def test_rebenched_finds_reruns_by_the_run_they_remeasure() -> None:
    records = _pair(0.070, run="r1", stamp="2026-11-25T10:00") + _pair(0.05, run="r2", stamp="2026-11-25T10:05", confirms="r1")
    found = rebenched(records)
    ((run, key),) = found
    assert run == "r1" and key == key_of(records[1]) and found[(run, key)][0].eager is not None


def _dirs(tmp_path: Path) -> tuple[Path, Path]:
    results, baselines = tmp_path / "results", tmp_path / "baselines"
    write_records(BASE, tmp_path / "base", name="base")
    record_baselines(tmp_path / "base", baselines)
    return results, baselines


def test_compare_fails_on_a_confirmed_slowdown_and_passes_a_cleared_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results, baselines = _dirs(tmp_path)
    capsys.readouterr()
    dirs = ["--results-dir", str(results), "--baselines-dir", str(baselines)]
    write_records(_pair(0.070, run="r1", stamp="2026-11-25T10:00"), results, name="night")
    assert main(["compare", *dirs]) == 1
    assert "unconfirmed: no re-bench" in capsys.readouterr().out
    write_records(_pair(0.050, run="x1", stamp="2026-11-25T10:05", confirms="r1"), results, name="rebench1")
    assert main(["compare", *dirs]) == 0
    out = capsys.readouterr().out
    assert "not confirmed" in out and "a transient" in out and "0 regression(s)" in out
    assert main(["compare", *dirs, "--confirm-timing", "1/1"]) == 1  # confirmation off: the first measurement decides
    capsys.readouterr()
    write_records(_pair(0.072, run="r2", stamp="2026-11-25T11:00"), results, name="night2")
    write_records(_pair(0.071, run="x2", stamp="2026-11-25T11:05", confirms="r2"), results, name="rebench2")
    assert main(["compare", *dirs]) == 1
    assert "confirmed: regressed in 2 of 2 measurements" in capsys.readouterr().out


def test_compare_warns_when_the_baseline_rests_on_fewer_sessions_than_calibrated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results, baselines = _dirs(tmp_path)
    (path,) = baselines.glob("*.json")
    assert json.loads(path.read_text())["provenance"]["sessions"] == 1
    write_records(_pair(0.050, run="r1", stamp="2026-11-25T10:00", seed=3), results, name="night")
    assert main(["compare", "--results-dir", str(results), "--baselines-dir", str(baselines)]) == 0
    assert "warning: this baseline rests on 1 session(s)" in capsys.readouterr().out


def test_support_is_read_from_provenance_or_counted_from_older_run_ids() -> None:
    baseline = baseline_from(compare_pair(key_of(BASE[1]), *BASE), tolerances=Tolerances(), provenance={})
    old = dataclasses.replace(
        baseline,
        provenance={
            "run_ids": ["20261126T095643456Z-a", "20261126T095715652Z-b", "20261126T100046539Z-c", "20261126T100115325Z-d"]
        },
    )
    counted = support(old)
    assert counted is not None and counted.sessions == 2 and counted.inferred
    assert counted.first_utc == "2026-11-26T09:56:43Z" and counted.last_utc == "2026-11-26T10:01:15Z"
    new = dataclasses.replace(baseline, provenance={"sessions": 12, "span_utc": ["2026-11-26T11:21:44Z", "2026-11-26T12:10:00Z"]})
    recorded = support(new)
    assert recorded is not None and recorded.sessions == 12 and not recorded.inferred
    assert '"sessions": 12' in render(new)


def test_slow_fault_parses_with_its_size() -> None:
    assert Fault.parse("slow") == Fault(kind=FaultKind.SLOW, slowdown=0.3)
    assert Fault.parse("slow@0.2:GOOG") == Fault(kind=FaultKind.SLOW, slowdown=0.2, symbol="GOOG")
    assert Fault.parse("slow@0.2").text() == "slow@0.2"
    for bad in ("slow@0", "slow@x", "slow@11"):
        with pytest.raises(ValueError, match=r"slow@"):
            Fault.parse(bad)


def test_the_rebench_asks_for_what_the_checked_run_recorded(tmp_path: Path) -> None:
    record = _pair(0.070, run="r1", stamp="2026-11-25T10:00", compile_mode="max-autotune", context_length=96, rows_used=300)[1]
    options = ConfirmOptions(results_dir=tmp_path, baselines_dir=tmp_path, fault=Fault(kind=FaultKind.SLOW, slowdown=0.3))
    compiled = request_for(record, mode="compiled", options=options)
    assert compiled.confirms == "r1" and compiled.compile_mode == "max-autotune" and compiled.context_length == 96
    assert (
        compiled.rows == 300
        and compiled.symbol == ("BTCUSD",)
        and compiled.model == "tiny"
        and compiled.runs == record.n_predictions
    )
    assert compiled.fault is not None and request_for(record, mode="eager", options=options).fault is None


def test_confirm_command_rebenches_only_keys_whose_timing_regressed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    torch = pytest.importorskip("torch")
    results, baselines = _dirs(tmp_path)
    version: dict[str, Any] = {"torch_version": str(torch.__version__)}
    base = [dataclasses.replace(r, **version) for r in BASE]
    write_records(base, tmp_path / "base2", name="base")
    for path in baselines.glob("*.json"):
        path.unlink()
    record_baselines(tmp_path / "base2", baselines)
    night = [dataclasses.replace(r, **version) for r in _pair(0.070, run="r1", stamp="2026-11-25T10:00")]
    write_records(night, results, name="night")
    asked = []

    def fake_bench(request: Any) -> int:  # the re-bench: a clean measurement, written as bench would
        asked.append(request)
        pair = [
            dataclasses.replace(r, **version)
            for r in _pair(0.050, run="x1", stamp="2026-11-25T10:05", confirms=request.confirms, seed=4)
        ]
        write_records([pair[0] if request.mode == "eager" else pair[1]], request.results_dir, name=f"x1-{request.mode}")
        return 0

    monkeypatch.setattr("harness.bench.benching.bench", fake_bench)
    dirs = ["--results-dir", str(results), "--baselines-dir", str(baselines)]
    capsys.readouterr()
    assert main(["confirm", *dirs]) == 0
    out = capsys.readouterr().out
    assert [r.mode for r in asked] == ["eager", "compiled"] and asked[0].confirms == "r1"
    assert "swing:" in out and "not confirmed" in out
    assert main(["confirm", *dirs]) == 0  # decided already: nothing re-benched twice
    assert len(asked) == 2
    assert main(["compare", *dirs]) == 0


def test_compiled_seconds_slower_with_its_interleaved_partner_slower_too_is_the_host() -> None:
    """A slower host slows both models in the compiled process alike: compiled seconds +30%, the uncompiled partner
    +30%, the speedup unchanged. Not a compile regression (eager's two witnesses decide a slowdown of both modes)."""
    rng = np.random.default_rng(7)
    slow_host = [
        make_record(
            "eager",
            latencies=list(0.100 * (1 + rng.uniform(-0.005, 0.005, 20))),
            run_id="e",
            timestamp_utc="2026-11-25T10:00:00+00:00",
        ),
        make_record(
            "compiled",
            latencies=list(0.065 * (1 + rng.uniform(-0.005, 0.005, 20))),
            paired_eager_latencies_s=list(0.130 * (1 + rng.uniform(-0.005, 0.005, 20))),
            run_id="c",
            timestamp_utc="2026-11-25T10:00:30+00:00",
        ),
    ]
    checked = _checked(slow_host, BASE)
    kinds = {f.metric: f.kind for f in checked.findings}
    assert kinds["compiled.latency_s"] is FindingKind.SWING and kinds["speedup"] is FindingKind.HOLDS
    assert not checked.regressions
    message = next(f.message for f in checked.findings if f.metric == "compiled.latency_s")
    assert "so is the uncompiled model interleaved with it" in message
    # the compile alone slower (partner held): a regression, as before
    assert "compiled.latency_s" in {
        f.metric for f in _checked(_pair(0.070, run="r1", stamp="2026-11-25T10:00"), BASE).regressions
    }


def _with_reference(records: list[RunRecord], reference: float) -> list[RunRecord]:
    return [dataclasses.replace(r, reference_s=[reference] * len(r.latencies_s)) for r in records]


NOISY_BASE = _with_reference(BASE, 0.002)


@pytest.mark.parametrize(
    ("rebench_s", "rebench_reference", "expected"),
    [
        (None, None, FindingKind.HOST_NOISY),  # no re-bench: it stays host noisy (exit 0, said)
        (0.070, 0.002, FindingKind.REGRESSION),  # the re-bench on a steady host sees it too: a regression
        (0.050, 0.002, FindingKind.SWING),  # the re-bench on a steady host holds: it was the host
        (0.070, 0.0033, FindingKind.HOST_NOISY),  # the re-bench's host moved too: still nothing measured
    ],
)
def test_a_host_noisy_timing_is_decided_by_the_rebenches_alone(
    rebench_s: float | None, rebench_reference: float | None, expected: FindingKind
) -> None:
    slow = _checked(_with_reference(_pair(0.070, run="r1", stamp="2026-11-25T10:00"), 0.0033), NOISY_BASE)
    noisy = [f for f in slow.findings if f.metric == "compiled.latency_s"]
    assert [f.kind for f in noisy] == [FindingKind.HOST_NOISY] and "machine reference" in noisy[0].message
    assert noisy[0] in timing_regressions(slow)  # confirm re-benches it
    reruns = []
    if rebench_s is not None and rebench_reference is not None:
        again = _pair(rebench_s, run="r2", stamp="2026-11-25T10:05", seed=1)
        reruns = [_checked(_with_reference(again, rebench_reference), NOISY_BASE)]
    outcome = confirm(slow, reruns)
    assert next(f.kind for f in outcome.findings if f.metric == "compiled.latency_s") is expected
