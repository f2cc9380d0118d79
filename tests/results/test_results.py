"""harness.results.store: the Parquet schema, atomic never-overwriting writes, and reading bad files as InputErrors."""

from __future__ import annotations

import dataclasses
import errno
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness.base.errors import InputError
from harness.results.schema import SCHEMA, SCHEMA_VERSION, RunRecord
from harness.results.store import _V2_COLUMNS, read_file, read_records, write_records
from tests.factories import make_record, replace


def sample_records() -> list[RunRecord]:
    """An eager run, a compiled run, and a compiled run that failed: list columns full and empty, Nones."""
    eager = make_record("eager", latencies=[0.2, 0.21, 0.19], timestamp_utc="2026-11-25T12:00:00+00:00", run_id="r1")
    compiled = make_record(
        "compiled", latencies=[0.1, 0.12, 0.11], mae=10.25, timestamp_utc="2026-11-25T12:05:00+00:00", run_id="r2"
    )
    failed = replace(
        make_record("compiled", latencies=[], timestamp_utc="2026-11-25T12:10:00+00:00", run_id="r3"),
        status="fail_exception",
        error_type="RuntimeError",
        error_message="inductor: boom",
        first_call_s=None,
        compile_s=None,
        forecast_close=[],
        mae=None,
        mae_pct=None,
        naive_mae_pct=None,
    )
    return [eager, compiled, failed]


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_record_fields_mirror_the_schema_in_order() -> None:
    assert [f.name for f in dataclasses.fields(RunRecord)] == SCHEMA.names


def test_schema_carries_its_version() -> None:
    assert SCHEMA.metadata[b"harness_schema_version"] == str(SCHEMA_VERSION).encode()


def test_round_trip(tmp_path: Path) -> None:
    records = sample_records()
    path = write_records(records, tmp_path, name="run-1")
    assert path == tmp_path / "run-1.parquet"
    back = read_records(tmp_path)
    assert back == records
    assert back[2].latencies_s == []
    assert back[2].mae is None
    assert back[2].latency_median_s is None
    assert back[1].latencies_s == [0.1, 0.12, 0.11]


def test_read_records_merges_files_recursively_oldest_first(tmp_path: Path) -> None:
    eager, compiled, failed = sample_records()
    write_records([failed], tmp_path / "a", name="late")
    write_records([compiled, eager], tmp_path / "b" / "c", name="early")
    assert [r.run_id for r in read_records(tmp_path)] == ["r1", "r2", "r3"]


def test_empty_results_dir_gives_no_records(tmp_path: Path) -> None:
    assert read_records(tmp_path) == []


def test_write_refuses_to_overwrite_and_leaves_the_file_intact(tmp_path: Path) -> None:
    first = write_records(sample_records()[:1], tmp_path, name="run-1")
    before = first.read_bytes()
    with pytest.raises(InputError) as excinfo:
        write_records(sample_records()[1:], tmp_path, name="run-1")
    assert str(first) in str(excinfo.value)
    assert "fix" in str(excinfo.value)
    assert first.read_bytes() == before
    assert [r.run_id for r in read_records(tmp_path)] == ["r1"]
    assert os.listdir(tmp_path) == ["run-1.parquet"]


def test_write_leaves_no_temp_files(tmp_path: Path) -> None:
    write_records(sample_records(), tmp_path, name="run-1")
    write_records(sample_records(), tmp_path, name="run-2")
    assert sorted(os.listdir(tmp_path)) == ["run-1.parquet", "run-2.parquet"]


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def half_written(table: pa.Table, where: str) -> None:
        Path(where).write_bytes(b"PAR1 half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq, "write_table", half_written)
    with pytest.raises(InputError, match=r"run-1.parquet: not written \(No space left on device\); fix: free space"):
        write_records(sample_records(), tmp_path, name="run-1")
    assert os.listdir(tmp_path) == []


def test_corrupted_file_is_an_input_error_and_the_others_are_untouched(tmp_path: Path) -> None:
    write_records(sample_records(), tmp_path, name="good")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(np.random.default_rng(7).integers(0, 256, size=4096, dtype=np.uint8).tobytes())
    before = snapshot(tmp_path)
    with pytest.raises(InputError) as excinfo:
        read_records(tmp_path)
    assert str(bad) in str(excinfo.value)
    assert "not Parquet (no PAR1 magic bytes at its start)" in str(excinfo.value)
    assert "fix" in str(excinfo.value)
    assert snapshot(tmp_path) == before


def test_empty_parquet_file_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "empty.parquet").write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.parquet"):
        read_records(tmp_path)


@pytest.mark.parametrize(
    "metadata", [{b"harness_schema_version": b"8"}, {b"harness_schema_version": b"0"}, None], ids=["v8", "v0", "none"]
)
def test_wrong_schema_version_is_an_input_error(tmp_path: Path, metadata: dict[bytes, bytes] | None) -> None:
    table = pa.Table.from_pylist([dataclasses.asdict(r) for r in sample_records()], schema=SCHEMA).replace_schema_metadata(
        metadata
    )
    path = tmp_path / "old.parquet"
    pq.write_table(table, path)
    with pytest.raises(InputError) as excinfo:
        read_file(path)
    message = str(excinfo.value)
    assert str(path) in message
    assert "schema version" in message
    assert "reads versions 1, 2, 3" in message


def test_version_1_files_still_read_with_the_new_columns_empty(tmp_path: Path) -> None:
    v1_columns = [name for name in SCHEMA.names if name not in _V2_COLUMNS]
    rows = [{k: v for k, v in dataclasses.asdict(r).items() if k in v1_columns} for r in sample_records()]
    table = pa.Table.from_pylist(
        rows, schema=pa.schema([SCHEMA.field(n) for n in v1_columns], metadata={b"harness_schema_version": b"1"})
    )
    pq.write_table(table, tmp_path / "v1.parquet")
    records = read_file(tmp_path / "v1.parquet")
    assert len(records) == len(rows)
    assert all(
        r.paired_eager_latencies_s == [] and r.reference_s == [] and r.n_flaky == 0 and r.drift_max_abs is None for r in records
    )
    assert all(r.cpu_flags == "" for r in records)  # not recorded: the ISA flags came with version 3
    assert [r.latencies_s for r in records] == [r.latencies_s for r in sample_records()]


def test_versions_2_and_3_added_exactly_the_new_columns() -> None:
    assert {
        "paired_eager_latencies_s",
        "reference_s",
        "n_flaky",
        "flip_rate",
        "drift_max_abs",
        "drift_tolerance_abs",
    } <= _V2_COLUMNS
    assert "cpu_flags" in _V2_COLUMNS  # version 3
    assert not {"latencies_s", "mae", "torch_version", "cuda_driver"} & _V2_COLUMNS


def test_version_2_files_still_read_without_cpu_flags(tmp_path: Path) -> None:
    v2_columns = [name for name in SCHEMA.names if name != "cpu_flags"]
    rows = [{k: v for k, v in dataclasses.asdict(r).items() if k in v2_columns} for r in sample_records()]
    table = pa.Table.from_pylist(
        rows, schema=pa.schema([SCHEMA.field(n) for n in v2_columns], metadata={b"harness_schema_version": b"2"})
    )
    pq.write_table(table, tmp_path / "v2.parquet")
    records = read_file(tmp_path / "v2.parquet")
    assert records == [replace(r, cpu_flags="") for r in sample_records()]


def test_missing_column_is_named(tmp_path: Path) -> None:
    table = pa.Table.from_pylist([dataclasses.asdict(r) for r in sample_records()], schema=SCHEMA).drop_columns(["cuda_driver"])
    path = tmp_path / "short.parquet"
    pq.write_table(table, path)
    with pytest.raises(InputError) as excinfo:
        read_records(tmp_path)
    assert str(path) in str(excinfo.value)
    assert "missing column(s) cuda_driver" in str(excinfo.value)


def test_extra_column_is_ignored(tmp_path: Path) -> None:
    table = pa.Table.from_pylist([dataclasses.asdict(r) for r in sample_records()], schema=SCHEMA)
    table = table.append_column("future_field", pa.array(["x"] * table.num_rows))
    pq.write_table(table, tmp_path / "newer.parquet")
    assert read_records(tmp_path) == sample_records()


def test_missing_results_dir(tmp_path: Path) -> None:
    with pytest.raises(InputError) as excinfo:
        read_records(tmp_path / "results")
    assert str(tmp_path / "results") in str(excinfo.value)
    assert "fix" in str(excinfo.value)


def test_every_row_carries_the_whole_fingerprint() -> None:
    import dataclasses

    from harness.results.schema import FINGERPRINT_FIELDS, RunRecord

    names = [f.name for f in dataclasses.fields(RunRecord)]
    assert tuple(names[-len(FINGERPRINT_FIELDS) :]) == FINGERPRINT_FIELDS
    assert "torch_version" in FINGERPRINT_FIELDS and "device_name" in FINGERPRINT_FIELDS and "cpu_flags" in FINGERPRINT_FIELDS


def test_compare_side_never_imports_torch() -> None:
    import subprocess
    import sys

    """Every module of the torch-free wings (results, rules, gate, report), the CLI's dispatch and the configurations."""
    code = (
        "import importlib, pkgutil, sys, harness.cli.main, harness.bench.configs\n"
        "for wing in ('results', 'rules', 'gate', 'report'):\n"
        "    package = importlib.import_module('harness.' + wing)\n"
        "    for module in pkgutil.iter_modules(package.__path__):\n"
        "        importlib.import_module(f'harness.{wing}.{module.name}')\n"
        "print([m for m in ('torch', 'pandas', 'chronos') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[2])
    assert out.stdout.strip() == "[]"  # `nox -s compare` installs only numpy and pyarrow


# --- every field type-checked on read ---------------------------------------------------------------


def table_with(records: list[RunRecord], **columns: pa.Array) -> pa.Table:
    """``records`` as a results table, with the named columns replaced as given (any Arrow type)."""
    table = pa.Table.from_pylist([dataclasses.asdict(r) for r in records], schema=SCHEMA)
    for name, column in columns.items():
        table = table.set_column(table.column_names.index(name), name, column)
    return table


def write_table(table: pa.Table, path: Path) -> Path:
    pq.write_table(table, path)
    return path


def assert_refused(path: Path, *needles: str) -> str:
    with pytest.raises(InputError) as excinfo:
        read_file(path)
    message = str(excinfo.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message
    assert message.endswith("fix: re-run the bench or move the file away")
    for needle in needles:
        assert needle in message
    return message


BAD_VALUES = [
    ("symbol", pa.array(["BTCUSD", None, "BTCUSD"], pa.string()), "row 1 (run 'r2'): field symbol is null"),
    (
        "timestamp_utc",
        pa.array([None, "2026-11-25T12:05:00+00:00", "2026-11-25T12:10:00+00:00"]),
        "row 0 (run 'r1'): field timestamp_utc is null",
    ),
    ("run_id", pa.array(["r1", "r2", None], pa.string()), "row 2: field run_id is null"),
    ("run_id", pa.array(["r1", " ", "r3"]), "row 1: field run_id is ' ', expected a non-empty string"),
    ("mode", pa.array([None, "compiled", "compiled"], pa.string()), "field mode is null"),
    ("mode", pa.array(["eager", "fast", "compiled"]), "field mode is 'fast', expected one of eager, compiled"),
    (
        "status",
        pa.array(["pass", "passed", "fail_exception"]),
        "row 1 (run 'r2'): field status is 'passed', expected one of pass, fail_exception",
    ),
    ("status", pa.array(["pass", "PASS", "fail_exception"]), "field status is 'PASS'"),
    ("n_success", pa.array(["two", "3", "0"]), "column n_success holds string values, expected int64"),
    ("n_success", pa.array([3.0, 3.0, 0.0]), "column n_success holds double values, expected int64"),
    ("success_rate", pa.array([True, True, False]), "column success_rate holds bool values, expected double"),
    ("latencies_s", pa.array([["0.2"], ["0.1"], []]), "column latencies_s holds list of string values, expected list of double"),
    ("model_trained", pa.array([0, 0, 0]), "column model_trained holds int64 values, expected bool"),
    ("model_trained", pa.array([False, None, False]), "row 1 (run 'r2'): field model_trained is null"),
    ("n_success", pa.array([3, -1, 0]), "row 1 (run 'r2'): field n_success is -1, expected a count >= 0"),
    ("n_predictions", pa.array([-5, 3, 5]), "row 0 (run 'r1'): field n_predictions is -5, expected a count >= 0"),
    ("rows_used", pa.array([156, 156, -1]), "field rows_used is -1"),
    ("n_graphs", pa.array([None, -2, None], pa.int64()), "field n_graphs is -2"),
    ("success_rate", pa.array([1.0, 1.5, 0.0]), "row 1 (run 'r2'): field success_rate is 1.5, expected a fraction in [0, 1]"),
    ("success_rate", pa.array([-0.25, 1.0, 0.0]), "field success_rate is -0.25"),
    ("success_rate", pa.array([1.0, float("inf"), 0.0]), "field success_rate is inf"),
    ("flip_rate", pa.array([0.0, 2.0, 0.0]), "field flip_rate is 2.0"),
    ("n_success", pa.array([3, 4, 0]), "row 1 (run 'r2'): field n_success is 4, more than n_predictions (3)"),
    (
        "latencies_s",
        pa.array([[0.2, None], [0.1], []], pa.list_(pa.float64())),
        "row 0 (run 'r1'): field latencies_s holds a null at position 1",
    ),
    ("latencies_s", pa.array([[0.2], None, []], pa.list_(pa.float64())), "row 1 (run 'r2'): field latencies_s is null"),
    ("n_success", pa.array([2**63, 3, 0], pa.uint64()), "column n_success holds uint64 values that do not fit int64"),
]


@pytest.mark.parametrize(("name", "column", "needle"), BAD_VALUES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(BAD_VALUES)])
def test_a_bad_value_is_an_input_error_naming_file_row_and_field(
    tmp_path: Path, name: str, column: pa.Array, needle: str
) -> None:
    path = write_table(table_with(sample_records(), **{name: column}), tmp_path / "bad.parquet")
    assert_refused(path, needle)


BAD_TIMESTAMPS = [
    "yesterday",
    "",
    "2026-11-25",  # a date, no time
    "2026-11-25T12:00:00",  # no zone: local time of some machine
    "2026-11-25T13:00:00+01:00",  # not UTC: would sort wrongly against the others as text
    "2026-11-25T12:00:00Z",  # Python 3.10's fromisoformat reads no "Z": the runner writes +00:00
    "2026-13-01T00:00:00+00:00",  # month 13
    "2026-02-30T00:00:00+00:00",
    "2026-11-25T25:00:00+00:00",
    "2026-11-25 12:00:00+00:00",
    "２０２６-11-25T12:00:00+00:00",  # full-width digits match \d but are not ISO-8601
    "2026-11-25T12:00:00+00:00\nfake line",
]


@pytest.mark.parametrize("timestamp", BAD_TIMESTAMPS)
def test_a_timestamp_that_is_not_iso_8601_utc_is_an_input_error(tmp_path: Path, timestamp: str) -> None:
    eager = replace(sample_records()[0], timestamp_utc=timestamp)
    path = tmp_path / "bad.parquet"
    write_records([eager], tmp_path, name="bad")
    message = assert_refused(
        path, "row 0 (run 'r1'): field timestamp_utc is ", "expected an ISO-8601 UTC timestamp like 2026-11-25T12:00:00+00:00"
    )
    assert repr(timestamp)[:50] in message


@pytest.mark.parametrize(
    "timestamp", ["2026-11-25T12:00:00+00:00", "2026-11-25T12:00:00.123+00:00", "2026-11-25T12:00:00.123456+00:00"]
)
def test_the_runners_timestamps_read(tmp_path: Path, timestamp: str) -> None:
    write_records([replace(sample_records()[0], timestamp_utc=timestamp)], tmp_path, name="ok")
    assert read_file(tmp_path / "ok.parquet")[0].timestamp_utc == timestamp


def test_an_unknown_status_is_never_read_as_a_pass(tmp_path: Path) -> None:
    records = [replace(r, status="ok") for r in sample_records()]
    write_records(records, tmp_path, name="bad")
    with pytest.raises(InputError, match=r"field status is 'ok', expected one of pass, "):
        read_records(tmp_path)


def test_a_long_value_is_shortened_and_kept_on_one_line(tmp_path: Path) -> None:
    records = [replace(sample_records()[0], mode="x\n" * 200)]
    write_records(records, tmp_path, name="bad")
    message = assert_refused(tmp_path / "bad.parquet", "field mode is 'x\\nx\\n", "...")
    assert len(message) < 300


def test_broken_numbers_read_the_gate_fails_them(tmp_path: Path) -> None:
    """NaN and inf in a metric are not input errors: the run reads, and the gate reports it broken (exit 1)."""
    nan, inf = float("nan"), float("inf")
    eager = replace(
        sample_records()[0],
        mae=nan,
        mae_pct=inf,
        latency_median_s=nan,
        latencies_s=[nan, -inf, 0.2],
        success_rate=nan,
        flip_rate=nan,
        load_s=-1.0,
        drift_max_abs=nan,
    )
    write_records([eager], tmp_path, name="broken")
    (back,) = read_file(tmp_path / "broken.parquet")
    assert back.mae is not None and np.isnan(back.mae)
    assert back.mae_pct == inf and np.isnan(back.success_rate) and back.latencies_s[1] == -inf


def test_wider_and_narrower_arrow_types_of_the_same_kind_read(tmp_path: Path) -> None:
    """Another writer may choose int32 counts, float32 timings, large or dictionary strings, or an all-null column."""
    records = sample_records()
    table = table_with(
        records,
        n_success=pa.array([3, 3, 0], pa.int32()),
        batch_size=pa.array([256, 256, 256], pa.uint16()),
        load_s=pa.array([0.5, 0.5, 0.5], pa.float32()),
        success_rate=pa.array([1, 1, 0], pa.int8()),
        symbol=pa.array(["BTCUSD"] * 3, pa.large_string()),
        mode=pa.array(["eager", "compiled", "compiled"]).dictionary_encode(),
        latencies_s=pa.array([r.latencies_s for r in records], pa.large_list(pa.float32())),
        peak_rss_mb=pa.nulls(3),
    )
    path = write_table(table, tmp_path / "other-writer.parquet")
    back = read_file(path)
    assert [r.n_success for r in back] == [3, 3, 0]
    assert [r.success_rate for r in back] == [1.0, 1.0, 0.0]
    assert [r.mode for r in back] == ["eager", "compiled", "compiled"]
    assert back[0].latencies_s == pytest.approx([0.2, 0.21, 0.19])
    assert all(r.peak_rss_mb is None for r in back)


def test_an_all_null_required_column_names_the_field(tmp_path: Path) -> None:
    path = write_table(table_with(sample_records(), status=pa.nulls(3)), tmp_path / "nulls.parquet")
    assert_refused(path, "row 0 (run 'r1'): field status is null")


def test_older_versions_are_checked_too(tmp_path: Path) -> None:
    v1_columns = [name for name in SCHEMA.names if name not in _V2_COLUMNS]
    rows = [{k: v for k, v in dataclasses.asdict(r).items() if k in v1_columns} for r in sample_records()]
    rows[2]["status"] = "unknown"
    table = pa.Table.from_pylist(
        rows, schema=pa.schema([SCHEMA.field(n) for n in v1_columns], metadata={b"harness_schema_version": b"1"})
    )
    path = write_table(table, tmp_path / "v1.parquet")
    assert_refused(path, "row 2 (run 'r3'): field status is 'unknown'")


def test_a_partition_folder_with_a_bad_timestamp_is_refused(tmp_path: Path) -> None:
    records = [replace(r, torch_version="2.13.0") for r in sample_records()]
    table = pa.Table.from_pylist([dataclasses.asdict(r) for r in records], schema=SCHEMA).drop_columns(["timestamp_utc"])
    (tmp_path / "timestamp_utc=later").mkdir()
    write_table(table, tmp_path / "timestamp_utc=later" / "part-0.parquet")
    with pytest.raises(InputError, match=r"part-0\.parquet: row 0 \(run 'r1'\): field timestamp_utc is 'later'"):
        read_records(tmp_path)


def test_a_string_that_is_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    """Parquet stores strings as bytes and does not check them: a damaged file can hold invalid UTF-8."""
    damaged = pa.array([b"BTC\xffUSD", b"BTCUSD", b"BTCUSD"], pa.binary()).view(pa.string())
    path = write_table(table_with(sample_records(), symbol=damaged), tmp_path / "damaged.parquet")
    assert_refused(path, "column symbol holds damaged data (", "Invalid UTF8")


def test_a_column_name_that_is_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    path = write_records(sample_records(), tmp_path, name="damaged")
    path.write_bytes(path.read_bytes().replace(b"cpu_flags", b"cpu_fl\xffgs"))
    with pytest.raises(InputError, match=r"damaged\.parquet: not a readable Parquet file \(UnicodeDecodeError\); fix: "):
        read_file(path)


def test_a_schema_version_with_a_newline_stays_on_one_line(tmp_path: Path) -> None:
    table = pa.Table.from_pylist([dataclasses.asdict(r) for r in sample_records()], schema=SCHEMA)
    path = write_table(table.replace_schema_metadata({b"harness_schema_version": b"3\nerror: forged"}), tmp_path / "odd.parquet")
    with pytest.raises(InputError) as excinfo:
        read_file(path)
    assert "results schema version '3\\nerror: forged', this harness reads versions 1, 2, 3" in str(excinfo.value)
    assert "\n" not in str(excinfo.value)
