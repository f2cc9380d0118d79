"""OHLC market data: read a symbol's CSV, validate it, and cut the bench window.

Chronos-2 needs a regular time index, but market data is not regular (no weekends for stocks, no nights
for some FX feeds). Chronos-2 uses no calendar covariates here, so only the order of the rows matters: the
window's timestamps are replaced by a regular range at the series' most common spacing, starting at the
window's first real timestamp. Gaps are closed, nothing is filled or interpolated.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.errors import InputError

OHLC: tuple[str, ...] = ("open", "high", "low", "close")
TIMESTAMP_NAMES: tuple[str, ...] = ("timestamp", "date", "datetime", "time")
SYMBOL_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


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


def symbol_path(data_dir: Path, symbol: str) -> Path:
    """Where a symbol's CSV lives; rejects names that are not plain symbols."""
    if not SYMBOL_PATTERN.fullmatch(symbol):
        raise InputError(
            f"symbol {symbol!r}: not a plain symbol name (letters, digits, '.', '_', '-'); fix: pass e.g. --symbol BTCUSD"
        )
    return data_dir / f"{symbol}.csv"


def available_symbols(data_dir: Path) -> list[str]:
    """Symbols with a CSV file in ``data_dir``."""
    return sorted(p.stem for p in data_dir.glob("*.csv")) if data_dir.is_dir() else []


def load_ohlc(data_dir: Path, symbol: str) -> OhlcSeries:
    """Read and validate ``<data_dir>/<symbol>.csv``; every problem is an :class:`InputError` naming file and fix."""
    path = symbol_path(data_dir, symbol)
    if not path.is_file():
        known = ", ".join(available_symbols(data_dir)) or "none"
        raise InputError(
            f"{path}: no such file (symbols available in {data_dir}: {known}); "
            f"fix: add {path.name} with Date,Open,High,Low,Close columns or pick another --symbol"
        )
    raw = path.read_bytes()
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV ({_one_line(exc)}); fix: save it as comma-separated text") from exc
    frame = _normalise(table, path)
    return OhlcSeries(symbol=symbol, path=path, sha256=hashlib.sha256(raw).hexdigest(), frame=frame)


def _normalise(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    by_lower: dict[str, str] = {}
    for column in table.columns:
        by_lower.setdefault(str(column).strip().lower(), str(column))
    missing = [name for name in OHLC if name not in by_lower]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)} (found: {', '.join(map(str, table.columns))}); "
            "fix: the file needs Open, High, Low and Close columns (any case)"
        )
    time_column = _timestamp_column(table, by_lower, path)
    if not (pd.api.types.is_object_dtype(table[time_column]) or pd.api.types.is_string_dtype(table[time_column])):
        raise InputError(
            f"{path}: column {time_column!r} holds numbers ({table[time_column].dtype}) and a number is not a date; "
            "fix: use ISO dates like 2024-01-31 or 2024-01-31 15:00:00"
        )
    stamps = pd.to_datetime(table[time_column].astype(str), errors="coerce", utc=True, format="mixed").dt.tz_localize(None)
    bad = stamps.isna()
    if bad.any():
        line = int(np.flatnonzero(bad.to_numpy())[0]) + 2  # +1 header, +1 one-based
        raise InputError(
            f"{path}: column {time_column!r}, line {line}: {table[time_column].iloc[line - 2]!r} is not a date; "
            "fix: use ISO dates like 2024-01-31 or 2024-01-31 15:00:00"
        )
    out = pd.DataFrame({"timestamp": stamps})
    for name in OHLC:
        column = by_lower[name]
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            index = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{path}: column {column!r}, line {index + 2}: {table[column].iloc[index]!r} is not a finite number "
                f"({int(bad.sum())} such value(s)); fix: remove or fill those rows"
            )
        out[name] = values.astype("float64").to_numpy()
    if out["timestamp"].duplicated().any():
        dup = out["timestamp"][out["timestamp"].duplicated()].iloc[0]
        raise InputError(f"{path}: column {time_column!r}: timestamp {dup} appears twice; fix: keep one row per timestamp")
    return out.sort_values("timestamp", kind="stable").reset_index(drop=True)


def _timestamp_column(table: pd.DataFrame, by_lower: dict[str, str], path: Path) -> str:
    for name in TIMESTAMP_NAMES:
        if name in by_lower:
            return by_lower[name]
    first = str(table.columns[0])
    if first.startswith("Unnamed") or first.strip() == "":
        return first
    raise InputError(
        f"{path}: no date column (looked for {', '.join(TIMESTAMP_NAMES)} or an unnamed first column); "
        "fix: name the date column 'Date' or 'Timestamp'"
    )


def bench_window(series: OhlcSeries, *, rows: int, horizon: int, context_length: int) -> BenchWindow:
    """The last ``rows`` rows (all of them if the file is shorter), the last ``horizon`` held back as truth."""
    if rows <= horizon:
        raise InputError(f"rows={rows} must exceed the horizon ({horizon}); fix: pass a larger --rows")
    window = series.frame.tail(rows).reset_index(drop=True)
    needed = context_length + horizon
    if len(window) < needed:
        raise InputError(
            f"{series.path}: {len(window)} rows usable but context_length {context_length} + horizon {horizon} = {needed} "
            f"are needed; fix: lower context_length in hyperparams/chronos2/{series.symbol}.json or supply more rows"
        )
    context = window.iloc[: len(window) - horizon]
    truth = window["close"].iloc[len(window) - horizon :].to_numpy(dtype=np.float64)
    spacing = _spacing(window["timestamp"])
    regular = pd.date_range(start=context["timestamp"].iloc[0], periods=len(context), freq=spacing)
    long = pd.DataFrame({"item_id": series.symbol, "timestamp": regular})
    for name in OHLC:
        long[name] = context[name].to_numpy(dtype=np.float64)
    return BenchWindow(
        symbol=series.symbol,
        context=long,
        truth_close=truth,
        freq=pd.tseries.frequencies.to_offset(spacing).freqstr,
        rows_used=len(window),
        first_timestamp=str(window["timestamp"].iloc[0]),
        last_timestamp=str(window["timestamp"].iloc[-1]),
    )


def _spacing(stamps: pd.Series) -> pd.Timedelta:
    """The most common gap between consecutive timestamps (a month-end series gives ~30 days)."""
    gaps = stamps.diff().dropna()
    mode = gaps.mode()
    gap = mode.iloc[0] if len(mode) else pd.Timedelta(days=1)
    return gap if gap > pd.Timedelta(0) else pd.Timedelta(days=1)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]
