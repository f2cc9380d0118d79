"""OHLC market data: read a symbol's CSV, validate it, and cut the bench window.

Chronos-2 needs a regular time index, but market data is not regular (no weekends for stocks, no nights
for some FX feeds). Chronos-2 uses no calendar covariates here, so only the order of the rows matters: the
window's timestamps are replaced by a regular range at the series' most common spacing, starting at the
window's first real timestamp. Gaps are closed, nothing is filled or interpolated.

What a CSV may look like, and what is refused: :mod:`harness.data.csvfile`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.base.errors import InputError, one_line
from harness.base.errors import show as show  # re-exported: messages quote user text the same way everywhere
from harness.data.csvfile import OHLC as OHLC
from harness.data.csvfile import common_spacing, parse

log = logging.getLogger(__name__)

MAX_SYMBOL_CHARS = 64  # a symbol becomes part of file names (results, baselines): well under any file-name limit
SYMBOL_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_SYMBOL_CHARS - 1}}}")
DATE_ORDERS: tuple[str, ...] = ("auto", "day-first", "month-first")  # date_format: one of these, or a strptime format with '%'


@dataclass(frozen=True, kw_only=True)
class OhlcSeries:
    """A validated OHLC series read from one CSV file."""

    symbol: str
    path: Path
    sha256: str
    frame: pd.DataFrame  # columns: timestamp (datetime64), open, high, low, close (float64); sorted, unique


@dataclass(frozen=True, kw_only=True)
class BenchWindow:
    """What one prediction sees and what it is scored against."""

    symbol: str
    context: pd.DataFrame  # long format for predict_df: item_id, timestamp, open, high, low, close
    truth_close: np.ndarray  # the held-back closes, length = horizon
    freq: str  # the regular spacing given to the context's timestamps, e.g. "1D"
    rows_used: int
    first_timestamp: str
    last_timestamp: str


def check_symbol(symbol: str) -> str:
    """``symbol`` if it is a plain symbol name (it becomes a file name), else an :class:`InputError`."""
    if not isinstance(symbol, str) or not SYMBOL_PATTERN.fullmatch(symbol):
        raise InputError(
            f"symbol {show(symbol, 40)}: not a plain symbol name (1 to {MAX_SYMBOL_CHARS} letters, digits, '.', '_', '-', "
            "starting with a letter or digit); fix: pass e.g. --symbol BTCUSD"
        )
    return symbol


def symbol_path(data_dir: Path, symbol: str) -> Path:
    """Where a symbol's CSV lives; rejects names that are not plain symbols."""
    return data_dir / f"{check_symbol(symbol)}.csv"


def available_symbols(data_dir: Path) -> list[str]:
    """Symbols with a CSV file in ``data_dir``."""
    return sorted(p.stem for p in data_dir.glob("*.csv") if p.is_file()) if data_dir.is_dir() else []


def check_date_format(date_format: str | None) -> str:
    """``date_format`` normalised ("auto" for None), or an :class:`InputError` listing the choices."""
    if date_format is None:
        return "auto"
    if date_format in DATE_ORDERS or "%" in date_format:
        return date_format
    raise InputError(
        f"--date-format {show(date_format)}: not a date format; fix: one of {', '.join(DATE_ORDERS)}, or a strptime format such as %d/%m/%Y"
    )


def load_ohlc(data_dir: Path, symbol: str, *, date_format: str | None = None) -> OhlcSeries:
    """Read and validate ``<data_dir>/<symbol>.csv``; every problem is an :class:`InputError` naming file, field and fix.

    ``date_format``: ``None``/"auto" reads the order of day and month from the file; "day-first" or "month-first"
    says it; a strptime format (``%d.%m.%Y %H:%M``) parses every date with exactly that format.
    """
    order = check_date_format(date_format)
    path = symbol_path(data_dir, symbol)
    state = file_state(path)
    if state != "file":
        if state == "other":
            raise InputError(
                f"{path}: file: a directory or other non-file; fix: replace it with the symbol's CSV file or pick another --symbol"
            )
        known = ", ".join(available_symbols(data_dir)) or "none"
        raise InputError(
            f"{path}: no such file (symbols available in {data_dir}: {known}); "
            f"fix: add {path.name} with Date,Open,High,Low,Close columns or pick another --symbol"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"{path}: file: cannot be read ({one_line(exc.strerror or exc)}); fix: check that it is a readable file"
        ) from exc
    frame = parse(raw, path, order)
    return OhlcSeries(symbol=symbol, path=path, sha256=hashlib.sha256(raw).hexdigest(), frame=frame)


def write_series(series: OhlcSeries, path: Path, *, last: int) -> None:
    """The last ``last`` rows of ``series``, validated, as Parquet at ``path``: what an isolated child reads instead of
    parsing the CSV again (:func:`read_series`). Where it came from (file, hash) travels in the file's metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(series.frame.tail(max(last, 0)), preserve_index=False)
    origin = {b"symbol": series.symbol, b"path": str(series.path), b"sha256": series.sha256}
    pq.write_table(
        table.replace_schema_metadata({**(table.schema.metadata or {}), **{k: v.encode() for k, v in origin.items()}}), path
    )


def read_series(path: Path) -> OhlcSeries:
    """The series :func:`write_series` wrote; an unreadable file is an :class:`InputError`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
        meta = table.schema.metadata or {}
        symbol, source, sha256 = (meta[key].decode() for key in (b"symbol", b"path", b"sha256"))
        missing = {"timestamp", *OHLC} - set(table.column_names)
        if missing:
            raise KeyError(f"no column(s) {', '.join(sorted(missing))}")
    except (OSError, pa.ArrowException, KeyError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path}: not a series the bench wrote ({one_line(exc)}); fix: run `python -m harness bench` instead"
        ) from exc
    frame = pd.DataFrame({"timestamp": table.column("timestamp").to_pandas()})
    for name in OHLC:  # numpy copies, column by column, as the CSV readers build it: writable, as torch wants them
        frame[name] = np.array(table.column(name).to_numpy(), dtype=np.float64)
    return OhlcSeries(symbol=symbol, path=Path(source), sha256=sha256, frame=frame)


def file_state(path: Path) -> str:
    """ "file", "missing" (a dangling link too) or "other" (a directory, a device...); an unreadable place is an InputError."""
    try:
        if path.is_file():
            return "file"
        return "other" if path.exists() else "missing"
    except OSError as exc:  # e.g. no permission to look into the directory
        raise InputError(
            f"{path}: file: cannot be looked at ({one_line(exc.strerror or exc)}); fix: check the directory's permissions"
        ) from exc


def bench_window(
    series: OhlcSeries, *, rows: int, horizon: int, context_length: int | None, origins: Mapping[str, str] | None = None
) -> BenchWindow:
    """The last ``rows`` rows (all of them if the file is shorter), the last ``horizon`` held back as truth.

    ``context_length``: the rows of history the model must be given; ``None`` asks only for one row (the caller
    takes what the window holds). ``origins``: where ``context_length`` and ``prediction_length`` were set (a
    flag such as ``--context-length``, or a settings file's path), so that the fix names the right place.
    """
    where = dict(origins or {})
    window = series.frame.tail(max(rows, 0)).reset_index(drop=True)
    total, n = len(series.frame), len(window)
    needed = (context_length or 1) + horizon
    if n < needed:
        holds = f"the last {rows} (--rows {rows}) of the file's {total}" if total > n else f"all of the file's {total}"
        fixes = [f"pass --rows {needed} or more"] if total >= needed else []
        if context_length is None or n <= horizon:
            problem = f"the window holds {n} rows ({holds}), which leaves no history before the {horizon} held back (prediction_length {horizon})"
            if n > 1:
                fixes.append(_set_phrase("prediction_length", n - 1, where))
        else:
            problem = f"the window holds {n} rows ({holds}) but context_length {context_length} + horizon {horizon} = {needed} are needed"
            fixes.append(_set_phrase("context_length", n - horizon, where))
        if total < needed:
            fixes.append("add rows to the file")
        raise InputError(f"{series.path}: rows: {problem}; fix: {' or '.join(fixes)}")
    context = window.iloc[: n - horizon]
    truth = window["close"].iloc[n - horizon :].to_numpy(dtype=np.float64)
    if not np.any(truth != 0):
        raise InputError(
            f"{series.path}: rows: the {horizon} held-back closes (the file's last) are all 0, so the forecast error relative to "
            "them (MAE %) is undefined; fix: end the file at the last real price"
        )
    spacing = common_spacing(window["timestamp"])
    try:
        regular = pd.date_range(start=context["timestamp"].iloc[0], periods=len(context), freq=spacing)
    except (OverflowError, pd.errors.OutOfBoundsDatetime) as exc:
        raise InputError(
            f"{series.path}: rows: {len(context)} rows at the most common spacing of the dates ({spacing}) run past the last "
            "date a timestamp can hold; fix: check the dates, most rows should be one step apart"
        ) from exc
    long = pd.DataFrame({"item_id": series.symbol, "timestamp": regular})
    for name in OHLC:
        long[name] = context[name].to_numpy(dtype=np.float64)
    return BenchWindow(
        symbol=series.symbol,
        context=long,
        truth_close=truth,
        freq=pd.tseries.frequencies.to_offset(spacing).freqstr,
        rows_used=n,
        first_timestamp=str(window["timestamp"].iloc[0]),
        last_timestamp=str(window["timestamp"].iloc[-1]),
    )


def _set_phrase(key: str, most: int, where: Mapping[str, str]) -> str:
    origin = where.get(key, "")
    if origin.startswith("--"):
        return f"pass {origin} {most} or less"
    if origin:
        return f"set {key} to {most} or less in {origin}"
    return f"lower {key} to {most} or less"


# --- reading the text ------------------------------------------------------------------------------


# --- dates -----------------------------------------------------------------------------------------


# --- numbers ---------------------------------------------------------------------------------------
