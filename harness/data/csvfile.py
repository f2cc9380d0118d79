"""Read an OHLC CSV's bytes into a validated frame: encoding, separators, dates, numbers, prices.

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
import io
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from harness.base.errors import InputError, field_error, one_line, show
from harness.data.csvdates import check_unique, parse_dates

log = logging.getLogger("harness.data.window")


TIMESTAMP_NAMES: tuple[str, ...] = ("timestamp", "date", "datetime", "time")


MAX_ABS_PRICE = 1e18  # float32 squares of deviations stay finite below sqrt(3.4e38) = 1.8e19 (see the module docstring)


MIN_ABS_PRICE = float(np.finfo(np.float32).tiny)  # 1.2e-38: smaller non-zero magnitudes are not normal float32 numbers


DELIMITERS: tuple[str, ...] = (",", ";", "\t")


def _decode(raw: bytes, path: Path) -> str:
    utf8 = "save it as UTF-8 text (Excel: 'CSV UTF-8 (Comma delimited)')"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise field_error(path, "encoding", "UTF-16 text (Excel's 'Unicode Text' writes it)", utf8)
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise field_error(path, f"line {line}", "holds NUL bytes: UTF-16 text or not text at all", utf8)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise field_error(
            path, f"line {line}", f"byte 0x{raw[exc.start]:02x} is not UTF-8 (Latin-1 or Windows-1252 text?)", utf8
        ) from exc
    if not text.strip():
        raise field_error(
            path, "contents", "empty: no header and no rows", "write a header line Date,Open,High,Low,Close and one line per row"
        )
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
                raise field_error(
                    path,
                    f"line {reader.line_num}",
                    f"{len(row)} fields but the header has {len(header)}",
                    f"give every line as many fields as the header{hint}",
                )
            lines.append(reader.line_num)
            rows.append(row[: len(header)] + [""] * (len(header) - len(row)))
    except csv.Error as exc:
        raise field_error(
            path,
            f"line {reader.line_num}",
            f"not a readable CSV ({one_line(exc)})",
            "save it as comma-separated text, every quote closed",
        ) from exc
    if header is None:
        raise field_error(
            path, "contents", "no header: every line is blank or only separators", "write a header line Date,Open,High,Low,Close"
        )
    return header, lines, rows


def _field_count(line: str, delimiter: str) -> int:
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:  # e.g. a field over csv's size limit: reading the file says so, with its line
        return 0


def _normalise(header: list[str], lines: list[int], rows: list[list[str]], path: Path, date_format: str) -> pd.DataFrame:
    columns = _columns(header, path)
    if not rows:
        raise field_error(path, "rows", "no data rows after the header", "add one line per row: date, open, high, low, close")
    time_index = _timestamp_column(header, columns, path)
    label = _label(header, time_index)
    stamps = parse_dates([row[time_index].strip() for row in rows], lines, label, path, date_format)
    out = pd.DataFrame({"timestamp": stamps})
    cells = {name: [row[columns[name]].strip() for row in rows] for name in OHLC}
    values = _numbers(cells, {name: _label(header, columns[name]) for name in OHLC}, lines, path)
    for name in OHLC:
        out[name] = values[name]
    _check_prices(out, {name: _label(header, columns[name]) for name in OHLC}, lines, path)
    check_unique(out["timestamp"], [row[time_index].strip() for row in rows], lines, label, path)
    return out.sort_values("timestamp", kind="stable").reset_index(drop=True)


def _columns(header: list[str], path: Path) -> dict[str, int]:
    """Lower-case name -> index for the OHLC and date names; a name given twice is refused."""
    by_lower: dict[str, int] = {}
    for index, name in enumerate(header):
        key = name.lower()
        if key in (*OHLC, *TIMESTAMP_NAMES) and key in by_lower:
            raise field_error(
                path,
                "header",
                f"column {show(name)} appears twice (columns {by_lower[key] + 1} and {index + 1})",
                "keep one column of each name",
            )
        by_lower.setdefault(key, index)
    missing = [name for name in OHLC if name not in by_lower]
    if missing and len(header) < 2:  # not a header of names (a secret's first line, behind a symlink, say): never quoted
        raise field_error(
            path,
            "header",
            f"missing column(s) {', '.join(missing)}: the first line has no , ; or tab between names, so it is not a CSV header",
            "point the file at a CSV with a header line Date,Open,High,Low,Close",
        )
    if missing:
        found = ", ".join(show(name, 30) for name in header[:12]) + (", ..." if len(header) > 12 else "")
        raise field_error(
            path,
            "header",
            f"missing column(s) {', '.join(missing)} (found: {found})",
            "the file needs Open, High, Low and Close columns (any case)",
        )
    return by_lower


def _timestamp_column(header: list[str], columns: dict[str, int], path: Path) -> int:
    for name in TIMESTAMP_NAMES:
        if name in columns:
            return columns[name]
    if header[0] == "" or header[0].lower().startswith("unnamed"):
        return 0
    raise field_error(
        path,
        "header",
        f"no date column (looked for {', '.join(TIMESTAMP_NAMES)} or an unnamed first column)",
        "name the date column 'Date' or 'Timestamp'",
    )


def _label(header: list[str], index: int) -> str:
    return f"column {show(header[index], 30)}" if header[index] else f"column {index + 1} (unnamed)"


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
            raise field_error(
                path,
                f"line {lines[i]}, {labels[name]}",
                f"{show(column[i])} is not a finite number{more}",
                f"remove or correct those rows{hint} (numbers like 1234.5 or 1.234,5, no currency signs); "
                "rows are never dropped or filled for you",
            )
    point = _first(kinds, cells, labels, lines, ("point", "us"))
    comma = _first(kinds, cells, labels, lines, ("eu",))
    if point and comma:
        raise field_error(
            path,
            f"line {comma[0]}, {comma[1]}",
            f"{show(comma[2])} has a decimal comma but line {point[0]} ({show(point[2])}, {point[1]}) a decimal point",
            "write every number one way, e.g. 1234.5",
        )
    ambiguous = _first(kinds, cells, labels, lines, ("comma3",))
    if ambiguous and not point and not comma:
        raise field_error(
            path,
            f"line {ambiguous[0]}, {ambiguous[1]}",
            f"{show(ambiguous[2])} reads as a thousands comma or a decimal comma, and no other number in the file tells which",
            "write numbers without thousands separators, with '.' as the decimal point",
        )
    decimal_comma = bool(comma)
    out: dict[str, np.ndarray] = {}
    for name, column in cells.items():
        values = np.array(
            [_to_float(cell, kind, decimal_comma=decimal_comma) for cell, kind in zip(column, kinds[name], strict=True)],
            dtype=np.float64,
        )
        infinite = np.flatnonzero(~np.isfinite(values))
        if len(infinite):
            i = int(infinite[0])
            raise field_error(
                path,
                f"line {lines[i]}, {labels[name]}",
                f"{show(column[i])} is not a finite number",
                "remove or correct that row",
            )
        out[name] = values
    return out


def _first(
    kinds: dict[str, list[str | None]],
    cells: dict[str, list[str]],
    labels: dict[str, str],
    lines: list[int],
    wanted: tuple[str, ...],
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
            raise field_error(
                path,
                f"line {lines[i]}, {labels[name]}",
                f"{frame[name].iloc[i]:g} is beyond what the model computes in (float32, magnitudes {MIN_ABS_PRICE:.2g} to "
                f"{MAX_ABS_PRICE:g}; {len(wrong)} such value(s))",
                "rescale every price by one factor, e.g. divide by 1e30 (a ratio of prices does not change)",
            )
    inverted = np.flatnonzero((frame["high"] < frame["low"]).to_numpy())
    if len(inverted):
        i = int(inverted[0])
        raise field_error(
            path,
            f"line {lines[i]}, {labels['high']}",
            f"High {frame['high'].iloc[i]:g} is below Low {frame['low'].iloc[i]:g} ({len(inverted)} such row(s))",
            "check that the High and Low columns are not swapped, and correct those rows",
        )
    negative = np.flatnonzero((frame[list(OHLC)] < 0).any(axis=1).to_numpy())
    if len(negative):
        log.warning(
            "%s: %d row(s) with negative prices, first on line %d: accepted (futures, spreads and rates go below zero); "
            "MAE %% is relative to the mean absolute close",
            path,
            len(negative),
            lines[int(negative[0])],
        )


def common_spacing(stamps: pd.Series) -> pd.Timedelta:
    """The most common gap between consecutive timestamps (a month-end series gives ~30 days)."""
    gaps = stamps.diff().dropna()
    mode = gaps.mode()
    gap = mode.iloc[0] if len(mode) else pd.Timedelta(days=1)
    return gap if gap > pd.Timedelta(0) else pd.Timedelta(days=1)


OHLC: tuple[str, ...] = ("open", "high", "low", "close")


def parse(raw: bytes, path: Path, date_format: str) -> pd.DataFrame:
    """The file's bytes as a frame of timestamp and OHLC columns, or an :class:`InputError` naming line, field and fix.

    A clean file is read by Arrow (:mod:`harness.data.csvfast`: two million rows in seconds); any other by the careful
    reader below, cell by cell, which names what is wrong."""
    text = _decode(raw, path)
    if "%" not in date_format:  # a strptime format: the careful reader applies it
        fast = _fast(raw.removeprefix(b"\xef\xbb\xbf"), text)
        if fast is not None:
            return fast
    return _careful(text, path, date_format)


def parse_carefully(raw: bytes, path: Path, date_format: str) -> pd.DataFrame:
    """:func:`parse` without the fast path: every file read cell by cell (the reference the fast path is tested against)."""
    return _careful(_decode(raw, path), path, date_format)


def _careful(text: str, path: Path, date_format: str) -> pd.DataFrame:
    header, lines, rows = _records(text, path)
    return _normalise(header, lines, rows, path, date_format)


def _fast(data: bytes, text: str) -> pd.DataFrame | None:
    """The frame Arrow reads when the header is on the first line and names the columns; None at any doubt."""
    from harness.data import csvfast

    first = text.split("\n", 1)[0].rstrip("\r")
    delimiter = max(DELIMITERS, key=lambda d: _field_count(first, d))
    try:
        header = [field.strip() for field in next(csv.reader([first], delimiter=delimiter), [])]
        columns = _columns(header, Path())
        time_index = _timestamp_column(header, columns, Path())
    except (InputError, csv.Error):
        return None  # the careful reader says what is wrong
    return csvfast.read(
        data,
        delimiter=delimiter,
        fields=len(header),
        time_index=time_index,
        columns={name: columns[name] for name in OHLC},
        prices=(MIN_ABS_PRICE, MAX_ABS_PRICE),
    )
