"""Files as users drop them into trainingdata/ (issue 12): each gives the right window, or exit 2 with one line naming
the file, the field and the fix. The fixtures in tests/data/ are the shipped GOOG and BTCUSD rows (the last 30 of
GOOG.csv, the last 24 days of the daily BTCUSD.csv) as spreadsheets and websites write them, so "the right window" is the
shipped data's own.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from harness.cli.main import main
from harness.data.params import fit_window, resolve_params
from harness.data.window import load_ohlc
from tests.conftest import ROOT
from tests.data.conftest import assert_actionable, raw_rows

if TYPE_CHECKING:
    from pathlib import Path

FIXTURES = ROOT / "tests" / "data"


def drop_in(tmp_path: Path, fixture: str, content: bytes | None = None) -> Path:
    """The fixture as ``<tmp>/trainingdata/NEW.csv``, as a user would add a symbol."""
    directory = tmp_path / "trainingdata"
    directory.mkdir(exist_ok=True)
    target = directory / "NEW.csv"
    if content is None:
        shutil.copyfile(FIXTURES / fixture, target)
    else:
        target.write_bytes(content)
    return target


def shipped_tail(symbol: str, rows: int) -> pd.DataFrame:
    return load_ohlc(ROOT / "trainingdata", symbol).frame.tail(rows).reset_index(drop=True)


def bench_exit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """``python -m harness bench`` on NEW with default settings; the input is refused before any model loads."""
    code = main(
        [
            "-q",
            "bench",
            "--mode",
            "eager",
            "--symbol",
            "NEW",
            "--no-isolate",
            "--data-dir",
            str(tmp_path / "trainingdata"),
            "--hyperparams-dir",
            str(tmp_path / "hyperparams"),
            "--results-dir",
            str(tmp_path / "results"),
        ]
    )
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize(
    ("fixture", "symbol", "rows"),
    [
        pytest.param("goog_dayfirst.csv", "GOOG", 30, id="uk-day-first"),  # 17/01/2013
        pytest.param(
            "goog_semicolon_decimal_comma.csv", "GOOG", 30, id="german-semicolons-decimal-commas"
        ),  # 17.01.2013;717,71;...
        pytest.param(
            "btcusd_quoted_thousands.csv", "BTCUSD", 24, id="web-quoted-thousands"
        ),  # newest first: "Nov 29, 2025","90,911.96875"
        pytest.param("btcusd_excel_bom.csv", "BTCUSD", 24, id="excel-bom-crlf-month-first"),  # 11/6/2025, trailing ,,,,, rows
    ],
)
def test_spreadsheet_exports_give_the_shipped_rows_and_window(tmp_path: Path, fixture: str, symbol: str, rows: int) -> None:
    drop_in(tmp_path, fixture)
    series = load_ohlc(tmp_path / "trainingdata", "NEW")
    expected = shipped_tail(symbol, rows)
    pd.testing.assert_frame_equal(series.frame, expected, check_exact=True)
    # with no settings file at all: the defaults fit the window (issue 12 item 10)
    params, window, notes = fit_window(series, resolve_params("NEW", tmp_path / "hyperparams"), rows=500)
    assert params.context_length == rows - 7 and notes == []
    assert window.truth_close.tolist() == expected["close"].iloc[-7:].tolist()
    assert window.context["close"].tolist() == expected["close"].iloc[:-7].tolist()


def test_a_yahoo_daily_btcusd_copied_over_the_shipped_one_runs_the_seed_scenario_without_editing_json(tmp_path: Path) -> None:
    # issue 13: a daily BTC-USD export in Yahoo's layout, dropped over trainingdata/BTCUSD.csv, benches the last 500
    # days with context 493 and horizon 7 under the shipped hyperparams, as `_bench` resolves them
    data = tmp_path / "trainingdata"
    shutil.copytree(ROOT / "trainingdata", data)
    lines = ["Date,Open,High,Low,Close,Adj Close,Volume\n"]
    for row in raw_rows(ROOT / "trainingdata" / "BTCUSD.csv"):  # Yahoo's Adj Close of a crypto pair is its Close
        lines.append(
            f"{row['Date']},{row['open']},{row['high']},{row['low']},{row['close']},{row['close']},{round(float(row['volume']))}\n"
        )
    (data / "BTCUSD.csv").write_text("".join(lines), encoding="utf-8")
    settings = ROOT / "hyperparams" / "chronos2" / "BTCUSD.json"
    before = settings.read_bytes()

    params = resolve_params("BTCUSD", ROOT / "hyperparams")
    series = load_ohlc(data, "BTCUSD")
    fitted, window, notes = fit_window(series, params, rows=500)

    assert (fitted.context_length, fitted.prediction_length, len(window.context), window.rows_used) == (493, 7, 493, 500)
    assert notes == []  # nothing to clip: the shipped settings leave the context to the data
    shipped = load_ohlc(ROOT / "trainingdata", "BTCUSD")
    assert series.sha256 != shipped.sha256
    pd.testing.assert_frame_equal(series.frame, shipped.frame, check_exact=True)  # Adj Close and Volume ignored
    assert window.truth_close.tolist() == shipped.frame["close"].iloc[-7:].tolist()
    assert (window.first_timestamp, window.last_timestamp) == ("2024-07-18 00:00:00", "2025-11-29 00:00:00")
    assert settings.read_bytes() == before


def test_yahoo_null_rows_exit_2_naming_the_line_and_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = drop_in(tmp_path, "goog_yahoo_null.csv")
    code, err = bench_exit(tmp_path, capsys)
    assert code == 2
    assert len(err) == 1, err
    message = err[0].removeprefix("error: ")
    assert_actionable(message, str(path))
    assert "line 23, column 'Open': 'null' is not a finite number" in message
    assert "Yahoo's 'null' rows" in message
    # the fix, applied, gives the shipped rows
    path.write_text("".join(line for line in path.read_text().splitlines(keepends=True) if "null" not in line))
    pd.testing.assert_frame_equal(load_ohlc(path.parent, "NEW").frame, shipped_tail("GOOG", 30), check_exact=True)


def test_excel_unicode_text_exits_2_telling_to_save_as_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Excel's "Unicode Text": tab-separated UTF-16 with a byte-order mark
    text = (FIXTURES / "goog_dayfirst.csv").read_text(encoding="utf-8").replace(",", "\t")
    path = drop_in(tmp_path, "", text.encode("utf-16"))
    code, err = bench_exit(tmp_path, capsys)
    assert code == 2
    assert len(err) == 1, err
    assert_actionable(err[0].removeprefix("error: "), str(path))
    assert "UTF-16" in err[0] and "fix: save it as UTF-8" in err[0]


def test_ambiguous_day_first_file_exits_2_naming_the_date_format_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # only days 1-12 of each month: every date reads both ways, so the file cannot tell, and nothing is guessed
    lines = (FIXTURES / "goog_dayfirst.csv").read_text(encoding="utf-8").splitlines()
    kept = [lines[0], *(line for line in lines[1:] if int(line[:2]) <= 12)]
    path = drop_in(tmp_path, "", ("\n".join(kept) + "\n").encode())
    code, err = bench_exit(tmp_path, capsys)
    assert code == 2
    assert len(err) == 1, err
    assert_actionable(err[0].removeprefix("error: "), str(path))
    assert "both day-first and month-first" in err[0] and "--date-format day-first" in err[0]
    assert load_ohlc(path.parent, "NEW", date_format="day-first").frame["timestamp"].dt.day.max() <= 12
