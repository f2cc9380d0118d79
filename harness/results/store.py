"""Result files: atomic Parquet writes that never overwrite, and checked reads that name the file, the row and the
field of anything wrong. The schema itself is :mod:`harness.results.schema`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import re
import secrets
import tempfile
import typing
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq

from harness.base.errors import InputError
from harness.results.schema import FINGERPRINT_FIELDS, READABLE_VERSIONS, SCHEMA, STATUSES, Mode, RunRecord, RunStatus


def write_records(records: list[RunRecord], results_dir: Path, *, name: str) -> Path:
    """Write ``records`` to ``<results_dir>/<name>.parquet`` atomically; never overwrites an existing file."""
    results_dir.mkdir(parents=True, exist_ok=True)
    target = results_dir / f"{name}.parquet"
    if target.exists():
        raise InputError(f"{target}: already exists; fix: use a new run id (results are never overwritten)")
    table = pa.Table.from_pylist([dataclasses.asdict(r) for r in records], schema=SCHEMA)
    handle, tmp = new_temp_file(results_dir, prefix=f".{name}.")
    os.close(handle)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, target)
    except OSError as exc:  # a full disk (ENOSPC), a quota, a folder gone read-only mid-run: the user's to fix
        raise write_error(target, exc) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def write_error(target: Path, exc: OSError) -> InputError:
    """One line for a write the disk refused; nothing partial is left (the callers write to a temporary file first)."""
    why = exc.strerror or type(exc).__name__
    return InputError(
        f"{target}: not written ({why}); fix: free space on that disk or name another directory; nothing partial was left"
    )


def check_writable_dir(path: Path, flag: str) -> None:
    """Refuse, before any work, a directory that cannot be written: a file in the way, no permission, a read-only disk.
    Creates it when missing (it is about to be written)."""
    if path.exists() and not path.is_dir():
        raise InputError(f"{flag} {path}: is a file, not a directory; fix: name a directory (it is created if missing)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path, prefix=".harness-write-check-"):
            pass
    except OSError as exc:
        raise InputError(
            f"{flag} {path}: cannot write there ({exc.strerror or type(exc).__name__}); fix: name a directory you can write"
        ) from exc


def new_temp_file(directory: Path, *, prefix: str, suffix: str = ".tmp") -> tuple[int, str]:
    """``tempfile.mkstemp`` with the mode of any new file (0o666 less the umask: 0644 under umask 022), not 0600,
    so that a file renamed into place is as readable as one written directly (a shared CI box, a web server)."""
    for _ in range(100):
        path = directory / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), str(path)
        except FileExistsError:
            continue
    raise FileExistsError(f"{directory}: no unused temporary file name starting {prefix!r}")


def read_records(results_dir: Path) -> list[RunRecord]:
    """All records under ``results_dir`` (recursively), oldest first; a bad file is an :class:`InputError`.

    The directory may merge many machines or CI jobs: one folder per job (``merged/results-torch-2.13.0/...``), or a
    hive-partitioned dataset (``torch_version=2.13.0/part-0.parquet``) whose partition columns live in the path and
    not in the file. The same run copied twice (two artifacts overlapping) is read once.
    """
    if not results_dir.is_dir():
        raise InputError(f"{results_dir}: no results directory; fix: run a bench first (`nox -s bench_eager bench_compiled`)")
    paths = parquet_files(results_dir)

    def read(path: Path) -> list[RunRecord]:
        return read_file(path, partitions=hive_partitions(path.relative_to(results_dir)))

    # files read on a few threads (pyarrow decodes without the GIL); records, and the first bad file, in path order
    pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="read-results")
    try:
        return unique_records(itertools.chain.from_iterable(pool.map(read, paths)))
    finally:
        pool.shutdown(cancel_futures=True)  # a bad file ends the read: the files queued behind it are not read


def unique_records(records: Iterable[RunRecord]) -> list[RunRecord]:
    """Each run once (the first copy of it), oldest first: results read from several places (a run and a history
    holding it too) merge without doubles."""
    unique: dict[tuple[str, str, str, str], RunRecord] = {}
    for record in records:
        unique.setdefault((record.run_id, record.timestamp_utc, record.symbol, record.mode), record)
    return sorted(unique.values(), key=lambda r: (r.timestamp_utc, r.run_id))


def parquet_files(results_dir: Path) -> list[Path]:
    """Every ``*.parquet`` under ``results_dir``, following symlinked folders (how people merge artifacts) once each:
    a link back to a folder already walked (a loop) is not walked again."""
    found: list[Path] = []
    seen: set[str] = set()
    for folder, dirs, files in os.walk(results_dir, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirs.clear()
            continue
        seen.add(real)
        dirs.sort()
        found += [Path(folder) / name for name in files if name.endswith(".parquet")]
    return sorted(found)


def hive_partitions(relative: Path) -> dict[str, str]:
    """``{"torch_version": "2.13.0"}`` from ``torch_version=2.13.0/part-0.parquet``: folders named column=value."""
    out = {}
    for part in relative.parts[:-1]:
        name, sep, value = part.partition("=")
        if sep and name in SCHEMA.names:
            out[name] = unquote(value)
    return out


MAX_RESULT_BYTES = 1 << 30  # a results file is kilobytes; a device or a runaway file is not one


def _what_it_is(path: Path) -> str | None:
    """Why ``path`` is not a file to read, in words; None for a regular file of a sane size."""
    if path.is_symlink() and not path.exists():
        return "a link to nothing, or a loop of links"
    if path.is_dir():
        return "a directory"
    if not path.is_file():
        return "not a regular file (a FIFO or a device)"
    if path.stat().st_size > MAX_RESULT_BYTES:
        return f"{path.stat().st_size} bytes, over {MAX_RESULT_BYTES} for a results file"
    with path.open("rb") as head:
        magic = head.read(4)
    if magic[:2] == b"\x1f\x8b":
        return "gzip-compressed (gunzip it first)"
    if magic != b"PAR1":
        return "not Parquet (no PAR1 magic bytes at its start)"
    return None


def read_file(path: Path, *, partitions: dict[str, str] | None = None) -> list[RunRecord]:
    fix = "fix: move it out of the results directory or delete it"
    try:
        problem = _what_it_is(path)
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror or type(exc).__name__})"
    if problem:
        raise InputError(f"{path}: {problem}; {fix}")
    try:
        with pq.ParquetFile(path) as parquet:  # half the time of pq.read_table, which sets up a dataset per file
            table = parquet.read()
        present = set(table.column_names)  # a damaged column name that is not UTF-8 fails here
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path}: not a readable Parquet file ({type(exc).__name__}); fix: move it out of the results directory or delete it"
        ) from exc
    version = (table.schema.metadata or {}).get(b"harness_schema_version", b"?").decode(errors="replace")
    if version not in READABLE_VERSIONS:
        raise InputError(
            f"{path}: results schema version {_plain(version)}, this harness reads versions {', '.join(READABLE_VERSIONS)}; fix: re-run the bench or move the file away"
        )
    for name, value in (partitions or {}).items():
        if name not in present:
            try:
                column = pa.array([value] * table.num_rows).cast(SCHEMA.field(name).type)
            except (pa.ArrowException, ValueError) as exc:
                raise InputError(
                    f"{path}: partition folder {name}={_plain(value)} is not a valid {SCHEMA.field(name).type} for column {name}; "
                    "fix: rename the folder or move the file away"
                ) from exc
            table = table.append_column(name, column)
            present.add(name)
    missing = [name for name in SCHEMA.names if name not in present and name not in _V2_COLUMNS]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; fix: re-run the bench or move the file away")
    table = _conformed(path, table.select([name for name in SCHEMA.names if name in present]))
    return [_record(path, index, row) for index, row in enumerate(table.to_pylist())]


# Read-side validation: every column has its schema type, every row holds values the rest of the harness can trust.
# NaN or inf in a metric is not an input error: it reads, and the gate fails it as a broken run (exit 1).
_FIX = "fix: re-run the bench or move the file away"
_MODES: tuple[Mode, ...] = ("eager", "compiled")
_HINTS = typing.get_type_hints(RunRecord)
_NULLABLE = frozenset(name for name, hint in _HINTS.items() if type(None) in typing.get_args(hint))
_COUNTS = (
    "rows_used",
    "model_parameters",
    "prediction_length",
    "context_length",
    "batch_size",
    "n_predictions",
    "n_success",
    "n_flaky",
    "n_graphs",
    "n_graph_breaks",
    "n_recompiles",
    "cpu_count",
    "torch_threads",
)
_FRACTIONS = ("success_rate", "flip_rate")
_NAMED = ("run_id", "symbol")  # an empty one cannot be told apart from another run's
# what the runner writes (datetime.isoformat in UTC): it orders correctly as text and datetime.fromisoformat reads it
# on every Python we support (3.10's reads no "Z" and only 3 or 6 digits of fractions)
_UTC_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6})?\+00:00", re.ASCII)


class _BadField(Exception):
    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name
        self.problem = problem


def _conformed(path: Path, table: pa.Table) -> pa.Table:
    """``table`` with every column cast to its :data:`SCHEMA` type; a damaged column or one of another kind is an :class:`InputError`.

    Widening casts are kept (int32 counts, float32 timings, large strings, an all-null column): another writer may
    choose those. A string where a number belongs, a float where a count belongs or a bool for a number are not.
    """
    for index, name in enumerate(table.column_names):
        expected = SCHEMA.field(name).type
        column = table.column(index)
        try:  # Parquet does not check that strings are UTF-8: a damaged file may decode to garbage or not at all
            column.validate(full=True)
        except pa.ArrowException as exc:
            raise InputError(f"{path}: column {name} holds damaged data ({_first_line(exc)}); {_FIX}") from exc
        if column.type == expected:
            continue
        if not _castable(column.type, expected):
            raise InputError(
                f"{path}: column {name} holds {_type_name(column.type)} values, expected {_type_name(expected)}; {_FIX}"
            )
        try:
            cast = column.cast(expected, safe=True)
        except (pa.ArrowException, ValueError) as exc:
            raise InputError(
                f"{path}: column {name} holds {_type_name(column.type)} values that do not fit {_type_name(expected)} "
                f"({_first_line(exc)}); {_FIX}"
            ) from exc
        table = table.set_column(index, SCHEMA.field(name), cast)
    return table


def _castable(actual: pa.DataType, expected: pa.DataType) -> bool:
    """Whether a column of type ``actual`` may stand for ``expected`` without reinterpreting its values."""
    if actual == expected or pa.types.is_null(actual):
        return True
    if pa.types.is_dictionary(actual):
        return _castable(actual.value_type, expected)
    if pa.types.is_integer(expected):
        return bool(pa.types.is_integer(actual))
    if pa.types.is_floating(expected):
        return bool(pa.types.is_integer(actual) or pa.types.is_floating(actual))
    if pa.types.is_string(expected):
        return bool(pa.types.is_string(actual) or pa.types.is_large_string(actual))
    if pa.types.is_list(expected):
        is_list = bool(pa.types.is_list(actual) or pa.types.is_large_list(actual) or pa.types.is_fixed_size_list(actual))
        return is_list and _castable(actual.value_type, expected.value_type)
    return False


def _type_name(data_type: pa.DataType) -> str:
    """``int64``, ``list of double``: an Arrow type as a message names it (no list item names)."""
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type) or pa.types.is_fixed_size_list(data_type):
        return f"list of {_type_name(data_type.value_type)}"
    return str(data_type)


def _record(path: Path, index: int, row: dict[str, Any]) -> RunRecord:
    """One row as a :class:`RunRecord`, each field checked; a bad one is an :class:`InputError` naming file, row and field."""
    try:
        _check_row(row)
    except _BadField as exc:
        run_id = row.get("run_id")
        which = f"row {index} (run {_shown(run_id)})" if isinstance(run_id, str) and run_id.strip() else f"row {index}"
        raise InputError(f"{path}: {which}: field {exc.name} {exc.problem}; {_FIX}") from exc
    return RunRecord(**{**row, "status": RunStatus(row["status"])})


def _check_nulls(row: dict[str, Any]) -> None:
    for name, value in row.items():
        if value is None:
            if name not in _NULLABLE:
                raise _BadField(name, "is null, expected a value")
        elif isinstance(value, list) and None in value:
            raise _BadField(name, f"holds a null at position {value.index(None)}, expected a list without nulls")


def _check_row(row: dict[str, Any]) -> None:
    _check_nulls(row)
    for name in _NAMED:
        if not row[name].strip():
            raise _BadField(name, f"is {_shown(row[name])}, expected a non-empty string")
    if row["mode"] not in _MODES:
        raise _BadField("mode", f"is {_shown(row['mode'])}, expected one of {', '.join(_MODES)}")
    if row["status"] not in STATUSES:
        raise _BadField("status", f"is {_shown(row['status'])}, expected one of {', '.join(STATUSES)}")
    if not _is_utc_timestamp(row["timestamp_utc"]):
        raise _BadField(
            "timestamp_utc",
            f"is {_shown(row['timestamp_utc'])}, expected an ISO-8601 UTC timestamp like 2026-11-25T12:00:00+00:00",
        )
    for name in _COUNTS:
        if name in row and row[name] is not None and row[name] < 0:
            raise _BadField(name, f"is {row[name]}, expected a count >= 0")
    for name in _FRACTIONS:  # NaN reads: the gate fails it as a broken number
        value = row.get(name)
        if value is not None and not math.isnan(value) and not 0.0 <= value <= 1.0:
            raise _BadField(name, f"is {value!r}, expected a fraction in [0, 1]")
    if row["n_success"] > row["n_predictions"]:
        raise _BadField("n_success", f"is {row['n_success']}, more than n_predictions ({row['n_predictions']})")


def _is_utc_timestamp(text: str) -> bool:
    """Whether ``text`` is an ISO-8601 timestamp in UTC, as the runner writes it (``2026-11-25T12:00:00+00:00``)."""
    if not _UTC_TIMESTAMP.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:  # month 13, hour 25, February 30th
        return False
    return True


def _shown(value: object) -> str:
    """``repr`` on one line, shortened: a field's value quoted in a message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _plain(text: str) -> str:
    """``text`` as it is where it prints on one line and is short, else as :func:`_shown` quotes it."""
    return text if text.isprintable() and len(text) <= 60 else _shown(text)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


# columns added by versions 2 to 4 (they have defaults, and an older file reads with those)
_V2_COLUMNS = frozenset(
    name
    for name in SCHEMA.names
    if SCHEMA.names.index(name) > SCHEMA.names.index("naive_mae_pct") and name not in FINGERPRINT_FIELDS
) | {"cpu_flags", "confirms"}
