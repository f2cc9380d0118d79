"""The date column of an OHLC CSV: one way of writing dates throughout, the order of day and month read from the file
(or ``--date-format``), never guessed; duplicates refused. See :mod:`harness.data.csvfile` for the whole format."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from harness.base.errors import InputError, field_error, one_line, show

_YEAR_FIRST = re.compile(r"\d{4}([-/.])\d{1,2}\1\d{1,2}(?:[T ].*)?", re.ASCII)


_DAY_MONTH = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})((?:[T ].*)?)", re.ASCII)


_WORDY = re.compile(
    r"(?=.*[A-Za-z]{3})(?=.*(?<!\d)\d{4}(?!\d))(?=.*(?<!\d)\d{1,2}(?!\d)).*", re.ASCII
)  # month name, day, 4-digit year


_ISO_FIX = "write every date one way, best ISO 2024-01-31 (or 2024-01-31 15:00:00)"


def parse_dates(values: list[str], lines: list[int], label: str, path: Path, date_format: str) -> pd.Series:
    """Every value parsed one way (see the module docstring), naive UTC; the first that is not a date is named."""
    if "%" in date_format:
        try:
            parsed = pd.to_datetime(pd.Series(values, dtype=object), format=date_format, errors="coerce", utc=True)
        except ValueError as exc:
            raise InputError(
                f"--date-format {date_format!r}: not a strptime format ({one_line(exc)}); fix: e.g. %d/%m/%Y"
            ) from exc
        _no_nat(
            parsed,
            values,
            lines,
            label,
            path,
            f"is not a date in the format {date_format!r}",
            "correct it, or give the format the dates are written in",
        )
        return _naive(parsed)
    kinds: dict[str, int] = {}
    for i, value in enumerate(values):
        kind = _date_kind(value)
        if kind is None:
            if all(_NUMBER.fullmatch(v) for v in values):
                raise field_error(
                    path,
                    label,
                    f"holds numbers (line {lines[i]}: {show(value)}), and a number is not a date",
                    "use ISO dates like 2024-01-31, or pass --date-format with their strptime format (e.g. %Y%m%d)",
                )
            raise field_error(
                path,
                f"line {lines[i]}, {label}",
                f"{show(value)} is not a date",
                "use ISO dates like 2024-01-31 or 2024-01-31 15:00:00",
            )
        kinds.setdefault(kind, i)
    if len(kinds) > 1:
        (a, i), (b, j) = sorted(kinds.items(), key=lambda item: item[1])[:2]
        raise field_error(
            path,
            label,
            f"mixes ways of writing dates: line {lines[i]} {show(values[i])} ({a}) and line {lines[j]} {show(values[j])} ({b})",
            _ISO_FIX,
        )
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
        raise field_error(
            path,
            label,
            f"dates disagree on the order of day and month: line {lines[i]} {show(values[i])} reads only "
            f"day-first, line {lines[j]} {show(values[j])} only month-first",
            _ISO_FIX,
        )
    if day_first is None and month_first is None:
        raise field_error(
            path,
            label,
            f"every date reads both day-first and month-first (line {lines[0]}: {show(values[0])}), "
            "so their order cannot be told from the file",
            "pass --date-format day-first or --date-format month-first, or write ISO dates like 2024-01-31",
        )
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
        raise field_error(path, f"line {lines[i]}, {label}", f"{show(values[i])} {problem}", fix)


def _naive(parsed: pd.Series) -> pd.Series:
    naive: pd.Series = parsed.dt.tz_localize(None)
    return naive.astype("datetime64[us]")


def check_unique(stamps: pd.Series, values: list[str], lines: list[int], label: str, path: Path) -> None:
    repeated = np.flatnonzero(stamps.duplicated().to_numpy())
    if len(repeated):
        j = int(repeated[0])
        first = int(np.flatnonzero((stamps == stamps.iloc[j]).to_numpy())[0])
        raise field_error(
            path,
            f"line {lines[j]}, {label}",
            f"timestamp {stamps.iloc[j]} ({show(values[j])}) appears twice, first on line {lines[first]} ({show(values[first])})",
            "keep one row per timestamp",
        )


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
