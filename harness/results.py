"""The one Parquet schema of bench results, and reading/writing it. Never imports torch.

One row per run: one (symbol, mode, configuration) measured N times, the raw per-prediction latencies kept in
a list column. Version 2 added the interleaved eager reference, the machine reference, flakiness and numerical
drift; version 3 the CPU's ISA flags (part of where a run ran); version 4 ``confirms`` (a re-bench that confirms or
clears a timing regression names the run it re-measures); version 5 the deeper compile configurations (GEMM backends,
cpp_wrapper, scope, threads), reduced precision judged against its own eager, the distance to the matmul floor and
precompiled starts; older files still read (those columns empty). Files are written atomically (temp file + rename) into the results directory, one file per
bench invocation, so nothing already written is ever rewritten.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import secrets
import tempfile
import typing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq

from harness.errors import InputError
from harness.fingerprint import Fingerprint
from harness.textenum import TextEnum

SCHEMA_VERSION = 5
READABLE_VERSIONS = ("1", "2", "3", "4", "5")
Mode = Literal["eager", "compiled"]


class RunStatus(TextEnum):
    """How a run ended (the ``status`` column)."""

    PASS = "pass"  # every call ran (flaky ones passed on re-run) and compiled stayed within drift tolerance of eager
    FAIL_EXCEPTION = (
        "fail_exception"  # a confirmed failure (compile, or a call failing k of n attempts), its first error recorded
    )
    FAIL_CRASH = "fail_crash"  # the run's process died of a signal (segfault, abort), recorded by the parent with its stderr tail
    TIMEOUT = "timeout"  # no result within the time limit, the process was killed
    OOM = "oom"  # out of memory (MemoryError, CUDA OOM, or killed by SIGKILL, the kernel OOM killer's signal)
    FAIL_ACCURACY = "fail_accuracy"  # compiled drifted from eager beyond tolerance
    EAGER_NONDETERMINISTIC = "eager_nondeterministic"  # eager disagreed with itself beyond its own float32 rounding error


STATUSES = tuple(status.value for status in RunStatus)


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """One row of the results table. :data:`SCHEMA` is derived from these fields: their order is the column order and
    each annotation gives the Arrow type (str -> string, int -> int64, float -> float64, bool, list[...], ``| None``
    nullable). A new field needs a default (what an older file reads as) and a ``SCHEMA_VERSION`` bump."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    timestamp_utc: str
    # what was run
    symbol: str
    data_file: str
    data_sha256: str
    rows_used: int
    mode: str  # Mode
    compile_mode: str  # "" in eager mode
    compile_backend: str
    compile_dynamic: str  # "auto" | "true" | "false" | ""
    compile_cache: str  # "cold" (fresh inductor cache dir per run) or the cache dir used
    attn_implementation: str
    dtype: str
    model_id: str
    model_trained: bool
    model_parameters: int
    weights_sha256: str
    prediction_length: int
    context_length: int
    batch_size: int
    n_predictions: int
    # outcome
    status: RunStatus
    error_type: str
    error_message: str
    n_success: int
    success_rate: float
    load_s: float
    first_call_s: float | None
    compile_s: float | None
    latencies_s: list[float] = field(default_factory=list)
    latency_median_s: float | None
    forecast_close: list[float] = field(default_factory=list)  # median forecast of the close, one per step
    truth_close: list[float] = field(default_factory=list)
    mae: float | None
    mae_pct: float | None
    naive_mae_pct: float | None  # last observed close repeated: persistence, the skill reference
    # schema v2 (defaults: what a version-1 file reads as)
    quantile_levels: list[float] = field(default_factory=list)
    paired_eager_latencies_s: list[float] = field(default_factory=list)  # compiled: uncompiled model, interleaved
    reference_s: list[float] = field(default_factory=list)  # machine reference workload, once per timed call
    confirm: str = ""  # "k/n": a failing call was tried up to n times, k failures confirmed it
    n_flaky: int = 0  # calls whose attempts disagreed
    flip_rate: float = 0.0  # n_flaky / calls made (compiled mode counts the interleaved eager calls too)
    eager_repeat_max_abs: float | None = None  # eager vs its own first forecast, max abs over every quantile
    eager_float32_error_abs: float | None = None  # eager float32 vs float64, max abs: the drift yardstick
    drift_max_abs: float | None = None  # compiled vs eager, max abs over every target, step and quantile
    drift_max_rel: float | None = None  # drift_max_abs / max |eager forecast|
    drift_by_quantile_abs: list[float] = field(default_factory=list)  # per quantile level, aligned with quantile_levels
    drift_tolerance_abs: float | None = None  # drift beyond this is fail_accuracy
    stderr_tail: str = ""  # last lines of the run's process stderr, when it died without writing its own row
    # compile diagnostics (compiled mode; None when not measured)
    n_graphs: int | None = None  # dynamo graphs after the first call (1 = no graph break)
    n_graph_breaks: int | None = None
    graph_break_reasons: list[str] = field(default_factory=list)  # first line of each distinct reason
    n_recompiles: int | None = None  # graphs compiled after the first call, across the run (shape changes included)
    warm_compile_s: float | None = None  # compile time again after torch._dynamo.reset(), inductor caches warm
    shape_variant_s: list[float] = field(default_factory=list)  # --vary-shapes: calls on shorter contexts (recompile included)
    peak_rss_mb: float | None = None  # peak resident memory of the run's process, MiB
    peak_cuda_mb: float | None = None  # torch.cuda.max_memory_allocated, MiB (CUDA only)
    break_even_calls: float | None = None  # compile_s / (eager - compiled median): predictions until compiling paid off
    compile_freezing: bool = False  # torch._inductor.config.freezing was on
    sdpa_backend: str = ""  # SDPA restricted to this backend ("" = torch chose)
    confirms: str = ""  # schema v4: the compiled run id this re-bench re-measures (``harness confirm``); "" for a normal run
    # schema v5: the compile configuration's further switches (harness.compiling.CompileSettings)
    gemm_backends: str = ""  # inductor's max_autotune_gemm_backends ("" = torch's default)
    cpp_wrapper: bool = False
    compile_scope: str = ""  # "" = the whole model; "encoder" (fullgraph) or "aot-encoder" (AOTInductor package)
    compile_threads: int = 0  # intra-op threads of the compiled model's calls (0 = the process's)
    omp_bind: str = ""  # OMP_PROC_BIND of the run's process ("" = unset)
    cpp_template_kernels: int | None = None  # GEMMs inductor generated from its C++ templates
    extern_kernel_calls: int | None = None  # calls to external kernels (ATen, MKL, oneDNN) in the generated code
    # reduced precision: drift is judged against eager in the same dtype, with that dtype's own error as yardstick
    drift_reference: str = ""  # "" = float32 eager; "bfloat16 eager" for a bf16 configuration
    precision_error_abs: float | None = None  # eager in the configuration's dtype vs float32 eager, max abs
    precision_mae_diff_pct: float | None = None  # its MAE over the rolling windows vs float32 eager's, percent
    precision_windows: int = 0  # rolling evaluation windows behind precision_mae_diff_pct
    # distance to the limit: FLOPs of one prediction over a matmul throughput measured in the same run
    flops_per_prediction: float | None = None  # torch.utils.flop_counter.FlopCounterMode, one eager prediction
    matmul_gflops: float | None = None  # 2048^2 float32 matmul, this process's threads
    matmul_gflops_compiled: float | None = None  # the same in the configuration's dtype and threads
    # precompiled starts: compile cost of a fresh process (start cost = first call - steady call), seconds
    start_warm_disk_s: float | None = None  # inductor's on-disk caches filled by this run
    start_precompiled_s: float | None = None  # from a portable cache artifact, or from the AOTInductor package
    precompiled_kind: str = ""  # "cache artifacts" | "AOTInductor package" | "" (not measured)
    # environment fingerprint
    harness_version: str
    git_commit: str
    python_version: str
    torch_version: str
    chronos_version: str
    transformers_version: str
    numpy_version: str
    platform: str
    device_type: str
    device_name: str
    cpu_model: str
    cpu_count: int
    torch_threads: int
    cuda_version: str
    cuda_driver: str
    cpu_flags: str = ""  # schema v3: ISA extensions (harness.fingerprint.INDUCTOR_ISA_FLAGS); "" in older files: not recorded


def _arrow_type(hint: Any) -> pa.DataType:
    """The Arrow type of a :class:`RunRecord` field's annotation: ``float | None`` -> float64, ``list[str]`` -> list of string."""
    args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if typing.get_origin(hint) is list:
        return pa.list_(_arrow_type(args[0]))
    if args:  # X | None: nullable X
        return _arrow_type(args[0])
    simple = {bool: pa.bool_(), int: pa.int64(), float: pa.float64()}
    if hint in simple:
        return simple[hint]
    if isinstance(hint, type) and issubclass(hint, str):  # str, and the text enums (RunStatus)
        return pa.string()
    raise TypeError(f"RunRecord field type {hint!r} has no Arrow type here; add it to _arrow_type")


# Derived from RunRecord, so a new metric is one field there (and the code that measures it, harness/rows.py).
SCHEMA = pa.schema(
    [
        (f.name, pa.int32() if f.name == "schema_version" else _arrow_type(typing.get_type_hints(RunRecord)[f.name]))
        for f in dataclasses.fields(RunRecord)
    ],
    metadata={b"harness_schema_version": str(SCHEMA_VERSION).encode()},
)


FINGERPRINT_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Fingerprint))  # the last columns


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
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


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
    records: dict[tuple[str, str, str, str], RunRecord] = {}
    for path in sorted(results_dir.rglob("*.parquet")):
        partitions = hive_partitions(path.relative_to(results_dir))
        for record in read_file(path, partitions=partitions):
            identity = (record.run_id, record.timestamp_utc, record.symbol, record.mode)
            records.setdefault(identity, record)
    return sorted(records.values(), key=lambda r: (r.timestamp_utc, r.run_id))


def hive_partitions(relative: Path) -> dict[str, str]:
    """``{"torch_version": "2.13.0"}`` from ``torch_version=2.13.0/part-0.parquet``: folders named column=value."""
    out = {}
    for part in relative.parts[:-1]:
        name, sep, value = part.partition("=")
        if sep and name in SCHEMA.names:
            out[name] = unquote(value)
    return out


def read_file(path: Path, *, partitions: dict[str, str] | None = None) -> list[RunRecord]:
    try:
        table = pq.read_table(path, partitioning=None)
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
