"""OHLC market data: read a symbol's CSV, validate it, and cut the bench window.

Chronos-2 needs a regular time index, but market data is not regular (no weekends for stocks, no nights
for some FX feeds). Chronos-2 uses no calendar covariates here, so only the order of the rows matters: the
window's timestamps are replaced by a regular range at the series' most common spacing, starting at the
window's first real timestamp. Gaps are closed, nothing is filled or interpolated.

What a CSV may look like, and what is refused (every refusal is one :class:`InputError` line:
``<file>: <where>: <problem>; fix: <what to do>``, user text escaped with ``repr``):

- text: UTF-8, with or without the byte-order mark Excel writes; UTF-16 and other encodings are refused.
  Fields are separated by ``,``, ``;`` or a tab, whichever splits the header into the most fields.
  Blank lines, and lines whose every field is blank (Excel's ``,,,,``), hold no data and are skipped.
- dates: one way throughout the column. Year first (ISO ``2024-01-31``, ``2024/01/31 15:00``), day and month
  in either order (``31/01/2024``, ``01/31/2024``, ``31.01.24``), or with a month name and a four-digit year
  (``Jan 31, 2024``). The order of day and month is read from the file (a first number above 12 means
  day-first, a second above 12 month-first); a file where every date reads both ways, or where dates disagree,
  is refused rather than guessed: ``date_format`` ("day-first", "month-first", or a strptime format such as
  ``%d/%m/%Y``) settles it. A column mixing ways of writing dates is refused, and so are duplicates (both
  lines named). Time zones are converted to UTC and dropped.
- numbers: a decimal point (``1234.5``, quoted ``"1,234.5"`` with thousands commas), or a decimal comma
  (``1234,5``, ``1.234,5`` with thousands points, as semicolon-separated European exports write them), read
  from the file as one convention; a file mixing both, or whose only separators read both ways (``1,234``), is
  refused. ``null``, ``NaN``, empty cells and infinities are refused with their lines: rows are never dropped
  or filled.
- prices: finite and within what the model computes in: Chronos-2 runs in float32 and standardises each
  series by squaring its deviations from the mean, so a magnitude above :data:`MAX_ABS_PRICE` (1e18, below
  sqrt(float32 max) = 1.8e19) or a non-zero one below float32's smallest normal number is refused, with the
  fix to rescale. Measured (GOOG scaled, `tiny` profile): forecasts scale with the prices up to a peak of 2e19;
  from 1e20 they are finite but wrong (1.6e37), which no check downstream would catch. ``High`` below ``Low`` on a row is refused (swapped columns, or a broken row). Negative
  prices are accepted (futures, spreads and rates go below zero) and a warning says so; MAE % is relative to
  the mean absolute close. A window whose held-back closes are all zero has no MAE % and is refused.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.errors import InputError

log = logging.getLogger(__name__)

OHLC: tuple[str, ...] = ("open", "high", "low", "close")
TIMESTAMP_NAMES: tuple[str, ...] = ("timestamp", "date", "datetime", "time")
MAX_SYMBOL_CHARS = 64  # a symbol becomes part of file names (results, baselines): well under any file-name limit
SYMBOL_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_SYMBOL_CHARS - 1}}}")
DATE_ORDERS: tuple[str, ...] = ("auto", "day-first", "month-first")  # date_format: one of these, or a strptime format with '%'
MAX_ABS_PRICE = 1e18  # float32 squares of deviations stay finite below sqrt(3.4e38) = 1.8e19 (see the module docstring)
MIN_ABS_PRICE = float(np.finfo(np.float32).tiny)  # 1.2e-38: smaller non-zero magnitudes are not normal float32 numbers
DELIMITERS: tuple[str, ...] = (",", ";", "\t")


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


def show(value: object, limit: int = 60) -> str:
    """``repr`` of user text for a one-line message: control characters escaped, long text cut."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        return f"{text[:limit]!r}... ({len(text)} characters)"
    return repr(text) if isinstance(value, str) else repr(value)


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
            raise InputError(f"{path}: file: a directory or other non-file; fix: replace it with the symbol's CSV file or pick another --symbol")
        known = ", ".join(available_symbols(data_dir)) or "none"
        raise InputError(
            f"{path}: no such file (symbols available in {data_dir}: {known}); "
            f"fix: add {path.name} with Date,Open,High,Low,Close columns or pick another --symbol"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: file: cannot be read ({_one_line(exc.strerror or exc)}); fix: check that it is a readable file") from exc
    header, lines, rows = _records(_decode(raw, path), path)
    frame = _normalise(header, lines, rows, path, order)
    return OhlcSeries(symbol=symbol, path=path, sha256=hashlib.sha256(raw).hexdigest(), frame=frame)


def file_state(path: Path) -> str:
    """"file", "missing" (a dangling link too) or "other" (a directory, a device...); an unreadable place is an InputError."""
    try:
        if path.is_file():
            return "file"
        return "other" if path.exists() else "missing"
    except OSError as exc:  # e.g. no permission to look into the directory
        raise InputError(f"{path}: file: cannot be looked at ({_one_line(exc.strerror or exc)}); fix: check the directory's permissions") from exc


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
    spacing = _spacing(window["timestamp"])
    try:
        regular = pd.date_range(start=context["timestamp"].iloc[0], periods=len(context), freq=spacing)
    except (OverflowError, pd.errors.OutOfBoundsDatetime) as exc:
        raise InputError(f"{series.path}: rows: {len(context)} rows at the most common spacing of the dates ({spacing}) run past the last "
                         "date a timestamp can hold; fix: check the dates, most rows should be one step apart") from exc
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


def _fail(path: Path, where: str, problem: str, fix: str) -> InputError:
    return InputError(f"{path}: {where}: {problem}; fix: {fix}")


def _decode(raw: bytes, path: Path) -> str:
    utf8 = "save it as UTF-8 text (Excel: 'CSV UTF-8 (Comma delimited)')"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _fail(path, "encoding", "UTF-16 text (Excel's 'Unicode Text' writes it)", utf8)
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise _fail(path, f"line {line}", "holds NUL bytes: UTF-16 text or not text at all", utf8)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _fail(path, f"line {line}", f"byte 0x{raw[exc.start]:02x} is not UTF-8 (Latin-1 or Windows-1252 text?)", utf8) from exc
    if not text.strip():
        raise _fail(path, "contents", "empty: no header and no rows", "write a header line Date,Open,High,Low,Close and one line per row")
    return text


def _records(text: str, path: Path) -> tuple[list[str], list[int], list[list[str]]]:
    """The header, and each data row with its line number; blank rows skipped, short rows padded."""
    first = next(line for line in text.splitlines() if line.strip())
    delimiter = max(DELIMITERS, key=lambda d: _field_count(first, d))  # ties: the first, ','
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    lines: list[int] = []
    rows: list[list[str]] = []
    try:
        for row in reader:
            if not any(field.strip() for field in row):
                continue
            if header is None:
                header = [field.strip() for field in row]
                continue
            if len(row) > len(header) and any(field.strip() for field in row[len(header) :]):
                hint = ', e.g. quote numbers that hold a comma: "1,234.5"' if delimiter == "," else ""
                raise _fail(path, f"line {reader.line_num}", f"{len(row)} fields but the header has {len(header)}",
                            f"give every line as many fields as the header{hint}")
            lines.append(reader.line_num)
            rows.append(row[: len(header)] + [""] * (len(header) - len(row)))
    except csv.Error as exc:
        raise _fail(path, f"line {reader.line_num}", f"not a readable CSV ({_one_line(exc)})",
                    "save it as comma-separated text, every quote closed") from exc
    if header is None:
        raise _fail(path, "contents", "no header: every line is blank or only separators", "write a header line Date,Open,High,Low,Close")
    return header, lines, rows


def _field_count(line: str, delimiter: str) -> int:
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:  # e.g. a field over csv's size limit: reading the file says so, with its line
        return 0


def _normalise(header: list[str], lines: list[int], rows: list[list[str]], path: Path, date_format: str) -> pd.DataFrame:
    columns = _columns(header, path)
    if not rows:
        raise _fail(path, "rows", "no data rows after the header", "add one line per row: date, open, high, low, close")
    time_index = _timestamp_column(header, columns, path)
    label = _label(header, time_index)
    stamps = _dates([row[time_index].strip() for row in rows], lines, label, path, date_format)
    out = pd.DataFrame({"timestamp": stamps})
    cells = {name: [row[columns[name]].strip() for row in rows] for name in OHLC}
    values = _numbers(cells, {name: _label(header, columns[name]) for name in OHLC}, lines, path)
    for name in OHLC:
        out[name] = values[name]
    _check_prices(out, {name: _label(header, columns[name]) for name in OHLC}, lines, path)
    _check_unique(out["timestamp"], [row[time_index].strip() for row in rows], lines, label, path)
    return out.sort_values("timestamp", kind="stable").reset_index(drop=True)


def _columns(header: list[str], path: Path) -> dict[str, int]:
    """Lower-case name -> index for the OHLC and date names; a name given twice is refused."""
    by_lower: dict[str, int] = {}
    for index, name in enumerate(header):
        key = name.lower()
        if key in (*OHLC, *TIMESTAMP_NAMES) and key in by_lower:
            raise _fail(path, "header", f"column {show(name)} appears twice (columns {by_lower[key] + 1} and {index + 1})",
                        "keep one column of each name")
        by_lower.setdefault(key, index)
    missing = [name for name in OHLC if name not in by_lower]
    if missing:
        found = ", ".join(show(name, 30) for name in header[:12]) + (", ..." if len(header) > 12 else "")
        raise _fail(path, "header", f"missing column(s) {', '.join(missing)} (found: {found})",
                    "the file needs Open, High, Low and Close columns (any case)")
    return by_lower


def _timestamp_column(header: list[str], columns: dict[str, int], path: Path) -> int:
    for name in TIMESTAMP_NAMES:
        if name in columns:
            return columns[name]
    if header[0] == "" or header[0].lower().startswith("unnamed"):
        return 0
    raise _fail(path, "header", f"no date column (looked for {', '.join(TIMESTAMP_NAMES)} or an unnamed first column)",
                "name the date column 'Date' or 'Timestamp'")


def _label(header: list[str], index: int) -> str:
    return f"column {show(header[index], 30)}" if header[index] else f"column {index + 1} (unnamed)"


# --- dates -----------------------------------------------------------------------------------------

_YEAR_FIRST = re.compile(r"\d{4}([-/.])\d{1,2}\1\d{1,2}(?:[T ].*)?", re.ASCII)
_DAY_MONTH = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})((?:[T ].*)?)", re.ASCII)
_WORDY = re.compile(r"(?=.*[A-Za-z]{3})(?=.*(?<!\d)\d{4}(?!\d))(?=.*(?<!\d)\d{1,2}(?!\d)).*", re.ASCII)  # month name, day, 4-digit year
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_ISO_FIX = "write every date one way, best ISO 2024-01-31 (or 2024-01-31 15:00:00)"


def _dates(values: list[str], lines: list[int], label: str, path: Path, date_format: str) -> pd.Series:
    """Every value parsed one way (see the module docstring), naive UTC; the first that is not a date is named."""
    if "%" in date_format:
        try:
            parsed = pd.to_datetime(pd.Series(values, dtype=object), format=date_format, errors="coerce", utc=True)
        except ValueError as exc:
            raise InputError(f"--date-format {date_format!r}: not a strptime format ({_one_line(exc)}); fix: e.g. %d/%m/%Y") from exc
        _no_nat(parsed, values, lines, label, path, f"is not a date in the format {date_format!r}",
                "correct it, or give the format the dates are written in")
        return _naive(parsed)
    kinds: dict[str, int] = {}
    for i, value in enumerate(values):
        kind = _date_kind(value)
        if kind is None:
            if all(_NUMBER.fullmatch(v) for v in values):
                raise _fail(path, label, f"holds numbers (line {lines[i]}: {show(value)}), and a number is not a date",
                            "use ISO dates like 2024-01-31, or pass --date-format with their strptime format (e.g. %Y%m%d)")
            raise _fail(path, f"line {lines[i]}, {label}", f"{show(value)} is not a date", "use ISO dates like 2024-01-31 or 2024-01-31 15:00:00")
        kinds.setdefault(kind, i)
    if len(kinds) > 1:
        (a, i), (b, j) = sorted(kinds.items(), key=lambda item: item[1])[:2]
        raise _fail(path, label, f"mixes ways of writing dates: line {lines[i]} {show(values[i])} ({a}) and line {lines[j]} "
                    f"{show(values[j])} ({b})", _ISO_FIX)
    text, read = values, ""
    if "day/month" in kinds:  # rewritten year first, so that nothing below can swap day and month
        day_first = _day_first(values, lines, label, path, date_format)
        text = [_year_first(value, day_first=day_first) for value in values]
        read = " (read day-first)" if day_first else " (read month-first)"
    parsed = pd.to_datetime(pd.Series(text, dtype=object), format="mixed", errors="coerce", utc=True, dayfirst=False)
    _no_nat(parsed, values, lines, label, path, f"is not a date{read}", "use ISO dates like 2024-01-31 or 2024-01-31 15:00:00")
    return _naive(parsed)


def _date_kind(value: str) -> str | None:
    if _YEAR_FIRST.fullmatch(value):
        return "year-first"
    match = _DAY_MONTH.fullmatch(value)
    if match:
        a, b = int(match.group(1)), int(match.group(3))
        return "day/month" if 0 < a <= 31 and 0 < b <= 31 and min(a, b) <= 12 else None  # 31/31/2024 has no month
    if _WORDY.fullmatch(value):
        return "month name"
    return None


def _day_first(values: list[str], lines: list[int], label: str, path: Path, date_format: str) -> bool:
    """Whether ``values`` (all day/month dates) are day-first: as asked, or as the file shows, or refused."""
    if date_format != "auto":
        return date_format == "day-first"
    day_first = month_first = None
    for i, value in enumerate(values):
        match = _DAY_MONTH.fullmatch(value)
        assert match is not None
        a, b = int(match.group(1)), int(match.group(3))
        if a > 12 and day_first is None:
            day_first = i
        if b > 12 and month_first is None:
            month_first = i
    if day_first is not None and month_first is not None:
        i, j = day_first, month_first
        raise _fail(path, label, f"dates disagree on the order of day and month: line {lines[i]} {show(values[i])} reads only "
                    f"day-first, line {lines[j]} {show(values[j])} only month-first", _ISO_FIX)
    if day_first is None and month_first is None:
        raise _fail(path, label, f"every date reads both day-first and month-first (line {lines[0]}: {show(values[0])}), "
                    "so their order cannot be told from the file",
                    "pass --date-format day-first or --date-format month-first, or write ISO dates like 2024-01-31")
    return day_first is not None


def _year_first(value: str, *, day_first: bool) -> str:
    match = _DAY_MONTH.fullmatch(value)
    assert match is not None
    first, _, second, year, rest = match.groups()
    day, month = (first, second) if day_first else (second, first)
    if len(year) == 2:  # POSIX %y: 69-99 are 1969-1999, 00-68 are 2000-2068
        year = ("19" if int(year) >= 69 else "20") + year
    return f"{year}-{int(month):02d}-{int(day):02d}{rest}"


def _no_nat(parsed: pd.Series, values: list[str], lines: list[int], label: str, path: Path, problem: str, fix: str) -> None:
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        raise _fail(path, f"line {lines[i]}, {label}", f"{show(values[i])} {problem}", fix)


def _naive(parsed: pd.Series) -> pd.Series:
    naive: pd.Series = parsed.dt.tz_localize(None)
    return naive.astype("datetime64[us]")


def _check_unique(stamps: pd.Series, values: list[str], lines: list[int], label: str, path: Path) -> None:
    repeated = np.flatnonzero(stamps.duplicated().to_numpy())
    if len(repeated):
        j = int(repeated[0])
        first = int(np.flatnonzero((stamps == stamps.iloc[j]).to_numpy())[0])
        raise _fail(path, f"line {lines[j]}, {label}", f"timestamp {stamps.iloc[j]} ({show(values[j])}) appears twice, "
                    f"first on line {lines[first]} ({show(values[first])})", "keep one row per timestamp")


# --- numbers ---------------------------------------------------------------------------------------

_PLAIN = re.compile(r"\d+", re.ASCII)
_POINT = re.compile(r"(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+", re.ASCII)  # 1.5, .5, 1e5: a decimal point (or none)
_POINT3 = re.compile(r"\d{1,3}\.\d{3}", re.ASCII)  # 1.234: a decimal point, or a thousands point
_COMMA3 = re.compile(r"\d{1,3},\d{3}", re.ASCII)  # 1,234: a thousands comma, or a decimal comma
_US = re.compile(r"\d{1,3}(?:,\d{3})+\.\d*|\d{1,3}(?:,\d{3}){2,}", re.ASCII)  # 1,234.5 or 1,234,567
_EU = re.compile(r"\d{1,3}(?:\.\d{3})+,\d*|\d{1,3}(?:\.\d{3}){2,}|\d+,\d+", re.ASCII)  # 1.234,5 or 1.234.567 or 1234,5


# tried in this order: the first pattern that matches the whole cell names its style
_NUMBER_KINDS = (("plain", _PLAIN), ("point3", _POINT3), ("comma3", _COMMA3), ("us", _US), ("eu", _EU), ("point", _POINT))


def _number_kind(cell: str) -> str | None:
    body = cell[1:] if cell[:1] in "+-" else cell
    return next((kind for kind, pattern in _NUMBER_KINDS if pattern.fullmatch(body)), None)


def _numbers(cells: dict[str, list[str]], labels: dict[str, str], lines: list[int], path: Path) -> dict[str, np.ndarray]:
    kinds = {name: [_number_kind(cell) for cell in column] for name, column in cells.items()}
    for name, column in cells.items():
        bad = [i for i, kind in enumerate(kinds[name]) if kind is None]
        if bad:
            i = bad[0]
            at = ", ".join(str(lines[k]) for k in bad[:5]) + (", ..." if len(bad) > 5 else "")
            more = f" ({len(bad)} such cells in this column, on lines {at})" if len(bad) > 1 else ""
            hint = ", e.g. Yahoo's 'null' rows for days without prices" if column[i].lower() == "null" else ""
            raise _fail(path, f"line {lines[i]}, {labels[name]}", f"{show(column[i])} is not a finite number{more}",
                        f"remove or correct those rows{hint} (numbers like 1234.5 or 1.234,5, no currency signs); "
                        "rows are never dropped or filled for you")
    point = _first(kinds, cells, labels, lines, ("point", "us"))
    comma = _first(kinds, cells, labels, lines, ("eu",))
    if point and comma:
        raise _fail(path, f"line {comma[0]}, {comma[1]}", f"{show(comma[2])} has a decimal comma but line {point[0]} ({show(point[2])}, "
                    f"{point[1]}) a decimal point", "write every number one way, e.g. 1234.5")
    ambiguous = _first(kinds, cells, labels, lines, ("comma3",))
    if ambiguous and not point and not comma:
        raise _fail(path, f"line {ambiguous[0]}, {ambiguous[1]}", f"{show(ambiguous[2])} reads as a thousands comma or a decimal comma, "
                    "and no other number in the file tells which", "write numbers without thousands separators, with '.' as the decimal point")
    decimal_comma = bool(comma)
    out: dict[str, np.ndarray] = {}
    for name, column in cells.items():
        values = np.array([_to_float(cell, kind, decimal_comma=decimal_comma) for cell, kind in zip(column, kinds[name], strict=True)],
                          dtype=np.float64)
        infinite = np.flatnonzero(~np.isfinite(values))
        if len(infinite):
            i = int(infinite[0])
            raise _fail(path, f"line {lines[i]}, {labels[name]}", f"{show(column[i])} is not a finite number", "remove or correct that row")
        out[name] = values
    return out


def _first(
    kinds: dict[str, list[str | None]], cells: dict[str, list[str]], labels: dict[str, str], lines: list[int], wanted: tuple[str, ...]
) -> tuple[int, str, str] | None:
    """(line, column label, cell) of the earliest cell of a wanted kind, or None."""
    best: tuple[int, str, str] | None = None
    for name, column in kinds.items():
        for i, kind in enumerate(column):
            if kind in wanted:
                if best is None or lines[i] < best[0]:
                    best = (lines[i], labels[name], cells[name][i])
                break
    return best


def _to_float(cell: str, kind: str | None, *, decimal_comma: bool) -> float:
    if kind in ("plain", "point"):
        return float(cell)
    if decimal_comma:  # 1.234,5 / 1.234 / 1,234: points group thousands, the comma is the decimal mark
        return float(cell.replace(".", "").replace(",", "."))
    return float(cell.replace(",", ""))  # 1,234.5 / 1,234 / 1.234


def _check_prices(frame: pd.DataFrame, labels: dict[str, str], lines: list[int], path: Path) -> None:
    for name in OHLC:
        magnitude = np.abs(frame[name].to_numpy())
        wrong = np.flatnonzero((magnitude > MAX_ABS_PRICE) | ((magnitude > 0) & (magnitude < MIN_ABS_PRICE)))
        if len(wrong):
            i = int(wrong[0])
            raise _fail(path, f"line {lines[i]}, {labels[name]}",
                        f"{frame[name].iloc[i]:g} is beyond what the model computes in (float32, magnitudes {MIN_ABS_PRICE:.2g} to "
                        f"{MAX_ABS_PRICE:g}; {len(wrong)} such value(s))",
                        "rescale every price by one factor, e.g. divide by 1e30 (a ratio of prices does not change)")
    inverted = np.flatnonzero((frame["high"] < frame["low"]).to_numpy())
    if len(inverted):
        i = int(inverted[0])
        raise _fail(path, f"line {lines[i]}, {labels['high']}",
                    f"High {frame['high'].iloc[i]:g} is below Low {frame['low'].iloc[i]:g} ({len(inverted)} such row(s))",
                    "check that the High and Low columns are not swapped, and correct those rows")
    negative = np.flatnonzero((frame[list(OHLC)] < 0).any(axis=1).to_numpy())
    if len(negative):
        log.warning("%s: %d row(s) with negative prices, first on line %d: accepted (futures, spreads and rates go below zero); "
                    "MAE %% is relative to the mean absolute close", path, len(negative), lines[int(negative[0])])


def _spacing(stamps: pd.Series) -> pd.Timedelta:
    """The most common gap between consecutive timestamps (a month-end series gives ~30 days)."""
    gaps = stamps.diff().dropna()
    mode = gaps.mode()
    gap = mode.iloc[0] if len(mode) else pd.Timedelta(days=1)
    return gap if gap > pd.Timedelta(0) else pd.Timedelta(days=1)


def _one_line(exc: object) -> str:
    """An exception's text on one line, control characters escaped, at most 200 characters."""
    text = " ".join(str(exc).split())[:200]
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
