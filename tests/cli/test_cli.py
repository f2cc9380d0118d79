"""Exit codes, one-line errors and notes of ``python -m harness``, on hand-made results (no torch needed) and a tiny bench."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.bench.isolation import ChildResult
from harness.cli.main import main
from harness.cli.parser import build as _parser
from harness.results.store import read_records, write_records
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


def test_planted_faster_compiled_baseline_is_a_regression(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baselines = _baselines(results, tmp_path)
    _edit_only_baseline(baselines, {"compiled": {"latency_median_s": 0.050 * 0.7}})  # baseline claims 30% faster
    assert _run("compare", "--results-dir", str(results), "--baselines-dir", str(baselines)) == 1
    out = capsys.readouterr().out
    assert "REGRESSION: compiled latency" in out


def test_forced_compiled_failure_is_a_regression(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baselines = _baselines(results, tmp_path)
    failed = make_record(
        "compiled",
        latencies=[],
        status="fail_exception",
        error_type="InvalidBackend",
        error_message="planted",
        timestamp_utc="2026-11-26T00:00:00+00:00",
        run_id="later",
        first_call_s=None,
        compile_s=None,
        mae=None,
        mae_pct=None,
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


def _other_environment(
    tmp_path: Path,
    eager_latencies: list[float] | None = None,
    compiled_latencies: list[float] | None = None,
    compiled_mae: float = 10.0,
    **fields: Any,
) -> Path:
    other = tmp_path / "other"
    if other.exists():
        shutil.rmtree(other)
    write_records([make_record("eager", latencies=eager_latencies, **fields)], other, name="e")
    write_records(
        [make_record("compiled", latencies=compiled_latencies or [0.05] * 5, mae=compiled_mae, **fields)], other, name="c"
    )
    return other


def test_other_torch_on_the_same_machine_is_gated_as_an_upgrade_naming_what_changed(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baselines = _baselines(results, tmp_path)
    other = _other_environment(tmp_path, torch_version="2.14.1")
    assert _run("compare", "--results-dir", str(other), "--baselines-dir", str(baselines)) == 0
    out = capsys.readouterr().out
    assert "gate: upgrade gate (torch 2.13.0+cpu → 2.14.1)" in out and "0 full, 1 upgrade, 0 portable" in out
    slower = _other_environment(
        tmp_path, torch_version="2.14.1", compiled_latencies=[0.1] * 5
    )  # the upgrade halves compiled's speed
    assert _run("compare", "--results-dir", str(slower), "--baselines-dir", str(baselines)) == 1
    out = capsys.readouterr().out
    assert (
        "REGRESSION: torch 2.13.0+cpu → 2.14.1: compiled latency" in out
        and "REGRESSION: torch 2.13.0+cpu → 2.14.1: speedup" in out
    )


def test_other_chronos_on_the_same_machine_is_gated_as_an_upgrade(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baselines = _baselines(results, tmp_path)
    other = _other_environment(tmp_path, chronos_version="2.4.0")
    assert _run("compare", "--results-dir", str(other), "--baselines-dir", str(baselines)) == 0
    assert "upgrade gate (chronos 2.3.2 → 2.4.0)" in capsys.readouterr().out


def test_another_machine_shows_timings_for_information_and_does_not_fail_on_them(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baselines = _baselines(results, tmp_path)
    other = _other_environment(
        tmp_path, device_name="Other CPU", cpu_model="Other CPU", cpu_flags="avx,avx2,fma,avx512f", eager_latencies=[0.2] * 5
    )  # eager 2x slower than the baseline: another machine's seconds
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


def test_against_picks_the_baseline_recorded_with_that_software(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baselines = _baselines(results, tmp_path)
    newer = _other_environment(tmp_path, torch_version="2.14.1")
    assert (
        _run("update-baselines", "--reason", "torch 2.14.1", "--results-dir", str(newer), "--baselines-dir", str(baselines)) == 0
    )
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


def test_improvement_fails_only_with_fail_on_improvement(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
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
        (
            ["--symbol", "BTCUSD", "--rows", "7"],
            "the window holds 7 rows (the last 7 (--rows 7) of the file's 4091), which leaves no history",
        ),
        (["--symbol", "GOOG", "--model", "/no/such/checkpoint"], "no such directory"),
    ],
    ids=[
        "unknown-symbol",
        "path-symbol",
        "too-few-rows",
        "missing-checkpoint",
    ],  # too few rows for any context (a larger one is clipped)
)
def test_bench_input_errors_are_one_line_exit_2_and_keep_results(
    argv: list[str], needle: str, results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sorted(p.name for p in results.iterdir())
    code = _run(
        "bench",
        "--mode",
        "eager",
        "--results-dir",
        str(results),
        "--data-dir",
        str(ROOT / "trainingdata"),
        "--hyperparams-dir",
        str(ROOT / "hyperparams"),
        *argv,
    )
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert needle in err and "fix" in err and err.count("\n") == 0 and "Traceback" not in err
    assert sorted(p.name for p in results.iterdir()) == before


@pytest.mark.parametrize("isolate", ["--no-isolate", "--isolate"])
def test_a_context_the_window_cannot_fill_is_clipped_noted_once_and_recorded(
    isolate: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # issue 13: --context-length 512 on the daily BTCUSD, whose window holds 500 - 7 = 493 rows before the horizon
    import harness.bench.isolation

    def child_in_process(command: list[str], *, timeout_s: float) -> ChildResult:
        """The isolated child, run here: its stderr is ours, as run_child passes it through."""
        code = main(command[3:])  # python -m harness <argv>
        return ChildResult(
            status="ok" if code == 0 else "usage", returncode=code, error_type="", message="", stderr_tail="", seconds=0.0
        )

    monkeypatch.setattr(harness.bench.isolation, "run_child", child_in_process)
    results = tmp_path / "results"
    code = _run(
        "bench",
        "--mode",
        "eager",
        "--model",
        "tiny",
        "--runs",
        "1",
        isolate,
        "--symbol",
        "BTCUSD",
        "--context-length",
        "512",
        "--results-dir",
        str(results),
        "--data-dir",
        str(ROOT / "trainingdata"),
        "--hyperparams-dir",
        str(ROOT / "hyperparams"),
    )
    err = capsys.readouterr().err
    assert code == 0, err
    note = "note: BTCUSD: context_length 512 (--context-length) is more than the 493 rows the window holds before the horizon; using 493"
    assert err.splitlines().count(note) == 1, err  # a note, not an error; and once, isolated or not
    (record,) = read_records(results)
    assert (record.status, record.context_length, record.rows_used, record.prediction_length) == (
        "pass",
        493,
        500,
        7,
    )  # the context used


def test_bad_hyperparams_json_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "chronos2").mkdir()
    (tmp_path / "chronos2" / "GOOG.json").write_text('{"context_length": -5}')
    code = _run(
        "bench",
        "--mode",
        "eager",
        "--symbol",
        "GOOG",
        "--hyperparams-dir",
        str(tmp_path),
        "--data-dir",
        str(ROOT / "trainingdata"),
    )
    err = capsys.readouterr().err
    assert code == 2 and "GOOG.json: field 'context_length'" in err and "positive integer" in err


def test_models_lists_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("models") == 0
    out = capsys.readouterr().out
    assert "chronos-2-arch" in out and "tiny" in out


def test_a_harness_bug_exits_3_not_1(results: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import harness.gate.comparison

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("planted bug")

    monkeypatch.setattr(harness.gate.comparison, "build_comparisons", broken)
    assert _run("compare", "--results-dir", str(results)) == 3
    assert "the harness itself failed (ZeroDivisionError: planted bug)" in capsys.readouterr().err


def test_interrupt_exits_130(results: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.gate.comparison

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(harness.gate.comparison, "build_comparisons", interrupted)
    assert _run("compare", "--results-dir", str(results)) == 130


def test_update_baselines_refuses_a_regression_or_failure_unless_accepted(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baselines = _baselines(results, tmp_path)
    (path,) = baselines.glob("*.json")
    before = path.read_bytes()
    failed = make_record(
        "compiled",
        latencies=[],
        status="fail_exception",
        error_type="InvalidBackend",
        error_message="planted",
        timestamp_utc="2026-11-26T00:00:00+00:00",
        run_id="later",
        first_call_s=None,
        compile_s=None,
        mae=None,
        mae_pct=None,
    )
    write_records([failed], results, name="failed")
    dirs = ["--results-dir", str(results), "--baselines-dir", str(baselines)]
    capsys.readouterr()
    assert _run("update-baselines", "--reason", "nightly", *dirs) == 1
    out = capsys.readouterr().out
    assert "refused: compiled success rate 0% < baseline 100%" in out and "refused: compiled status fail_exception" in out
    assert "--accept" in out and "0 baseline(s) written, 1 refused" in out
    assert path.read_bytes() == before  # the old baseline stands
    # a mode that never succeeds cannot be blessed even on purpose: a 0% baseline would pass every later run
    assert _run("update-baselines", "--reason", "nightly", "--accept", "the backend is gone for good", *dirs) == 2
    err = capsys.readouterr().err
    assert "not written: field compiled.success_rate 0 would pass any run" in err and "; fix: " in err
    assert path.read_bytes() == before and not list(baselines.glob(".baseline.*"))


def test_update_baselines_pool_rests_on_every_session(results: Path, tmp_path: Path) -> None:
    write_records(
        [make_record("compiled", latencies=[0.060] * 5, run_id="again", timestamp_utc="2026-11-26T00:00:00+00:00")],
        results,
        name="c2",
    )
    baselines = tmp_path / "baselines"
    assert (
        _run("update-baselines", "--reason", "pooled", "--pool", "--results-dir", str(results), "--baselines-dir", str(baselines))
        == 0
    )
    (path,) = baselines.glob("*.json")
    data = json.loads(path.read_text())
    assert data["provenance"]["samples"] == {"eager": 5, "compiled": 10}
    assert data["provenance"]["run_ids"] == ["again", "run-compiled", "run-eager"]
    assert 0.050 <= data["compiled"]["latency_median_s"] <= 0.060


def test_flaky_compiled_run_is_reported_exit_0_and_not_adopted(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baselines = _baselines(results, tmp_path)
    flaky = make_record(
        "compiled",
        latencies=[0.050, 0.051, 0.049, 0.050, 0.050],
        n_flaky=1,
        flip_rate=0.1,
        confirm="2/3",
        timestamp_utc="2026-11-26T00:00:00+00:00",
        run_id="later",
        error_type="RuntimeError",
        error_message="once",
    )
    write_records([flaky], results, name="flaky")
    assert _run("compare", "--results-dir", str(results), "--baselines-dir", str(baselines)) == 0
    out = capsys.readouterr().out
    assert "FLAKY: compiled: 1 call(s) failed, then passed on re-run (flip rate 10%, baseline 0%)" in out
    assert "REJECT COMPILED: FLAKY" in out and "1 flaky" in out


def test_planted_drift_is_a_regression_exit_1(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baselines = _baselines(results, tmp_path)
    drifted = make_record(
        "compiled",
        latencies=[0.050, 0.051, 0.049, 0.050, 0.050],
        status="fail_accuracy",
        drift_max_abs=2.0,
        drift_tolerance_abs=0.5,
        eager_float32_error_abs=0.125,
        timestamp_utc="2026-11-26T00:00:00+00:00",
        run_id="later",
    )
    write_records([drifted], results, name="drifted")
    assert _run("compare", "--results-dir", str(results), "--baselines-dir", str(baselines)) == 1
    out = capsys.readouterr().out
    assert "REGRESSION: compiled forecasts drift 2 (max abs, every quantile) from eager's, beyond tolerance 0.5" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--inject-failure", "0"], "must be in (0, 1]"),
        (["--confirm", "3/2"], "1 <= K <= N"),
        (["--confirm", "two"], "is not K/N"),
        (["--timeout", "0"], "seconds > 0"),
        (["--timeout", "-1"], "seconds > 0"),
        (["--timeout", "nan"], "seconds > 0"),
        (["--timeout", "inf"], "seconds > 0"),
        (["--timeout", "soon"], "not a number of seconds"),
    ],
)
def test_bench_flag_errors_are_usage_errors(argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["bench", "--mode", "eager", *argv])
    assert excinfo.value.code == 2 and fragment in capsys.readouterr().err


def _commands() -> list[str]:
    (action,) = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return list(action.choices)


@pytest.mark.parametrize("command", ["", *_commands()], ids=lambda c: c or "python -m harness")
def test_help_of_every_command_prints_and_exits_0(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main([*([command] if command else []), "--help"])
    assert excinfo.value.code == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("usage: python -m harness") and captured.err == ""


def _bench_argv(results: Path, *argv: str) -> list[str]:
    return [
        "bench",
        "--mode",
        "eager",
        "--model",
        "tiny",
        "--runs",
        "2",
        "--context-length",
        "64",
        "--results-dir",
        str(results),
        "--data-dir",
        str(ROOT / "trainingdata"),
        "--hyperparams-dir",
        str(ROOT / "hyperparams"),
        *argv,
    ]


@pytest.fixture
def no_bench(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refusals come before any run: an isolated run starting is a failure of the test."""
    import harness.bench.isolation

    def started(*args: object, **kwargs: object) -> None:
        raise AssertionError("a run started before the input was refused")

    monkeypatch.setattr(harness.bench.isolation, "run_child", started)


def _one_line_exit_2(code: int, capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.count("\n") == 0 and "Traceback" not in err and all(needle in err for needle in needles), err
    return err


@pytest.mark.usefixtures("no_bench")
@pytest.mark.parametrize("where", ["flag", "hyperparams"])
def test_cuda_without_cuda_is_one_line_exit_2_before_any_run_and_no_row(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is here")
    results = tmp_path / "results"
    if where == "flag":
        code = _run(*_bench_argv(results, "--symbol", "GOOG", "--device", "cuda"))
        _one_line_exit_2(code, capsys, "--device: device 'cuda': no CUDA here", "fix: --device cpu")
    else:
        (tmp_path / "hp" / "chronos2").mkdir(parents=True)
        (tmp_path / "hp" / "chronos2" / "GOOG.json").write_text('{"device": "cuda:0"}')
        code = _run(*_bench_argv(results, "--symbol", "GOOG", "--hyperparams-dir", str(tmp_path / "hp")))
        _one_line_exit_2(code, capsys, "GOOG.json: device 'cuda:0': no CUDA here", '"device" to "cpu"')
    assert not results.exists() or not any(results.iterdir())  # refused input, not a run: no failure row


@pytest.mark.usefixtures("no_bench")
@pytest.mark.parametrize("kind", ["file", "below-a-file", "read-only"])
def test_results_dir_that_cannot_be_written_is_exit_2_before_any_run(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    target = {"file": blocker, "below-a-file": blocker / "results", "read-only": tmp_path / "ro"}[kind]
    if kind == "read-only":
        if os.geteuid() == 0:
            pytest.skip("root writes anywhere")
        target.mkdir()
        target.chmod(0o555)
    code = _run(*_bench_argv(target, "--symbol", "GOOG"))
    _one_line_exit_2(code, capsys, f"--results-dir {target}", "fix:")
    assert blocker.read_text() == "not a directory"


@pytest.mark.parametrize("kind", ["file", "below-a-file"])
def test_report_output_that_cannot_be_written_is_exit_2(
    kind: str, results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    target = blocker if kind == "file" else blocker / "report"
    code = _run("report", "--results-dir", str(results), "--baselines-dir", str(tmp_path / "none"), "--output", str(target))
    _one_line_exit_2(code, capsys, f"--output {target}", "fix:")


@pytest.mark.usefixtures("no_bench")
def test_a_symbol_given_twice_is_exit_2_before_any_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _run(*_bench_argv(tmp_path / "results", "--symbol", "GOOG", "--symbol", "EURUSD", "--symbol", "GOOG"))
    _one_line_exit_2(code, capsys, "--symbol GOOG: given more than once", "fix:")


@pytest.mark.usefixtures("no_bench")
def test_a_reused_run_id_is_exit_2_before_any_run_and_the_old_file_stays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results"
    old = write_records([make_record("eager", symbol="GOOG")], results, name="r1-GOOG-eager")
    before = old.read_bytes()
    code = _run(*_bench_argv(results, "--symbol", "GOOG", "--run-id", "r1"))
    _one_line_exit_2(code, capsys, "r1-GOOG-eager.parquet: already exists", "fix:")
    assert old.read_bytes() == before


def test_the_parent_judges_a_child_by_its_exit_code_not_by_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A child that refused its input (exit 2) fails the bench, even when a file of its name turned up meanwhile."""
    import harness.bench.isolation

    results = tmp_path / "results"

    def refusing_child(command: list[str], **kwargs: object) -> ChildResult:
        spec = json.loads(Path(command[command.index("run-spec") + 1]).read_text())  # the child gets its run as data
        name = spec["request"]["run_id"]
        write_records([make_record("eager", symbol="GOOG")], results, name=f"{name}-GOOG-eager")  # e.g. another process's
        print("error: GOOG: refused by the child", file=sys.stderr)
        return ChildResult(
            status="usage",
            returncode=2,
            error_type="exit 2",
            message="the child refused its input",
            stderr_tail="error: GOOG: refused by the child\n",
            seconds=0.1,
        )

    monkeypatch.setattr(harness.bench.isolation, "run_child", refusing_child)
    code = _run(*_bench_argv(results, "--symbol", "GOOG"))
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("refused by the child") == 1  # said once, by the child; the parent does not repeat it


def test_results_and_report_files_honour_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        results = write_records([make_record("eager")], tmp_path / "results", name="e").parent
        write_records([make_record("compiled", latencies=[0.05] * 5)], results, name="c")
        assert {p.name: p.stat().st_mode & 0o777 for p in results.iterdir()} == {"e.parquet": 0o644, "c.parquet": 0o644}
        assert (
            _run(
                "report",
                "--results-dir",
                str(results),
                "--baselines-dir",
                str(tmp_path / "none"),
                "--output",
                str(tmp_path / "report"),
            )
            == 0
        )
        modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "report").iterdir()}
        assert modes["index.md"] == modes["index.html"] == 0o644
        os.umask(0o077)
        private = write_records([make_record("eager", run_id="later")], results, name="private")
        assert private.stat().st_mode & 0o777 == 0o600  # the umask decides, as for any file
        assert not list(results.glob(".*"))  # no temporary file left
    finally:
        os.umask(previous)
