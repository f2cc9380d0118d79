"""harness.gate.baseline_files: the committed JSON files, their names, round trips, diffs and bad files."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import shutil
from typing import TYPE_CHECKING, Any

import pytest

from harness.base.errors import InputError
from harness.gate import baseline_files as baselines
from harness.gate.baseline import Baseline, ModeBaseline, Tolerances
from harness.gate.comparison import INTERLEAVED, SEPARATE, build_comparisons
from harness.gate.matching import GateKind, select
from harness.results.keys import Key, Software, What, Where, key_of
from tests.conftest import ROOT
from tests.factories import make_record

if TYPE_CHECKING:
    from pathlib import Path

PROVENANCE: dict[str, object] = {
    "created_utc": "2026-11-25T12:00:00+00:00",
    "reason": "first baseline",
    "git_commit": "abc123",
    "run_ids": ["run-compiled", "run-eager"],
    "model_trained": False,
    "fingerprint": {"torch_version": "2.13.0+cpu", "cpu_count": 2},
}


_PARTS = {
    part: {f.name for f in dataclasses.fields(cls)} for part, cls in (("what", What), ("where", Where), ("software", Software))
}


def make_key(**changes: Any) -> Key:
    """The factory's compiled key with ``changes`` made in whichever part holds each field (``torch_version`` means software.torch)."""
    key = key_of(make_record("compiled"))
    parts: dict[str, dict[str, Any]] = {part: {} for part in _PARTS}
    for name, value in changes.items():
        name = "torch" if name == "torch_version" else name
        (part,) = [part for part, names in _PARTS.items() if name in names]
        parts[part][name] = value
    return Key(
        what=dataclasses.replace(key.what, **parts["what"]),
        where=dataclasses.replace(key.where, **parts["where"]),
        software=dataclasses.replace(key.software, **parts["software"]),
    )


def make_baseline(**changes: Any) -> Baseline:
    base = Baseline(
        key=make_key(),
        eager=ModeBaseline(success_rate=1.0, latency_median_s=0.2, mae=10.0, mae_pct=9.90099),
        compiled=ModeBaseline(success_rate=1.0, latency_median_s=0.1, mae=10.1, mae_pct=10.0),
        speedup=2.0,
        mae_diff_pct=1.0,
        tolerances=Tolerances(speedup_rel=0.2, latency_rel=0.25, mae_rel=0.05, success_rate_abs=0.0),
        provenance=PROVENANCE,
    )
    return dataclasses.replace(base, **changes)


def rendered(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(baselines.render(make_baseline()))
    data.update(changes)
    return data


def legacy(format_version: int) -> dict[str, Any]:
    """make_baseline() as a format-1/2 file wrote it: one flat key, the rest of where and software in the fingerprint."""
    key = make_key()
    data = rendered(format_version=format_version)
    for part in ("what", "where", "software"):
        del data[part]
    del data["eager"]["partner_latency_median_s"]
    data["key"] = {
        "symbol": key.symbol,
        "model_id": key.model_id,
        "torch_version": key.torch_version,
        "device": key.device,
        "context_length": key.context_length,
        "batch_size": key.batch_size,
        "prediction_length": key.prediction_length,
        "data_sha256": key.data_sha256,
        "compile_config": key.compile_config,
    }
    data["provenance"] = {
        **PROVENANCE,
        "fingerprint": {
            "harness_version": "0.1.0",
            "python_version": "3.11.7",
            "torch_version": "2.13.0+cpu",
            "chronos_version": "2.3.2",
            "transformers_version": "5.24.0",
            "numpy_version": "2.4.6",
            "device_type": "cpu",
            "device_name": "Test CPU",
            "cpu_model": "Test CPU",
            "cpu_count": 2,
            "torch_threads": 2,
            "cuda_version": "",
            "cuda_driver": "",
            "weights_sha256": "0" * 64,
        },
    }
    if format_version == 1:
        del data["speedup_method"]
        for mode in ("eager", "compiled"):
            del data[mode]["flip_rate"]
    return data


def assert_rejected(path: Path, *needles: str) -> None:
    with pytest.raises(InputError) as excinfo:
        baselines.read_baseline(path)
    message = str(excinfo.value)
    assert str(path) in message, message
    assert "fix" in message, message
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"


# --- names ------------------------------------------------------------------------------------------


def test_file_name_is_readable_and_stable() -> None:
    name = baselines.file_name(make_key())
    assert re.fullmatch(r"BTCUSD__tiny__torch-2\.13\.0-cpu__[0-9a-f]{10}\.json", name), name
    assert baselines.file_name(make_key()) == name


def test_file_name_sanitises_hub_ids() -> None:
    assert baselines.file_name(make_key(model_id="amazon/chronos-2")).startswith("BTCUSD__amazon-chronos-2__torch-2.13.0-cpu__")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("compile_config", "mode=max-autotune,backend=inductor,dynamic=auto,attn=eager"),
        ("device_type", "cuda"),
        ("device_name", "H100"),
        ("cpu_flags", "avx,avx2,fma,avx512f"),
        ("torch_threads", 8),
        ("chronos", "2.4.0"),
        ("weights_sha256", "1" * 64),
        ("context_length", 64),
        ("data_sha256", "e" * 64),
        ("torch_version", "2.12.0+cpu"),
        ("symbol", "GOOG"),
    ],
)
def test_file_name_differs_per_key(field: str, value: object) -> None:
    assert baselines.file_name(make_key(**{field: value})) != baselines.file_name(make_key())


# --- render / read / write ------------------------------------------------------------------------


def test_render_read_round_trip(tmp_path: Path) -> None:
    original = make_baseline()
    path = tmp_path / "b.json"
    path.write_text(baselines.render(original), encoding="utf-8")
    assert baselines.read_baseline(path) == original


def test_render_is_readable_json() -> None:
    text = baselines.render(make_baseline())
    data = json.loads(text)
    assert text.endswith("\n")
    assert data["format_version"] == baselines.FORMAT_VERSION == 4
    assert "key" not in data
    assert data["what"]["symbol"] == "BTCUSD"
    assert data["where"]["cpu_flags"] == "avx,avx2,fma"
    assert data["software"]["torch"] == "2.13.0+cpu"
    assert data["compiled"]["latency_median_s"] == 0.1
    assert data["tolerances"]["latency_rel"] == 0.25


def test_render_rounds_to_six_significant_digits(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(baselines.render(make_baseline(speedup=2.00000012345)), encoding="utf-8")
    assert baselines.read_baseline(path).speedup == 2.0


def test_a_baseline_without_eager_latency_is_neither_written_nor_read(tmp_path: Path) -> None:
    """It would pass any eager run (success 0, no latency, no MAE): refused both ways, and nothing is left behind."""
    original = make_baseline(
        eager=ModeBaseline(success_rate=0.0, latency_median_s=None, mae=None, mae_pct=None), speedup=None, mae_diff_pct=None
    )
    with pytest.raises(InputError, match=r"not written: field eager.success_rate 0 would pass any run.*; fix: bench until"):
        baselines.write_baseline(tmp_path, original)
    assert list(tmp_path.iterdir()) == []
    path = tmp_path / "b.json"
    path.write_text(baselines.render(original), encoding="utf-8")
    with pytest.raises(InputError, match=r"field eager.success_rate 0 would pass any run"):
        baselines.read_baseline(path)


def test_round_trip_of_the_interleaved_partner_median(tmp_path: Path) -> None:
    eager = ModeBaseline(success_rate=1.0, latency_median_s=0.2, mae=10.0, mae_pct=9.90099, partner_latency_median_s=0.21)
    original = make_baseline(eager=eager, speedup_method=INTERLEAVED)
    path = tmp_path / "b.json"
    path.write_text(baselines.render(original), encoding="utf-8")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["eager"]["partner_latency_median_s"] == 0.21
    assert "partner_latency_median_s" not in data["compiled"]  # only eager has a second witness
    assert baselines.read_baseline(path) == original


def test_write_returns_a_diff_and_rewriting_the_same_gives_none(tmp_path: Path) -> None:
    path, diff = baselines.write_baseline(tmp_path, make_baseline())
    assert path == tmp_path / baselines.file_name(make_key())
    assert diff.startswith(f"--- a/{path.name}\n+++ b/{path.name}\n")
    assert '+  "speedup": 2.0,' in diff
    again_path, again = baselines.write_baseline(tmp_path, make_baseline(), replace=path)
    assert again_path == path
    assert again == ""
    assert os.listdir(tmp_path) == [path.name]  # no temp file left


def test_write_diff_shows_the_change(tmp_path: Path) -> None:
    path, _ = baselines.write_baseline(tmp_path, make_baseline())
    _, diff = baselines.write_baseline(tmp_path, make_baseline(speedup=1.8), replace=path)
    assert '-  "speedup": 2.0,' in diff
    assert '+  "speedup": 1.8,' in diff
    assert baselines.read_baseline(path).speedup == 1.8


def test_baseline_from_a_comparison_round_trips(tmp_path: Path) -> None:
    (comparison,), _ = build_comparisons(
        [
            make_record("eager", latencies=[0.2] * 5),
            make_record("compiled", latencies=[0.1] * 5, paired_eager_latencies_s=[0.25] * 5),
        ]
    )
    made = baselines.baseline_from(comparison, tolerances=Tolerances(), provenance=PROVENANCE)
    path, _ = baselines.write_baseline(tmp_path, made)
    back = baselines.read_baseline(path)
    assert back.key == comparison.key
    assert back.speedup == 2.5 and back.speedup_method == INTERLEAVED
    assert back.compiled.latency_median_s == 0.1
    assert back.eager.mae == 10.0
    assert back.eager.partner_latency_median_s == 0.25
    assert back.compiled.partner_latency_median_s is None


# --- load_baselines and bad files -----------------------------------------------------------------


def test_load_baselines_maps_keys_to_files(tmp_path: Path) -> None:
    first, _ = baselines.write_baseline(tmp_path, make_baseline())
    other = make_baseline(key=make_key(symbol="GOOG"))
    second, _ = baselines.write_baseline(tmp_path, other)
    loaded = baselines.load_baselines(tmp_path)
    assert loaded == {make_key(): (make_baseline(), first), other.key: (other, second)}


def test_load_baselines_of_an_empty_dir(tmp_path: Path) -> None:
    assert baselines.load_baselines(tmp_path) == {}


def test_load_baselines_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(InputError) as excinfo:
        baselines.load_baselines(tmp_path / "baselines")
    assert str(tmp_path / "baselines") in str(excinfo.value)
    assert "update_baselines" in str(excinfo.value)


def test_two_files_with_the_same_key(tmp_path: Path) -> None:
    path, _ = baselines.write_baseline(tmp_path, make_baseline())
    copy = tmp_path / "copy.json"
    shutil.copy(path, copy)
    with pytest.raises(InputError) as excinfo:
        baselines.load_baselines(tmp_path)
    assert path.name in str(excinfo.value)
    assert copy.name in str(excinfo.value)
    assert "fix" in str(excinfo.value)


@pytest.mark.parametrize("text", ['{"format_version": 1,', "", "not json"], ids=["truncated", "empty", "text"])
def test_malformed_json(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    assert_rejected(path, "not a readable baseline")


def test_malformed_json_fails_load_baselines(tmp_path: Path) -> None:
    baselines.write_baseline(tmp_path, make_baseline())
    (tmp_path / "zz.json").write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match=r"zz\.json"):
        baselines.load_baselines(tmp_path)


@pytest.mark.parametrize("field", ["what", "where", "software", "eager", "compiled", "speedup", "mae_diff_pct"])
def test_missing_field(tmp_path: Path, field: str) -> None:
    data = rendered()
    del data[field]
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert_rejected(path, f"field {field} missing")


@pytest.mark.parametrize(
    ("part", "field"), [("software", "torch"), ("what", "data_sha256"), ("where", "cpu_flags"), ("eager", "success_rate")]
)
def test_missing_key_field(tmp_path: Path, part: str, field: str) -> None:
    data = rendered()
    del data[part][field]
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert_rejected(path, f"field {part}.{field} missing")


def test_missing_format_2_key_field(tmp_path: Path) -> None:
    data = legacy(2)
    del data["key"]["torch_version"]
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert_rejected(path, "field key.torch_version missing")


def test_unknown_tolerance(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps(rendered(tolerances={"speed": 0.1})), encoding="utf-8")
    assert_rejected(path, "field tolerances.speed unknown field")


@pytest.mark.parametrize(
    ("part", "field", "value", "needle"),
    [
        ("", "speedup", math.nan, "field speedup nan is not a finite number"),
        ("", "speedup", math.inf, "field speedup inf is not a finite number"),
        ("", "speedup", "2.0", "field speedup '2.0' is a str, expected a number"),
        ("", "mae_diff_pct", True, "field mae_diff_pct True is a bool, expected a number"),
        ("", "speedup_method", 2, "field speedup_method 2 is not 'separate sessions' or 'interleaved'"),
        ("eager", "latency_median_s", -math.inf, "field eager.latency_median_s -inf is not a finite number"),
        ("eager", "partner_latency_median_s", math.nan, "field eager.partner_latency_median_s nan is not a finite number"),
        ("compiled", "success_rate", 1.5, "field compiled.success_rate 1.5 is outside [0.0, 1.0]"),
        ("compiled", "success_rate", None, "field compiled.success_rate null, expected a number"),
        ("compiled", "mae", "fast", "field compiled.mae 'fast' is a str, expected a number"),
        ("compiled", "speed", 1.0, "field compiled.speed unknown field"),
        ("tolerances", "latency_rel", math.nan, "field tolerances.latency_rel nan is not a finite number"),
        ("what", "context_length", "128", "field what.context_length '128' is a str, expected an integer"),
        ("what", "batch_size", 256.0, "field what.batch_size 256.0 is a float, expected an integer"),
        ("where", "cpu_count", True, "field where.cpu_count True is a bool, expected an integer"),
        ("software", "torch", 2.13, "field software.torch 2.13 is a float, expected a string"),
    ],
)
def test_bad_values_name_the_field(tmp_path: Path, part: str, field: str, value: object, needle: str) -> None:
    data = rendered()
    (data[part] if part else data)[field] = value
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert_rejected(path, needle)


@pytest.mark.parametrize("part", ["what", "where", "software", "eager", "tolerances", "provenance"])
def test_a_part_that_is_not_an_object(tmp_path: Path, part: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps(rendered(**{part: [1, 2]})), encoding="utf-8")
    assert_rejected(path, f"field {part} [1, 2] is not an object")


def test_format_2_device_that_does_not_parse(tmp_path: Path) -> None:
    data = legacy(2)
    data["key"]["device"] = "Test CPU"
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert_rejected(path, "field key.device 'Test CPU' is not TYPE:NAME xTHREADS")


@pytest.mark.parametrize("version", [5, 0, "1", None, True], ids=repr)
def test_wrong_format_version(tmp_path: Path, version: object) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps(rendered(format_version=version)), encoding="utf-8")
    assert_rejected(path, "format_version", repr(version))


@pytest.mark.parametrize("content", [[1, 2], "baseline", 3], ids=["list", "str", "int"])
def test_json_that_is_not_an_object(tmp_path: Path, content: object) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    assert_rejected(path, "not a baseline")


def test_format_1_reads_as_a_speedup_measured_across_sessions(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps(legacy(1)), encoding="utf-8")
    back = baselines.read_baseline(path)
    assert back.speedup_method == SEPARATE and back.compiled.flip_rate == 0.0
    assert back.eager.partner_latency_median_s is None


@pytest.mark.parametrize("version", [1, 2])
def test_formats_1_and_2_read_their_flat_key_into_what_where_and_software(tmp_path: Path, version: int) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps(legacy(version)), encoding="utf-8")
    back = baselines.read_baseline(path)
    key = make_key()
    assert back.key.what == key.what  # weights from the fingerprint
    assert back.key.software == key.software
    assert back.key.where == dataclasses.replace(key.where, cpu_flags="")  # ISA flags were not recorded before format 3
    assert back.key.device == "cpu:Test CPU x2"
    # so the same machine's run is checked by the portable gate until the baseline is refreshed
    (comparison,), _ = build_comparisons([make_record("eager"), make_record("compiled")])
    match = select(comparison, [back])
    assert match.kind is GateKind.PORTABLE
    assert match.changes == ("cpu_flags: not recorded (baseline) vs avx,avx2,fma (this run)",)


def test_new_baselines_record_how_the_speedup_was_measured() -> None:
    data = rendered()
    assert data["format_version"] == 4 and data["speedup_method"] in (SEPARATE, INTERLEAVED)
    assert "flip_rate" in data["compiled"] and "flip_rate" in data["eager"]
    assert "partner_latency_median_s" in data["eager"]


def test_missing_tolerances_and_provenance_default(tmp_path: Path) -> None:
    data = rendered()
    del data["tolerances"], data["provenance"]
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    back = baselines.read_baseline(path)
    assert back.tolerances == Tolerances()
    assert back.provenance == {}


# --- the committed baselines ----------------------------------------------------------------------

COMMITTED = sorted((ROOT / "baselines").glob("*.json"))


def _reject_constant(name: str) -> float:
    raise AssertionError(f"{name} in a committed baseline")


def _format_2_file_name(data: dict[str, Any]) -> str:
    """The name format-2 files were written under: the same scheme, hashing the flat key."""
    key = data["key"]
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
    model = re.sub(r"[^A-Za-z0-9._-]+", "-", key["model_id"]).strip("-")
    torch_version = re.sub(r"[^A-Za-z0-9._-]+", "-", key["torch_version"])
    return f"{key['symbol']}__{model}__torch-{torch_version}__{digest}.json"


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_committed_baseline(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"), parse_constant=_reject_constant)  # no NaN / Infinity
    baseline = baselines.read_baseline(path)
    assert data["format_version"] in (2, 3)
    if data["format_version"] == 3:
        assert path.name == baselines.file_name(baseline.key)
    else:
        assert path.name == _format_2_file_name(data)
        assert baseline.key.where.cpu_flags == ""  # not recorded before format 3
    for field in ("created_utc", "reason", "git_commit", "run_ids", "fingerprint"):
        assert field in baseline.provenance, f"provenance lacks {field}"
    assert baseline.provenance["reason"]
    assert baseline.provenance["run_ids"]
    assert isinstance(baseline.provenance["fingerprint"], dict)
    for value in (baseline.speedup, baseline.eager.latency_median_s, baseline.compiled.latency_median_s):
        assert isinstance(value, (int, float)), value
        assert not isinstance(value, bool), value
        assert math.isfinite(value), value
        assert value > 0, value
    for value in (baseline.mae_diff_pct, baseline.eager.mae, baseline.compiled.mae):
        assert value is None or math.isfinite(value), value
