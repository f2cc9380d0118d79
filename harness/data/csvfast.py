"""The fast path of :mod:`harness.data.csvfile`: a clean OHLC CSV read by Arrow's CSV reader, in C++ and on every core.

A long intraday file (two million rows) is what this is for: read cell by cell, such a file took 34 to 36 s and 2.7 to 3.1 GB here.
The careful reader names the line, the field and the fix of every problem; this one names none. It returns the frame
only when the file is one the careful reader accepts without a word and reads to exactly the same frame, and ``None``
at the first doubt, and the careful reader then reads the file (and names what is wrong, if anything is). Doubts:

- anything but the header on the first line, a row with another number of fields than the header (even a blank one
  the careful reader would let pass), a cell Arrow does not read as a decimal number (thousands or decimal commas,
  blanks, ``null``);
- dates not all written one of the ISO ways the careful reader reads the same (``2024-01-31``, ``2024-01-31 15:00``,
  ``2024-01-31T15:00:00``, with ``Z`` or ``+01:00`` or neither), or ``--date-format`` given;
- any value the careful reader would refuse or warn about: not finite, out of float32's range, High below Low, a
  negative price, a repeated timestamp.

Arrow's decimal-to-double conversion is correctly rounded, as Python's ``float`` is: the numbers are the same. One
difference is left: a cell over 128 KiB in a column the harness does not read, which Python's csv module refuses.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

# the ISO ways of writing a date read the same by the careful reader, by pandas and by this: (pattern, strptime format)
_ISO_FORMATS: tuple[tuple[str, str], ...] = (
    (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d"),
    (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "%Y-%m-%d %H:%M"),
    (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "%Y-%m-%d %H:%M:%S"),
    (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", "%Y-%m-%dT%H:%M"),
    (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", "%Y-%m-%dT%H:%M:%S"),
)
_ZONES: tuple[tuple[str, str], ...] = (("", ""), ("Z", "Z"), (r"[+-]\d{2}:\d{2}", "%z"))


def read(
    data: bytes, *, delimiter: str, fields: int, time_index: int, columns: Mapping[str, int], prices: tuple[float, float]
) -> pd.DataFrame | None:
    """The frame the careful reader returns for ``data`` (UTF-8 without a byte-order mark, its header of ``fields``
    fields on the first line, already read and checked), or ``None``. ``columns``: the index of each of open, high,
    low and close, in that order; ``prices``: the smallest and largest magnitude a non-zero price may have."""
    labels = [f"c{i}" for i in range(fields)]
    wanted = {labels[time_index]: pa.string(), **{labels[index]: pa.float64() for index in columns.values()}}
    try:
        table = pcsv.read_csv(
            io.BytesIO(data),
            read_options=pcsv.ReadOptions(skip_rows=1, column_names=labels),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                include_columns=list(wanted), column_types=wanted, null_values=[], strings_can_be_null=False
            ),
        )
    except (pa.ArrowException, ValueError):
        return None
    if table.num_rows == 0:
        return None
    stamps = _dates(table.column(labels[time_index]))
    if stamps is None:
        return None
    values = {name: table.column(labels[index]).to_numpy() for name, index in columns.items()}
    if not _clean(values, stamps, prices):
        return None
    out = pd.DataFrame({"timestamp": stamps})
    for name, column in values.items():  # built as the careful reader builds it: the same blocks, writable arrays
        out[name] = column
    return out.sort_values("timestamp", kind="stable").reset_index(drop=True)


def _dates(column: pa.ChunkedArray) -> pd.Series | None:
    """Every date parsed with the one ISO format the first is written in, naive UTC; None when any is not."""
    first = column[0].as_py()
    for pattern, fmt in _ISO_FORMATS:
        for zone_pattern, zone_format in _ZONES:
            full = f"{pattern}{zone_pattern}"
            if re.fullmatch(full, first, re.ASCII) is None:
                continue
            if not pc.all(pc.match_substring_regex(column, f"^{full}$")).as_py():
                return None
            parsed = pd.to_datetime(
                pd.Series(column.to_numpy(zero_copy_only=False), dtype=object),
                format=fmt + zone_format,
                errors="coerce",
                utc=True,
            )
            if parsed.isna().any():  # 2024-02-30: the careful reader names it
                return None
            naive: pd.Series = parsed.dt.tz_localize(None)
            return naive.astype("datetime64[us]")
    return None


def _clean(values: dict[str, np.ndarray], stamps: pd.Series, prices: tuple[float, float]) -> bool:
    """Whether nothing in the file would make the careful reader refuse it or warn: see the module docstring."""
    smallest, largest = prices
    for column in values.values():
        magnitude = np.abs(column)
        if not np.all(np.isfinite(column)) or np.any(column < 0):
            return False
        if np.any((magnitude > largest) | ((magnitude > 0) & (magnitude < smallest))):
            return False
    if np.any(values["high"] < values["low"]):
        return False
    return not bool(stamps.duplicated().any())
