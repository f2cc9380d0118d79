"""harness.data: reading the shipped and user OHLC CSVs, cutting the bench window, and rejecting bad input."""

from __future__ import annotations

import csv
import hashlib
import itertools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from harness.data import OHLC, BenchWindow, OhlcSeries, available_symbols, bench_window, load_ohlc
from harness.errors import InputError
from harness.params import resolve_params
from tests.conftest import ROOT

if TYPE_CHECKING:
    from pathlib import Path

DATA = ROOT / "trainingdata"
HEADER = "Date,Open,High,Low,Close,Volume\n"
# from trainingdata/README.md
SHIPPED_SHA256 = {
    "BTCUSD": "ff253d97891080e5226f99d8a8f334621cecf33c5e1d8e5278cb5728024552d9",
    "GOOG": "60e961a567490b157f71888df9e6afb36190a34a40a6286aa38988e2343f1b1a",
    "EURUSD": "81e977905a006cc8fbc034ebdb83c999a8ed6ba00191dc7ea5ef5b386fb74a82",
}


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


def assert_input_error(excinfo: pytest.ExceptionInfo[InputError], *needles: str) -> None:
    message = str(excinfo.value)
    assert "fix" in message, message
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"


# --- the shipped data ------------------------------------------------------------------------------


@pytest.mark.parametrize(("symbol", "rows", "first", "last"), [
    ("BTCUSD", 156, "2012-01-31", "2024-12-31"),
    ("GOOG", 2148, "2004-08-19", "2013-03-01"),
    ("EURUSD", 5000, "2017-04-19 09:00:00", "2018-02-07 15:00:00"),
])
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
    rows = raw_rows(DATA / "BTCUSD.csv")
    assert series.frame["close"].tolist() == [float(r["Close"]) for r in rows]
    assert series.frame["open"].tolist() == [float(r["Open"]) for r in rows]
    assert series.frame["close"].iloc[-1] == 93381.0


def test_available_symbols_lists_the_shipped_files(tmp_path: Path) -> None:
    assert available_symbols(DATA) == ["BTCUSD", "EURUSD", "GOOG"]
    assert available_symbols(tmp_path / "absent") == []


@pytest.mark.parametrize("symbol", ["BTCUSD", "GOOG", "EURUSD"])
def test_shipped_hyperparams_fit_the_shipped_data(symbol: str) -> None:
    params = resolve_params(symbol, ROOT / "hyperparams")
    window = bench_window(load_ohlc(DATA, symbol), rows=500, horizon=params.prediction_length, context_length=params.context_length)
    assert len(window.context) >= params.context_length
    assert len(window.truth_close) == params.prediction_length


# --- bench_window ----------------------------------------------------------------------------------


def test_btcusd_window_uses_all_156_rows_and_holds_back_the_last_7_closes() -> None:
    series = load_ohlc(DATA, "BTCUSD")
    window = bench_window(series, rows=500, horizon=7, context_length=128)
    closes = [float(r["Close"]) for r in raw_rows(DATA / "BTCUSD.csv")]
    assert isinstance(window, BenchWindow)
    assert window.rows_used == 156
    assert len(window.context) == 149
    assert window.truth_close.tolist() == closes[-7:]
    assert window.context["close"].tolist() == closes[:-7]
    assert window.first_timestamp == "2012-01-31 00:00:00"
    assert window.last_timestamp == "2024-12-31 00:00:00"
    assert list(window.context.columns) == ["item_id", "timestamp", *OHLC]
    assert set(window.context["item_id"]) == {"BTCUSD"}


def test_window_takes_the_last_rows_only() -> None:
    series = load_ohlc(DATA, "BTCUSD")
    window = bench_window(series, rows=100, horizon=7, context_length=64)
    closes = [float(r["Close"]) for r in raw_rows(DATA / "BTCUSD.csv")]
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
    series = load_ohlc(DATA, "BTCUSD")
    with pytest.raises(InputError) as excinfo:
        bench_window(series, rows=500, horizon=7, context_length=480)
    assert_input_error(excinfo, str(DATA / "BTCUSD.csv"), "156 rows", "480")


def test_rows_not_above_horizon_is_rejected() -> None:
    series = load_ohlc(DATA, "BTCUSD")
    with pytest.raises(InputError) as excinfo:
        bench_window(series, rows=7, horizon=7, context_length=1)
    assert_input_error(excinfo, "rows=7")


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


@pytest.mark.parametrize("header", [
    "date,open,high,low,close,volume\n",
    "DATE,OPEN,HIGH,LOW,CLOSE,VOLUME\n",
    " Date , Open , High , Low , Close ,Volume\n",
    "Timestamp,Open,High,Low,Close,Volume\n",
    ",Open,High,Low,Close,Volume\n",
])
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


@pytest.mark.parametrize(("header", "missing"), [
    ("Date,Open,High,Low\n", "close"),
    ("Date,Open,Close\n", "high, low"),
    ("Date,Price\n", "open, high, low, close"),
])
def test_missing_ohlc_column_is_named(tmp_path: Path, header: str, missing: str) -> None:
    columns = header.count(",") + 1
    (tmp_path / "X.csv").write_text(header + ",".join(["2024-01-01"] + ["1"] * (columns - 1)) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, str(tmp_path / "X.csv"), f"missing column(s) {missing}")


@pytest.mark.parametrize(("body", "needles"), [
    ("2024-01-01,1,1,1,1,1\n2024-01-02,1,abc,1,1,1\n", ("'High'", "line 3", "'abc'")),
    ("2024-01-01,1,1,1,1,1\n2024-01-02,1,1,1,,1\n", ("'Close'", "line 3")),
    ("2024-01-01,NaN,1,1,1,1\n", ("'Open'", "line 2")),
    ("2024-01-01,1,1,inf,1,1\n", ("'Low'", "line 2")),
], ids=["non-numeric", "empty", "nan", "inf"])
def test_bad_value_names_column_and_line(tmp_path: Path, body: str, needles: tuple[str, ...]) -> None:
    (tmp_path / "X.csv").write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, str(tmp_path / "X.csv"), "not a finite number", *needles)


@pytest.mark.parametrize("stamp", ["yesterday", "2024-13-45", "", "31/31/2024"])
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


def test_duplicate_timestamps_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "X.csv").write_text(HEADER + "2024-01-01,1,1,1,1,1\n2024-01-02,1,1,1,1,1\n2024-01-02,2,2,2,2,1\n", encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, str(tmp_path / "X.csv"), "2024-01-02", "appears twice")


def test_no_date_column_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "X.csv").write_text("Day,Open,High,Low,Close\n1,1,1,1,1\n", encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, str(tmp_path / "X.csv"), "no date column")


@pytest.mark.parametrize("content", [b"", b"\n\n", b'"', b"Date,Open,High,Low,Close\n2024-01-01,1,1,1,\xff\n"], ids=["empty", "blank", "open-quote", "not-utf8"])
def test_unreadable_csv_is_rejected(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "X.csv").write_bytes(content)
    with pytest.raises(InputError) as excinfo:
        load_ohlc(tmp_path, "X")
    assert_input_error(excinfo, str(tmp_path / "X.csv"), "not a readable CSV")


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


# --- property: any CSV text gives a frame or an InputError, nothing else ---------------------------

_CELLS = st.one_of(
    st.sampled_from(["", "1", "-2.5", "1e30", "nan", "inf", "x", "2024-01-01", "2024-01-02", "2024-02-30", "True", "0"]),
    st.text(max_size=6),
)
_NAMES = st.sampled_from(["", "Date", "date", "Timestamp", "Open", "open", "HIGH", "Low", "Close", "close", "Volume", "x"])


@st.composite
def _csv_text(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.text(max_size=80))
    header = draw(st.one_of(st.lists(_NAMES, max_size=7), st.just(["Date", "Open", "High", "Low", "Close"]), st.just(["", "Open", "High", "Low", "Close"])))
    rows = draw(st.lists(st.lists(_CELLS, min_size=len(header), max_size=len(header) + 1), max_size=4))
    return "\n".join([",".join(header), *(",".join(row) for row in rows)]) + "\n"


_names = itertools.count()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(text="Date,Open,High,Low,Close\n2024-01-01,1,1,1,1\n")
@example(text="Date,Open,High,Low,Close\n1e30,1,1,1,1\n")
@given(text=_csv_text())
def test_any_csv_text_gives_a_frame_or_an_input_error(tmp_path: Path, text: str) -> None:
    symbol = f"S{next(_names)}"
    (tmp_path / f"{symbol}.csv").write_bytes(text.encode("utf-8", "surrogatepass"))
    message = ""
    try:
        series = load_ohlc(tmp_path, symbol)
    except InputError as exc:
        message = str(exc)
    if message:
        assert str(tmp_path / f"{symbol}.csv") in message
        assert "fix" in message
        return
    assert list(series.frame.columns) == ["timestamp", *OHLC]
    assert series.frame["timestamp"].is_unique
    assert np.isfinite(series.frame[list(OHLC)].to_numpy()).all()
