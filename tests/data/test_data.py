"""harness.data.window: reading the shipped and user OHLC CSVs, cutting the bench window, and rejecting bad input."""

from __future__ import annotations

import csv
import hashlib
import itertools
import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from harness.base.errors import InputError
from harness.data.csvfile import MAX_ABS_PRICE
from harness.data.params import fit_window, resolve_params
from harness.data.window import OHLC, BenchWindow, OhlcSeries, available_symbols, bench_window, load_ohlc
from tests.conftest import ROOT
from tests.data.conftest import HEADER, assert_actionable, daily_csv, raw_rows

if TYPE_CHECKING:
    from pathlib import Path

DATA = ROOT / "trainingdata"
# from trainingdata/README.md
SHIPPED_SHA256 = {
    "BTCUSD": "a4b256f8d87fbc09eb58629551524da2ac2143619e455727cbc4fa4d25c03f3d",
    "GOOG": "60e961a567490b157f71888df9e6afb36190a34a40a6286aa38988e2343f1b1a",
    "EURUSD": "81e977905a006cc8fbc034ebdb83c999a8ed6ba00191dc7ea5ef5b386fb74a82",
}


def assert_input_error(excinfo: pytest.ExceptionInfo[InputError], *needles: str) -> None:
    message = str(excinfo.value)
    assert "fix: " in message, message
    assert message.isprintable(), repr(message)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"


# --- the shipped data ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "rows", "first", "last"),
    [
        ("BTCUSD", 4091, "2014-09-18", "2025-11-29"),
        ("GOOG", 2148, "2004-08-19", "2013-03-01"),
        ("EURUSD", 5000, "2017-04-19 09:00:00", "2018-02-07 15:00:00"),
    ],
)
def test_shipped_files_load(symbol: str, rows: int, first: str, last: str) -> None:
    series = load_ohlc(DATA, symbol)
    assert isinstance(series, OhlcSeries)
    assert series.symbol == symbol
    assert series.path == DATA / f"{symbol}.csv"
    assert series.sha256 == SHIPPED_SHA256[symbol]
    assert list(series.frame.columns) == ["timestamp", *OHLC]
    assert len(series.frame) == rows
    assert series.frame["timestamp"].iloc[0] == pd.Timestamp(first)
    assert series.frame["timestamp"].iloc[-1] == pd.Timestamp(last)
    assert series.frame["timestamp"].is_monotonic_increasing
    assert all(series.frame[name].dtype == np.float64 for name in OHLC)


def test_shipped_values_match_the_file() -> None:
    series = load_ohlc(DATA, "BTCUSD")
    rows = raw_rows(DATA / "BTCUSD.csv")  # lowercase columns, plus Log_Return, which is ignored
    assert series.frame["close"].tolist() == [float(r["close"]) for r in rows]
    assert series.frame["open"].tolist() == [float(r["open"]) for r in rows]
    assert series.frame["close"].iloc[-1] == 90958.015625
    assert set(series.frame["timestamp"].diff().dropna()) == {pd.Timedelta(days=1)}  # every calendar day


def test_available_symbols_lists_the_shipped_files(tmp_path: Path) -> None:
    assert available_symbols(DATA) == ["BTCUSD", "EURUSD", "GOOG"]
    assert available_symbols(tmp_path / "absent") == []


@pytest.mark.parametrize("symbol", ["BTCUSD", "GOOG", "EURUSD"])
def test_shipped_hyperparams_fit_the_shipped_data(symbol: str) -> None:
    # as the bench does it: a context set in the file fits without a note; BTCUSD's, unset, is the whole window
    params, window, notes = fit_window(load_ohlc(DATA, symbol), resolve_params(symbol, ROOT / "hyperparams"), rows=500)
    assert notes == []
    assert len(window.context) >= params.context_length == {"BTCUSD": 493, "GOOG": 480, "EURUSD": 480}[symbol]
    assert len(window.truth_close) == params.prediction_length


# --- bench_window ----------------------------------------------------------------------------------


def test_btcusd_window_uses_the_last_500_days_and_holds_back_the_last_7_closes() -> None:
    series = load_ohlc(DATA, "BTCUSD")
    window = bench_window(series, rows=500, horizon=7, context_length=493)
    closes = [float(r["close"]) for r in raw_rows(DATA / "BTCUSD.csv")]
    assert isinstance(window, BenchWindow)
    assert window.rows_used == 500
    assert len(window.context) == 493
    assert window.truth_close.tolist() == closes[-7:]
    assert window.context["close"].tolist() == closes[-500:-7]
    assert window.first_timestamp == "2024-07-18 00:00:00"
    assert window.last_timestamp == "2025-11-29 00:00:00"
    # gap-free daily data: the regular index is the file's own dates
    assert window.context["timestamp"].tolist() == series.frame["timestamp"].iloc[-500:-7].tolist()
    assert list(window.context.columns) == ["item_id", "timestamp", *OHLC]
    assert set(window.context["item_id"]) == {"BTCUSD"}


def test_window_takes_the_last_rows_only() -> None:
    series = load_ohlc(DATA, "BTCUSD")
    window = bench_window(series, rows=100, horizon=7, context_length=64)
    closes = [float(r["close"]) for r in raw_rows(DATA / "BTCUSD.csv")]
    assert window.rows_used == 100
    assert window.context["close"].tolist() == closes[-100:-7]
    assert window.truth_close.tolist() == closes[-7:]
    assert window.context["timestamp"].iloc[0] == series.frame["timestamp"].iloc[-100]


def test_goog_weekend_gaps_become_a_regular_daily_index_with_rows_preserved() -> None:
    series = load_ohlc(DATA, "GOOG")
    real = series.frame.tail(500).reset_index(drop=True)
    assert real["timestamp"].diff().dropna().nunique() > 1  # the real index has weekend gaps
    window = bench_window(series, rows=500, horizon=7, context_length=480)
    stamps = window.context["timestamp"]
    assert len(window.context) == 493
    assert set(stamps.diff().dropna()) == {pd.Timedelta(days=1)}
    assert stamps.iloc[0] == real["timestamp"].iloc[0]
    for name in OHLC:
        assert window.context[name].tolist() == real[name].iloc[:493].tolist()
    assert window.truth_close.tolist() == real["close"].iloc[493:].tolist()
    assert window.last_timestamp == str(real["timestamp"].iloc[-1])


def test_eurusd_hourly_spacing_is_kept() -> None:
    window = bench_window(load_ohlc(DATA, "EURUSD"), rows=500, horizon=7, context_length=480)
    assert set(window.context["timestamp"].diff().dropna()) == {pd.Timedelta(hours=1)}


def test_too_few_rows_for_the_context_names_file_and_fix() -> None:
    # bench_window asked for more context than the file holds (fit_window clips instead: tests/data/test_params.py)
    series = load_ohlc(DATA, "BTCUSD")
    with pytest.raises(InputError) as excinfo:
        bench_window(series, rows=5000, horizon=7, context_length=4096)
    assert_input_error(excinfo, str(DATA / "BTCUSD.csv"), "4091 rows", "4096", "lower context_length to 4084 or less or add rows")


def test_rows_not_above_horizon_is_rejected() -> None:
    series = load_ohlc(DATA, "BTCUSD")
    with pytest.raises(InputError) as excinfo:
        bench_window(series, rows=7, horizon=7, context_length=1)
    assert_input_error(excinfo, "--rows 7", "prediction_length 7", "fix: pass --rows 8 or more")


# --- a user's own daily CSV ------------------------------------------------------------------------


def test_users_daily_csv_is_used_as_is(tmp_path: Path) -> None:
    closes = daily_csv(tmp_path / "BTCUSD.csv", 600)
    series = load_ohlc(tmp_path, "BTCUSD")
    assert len(series.frame) == 600
    assert series.sha256 == hashlib.sha256((tmp_path / "BTCUSD.csv").read_bytes()).hexdigest()
    window = bench_window(series, rows=500, horizon=7, context_length=480)
    assert window.rows_used == 500
    assert window.truth_close.tolist() == closes[-7:]
    assert window.context["close"].tolist() == closes[-500:-7]
    # gap-free daily data: the regular index is exactly the file's own dates
    assert window.context["timestamp"].tolist() == series.frame["timestamp"].iloc[-500:-7].tolist()
    assert window.first_timestamp == "2024-04-10 00:00:00"


@pytest.mark.parametrize(
    "header",
    [
        "date,open,high,low,close,volume\n",
        "DATE,OPEN,HIGH,LOW,CLOSE,VOLUME\n",
        " Date , Open , High , Low , Close ,Volume\n",
        "Timestamp,Open,High,Low,Close,Volume\n",
        ",Open,High,Low,Close,Volume\n",
    ],
)
def test_header_variants_are_accepted(tmp_path: Path, header: str) -> None:
    closes = daily_csv(tmp_path / "X.csv", 20, header=header)
    series = load_ohlc(tmp_path, "X")
    assert series.frame["close"].tolist() == closes
    assert series.frame["timestamp"].iloc[0] == pd.Timestamp("2024-01-01")


def test_extra_columns_are_ignored(tmp_path: Path) -> None:
    closes = daily_csv(tmp_path / "X.csv", 20, header="Date,Open,High,Low,Close,Volume,Adj Close,Ticker\n", extra=",1.0,XYZ")
    series = load_ohlc(tmp_path, "X")
    assert list(series.frame.columns) == ["timestamp", *OHLC]
    assert series.frame["close"].tolist() == closes


def test_descending_file_is_sorted_oldest_first(tmp_path: Path) -> None:
    path = tmp_path / "X.csv"
    path.write_text(HEADER + "2024-01-03,3,3,3,3,1\n2024-01-02,2,2,2,2,1\n2024-01-01,1,1,1,1,1\n", encoding="utf-8")
    frame = load_ohlc(tmp_path, "X").frame
    assert frame["close"].tolist() == [1.0, 2.0, 3.0]
    assert frame["timestamp"].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-03")]


# --- bad input: always an InputError naming the file and the fix -----------------------------------


def test_missing_file_lists_available_symbols(tmp_path: Path) -> None:
    with pytest.raises(InputError) as excinfo:
        load_ohlc(DATA, "NOPE")
    assert_input_error(excinfo, str(DATA / "NOPE.csv"), "BTCUSD, EURUSD, GOOG")


def test_missing_file_in_empty_dir_says_none(tmp_path: Path) -> None:
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "BTCUSD")
    assert_input_error(excinfo, str(tmp_path / "BTCUSD.csv"), "none")


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("Date,Open,High,Low\n", "close"),
        ("Date,Open,Close\n", "high, low"),
        ("Date,Price\n", "open, high, low, close"),
    ],
)
def test_missing_ohlc_column_is_named(tmp_path: Path, header: str, missing: str) -> None:
    columns = header.count(",") + 1
    (tmp_path / "X.csv").write_text(header + ",".join(["2024-01-01"] + ["1"] * (columns - 1)) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, str(tmp_path / "X.csv"), f"missing column(s) {missing}")


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ("2024-01-01,1,1,1,1,1\n2024-01-02,1,abc,1,1,1\n", ("'High'", "line 3", "'abc'")),
        ("2024-01-01,1,1,1,1,1\n2024-01-02,1,1,1,,1\n", ("'Close'", "line 3")),
        ("2024-01-01,NaN,1,1,1,1\n", ("'Open'", "line 2")),
        ("2024-01-01,1,1,inf,1,1\n", ("'Low'", "line 2")),
    ],
    ids=["non-numeric", "empty", "nan", "inf"],
)
def test_bad_value_names_column_and_line(tmp_path: Path, body: str, needles: tuple[str, ...]) -> None:
    (tmp_path / "X.csv").write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, str(tmp_path / "X.csv"), "not a finite number", *needles)


# "today", "now" and "1/2" were silently read as today's date and as 0001-01-02
@pytest.mark.parametrize(
    "stamp", ["yesterday", "2024-13-45", "", "31/31/2024", "today", "now", "1/2", "March 2024", "2024-02-30"]
)
def test_unparseable_date_is_named(tmp_path: Path, stamp: str) -> None:
    (tmp_path / "X.csv").write_text(HEADER + f"2024-01-01,1,1,1,1,1\n{stamp},1,1,1,1,1\n", encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, str(tmp_path / "X.csv"), "'Date'", "line 3", "is not a date")


def test_out_of_range_numeric_date_is_an_input_error_without_warnings(tmp_path: Path) -> None:
    # a numeric "date" pandas cannot cast must end as the InputError alone: no numpy RuntimeWarning on the way
    # (pytest runs with filterwarnings=error, so a leaked warning fails this test)
    (tmp_path / "X.csv").write_text(HEADER + "1e30,1,1,1,1,1\n", encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, str(tmp_path / "X.csv"), "is not a date")


def test_duplicate_timestamps_are_rejected_with_both_lines(tmp_path: Path) -> None:
    (tmp_path / "X.csv").write_text(
        HEADER + "2024-01-01,1,1,1,1,1\n2024-01-02,1,1,1,1,1\n2024-01-02,2,2,2,2,1\n", encoding="utf-8"
    )
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, str(tmp_path / "X.csv"), "2024-01-02", "appears twice", "line 4", "first on line 3")
    assert_actionable(str(excinfo.value), str(tmp_path / "X.csv"))


def test_no_date_column_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "X.csv").write_text("Day,Open,High,Low,Close\n1,1,1,1,1\n", encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, str(tmp_path / "X.csv"), "no date column")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b'"', "not a readable CSV"),
        (b'Date,Open,High,Low,Close\n2024-01-01,"1,1,1,1\n', "not a readable CSV"),
        (b"Date,Open,High,Low,Close\n2024-01-01,1,1,1,\xff\n", "line 2: byte 0xff is not UTF-8"),
        ("Date,Open,High,Low,Close\n2024-01-01,1,1,1,1\n".encode("utf-16"), "UTF-16"),
        ("Date,Open,High,Low,Close\n2024-01-01,1,1,1,1\n".encode("utf-16-le"), "NUL bytes"),
        (b"Date,Open,High,Low,Close\n", "no data rows"),
        (b"Date,Open,High,Low,Close\n2024-01-01,1,1,1,1,7\n", "6 fields but the header has 5"),
    ],
    ids=["empty", "blank", "open-quote", "unclosed-quote", "not-utf8", "utf16-bom", "utf16-no-bom", "header-only", "extra-field"],
)
def test_unreadable_csv_is_rejected(tmp_path: Path, content: bytes, needle: str) -> None:
    (tmp_path / "X.csv").write_bytes(content)
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, str(tmp_path / "X.csv"), needle)
    assert_actionable(str(excinfo.value), str(tmp_path / "X.csv"))


@pytest.mark.parametrize(
    "content",
    [
        "Date,Open,High,Low,Close\n2024-01-01,1,1,1,1\n".encode("utf-16"),
        "Date,Open,High,Low,Close\n2024-01-01,1,1,1,1\n".encode("utf-16-le"),
    ],
    ids=["bom", "no-bom"],
)
def test_utf16_file_is_told_to_save_as_utf8(tmp_path: Path, content: bytes) -> None:
    # was: "not a readable CSV ...; fix: save it as comma-separated text", which a UTF-16 file already is
    (tmp_path / "X.csv").write_bytes(content)
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, "fix: save it as UTF-8")


def test_too_few_rows_in_users_file(tmp_path: Path) -> None:
    daily_csv(tmp_path / "X.csv", 100)
    with pytest.raises(InputError) as excinfo:
        bench_window(load_ohlc(tmp_path, "X"), rows=500, horizon=7, context_length=480)
    assert_input_error(excinfo, str(tmp_path / "X.csv"), "100 rows", "487")


@pytest.mark.parametrize("symbol", ["../x", "..", "a/b", "/etc/passwd", "", ".hidden", "BTC USD", "BTCUSD\n"])
def test_symbol_with_path_characters_is_rejected(tmp_path: Path, symbol: str) -> None:
    # a symbol is not a path: there is no file to name, so the message names the symbol and the fix
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, symbol)
    assert_input_error(excinfo, repr(symbol), "not a plain symbol name")


# --- dates: one way per file, day and month never guessed -----------------------------------------


def write_rows(path: Path, stamps: list[str], *, header: str = HEADER, sep: str = ",") -> None:
    """One row per stamp, closes 1, 2, 3, ... in the order written."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        handle.write(header.replace(",", sep))
        csv.writer(handle, delimiter=sep, lineterminator="\n").writerows(
            [stamp, *[str(i + 1)] * 4, "1"] for i, stamp in enumerate(stamps)
        )


def test_goog_window_written_day_first_is_the_iso_window(tmp_path: Path) -> None:
    # issue 12 item 2: format="mixed" read 04/10/2012 month-first and 13/10/2012 day-first: a different truth, exit 0
    iso = load_ohlc(DATA, "GOOG")
    text = (DATA / "GOOG.csv").read_text(encoding="utf-8").splitlines()
    rewritten = [text[0]] + [
        pd.Timestamp(line.split(",", 1)[0]).strftime("%d/%m/%Y") + "," + line.split(",", 1)[1] for line in text[1:]
    ]
    (tmp_path / "GOOG.csv").write_text("\n".join(rewritten) + "\n", encoding="utf-8")
    day_first = load_ohlc(tmp_path, "GOOG")
    pd.testing.assert_frame_equal(day_first.frame, iso.frame, check_exact=True)
    a = bench_window(iso, rows=500, horizon=7, context_length=480)
    b = bench_window(day_first, rows=500, horizon=7, context_length=480)
    pd.testing.assert_frame_equal(a.context, b.context, check_exact=True)
    assert a.truth_close.tolist() == b.truth_close.tolist()


@pytest.mark.parametrize(
    ("stamps", "expected"),
    [
        (["31/01/2024", "01/02/2024", "02/02/2024"], ["2024-01-31", "2024-02-01", "2024-02-02"]),  # day-first: 31 > 12
        (["01/31/2024", "02/01/2024", "02/02/2024"], ["2024-01-31", "2024-02-01", "2024-02-02"]),  # month-first: 31 > 12
        (["31.01.24", "01.02.24"], ["2024-01-31", "2024-02-01"]),  # German, two-digit years
        (["13-01-1999 09:30", "14-01-1999 09:30"], ["1999-01-13 09:30", "1999-01-14 09:30"]),
        (["Jan 31, 2024", "Feb 1, 2024"], ["2024-01-31", "2024-02-01"]),
        (["2024/01/31", "2024/02/01"], ["2024-01-31", "2024-02-01"]),
        (["2024-01-31T10:00:00+02:00", "2024-01-31T11:00:00+02:00"], ["2024-01-31 08:00", "2024-01-31 09:00"]),  # to UTC
    ],
    ids=["day-first", "month-first", "dotted-yy", "dashed-with-time", "month-name", "year-slash", "offset"],
)
def test_the_order_of_day_and_month_is_read_from_the_file(tmp_path: Path, stamps: list[str], expected: list[str]) -> None:
    write_rows(tmp_path / "X.csv", stamps)
    frame = load_ohlc(tmp_path, "X").frame
    assert frame["timestamp"].tolist() == [pd.Timestamp(e) for e in expected]


def test_dates_that_read_both_ways_are_refused_with_the_fix(tmp_path: Path) -> None:
    write_rows(tmp_path / "X.csv", ["04/10/2012", "05/10/2012"])
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, "line 2: '04/10/2012'", "both day-first and month-first", "--date-format day-first")
    assert_actionable(str(excinfo.value), str(tmp_path / "X.csv"))


@pytest.mark.parametrize(
    ("date_format", "first"), [("day-first", "2012-10-04"), ("month-first", "2012-04-10"), ("%d/%m/%Y", "2012-10-04")]
)
def test_date_format_settles_the_order(tmp_path: Path, date_format: str, first: str) -> None:
    write_rows(tmp_path / "X.csv", ["04/10/2012", "05/10/2012"])
    frame = load_ohlc(tmp_path, "X", date_format=date_format).frame
    assert frame["timestamp"].iloc[0] == pd.Timestamp(first)


def test_a_date_that_contradicts_the_asked_order_is_named(tmp_path: Path) -> None:
    write_rows(tmp_path / "X.csv", ["10/13/2012", "10/14/2012"])
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X", date_format="day-first")
    assert_input_error(excinfo, "line 2", "'10/13/2012' is not a date (read day-first)")


def test_an_unknown_date_format_is_refused(tmp_path: Path) -> None:
    write_rows(tmp_path / "X.csv", ["2024-01-01"])
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X", date_format="dmy")
    assert_input_error(excinfo, "--date-format 'dmy'", "day-first", "month-first")


def test_dates_that_disagree_on_the_order_are_refused(tmp_path: Path) -> None:
    write_rows(tmp_path / "X.csv", ["13/10/2012", "10/14/2012"])
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, "line 2 '13/10/2012' reads only day-first", "line 3 '10/14/2012' only month-first")


def test_mixed_date_formats_are_reported_as_mixed_not_as_duplicates(tmp_path: Path) -> None:
    # issue 12 item 16: 2024-01-02 and 02/01/2024 are the same day read two ways; "appears twice" hid the cause
    write_rows(tmp_path / "X.csv", ["2024-01-01", "2024-01-02", "03/01/2024", "02/01/2024"])
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(
        excinfo, "mixes ways of writing dates", "line 2 '2024-01-01' (year-first)", "line 4 '03/01/2024' (day/month)"
    )
    assert "twice" not in str(excinfo.value)


# --- numbers: one decimal convention per file -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "closes"),
    [
        ("Date;Open;High;Low;Close\n2024-01-01;1.234,5;1.240,25;1.200;1.230,75\n2024-01-02;2,5;3;2;2,75\n", [1230.75, 2.75]),
        (
            'Date,Open,High,Low,Close\n2024-01-01,"1,234.5","1,240.25","1,200","1,230.75"\n2024-01-02,2.5,3,2,2.75\n',
            [1230.75, 2.75],
        ),
        ("Date\tOpen\tHigh\tLow\tClose\n2024-01-01\t1.5\t2\t1\t1.25\n", [1.25]),
        ('Date,Open,High,Low,Close\n2024-01-01,"1,234,567",1234568,1234566,-1.5e3\n', [-1500.0]),
    ],
    ids=["semicolon-decimal-comma", "quoted-thousands", "tab", "grouped-millions"],
)
def test_number_conventions_are_read(tmp_path: Path, text: str, closes: list[float]) -> None:
    (tmp_path / "X.csv").write_text(text, encoding="utf-8")
    assert load_ohlc(tmp_path, "X").frame["close"].tolist() == closes


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("Date;Open;High;Low;Close\n2024-01-01;1,5;2;1;1.5\n", ("line 2", "'1,5' has a decimal comma", "a decimal point")),
        (
            'Date,Open,High,Low,Close\n2024-01-01,"1,234",1500,1000,1200\n',
            ("'1,234' reads as a thousands comma or a decimal comma",),
        ),
        ("Date,Open,High,Low,Close\n2024-01-01,$5,6,4,5\n", ("'$5' is not a finite number",)),
    ],
    ids=["both-marks", "ambiguous-grouping", "currency"],
)
def test_unclear_numbers_are_refused(tmp_path: Path, text: str, needles: tuple[str, ...]) -> None:
    (tmp_path / "X.csv").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, *needles)
    assert_actionable(str(excinfo.value), str(tmp_path / "X.csv"))


# --- prices the model cannot take, or that mean something else (issue 12 item 13) -------------------


@pytest.mark.parametrize("value", ["1e39", "-1e39", "2e18", "1e-40"])
def test_prices_beyond_float32_are_refused(tmp_path: Path, value: str) -> None:
    (tmp_path / "X.csv").write_text(HEADER + f"2024-01-01,{value},{value},{value},{value},1\n", encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, "line 2, column 'Open'", "float32", "rescale")


def test_the_largest_accepted_price(tmp_path: Path) -> None:
    (tmp_path / "X.csv").write_text(HEADER + f"2024-01-01,{MAX_ABS_PRICE},{MAX_ABS_PRICE},1,1,1\n", encoding="utf-8")
    assert load_ohlc(tmp_path, "X").frame["high"].iloc[0] == MAX_ABS_PRICE


def test_high_below_low_is_refused(tmp_path: Path) -> None:
    (tmp_path / "X.csv").write_text(
        HEADER + "2024-01-01,5,6,4,5,1\n2024-01-02,5,4,6,5,1\n2024-01-03,5,4,6,5,1\n", encoding="utf-8"
    )
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, "line 3, column 'High'", "High 4 is below Low 6 (2 such row(s))", "swapped")


def test_negative_prices_are_accepted_and_said(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "X.csv").write_text(HEADER + "2020-04-17,18,18,17,18,1\n2020-04-20,17.7,17.9,-40.3,-37.6,1\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="harness.data.window"):
        frame = load_ohlc(tmp_path, "X").frame
    assert frame["close"].tolist() == [18.0, -37.6]
    assert "1 row(s) with negative prices, first on line 3: accepted" in caplog.text


def test_all_zero_truth_is_refused(tmp_path: Path) -> None:
    (tmp_path / "X.csv").write_text(HEADER + "".join(f"2024-01-{d:02d},0,0,0,0,0\n" for d in range(1, 21)), encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        bench_window(load_ohlc(tmp_path, "X"), rows=500, horizon=7, context_length=8)
    assert_input_error(excinfo, "rows: the 7 held-back closes", "all 0", "MAE %")


# --- symbols, paths and what messages echo ----------------------------------------------------------


def test_a_300_character_symbol_is_an_input_error(tmp_path: Path) -> None:
    # issue 12 item 8: was OSError ENAMETOOLONG from is_file(), exit 3
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "A" * 300)
    assert_input_error(excinfo, "not a plain symbol name", "(300 characters)")
    assert len(str(excinfo.value)) < 300


def test_a_directory_named_like_the_csv_is_refused(tmp_path: Path) -> None:
    (tmp_path / "X.csv").mkdir()
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, str(tmp_path / "X.csv"), "a directory")
    assert available_symbols(tmp_path) == []


def test_control_characters_from_the_header_are_escaped(tmp_path: Path) -> None:
    # issue 12 item 16: a header cell with an escape sequence was echoed raw into the terminal
    (tmp_path / "X.csv").write_text('Date,"Op\x1b[31men\r\nx",High,Low,Close\n2024-01-01,1,1,1,1\n', encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    message = str(excinfo.value)
    assert "\x1b" not in message and "\n" not in message and "\r" not in message
    assert "'Op\\x1b[31men\\r\\nx'" in message
    assert_actionable(message, str(tmp_path / "X.csv"))


def test_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    (tmp_path / "X.csv").write_text(HEADER + "\n2024-01-01,1,1,1,1,1\n,,,,,\n2024-01-02,1,x,1,1,1\n", encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, "line 5, column 'High'", "'x' is not a finite number")


# --- properties: any input gives a valid frame or one actionable InputError, nothing else -----------

_CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "1",
            "-2.5",
            "1e30",
            "1e39",
            "nan",
            "inf",
            "null",
            "x",
            "2024-01-01",
            "2024-01-02",
            "2024-02-30",
            "04/10/2012",
            "13/10/2012",
            "Jan 5, 2024",
            "1,5",
            "1.234,5",
            '"1,234.5"',
            "True",
            "0",
            "\x1b",
        ]
    ),
    st.text(max_size=6),
)
_NAMES = st.sampled_from(
    ["", "Date", "date", "Timestamp", "Open", "open", "HIGH", "Low", "Close", "close", "Volume", "x", "\x00", '"']
)


@st.composite
def _csv_bytes(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=80))
    header = draw(
        st.one_of(
            st.lists(_NAMES, max_size=7),
            st.just(["Date", "Open", "High", "Low", "Close"]),
            st.just(["", "Open", "High", "Low", "Close"]),
        )
    )
    rows = draw(st.lists(st.lists(_CELLS, min_size=len(header), max_size=len(header) + 1), max_size=4))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    text = "\n".join([sep.join(header), *(sep.join(row) for row in rows)]) + draw(st.sampled_from(["\n", "", "\r\n", "\n\n"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
    return text.encode(encoding, "surrogatepass") if encoding != "utf-16" else text.encode(encoding, "replace")


_names = itertools.count()


def _load_or_message(directory: Path, symbol: str, **kwargs: str | None) -> OhlcSeries | str:
    try:
        return load_ohlc(directory, symbol, **kwargs)
    except InputError as exc:
        return str(exc)


def _assert_valid(series: OhlcSeries) -> None:
    frame = series.frame
    assert list(frame.columns) == ["timestamp", *OHLC]
    assert frame["timestamp"].is_unique and frame["timestamp"].is_monotonic_increasing
    prices = frame[list(OHLC)].to_numpy()
    assert np.isfinite(prices).all() and (np.abs(prices) <= MAX_ABS_PRICE).all()
    assert (frame["high"] >= frame["low"]).all()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(content=b"Date,Open,High,Low,Close\n2024-01-01,1,1,1,1\n")
@example(content=b"Date,Open,High,Low,Close\n1e30,1,1,1,1\n")
@example(content=b",\n")
@given(content=_csv_bytes())
def test_any_csv_gives_a_frame_or_an_actionable_input_error(tmp_path: Path, content: bytes) -> None:
    symbol = f"S{next(_names)}"
    (tmp_path / f"{symbol}.csv").write_bytes(content)
    result = _load_or_message(tmp_path, symbol)
    if isinstance(result, str):
        assert_actionable(result, str(tmp_path / f"{symbol}.csv"))
    else:
        _assert_valid(result)


_DATE_WAYS = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%y", "%b %d, %Y", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(offsets=[0, 9], way="%d/%m/%Y", told="nothing")  # 2012-10-04 and 2012-10-13: misread before
@given(
    offsets=st.lists(st.integers(0, 20_000), min_size=1, max_size=12, unique=True),
    way=st.sampled_from(_DATE_WAYS),
    told=st.sampled_from(["nothing", "auto", "the order", "the format"]),
)
def test_dates_are_read_as_written_or_refused(tmp_path: Path, offsets: list[int], way: str, told: str) -> None:
    # the invariant behind issue 12 item 2: a date is never read as another date (unless the user says so)
    stamps = [pd.Timestamp("2012-10-04 13:45") + pd.Timedelta(days=o) for o in offsets]
    symbol = f"D{next(_names)}"
    write_rows(tmp_path / f"{symbol}.csv", [t.strftime(way) for t in stamps])
    order = {"%d": "day-first", "%m": "month-first"}.get(way[:2], "auto")
    date_format = {"nothing": None, "auto": "auto", "the order": order, "the format": way}[told]
    result = _load_or_message(tmp_path, symbol, date_format=date_format)
    if isinstance(result, str):
        assert_actionable(result, str(tmp_path / f"{symbol}.csv"))
        return
    expected = sorted(t.floor("min") if "%M" in way else t.normalize() for t in stamps)
    assert result.frame["timestamp"].tolist() == expected
    if "%y" in way:
        assert all(1969 <= t.year <= 2068 for t in expected)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cents=st.lists(st.integers(1, 10**10), min_size=1, max_size=8),
    style=st.sampled_from(["plain", "us-quoted", "eu", "eu-plain", "us-integer"]),
)
def test_numbers_are_read_as_written_or_refused(tmp_path: Path, cents: list[int], style: str) -> None:
    def write(c: int) -> str:
        x = c / 100
        us = f"{x:,.2f}"
        return {
            "plain": f"{x:.2f}",
            "us-quoted": f'"{us}"',
            "eu": us.replace(",", "_").replace(".", ",").replace("_", "."),
            "eu-plain": f"{x:.2f}".replace(".", ","),
            "us-integer": f'"{c:,}"',
        }[style]

    sep = ";" if style.startswith("eu") else ","
    lines = [sep.join(["Date", "Open", "High", "Low", "Close"])]
    for i, c in enumerate(cents):
        lines.append(sep.join([f"2024-01-{i + 1:02d}", write(c), write(c), write(c), write(c)]))
    symbol = f"N{next(_names)}"
    (tmp_path / f"{symbol}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _load_or_message(tmp_path, symbol)
    if isinstance(result, str):
        assert_actionable(result, str(tmp_path / f"{symbol}.csv"))
        return
    expected = [float(c) if style == "us-integer" else float(f"{c / 100:.2f}") for c in cents]
    assert result.frame["close"].tolist() == expected


def test_dates_whose_common_spacing_runs_off_the_calendar_are_an_input_error(tmp_path: Path) -> None:
    # two 4000-year gaps are the most common spacing among 100 distinct small ones: the regular index overflowed (exit 3)
    stamps = [pd.Timestamp("1000-01-01"), pd.Timestamp("5000-01-01"), pd.Timestamp("9000-01-01")]
    for k in range(1, 100):
        stamps.append(stamps[-1] + pd.Timedelta(days=k))
    write_rows(tmp_path / "X.csv", [t.strftime("%Y-%m-%d") for t in stamps])
    with pytest.raises(InputError) as excinfo:
        bench_window(load_ohlc(tmp_path, "X"), rows=500, horizon=1, context_length=None)
    assert_input_error(excinfo, "run past the last date a timestamp can hold")
    assert_actionable(str(excinfo.value), str(tmp_path / "X.csv"))


def test_a_symlinked_file_that_is_no_csv_is_never_quoted(tmp_path: Path) -> None:
    """Was: the error quoted the first line of a symlinked secret (/etc/shadow). A one-field first line is not shown."""
    from harness.base.errors import InputError

    secret = tmp_path / "shadow"
    secret.write_text("root:$6$not-a-real-hash$abcdefgh:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n")
    data = tmp_path / "trainingdata"
    data.mkdir()
    (data / "BTCUSD.csv").symlink_to(secret)
    with pytest.raises(InputError) as caught:
        load_ohlc(data, "BTCUSD")
    message = str(caught.value)
    assert "not a CSV header" in message and "root:" not in message and "$6$" not in message and "19000" not in message
