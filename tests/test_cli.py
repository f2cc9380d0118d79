"""Exit codes and one-line errors of ``python -m harness``, on hand-made results (no torch needed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.results import write_records
from tests.conftest import ROOT
from tests.factories import make_record


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """An eager and a compiled run: compiled 2x faster, same MAE."""
    directory = tmp_path / "results"
    write_records([make_record("eager", latencies=[0.100, 0.101, 0.099, 0.100, 0.102])], directory, name="e")
    write_records([make_record("compiled", latencies=[0.050, 0.051, 0.049, 0.050, 0.050])], directory, name="c")
    return directory


def _run(*argv: str) -> int:
    return main(["-q", *argv])


def _baselines(results: Path, tmp_path: Path) -> Path:
    directory = tmp_path / "baselines"
    assert _run("update-baselines", "--reason", "test", "--results-dir", str(results), "--baselines-dir", str(directory)) == 0
    return directory


def _edit_only_baseline(directory: Path, edit: dict[str, dict[str, float]]) -> None:
    (path,) = directory.glob("*.json")
    data = json.loads(path.read_text())
    for section, values in edit.items():
        data[section].update(values) if isinstance(data[section], dict) else None
    path.write_text(json.dumps(data))


def test_compare_holds_against_its_own_baseline(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baselines = _baselines(results, tmp_path)
    assert _run("compare", "--results-dir", str(results), "--baselines-dir", str(baselines)) == 0
    out = capsys.readouterr().out
    assert "ADOPT COMPILED" in out and "speedup 2.00x" in out and "every gated metric within tolerance" in out
    assert "gate: full gate (same machine, same software)" in out and "1 full, 0 upgrade, 0 portable" in out


def test_planted_faster_compiled_baseline_is_a_regression(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baselines = _baselines(results, tmp_path)
    _edit_only_baseline(baselines, {"compiled": {"latency_median_s": 0.050 * 0.7}})  # baseline claims 30% faster
    assert _run("compare", "--results-dir", str(results), "--baselines-dir", str(baselines)) == 1
    out = capsys.readouterr().out
    assert "REGRESSION: compiled latency" in out


def test_forced_compiled_failure_is_a_regression(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baselines = _baselines(results, tmp_path)
    failed = make_record(
        "compiled", latencies=[], status="fail_exception", error_type="InvalidBackend", error_message="planted",
        timestamp_utc="2026-11-26T00:00:00+00:00", run_id="later", first_call_s=None, compile_s=None, mae=None, mae_pct=None,
    )
    write_records([failed], results, name="failed")
    assert _run("compare", "--results-dir", str(results), "--baselines-dir", str(baselines)) == 1
    out = capsys.readouterr().out
    assert "REGRESSION: compiled success rate 0% < baseline 100%" in out
    assert "REJECT COMPILED: IT FAILS" in out and "InvalidBackend: planted" in out


def test_new_key_is_reported_and_exits_0_unless_strict(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baselines = tmp_path / "baselines"
    baselines.mkdir()
    dirs = ["--results-dir", str(results), "--baselines-dir", str(baselines)]
    assert _run("compare", *dirs) == 0
    assert "baseline: new, no baseline for these settings" in capsys.readouterr().out
    assert _run("compare", *dirs, "--strict") == 2


def test_a_baseline_without_a_result_is_missing_and_fails_only_when_strict(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baselines = _baselines(results, tmp_path)
    (path,) = baselines.glob("*.json")
    dropped = baselines / "BTCUSD__tiny__context-256.json"  # a configuration the nightly no longer runs
    data = json.loads(path.read_text())
    data["what"]["context_length"] = 256
    dropped.write_text(json.dumps(data))
    dirs = ["--results-dir", str(results), "--baselines-dir", str(baselines)]
    assert _run("compare", *dirs) == 0
    out = capsys.readouterr().out
    assert f"missing: {dropped}: BTCUSD · tiny" in out and "0 new, 1 missing" in out
    assert _run("compare", *dirs, "--strict") == 2
    assert "--strict" in capsys.readouterr().err


def _other_environment(tmp_path: Path, eager_latencies: list[float] | None = None, compiled_latencies: list[float] | None = None,
                       compiled_mae: float = 10.0, **fields: Any) -> Path:
    other = tmp_path / "other"
    if other.exists():
        shutil.rmtree(other)
    write_records([make_record("eager", latencies=eager_latencies, **fields)], other, name="e")
    write_records([make_record("compiled", latencies=compiled_latencies or [0.05] * 5, mae=compiled_mae, **fields)], other, name="c")
    return other


def test_other_torch_on_the_same_machine_is_gated_as_an_upgrade_naming_what_changed(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baselines = _baselines(results, tmp_path)
    other = _other_environment(tmp_path, torch_version="2.14.1")
    assert _run("compare", "--results-dir", str(other), "--baselines-dir", str(baselines)) == 0
    out = capsys.readouterr().out
    assert "gate: upgrade gate (torch 2.13.0+cpu → 2.14.1)" in out and "0 full, 1 upgrade, 0 portable" in out
    slower = _other_environment(tmp_path, torch_version="2.14.1", compiled_latencies=[0.1] * 5)  # the upgrade halves compiled's speed
    assert _run("compare", "--results-dir", str(slower), "--baselines-dir", str(baselines)) == 1
    out = capsys.readouterr().out
    assert "REGRESSION: torch 2.13.0+cpu → 2.14.1: compiled latency" in out and "REGRESSION: torch 2.13.0+cpu → 2.14.1: speedup" in out


def test_other_chronos_on_the_same_machine_is_gated_as_an_upgrade(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baselines = _baselines(results, tmp_path)
    other = _other_environment(tmp_path, chronos_version="2.4.0")
    assert _run("compare", "--results-dir", str(other), "--baselines-dir", str(baselines)) == 0
    assert "upgrade gate (chronos 2.3.2 → 2.4.0)" in capsys.readouterr().out


def test_another_machine_shows_timings_for_information_and_does_not_fail_on_them(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baselines = _baselines(results, tmp_path)
    other = _other_environment(tmp_path, device_name="Other CPU", cpu_model="Other CPU", cpu_flags="avx,avx2,fma,avx512f",
                               eager_latencies=[0.2] * 5)  # eager 2x slower than the baseline: another machine's seconds
    assert _run("compare", "--results-dir", str(other), "--baselines-dir", str(baselines)) == 0
    out = capsys.readouterr().out
    assert "portable gate (another machine: device_name: Test CPU (baseline) vs Other CPU (this run)" in out
    assert "info only" in out and "REGRESSION" not in out and "0 full, 0 upgrade, 1 portable" in out
    # what does not depend on the machine is still gated there: MAE
    worse = _other_environment(tmp_path, device_name="Other CPU", cpu_model="Other CPU", compiled_mae=11.0)
    assert _run("compare", "--results-dir", str(worse), "--baselines-dir", str(baselines)) == 1
    assert "REGRESSION: compiled MAE 11 worse than baseline 10" in capsys.readouterr().out


def test_informational_is_gone(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as usage:
        _run("compare", "--results-dir", str(results), "--baselines-dir", str(tmp_path), "--informational")
    assert usage.value.code == 2 and "--informational" in capsys.readouterr().err


def test_against_picks_the_baseline_recorded_with_that_software(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baselines = _baselines(results, tmp_path)
    newer = _other_environment(tmp_path, torch_version="2.14.1")
    assert _run("update-baselines", "--reason", "torch 2.14.1", "--results-dir", str(newer), "--baselines-dir", str(baselines)) == 0
    assert len(list(baselines.glob("*.json"))) == 2
    dirs = ["--results-dir", str(newer), "--baselines-dir", str(baselines)]
    capsys.readouterr()
    assert _run("compare", *dirs) == 0
    assert "1 full, 0 upgrade" in capsys.readouterr().out  # by default: its own software's baseline
    assert _run("compare", *dirs, "--against", "torch=2.13.0") == 0  # 2.13.0 matches 2.13.0+cpu
    assert "upgrade gate (torch 2.13.0+cpu → 2.14.1)" in capsys.readouterr().out
    assert _run("compare", *dirs, "--against", "torch=2.12.0") == 2
    assert "--against torch=2.12.0: no baseline recorded with that software" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        _run("compare", *dirs, "--against", "cuda=12.4")
    assert usage.value.code == 2 and "expected NAME=VERSION" in capsys.readouterr().err


def test_improvement_fails_only_with_fail_on_improvement(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baselines = _baselines(results, tmp_path)
    _edit_only_baseline(baselines, {"compiled": {"latency_median_s": 0.050 * 1.5}})  # baseline 50% slower than today
    dirs = ["--results-dir", str(results), "--baselines-dir", str(baselines)]
    assert _run("compare", *dirs) == 0
    assert "improved: compiled latency" in capsys.readouterr().out
    assert _run("compare", *dirs, "--fail-on-improvement") == 1


def test_confidence_is_configurable_and_printed(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baselines = _baselines(results, tmp_path)
    assert _run("compare", "--results-dir", str(results), "--baselines-dir", str(baselines), "--confidence", "0.8") == 0
    assert "[80% CI" in capsys.readouterr().out
    with pytest.raises(SystemExit) as usage:
        _run("compare", "--confidence", "1.5")
    assert usage.value.code == 2


def test_missing_baselines_dir_is_one_line_exit_2(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("compare", "--results-dir", str(results), "--baselines-dir", str(tmp_path / "none")) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no baselines directory" in err and "update_baselines" in err


def test_corrupted_parquet_is_exit_2_and_nothing_is_lost(results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = results / "broken.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    before = {p.name: p.read_bytes() for p in results.iterdir()}
    assert _run("compare", "--results-dir", str(results), "--baselines-dir", str(results)) == 2
    err = capsys.readouterr().err.strip()
    assert str(bad) in err and "fix" in err and err.count("\n") == 0
    assert {p.name: p.read_bytes() for p in results.iterdir()} == before


def test_update_baselines_leaves_other_keys_untouched(results: Path, tmp_path: Path) -> None:
    baselines = _baselines(results, tmp_path)
    foreign = baselines / "GOOG__other.json"
    shutil.copy(next(baselines.glob("BTCUSD*.json")), foreign)
    data = json.loads(foreign.read_text())
    data["what"]["symbol"] = "GOOG"
    foreign.write_text(json.dumps(data))
    before = foreign.read_bytes()
    assert _run("update-baselines", "--reason", "again", "--results-dir", str(results), "--baselines-dir", str(baselines)) == 0
    assert foreign.read_bytes() == before


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--symbol", "NOPE"], "NOPE.csv: no such file"),
        (["--symbol", "../etc/passwd"], "not a plain symbol name"),
        (["--symbol", "BTCUSD", "--context-length", "4096"], "context_length 4096 + horizon 7"),
        (["--symbol", "GOOG", "--model", "/no/such/checkpoint"], "no such directory"),
    ],
    ids=["unknown-symbol", "path-symbol", "too-few-rows", "missing-checkpoint"],
)
def test_bench_input_errors_are_one_line_exit_2_and_keep_results(
    argv: list[str], needle: str, results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sorted(p.name for p in results.iterdir())
    code = _run("bench", "--mode", "eager", "--results-dir", str(results), "--data-dir", str(ROOT / "trainingdata"),
                "--hyperparams-dir", str(ROOT / "hyperparams"), *argv)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert needle in err and "fix" in err and err.count("\n") == 0 and "Traceback" not in err
    assert sorted(p.name for p in results.iterdir()) == before


def test_bad_hyperparams_json_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "chronos2").mkdir()
    (tmp_path / "chronos2" / "GOOG.json").write_text('{"context_length": -5}')
    code = _run("bench", "--mode", "eager", "--symbol", "GOOG", "--hyperparams-dir", str(tmp_path), "--data-dir", str(ROOT / "trainingdata"))
    err = capsys.readouterr().err
    assert code == 2 and "GOOG.json: field 'context_length'" in err and "positive integer" in err


def test_models_lists_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("models") == 0
    out = capsys.readouterr().out
    assert "chronos-2-arch" in out and "tiny" in out


def test_a_harness_bug_exits_3_not_1(results: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import harness.compare

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("planted bug")

    monkeypatch.setattr(harness.compare, "build_comparisons", broken)
    assert _run("compare", "--results-dir", str(results)) == 3
    assert "the harness itself failed (ZeroDivisionError: planted bug)" in capsys.readouterr().err


def test_interrupt_exits_130(results: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.compare

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(harness.compare, "build_comparisons", interrupted)
    assert _run("compare", "--results-dir", str(results)) == 130


def test_update_baselines_refuses_a_regression_or_failure_unless_accepted(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baselines = _baselines(results, tmp_path)
    (path,) = baselines.glob("*.json")
    before = path.read_bytes()
    failed = make_record(
        "compiled", latencies=[], status="fail_exception", error_type="InvalidBackend", error_message="planted",
        timestamp_utc="2026-11-26T00:00:00+00:00", run_id="later", first_call_s=None, compile_s=None, mae=None, mae_pct=None,
    )
    write_records([failed], results, name="failed")
    dirs = ["--results-dir", str(results), "--baselines-dir", str(baselines)]
    capsys.readouterr()
    assert _run("update-baselines", "--reason", "nightly", *dirs) == 1
    out = capsys.readouterr().out
    assert "refused: compiled success rate 0% < baseline 100%" in out and "refused: compiled status fail_exception" in out
    assert "--accept" in out and "0 baseline(s) written, 1 refused" in out
    assert path.read_bytes() == before  # the old baseline stands
    assert _run("update-baselines", "--reason", "nightly", "--accept", "the backend is gone for good", *dirs) == 0
    data = json.loads(path.read_text())
    assert data["provenance"]["accepted"]["why"] == "the backend is gone for good"
    assert any("success rate 0%" in problem for problem in data["provenance"]["accepted"]["problems"])
    assert data["provenance"]["replaces"]["gate"] == "full" and data["provenance"]["replaces"]["values"]["compiled.success_rate"] == 1.0
    assert data["compiled"]["success_rate"] == 0.0


def test_update_baselines_pool_rests_on_every_session(results: Path, tmp_path: Path) -> None:
    write_records([make_record("compiled", latencies=[0.060] * 5, run_id="again", timestamp_utc="2026-11-26T00:00:00+00:00")], results, name="c2")
    baselines = tmp_path / "baselines"
    assert _run("update-baselines", "--reason", "pooled", "--pool", "--results-dir", str(results), "--baselines-dir", str(baselines)) == 0
    (path,) = baselines.glob("*.json")
    data = json.loads(path.read_text())
    assert data["provenance"]["samples"] == {"eager": 5, "compiled": 10}
    assert data["provenance"]["run_ids"] == ["again", "run-compiled", "run-eager"]
    assert 0.050 <= data["compiled"]["latency_median_s"] <= 0.060


def test_flaky_compiled_run_is_reported_exit_0_and_not_adopted(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baselines = _baselines(results, tmp_path)
    flaky = make_record("compiled", latencies=[0.050, 0.051, 0.049, 0.050, 0.050], n_flaky=1, flip_rate=0.1, confirm="2/3",
                        timestamp_utc="2026-11-26T00:00:00+00:00", run_id="later", error_type="RuntimeError", error_message="once")
    write_records([flaky], results, name="flaky")
    assert _run("compare", "--results-dir", str(results), "--baselines-dir", str(baselines)) == 0
    out = capsys.readouterr().out
    assert "FLAKY: compiled: 1 call(s) failed, then passed on re-run (flip rate 10%, baseline 0%)" in out
    assert "REJECT COMPILED: FLAKY" in out and "1 flaky" in out


def test_planted_drift_is_a_regression_exit_1(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baselines = _baselines(results, tmp_path)
    drifted = make_record("compiled", latencies=[0.050, 0.051, 0.049, 0.050, 0.050], status="fail_accuracy", drift_max_abs=2.0,
                          drift_tolerance_abs=0.5, eager_float32_error_abs=0.125, timestamp_utc="2026-11-26T00:00:00+00:00", run_id="later")
    write_records([drifted], results, name="drifted")
    assert _run("compare", "--results-dir", str(results), "--baselines-dir", str(baselines)) == 1
    out = capsys.readouterr().out
    assert "REGRESSION: compiled forecasts drift 2 (max abs, every quantile) from eager's, beyond tolerance 0.5" in out


@pytest.mark.parametrize(("argv", "fragment"), [(["--inject-failure", "0"], "must be in (0, 1]"), (["--confirm", "3/2"], "1 <= K <= N"),
                                               (["--confirm", "two"], "is not K/N")])
def test_bench_flag_errors_are_usage_errors(argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["bench", "--mode", "eager", *argv])
    assert excinfo.value.code == 2 and fragment in capsys.readouterr().err
