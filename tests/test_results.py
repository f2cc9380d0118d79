"""harness.results: the Parquet schema, atomic never-overwriting writes, and reading bad files as InputErrors."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness.errors import InputError
from harness.results import _V2_COLUMNS, SCHEMA, SCHEMA_VERSION, RunRecord, read_file, read_records, write_records
from tests.factories import make_record, replace


def sample_records() -> list[RunRecord]:
    """An eager run, a compiled run, and a compiled run that failed: list columns full and empty, Nones."""
    eager = make_record("eager", latencies=[0.2, 0.21, 0.19], timestamp_utc="2026-11-25T12:00:00+00:00", run_id="r1")
    compiled = make_record("compiled", latencies=[0.1, 0.12, 0.11], mae=10.25, timestamp_utc="2026-11-25T12:05:00+00:00", run_id="r2")
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
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", half_written)
    with pytest.raises(OSError, match="disk full"):
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
    assert "not a readable Parquet file" in str(excinfo.value)
    assert "fix" in str(excinfo.value)
    assert snapshot(tmp_path) == before


def test_empty_parquet_file_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "empty.parquet").write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.parquet"):
        read_records(tmp_path)


@pytest.mark.parametrize("metadata", [{b"harness_schema_version": b"4"}, {b"harness_schema_version": b"0"}, None], ids=["v4", "v0", "none"])
def test_wrong_schema_version_is_an_input_error(tmp_path: Path, metadata: dict[bytes, bytes] | None) -> None:
    table = pa.Table.from_pylist([dataclasses.asdict(r) for r in sample_records()], schema=SCHEMA).replace_schema_metadata(metadata)
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
    table = pa.Table.from_pylist(rows, schema=pa.schema([SCHEMA.field(n) for n in v1_columns], metadata={b"harness_schema_version": b"1"}))
    pq.write_table(table, tmp_path / "v1.parquet")
    records = read_file(tmp_path / "v1.parquet")
    assert len(records) == len(rows)
    assert all(r.paired_eager_latencies_s == [] and r.reference_s == [] and r.n_flaky == 0 and r.drift_max_abs is None for r in records)
    assert all(r.cpu_flags == "" for r in records)  # not recorded: the ISA flags came with version 3
    assert [r.latencies_s for r in records] == [r.latencies_s for r in sample_records()]


def test_versions_2_and_3_added_exactly_the_new_columns() -> None:
    assert {"paired_eager_latencies_s", "reference_s", "n_flaky", "flip_rate", "drift_max_abs", "drift_tolerance_abs"} <= _V2_COLUMNS
    assert "cpu_flags" in _V2_COLUMNS  # version 3
    assert not {"latencies_s", "mae", "torch_version", "cuda_driver"} & _V2_COLUMNS


def test_version_2_files_still_read_without_cpu_flags(tmp_path: Path) -> None:
    v2_columns = [name for name in SCHEMA.names if name != "cpu_flags"]
    rows = [{k: v for k, v in dataclasses.asdict(r).items() if k in v2_columns} for r in sample_records()]
    table = pa.Table.from_pylist(rows, schema=pa.schema([SCHEMA.field(n) for n in v2_columns], metadata={b"harness_schema_version": b"2"}))
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

    from harness.results import FINGERPRINT_FIELDS, RunRecord

    names = [f.name for f in dataclasses.fields(RunRecord)]
    assert tuple(names[-len(FINGERPRINT_FIELDS) :]) == FINGERPRINT_FIELDS
    assert "torch_version" in FINGERPRINT_FIELDS and "device_name" in FINGERPRINT_FIELDS and "cpu_flags" in FINGERPRINT_FIELDS


def test_compare_side_never_imports_torch() -> None:
    import subprocess
    import sys

    code = ("import sys, harness.cli, harness.compare, harness.gate, harness.keys, harness.recommend, harness.drift, harness.report, "
            "harness.results, harness.baselines, harness.calibrate, harness.matrix; "
            "print([m for m in ('torch', 'pandas', 'chronos') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent)
    assert out.stdout.strip() == "[]"  # `nox -s compare` installs only numpy and pyarrow
