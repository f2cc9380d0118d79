"""The gate judges what users bring: upgrades (software), new machines (where), broken numbers, missing results, host
swings, refreshes. Hand-made runs, so every answer is stated in advance; the CLI cases write real Parquet and JSON."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.base.errors import InputError
from harness.cli.main import main
from harness.gate.baseline import Baseline, Tolerances
from harness.gate.baseline_files import baseline_from, read_baseline, render, write_baseline
from harness.gate.checks import check, upgrade_findings
from harness.gate.comparison import Comparison, compare_pair
from harness.gate.matching import GateKind, missing, parse_against, select
from harness.results.fingerprint import cpu_flags
from harness.results.keys import key_of
from harness.results.schema import RunRecord, RunStatus
from harness.results.store import write_records
from tests.factories import make_record

FLAGS = "avx,avx2,fma"


def _jitter(center: float, *, seed: int, n: int = 20, rel: float = 0.02) -> list[float]:
    return [center * (1 + float(u)) for u in np.random.default_rng(seed).uniform(-rel, rel, n)]


def runs(
    *, eager_s: float = 0.2, compiled_s: float = 0.1, paired_s: float = 0.2, mae: float = 10.0, seed: int = 0, **env: Any
) -> tuple[RunRecord, RunRecord]:
    """An eager session and a compiled session (with interleaved eager partners) on one machine and software."""
    fields = {"cpu_flags": FLAGS, **env}
    eager = make_record("eager", latencies=_jitter(eager_s, seed=seed), mae=mae, **fields)
    compiled = make_record(
        "compiled",
        latencies=_jitter(compiled_s, seed=seed + 1),
        mae=mae,
        paired_eager_latencies_s=_jitter(paired_s, seed=seed + 2),
        drift_max_abs=1e-6,
        drift_tolerance_abs=1e-5,
        run_id="run-compiled",
        **fields,
    )
    return eager, compiled


def comparison(eager: RunRecord | None, compiled: RunRecord) -> Comparison:
    return compare_pair(key_of(compiled), eager, compiled)


def baseline(eager: RunRecord, compiled: RunRecord, *, created: str = "2026-11-20T00:00:00+00:00", **changes: Any) -> Baseline:
    recorded = baseline_from(comparison(eager, compiled), tolerances=Tolerances(), provenance={"created_utc": created})
    return dataclasses.replace(recorded, **changes)


def notable(findings: tuple[Any, ...] | list[Any]) -> dict[str, str]:
    return {f.metric: f.kind for f in findings if f.notable}


# --- which gate ------------------------------------------------------------------------------------------------------


def test_same_machine_and_software_is_the_full_gate() -> None:
    eager, compiled = runs()
    checked = check(comparison(eager, compiled), [baseline(eager, compiled)])
    assert checked.match.kind is GateKind.FULL and checked.verdict == "holds" and checked.gated
    assert {f.metric for f in checked.findings} >= {
        "eager.latency_s",
        "compiled.latency_s",
        "speedup",
        "compiled.mae",
        "eager.success_rate",
    }


def test_another_cpu_is_the_portable_gate_and_seconds_are_information_only() -> None:
    eager, compiled = runs()
    recorded = baseline(eager, compiled)
    slow_eager, slow_compiled = runs(eager_s=0.6, compiled_s=0.4, paired_s=0.6, cpu_flags="avx,avx2,fma,avx512f,amx_tile")
    checked = check(comparison(slow_eager, slow_compiled), [recorded])
    assert checked.match.kind is GateKind.PORTABLE and not checked.gated
    assert any("cpu_flags" in change for change in checked.match.changes)
    shown = {f.metric: f.kind for f in checked.findings}
    assert shown["compiled.latency_s"] == "info" and shown["eager.latency_s"] == "info" and shown["speedup"] == "info"
    assert checked.verdict == "holds"  # 3x slower and a lower speedup: the machine, not a regression


@pytest.mark.parametrize("field", ["cpu_model", "device_name", "torch_threads", "cpu_count"])
def test_any_difference_of_where_is_portable(field: str) -> None:
    eager, compiled = runs()
    value: Any = 7 if field in ("torch_threads", "cpu_count") else "Other CPU"
    other = runs(**{field: value})
    assert select(comparison(*other), [baseline(eager, compiled)]).kind is GateKind.PORTABLE


def test_portable_gate_still_gates_mae_success_drift_and_flakiness() -> None:
    eager, compiled = runs()
    recorded = baseline(eager, compiled)
    other: dict[str, Any] = {"cpu_model": "Intel Xeon", "device_name": "Intel Xeon", "cpu_flags": "avx,avx2,avx512f,amx_tile"}
    worse_eager, worse_compiled = runs(mae=10.5, **other)
    assert notable(check(comparison(worse_eager, worse_compiled), [recorded]).findings) == {
        "eager.mae": "regression",
        "compiled.mae": "regression",
    }
    e, c = runs(**other)
    failing = dataclasses.replace(c, n_success=15, success_rate=0.75)
    assert notable(check(comparison(e, failing), [recorded]).findings)["compiled.success_rate"] == "regression"
    drifting = dataclasses.replace(c, drift_max_abs=1.0)
    assert notable(check(comparison(e, drifting), [recorded]).findings)["compiled.drift"] == "regression"
    flaky = dataclasses.replace(c, n_flaky=1, flip_rate=0.05)
    assert check(comparison(e, flaky), [recorded]).verdict == "flaky"


def test_another_torch_on_the_same_machine_is_an_upgrade_naming_the_change() -> None:
    eager, compiled = runs()
    recorded = baseline(eager, compiled)
    new_eager, new_compiled = runs(torch_version="2.14.1")
    checked = check(comparison(new_eager, new_compiled), [recorded])
    assert checked.match.kind is GateKind.UPGRADE and checked.gated and checked.verdict == "holds"
    assert checked.match.changes == ("torch 2.13.0+cpu → 2.14.1",)


def test_an_upgrade_that_slows_compiled_fails_naming_the_upgrade() -> None:
    eager, compiled = runs()
    recorded = baseline(eager, compiled)
    new_eager, new_compiled = runs(compiled_s=0.15, torch_version="2.14.1")
    checked = check(comparison(new_eager, new_compiled), [recorded])
    regressions = {f.metric: f.message for f in checked.regressions}
    assert set(regressions) == {"compiled.latency_s", "compiled.latency_p90_s", "speedup"}
    assert all(message.startswith("torch 2.13.0+cpu → 2.14.1: ") for message in regressions.values())
    assert "+50" in regressions["compiled.latency_s"] or "+4" in regressions["compiled.latency_s"]


@pytest.mark.parametrize(
    ("field", "value", "name"),
    [
        ("chronos_version", "2.4.0", "chronos"),
        ("transformers_version", "5.30.0", "transformers"),
        ("python_version", "3.12.1", "python"),
        ("numpy_version", "2.5.0", "numpy"),
        ("harness_version", "0.2.0", "harness"),
    ],
)
def test_every_dependency_is_part_of_the_software(field: str, value: str, name: str) -> None:
    eager, compiled = runs()
    changed: dict[str, Any] = {field: value}
    match = select(comparison(*runs(**changed)), [baseline(eager, compiled)])
    assert match.kind is GateKind.UPGRADE and match.changes[0].startswith(f"{name} ")


@pytest.mark.parametrize(
    ("version", "kind"),
    [("0.1.1", GateKind.FULL), ("0.1.0rc1", GateKind.FULL), ("0.2.0", GateKind.UPGRADE), ("1.1.0", GateKind.UPGRADE)],
)
def test_the_gate_counts_the_harness_by_major_minor_only(version: str, kind: GateKind) -> None:
    """The version policy: a patch release of the harness measures the same, so its baselines still get the full gate."""
    recorded = baseline(*runs())  # harness 0.1.0, as the factory records it
    assert select(comparison(*runs(harness_version=version)), [recorded]).kind is kind


def test_upgrade_compares_with_the_newest_baseline_of_the_machine_unless_against_says() -> None:
    old = baseline(*runs(torch_version="2.12.0"), created="2026-10-01T00:00:00+00:00")
    newer = baseline(*runs(torch_version="2.13.0+cpu"), created="2026-11-01T00:00:00+00:00")
    current = comparison(*runs(torch_version="2.14.1"))
    assert select(current, [old, newer]).baseline is newer
    assert select(current, [old, newer], against=parse_against("torch=2.12.0")).baseline is old
    assert select(current, [old, newer], against=parse_against("2.13.0")).baseline is newer  # "2.13.0" matches 2.13.0+cpu
    assert select(current, [old, newer], against=parse_against("torch=2.11.0")).kind is GateKind.NEW


@pytest.mark.parametrize("text", ["", "jax=1.0", "torch=", "=2.13.0"])
def test_against_rejects_what_it_cannot_name(text: str) -> None:
    with pytest.raises(ValueError, match="NAME=VERSION"):
        parse_against(text)


def test_same_machine_wins_over_same_software_elsewhere() -> None:
    here = baseline(*runs(torch_version="2.12.0"))
    elsewhere = baseline(*runs(cpu_model="Intel Xeon", device_name="Intel Xeon"))
    assert select(comparison(*runs()), [elsewhere, here]).kind is GateKind.UPGRADE


def test_nothing_recorded_for_these_settings_is_new() -> None:
    recorded = baseline(*runs())
    other_data = runs(data_sha256="e" * 64)
    assert select(comparison(*other_data), [recorded]).kind is GateKind.NEW


# --- broken numbers ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf])
@pytest.mark.parametrize("field", ["mae", "latency"])
@pytest.mark.parametrize("gate", ["full", "portable", "new"])
def test_a_non_finite_result_is_a_regression_under_every_gate(bad: float, field: str, gate: str) -> None:
    eager, compiled = runs()
    recorded = baseline(eager, compiled)
    env: dict[str, Any] = {"full": {}, "portable": {"cpu_model": "Intel Xeon"}, "new": {"data_sha256": "e" * 64}}[gate]
    e, c = runs(**env)
    c = dataclasses.replace(c, mae=bad) if field == "mae" else dataclasses.replace(c, latencies_s=[*c.latencies_s[:-1], bad])
    checked = check(comparison(e, c), [recorded])
    assert checked.verdict == "regression", checked.findings
    assert any(str(bad) in f.message or "nan" in f.message.lower() for f in checked.regressions)


def test_nan_drift_is_a_regression_not_a_pass() -> None:
    eager, compiled = runs()
    checked = check(comparison(eager, dataclasses.replace(compiled, drift_max_abs=math.nan)), [baseline(eager, compiled)])
    assert notable(checked.findings)["compiled.drift"] == "regression"


def test_nan_speedup_fails_the_speedup_check() -> None:
    eager, compiled = runs()
    broken = dataclasses.replace(compiled, paired_eager_latencies_s=[math.inf] * 19 + [0.2])
    checked = check(comparison(eager, broken), [baseline(eager, compiled)])
    assert checked.verdict == "regression"


# --- nothing disappears --------------------------------------------------------------------------------------------------


def test_every_baseline_of_this_machine_without_a_result_is_missing_whole_symbols_and_torch_versions_too() -> None:
    recorded = baseline(*runs())
    goog = baseline(*runs(symbol="GOOG"))
    newer_torch = baseline(*runs(torch_version="2.14.1"))
    changed_data = comparison(*runs(data_sha256="e" * 64))
    assert missing([changed_data], [recorded, goog]) == [recorded, goog]
    assert missing([comparison(*runs())], [recorded, goog, newer_torch]) == [newer_torch, goog]
    assert missing([comparison(*runs()), comparison(*runs(symbol="GOOG"))], [recorded, goog]) == []


def test_whole_symbols_of_another_machine_are_its_own_to_run() -> None:
    goog_elsewhere = baseline(*runs(symbol="GOOG", cpu_model="Other CPU", device_name="Other CPU"))
    btc_elsewhere = baseline(*runs(cpu_model="Other CPU", device_name="Other CPU"))
    assert missing([comparison(*runs())], [goog_elsewhere, btc_elsewhere]) == []
    assert missing([comparison(*runs(data_sha256="e" * 64))], [goog_elsewhere, btc_elsewhere]) == [btc_elsewhere]


def test_no_interleaved_pairs_against_an_interleaved_baseline_fails_the_speedup() -> None:
    eager, compiled = runs()
    unpaired = dataclasses.replace(compiled, paired_eager_latencies_s=[])
    checked = check(comparison(eager, unpaired), [baseline(eager, compiled)])
    assert notable(checked.findings)["speedup"] == "regression"


def test_eager_partner_failures_count_in_eager_success_rate() -> None:
    eager, compiled = runs()
    failing_partner = dataclasses.replace(
        compiled, paired_eager_latencies_s=[math.nan, math.nan, *compiled.paired_eager_latencies_s[2:]]
    )
    current = comparison(eager, failing_partner)
    assert current.eager is not None and current.eager.success_rate == pytest.approx(38 / 40)
    assert notable(check(current, [baseline(eager, compiled)]).findings)["eager.success_rate"] == "regression"


# --- eager latency needs two witnesses ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("session_s", "partner_s", "kind"), [(0.3, 0.3, "regression"), (0.3, 0.2, "swing"), (0.2, 0.3, "swing"), (0.2, 0.2, None)]
)
def test_eager_latency_fails_only_when_both_witnesses_agree(session_s: float, partner_s: float, kind: str | None) -> None:
    recorded = baseline(*runs())
    checked = check(comparison(*runs(eager_s=session_s, paired_s=partner_s)), [recorded])
    assert notable(checked.findings).get("eager.latency_s") == kind
    assert (checked.verdict == "regression") is (
        kind == "regression"
    )  # a slower partner alone raises the speedup: never a regression


def test_a_baseline_without_the_second_witness_reports_a_swing_not_a_regression() -> None:
    eager, compiled = runs()
    old = baseline(eager, compiled)
    old = dataclasses.replace(old, eager=dataclasses.replace(old.eager, partner_latency_median_s=None))
    checked = check(comparison(*runs(eager_s=0.3)), [old])
    assert notable(checked.findings) == {"eager.latency_s": "swing"}


# --- matrix upgrade table ---------------------------------------------------------------------------------------------------


def test_upgrade_findings_compare_the_newer_run_with_the_older() -> None:
    older = comparison(*runs())
    newer = comparison(*runs(compiled_s=0.2, torch_version="2.14.1"))
    found = upgrade_findings(older, newer, Tolerances())
    assert notable(found) == {"compiled.latency_s": "regression", "speedup": "regression"}
    assert all(f.message.startswith("torch 2.13.0+cpu → 2.14.1") for f in found if f.notable)


# --- ISA flags ----------------------------------------------------------------------------------------------------------------


def test_cpu_flags_keep_only_what_inductor_cares_about_in_a_fixed_order() -> None:
    cpuinfo = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx512f avx2 amx_tile fma avx\n"
    assert cpu_flags(cpuinfo) == "avx,avx2,fma,avx512f,amx_tile"
    assert cpu_flags("model name: x\n") == ""


# --- baselines with broken values: exit 2, one line ------------------------------------------------------------------------------


def _baseline_file(tmp_path: Path, edit: dict[str, Any]) -> Path:
    eager, compiled = runs()
    path, _ = write_baseline(tmp_path / "baselines", baseline(eager, compiled))
    data = json.loads(path.read_text())
    for dotted, value in edit.items():
        node = data
        *parents, last = dotted.split(".")
        for parent in parents:
            node = node[parent]
        node[last] = value
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        ({"speedup": math.nan}, "speedup"),
        ({"speedup": math.inf}, "speedup"),
        ({"compiled.mae": -math.inf}, "compiled.mae"),
        ({"eager.latency_median_s": "0.2"}, "eager.latency_median_s"),
        ({"tolerances.speedup_rel": "0.06"}, "tolerances.speedup_rel"),
        ({"tolerances.latency_rel": math.nan}, "tolerances.latency_rel"),
        ({"tolerances.mae_rel": -0.01}, "tolerances.mae_rel"),
        ({"what.context_length": "128"}, "what.context_length"),
        ({"what.context_length": True}, "what.context_length"),
        ({"where.cpu_flags": 3}, "where.cpu_flags"),
        ({"software.torch": None}, "software.torch"),
        ({"compiled.success_rate": 1.5}, "compiled.success_rate"),
    ],
)
def test_a_broken_baseline_value_is_an_input_error_naming_file_and_field(
    tmp_path: Path, edit: dict[str, Any], field: str
) -> None:
    path = _baseline_file(tmp_path, edit)
    with pytest.raises(InputError) as caught:
        read_baseline(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and f"field {field} " in message and "fix:" in message and "\n" not in message


def test_format_2_key_with_a_string_context_length_is_an_input_error(tmp_path: Path) -> None:
    committed = sorted(Path("baselines").glob("BTCUSD__chronos-bench-mini__torch-2.13.0*.json"))
    data = json.loads(committed[0].read_text()) if committed else None
    if data is None or data.get("format_version") != 2:
        data = {
            "format_version": 2,
            "key": {
                "symbol": "BTCUSD",
                "model_id": "m",
                "torch_version": "2.13.0",
                "device": "cpu:X x2",
                "context_length": 128,
                "batch_size": 1,
                "prediction_length": 7,
                "data_sha256": "f",
                "compile_config": "c",
            },
            "speedup": 1.2,
            "mae_diff_pct": 0.0,
            "eager": {"success_rate": 1.0, "latency_median_s": 0.1, "mae": 1.0, "mae_pct": 1.0},
            "compiled": {"success_rate": 1.0, "latency_median_s": 0.1, "mae": 1.0, "mae_pct": 1.0},
        }
    data["key"]["context_length"] = "128"
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"field key\.context_length"):
        read_baseline(path)


def test_format_2_reads_with_isa_flags_not_recorded_and_is_checked_portably(tmp_path: Path) -> None:
    eager, compiled = runs()
    body = json.loads(render(baseline(eager, compiled)))
    old = {
        "format_version": 2,
        "key": {
            "symbol": "BTCUSD",
            "model_id": "tiny",
            "torch_version": "2.13.0+cpu",
            "device": "cpu:Test CPU x2",
            "context_length": 128,
            "batch_size": 256,
            "prediction_length": 7,
            "data_sha256": "f" * 64,
            "compile_config": compiled_config(compiled),
        },
        **{k: body[k] for k in ("speedup", "speedup_method", "mae_diff_pct", "eager", "compiled", "tolerances")},
        "provenance": {
            "fingerprint": {"cpu_model": "Test CPU", "cpu_count": 2, "chronos_version": "2.3.2", "weights_sha256": "0" * 64}
        },
    }
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    read = read_baseline(path)
    assert read.key.where.cpu_flags == "" and read.key.what.weights_sha256 == "0" * 64
    assert select(comparison(eager, compiled), [read]).kind is GateKind.PORTABLE


def compiled_config(record: RunRecord) -> str:
    return key_of(record).compile_config


# --- the CLI: exit codes, strict, refresh refused then accepted --------------------------------------------------------------------


def _write(results: Path, eager: RunRecord, compiled: RunRecord, name: str) -> None:
    """Each file its own runs (the reader drops a run id seen twice, as when two artifacts overlap)."""
    write_records(
        [
            dataclasses.replace(eager, run_id=f"{name}-{eager.run_id}"),
            dataclasses.replace(compiled, run_id=f"{name}-{compiled.run_id}"),
        ],
        results,
        name=name,
    )


def _bench_dirs(tmp_path: Path, **env: Any) -> tuple[Path, Path]:
    results, baselines = tmp_path / "results", tmp_path / "baselines"
    eager, compiled = runs(**env)
    _write(results, eager, compiled, "first")
    assert main(["update-baselines", "--reason", "test", "--results-dir", str(results), "--baselines-dir", str(baselines)]) == 0
    return results, baselines


def _edit(baselines: Path, edit: dict[str, Any]) -> None:
    (path,) = baselines.glob("*.json")
    data = json.loads(path.read_text())
    for dotted, value in edit.items():
        node = data
        *parents, last = dotted.split(".")
        for parent in parents:
            node = node[parent]
        node[last] = value(node[last]) if callable(value) else value
    path.write_text(json.dumps(data))


def test_cli_portable_gate_exits_0_and_says_what_it_did_not_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, baselines = _bench_dirs(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    _write(
        elsewhere, *runs(eager_s=0.5, compiled_s=0.45, paired_s=0.5, cpu_model="Intel Xeon", device_name="Intel Xeon"), "other"
    )
    capsys.readouterr()
    assert main(["compare", "--results-dir", str(elsewhere), "--baselines-dir", str(baselines)]) == 0
    out = capsys.readouterr().out
    assert (
        "portable gate" in out
        and "not gated here: latency and speedup" in out
        and "update_baselines" in out
        and "1 portable" in out
    )


def test_cli_portable_gate_with_mae_5_percent_better_baseline_exits_1_naming_mae(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, baselines = _bench_dirs(tmp_path)
    _edit(baselines, {"eager.mae": lambda v: v * 0.95, "compiled.mae": lambda v: v * 0.95})
    elsewhere = tmp_path / "elsewhere"
    _write(elsewhere, *runs(cpu_model="Intel Xeon", device_name="Intel Xeon"), "other")
    assert main(["compare", "--results-dir", str(elsewhere), "--baselines-dir", str(baselines)]) == 1
    assert "REGRESSION: compiled MAE" in capsys.readouterr().out


def test_cli_upgrade_holds_then_fails_on_a_raised_speedup_naming_both(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results, baselines = _bench_dirs(tmp_path)
    _edit(baselines, {"software.transformers": "5.0.0"})
    assert main(["compare", "--results-dir", str(results), "--baselines-dir", str(baselines)]) == 0
    out = capsys.readouterr().out
    assert "upgrade gate (transformers 5.0.0 → 5.24.0)" in out and "1 upgrade" in out
    _edit(baselines, {"speedup": lambda v: v * 1.5})
    assert main(["compare", "--results-dir", str(results), "--baselines-dir", str(baselines)]) == 1
    assert "REGRESSION: transformers 5.0.0 → 5.24.0: speedup" in capsys.readouterr().out


def test_cli_nan_mae_in_a_result_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results, baselines = _bench_dirs(tmp_path)
    eager, compiled = runs()
    _write(
        results,
        dataclasses.replace(eager, timestamp_utc="2026-11-26T00:00:00+00:00", run_id="later-e"),
        dataclasses.replace(compiled, mae=math.nan, timestamp_utc="2026-11-26T00:00:01+00:00", run_id="later-c"),
        "second",
    )
    assert main(["compare", "--results-dir", str(results), "--baselines-dir", str(baselines)]) == 1
    assert "compiled mae is nan" in capsys.readouterr().out


@pytest.mark.parametrize("edit", [{"speedup": math.nan}, {"tolerances.speedup_rel": "6%"}])
def test_cli_broken_baseline_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: dict[str, Any]
) -> None:
    results, baselines = _bench_dirs(tmp_path)
    _edit(baselines, edit)
    capsys.readouterr()
    assert main(["compare", "--results-dir", str(results), "--baselines-dir", str(baselines)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and next(iter(edit)) in err[0] and "fix:" in err[0]


def test_cli_strict_fails_on_a_missing_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, baselines = _bench_dirs(tmp_path)
    changed = tmp_path / "changed"
    _write(changed, *runs(data_sha256="e" * 64), "changed")
    assert main(["compare", "--results-dir", str(changed), "--baselines-dir", str(baselines)]) == 0
    out = capsys.readouterr().out
    assert "missing: " in out and "1 new, 1 missing" in out
    assert main(["compare", "--strict", "--results-dir", str(changed), "--baselines-dir", str(baselines)]) == 2


def test_cli_against_an_unrecorded_version_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results, baselines = _bench_dirs(tmp_path)
    assert main(["compare", "--against", "torch=2.1.0", "--results-dir", str(results), "--baselines-dir", str(baselines)]) == 2
    assert "--against torch=2.1.0" in capsys.readouterr().err


def test_cli_matrix_prints_the_upgrade_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results"
    _write(results, *runs(), "old")
    _write(results, *runs(compiled_s=0.2, torch_version="2.14.1"), "new")
    assert (
        main(["compare", "--results-dir", str(results), "--baselines-dir", str(tmp_path / "none")]) == 2
    )  # no baselines dir: input error
    assert main(["compare", "--results-dir", str(results), "--baselines-dir", str(tmp_path)]) == 0  # empty: both new
    out = capsys.readouterr().out
    assert "upgrade torch 2.13.0+cpu → 2.14.1" in out and "torch 2.13.0+cpu  torch 2.14.1" in out
    assert "worse: torch 2.13.0+cpu → 2.14.1: speedup" in out and "shown, not gated" in out


def test_cli_refresh_is_refused_on_a_regression_then_accepted_with_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results, baselines = _bench_dirs(tmp_path)
    (path,) = baselines.glob("*.json")
    before = path.read_text()
    eager, compiled = runs(compiled_s=0.2)
    _write(
        results,
        dataclasses.replace(eager, timestamp_utc="2026-11-26T00:00:00+00:00", run_id="slow-e"),
        dataclasses.replace(compiled, timestamp_utc="2026-11-26T00:00:01+00:00", run_id="slow-c"),
        "slow",
    )
    argv = ["update-baselines", "--reason", "refresh", "--results-dir", str(results), "--baselines-dir", str(baselines)]
    capsys.readouterr()
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "refused: compiled latency" in out and "old" in out and "new" in out and path.read_text() == before
    assert main([*argv, "--accept", "compiled got slower on purpose"]) == 0
    data = json.loads(path.read_text())
    assert data["provenance"]["accepted"]["why"] == "compiled got slower on purpose"
    assert data["provenance"]["replaces"]["values"]["speedup"] == pytest.approx(json.loads(before)["speedup"], rel=1e-6)
    assert data["eager"]["partner_latency_median_s"] == pytest.approx(0.2, rel=0.03)


def test_cli_refresh_refuses_a_run_with_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results, baselines = tmp_path / "results", tmp_path / "baselines"
    eager, compiled = runs()
    _write(results, eager, dataclasses.replace(compiled, status=RunStatus.FAIL_ACCURACY, drift_max_abs=1.0), "bad")
    argv = ["update-baselines", "--reason", "first", "--results-dir", str(results), "--baselines-dir", str(baselines)]
    assert main(argv) == 1
    assert "compiled status fail_accuracy" in capsys.readouterr().out and not list(baselines.glob("*.json"))
    assert main([*argv, "--accept", "bf16 drifts by design"]) == 0


def test_a_matrix_version_meets_its_own_torch_after_another_dependency_moved() -> None:
    older_torch = baseline(*runs(), created="2026-11-01T00:00:00+00:00")
    newer_torch = baseline(*runs(torch_version="2.14.1"), created="2026-11-02T00:00:00+00:00")
    match = select(comparison(*runs(python_version="3.11.9")), [older_torch, newer_torch])
    assert match.kind is GateKind.UPGRADE and match.baseline is older_torch and match.changes == ("python 3.11.7 → 3.11.9",)
    elsewhere = select(comparison(*runs(python_version="3.11.9", cpu_model="Intel Xeon")), [older_torch, newer_torch])
    assert elsewhere.kind is GateKind.PORTABLE and elsewhere.baseline is older_torch


def test_a_baseline_file_honours_the_umask(tmp_path: Path) -> None:
    import os

    old = os.umask(0o022)
    try:
        path, _ = write_baseline(tmp_path, baseline(*runs()))
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
