"""Odd files named *.parquet among the results get a precise line each (issue: "FileNotFoundError" for a FIFO or
/dev/zero, "no such file" for a symlink loop, "schema version ?" for a directory)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from harness.base.errors import InputError
from harness.results.store import read_records, write_records
from tests.factories import real_session


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("fifo", "not a regular file (a FIFO or a device)"),
        ("dev-zero", "not a regular file (a FIFO or a device)"),
        ("loop", "a link to nothing, or a loop of links"),
        ("gzip", "gzip-compressed (gunzip it first)"),
        ("text", "not Parquet (no PAR1 magic bytes at its start)"),
    ],
)
def test_an_odd_file_named_parquet_is_named_for_what_it_is(kind: str, says: str, tmp_path: Path) -> None:
    results = tmp_path / "results"
    written = write_records(list(real_session()), results, name="real")
    odd = results / "odd.parquet"
    if kind == "fifo":
        os.mkfifo(odd)
    elif kind == "dev-zero":
        odd.symlink_to("/dev/zero")
    elif kind == "loop":
        odd.symlink_to(results / "loop2.parquet")
        (results / "loop2.parquet").symlink_to(odd)
    elif kind == "gzip":
        odd.write_bytes(gzip.compress(written.read_bytes()))
    else:
        odd.write_text("symbol,mode\n")
    with pytest.raises(InputError) as caught:
        read_records(results)
    message = str(caught.value)
    assert says in message and "; fix: " in message and "\n" not in message and message.startswith(str(results))


def test_a_folder_named_parquet_is_a_folder_of_results(tmp_path: Path) -> None:
    """Spark writes table.parquet/part-0.parquet: the folder's files are read, the folder is not read as a file."""
    write_records(list(real_session()), tmp_path / "results" / "table.parquet", name="part-0")
    assert len(read_records(tmp_path / "results")) == 2
