"""Helpers the data wing's tests share: CSVs written and read independently of the code under test, and the check
that an input error is actionable (one line naming the file, the field and the fix)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

HEADER = "Date,Open,High,Low,Close,Volume\n"


def raw_rows(path: Path) -> list[dict[str, str]]:
    """The CSV read with the standard library, independent of the code under test."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def daily_csv(path: Path, days: int, *, header: str = HEADER, extra: str = "") -> list[float]:
    """A gap-free daily CSV starting 2024-01-01; returns the closes written, in order."""
    closes = [100.0 + i + 0.25 for i in range(days)]
    lines = [header]
    for i, close in enumerate(closes):
        day = (pd.Timestamp("2024-01-01") + pd.Timedelta(days=i)).strftime("%Y-%m-%d")
        lines.append(f"{day},{close - 0.5},{close + 1.0},{close - 1.0},{close},{1000 + i}{extra}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return closes


# what a message may name as the place of the problem, after the file: "<file>: <where>: <problem>; fix: <fix>"
WHERE = re.compile(
    r"encoding|file|no such file .+|contents|header|rows|top level|line \d+(,? column .+)?|column .+|field .+|key\(s\) .+"
)


def assert_actionable(message: str, source: str) -> None:
    """The README's promise: one printable line naming the file and the field (or the flag), and the fix."""
    assert message.isprintable(), repr(message)  # one line, control characters escaped
    assert message.startswith(f"{source}: "), message
    if not source.startswith("--"):  # a flag is its own field
        where = message[len(source) + 2 :].split(": ", 1)[0]
        assert WHERE.fullmatch(where), f"{where!r} names no field in {message!r}"
    assert "; fix: " in message and message.rsplit("; fix: ", 1)[1].strip(), message
