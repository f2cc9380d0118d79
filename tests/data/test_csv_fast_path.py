"""harness.data.csvfast: a clean file is read by Arrow to exactly the frame the careful reader gives, and every other
file falls through to the careful reader, so that what is accepted, refused, warned about and said never changes."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from harness.base.errors import InputError
from harness.data import csvfile
from harness.data.window import load_ohlc

ROOT = Path(__file__).resolve().parents[2]


def _outcome(read: object, raw: bytes, caplog: pytest.LogCaptureFixture) -> tuple[str, object, list[str]]:
    caplog.clear()
    try:
        frame = read(raw, Path("X.csv"), "auto")  # type: ignore[operator]
    except InputError as exc:
        return "refused", str(exc), [r.getMessage() for r in caplog.records]
    return "read", frame, [r.getMessage() for r in caplog.records]


_DATES = st.sampled_from(
    [
        "2024-01-{d:02d}",
        "2024-01-{d:02d} 10:30",
        "2024-01-{d:02d} 10:30:00",
        "2024-01-{d:02d}T10:30:00",
        "2024-01-{d:02d}T10:30:00Z",
        "2024-01-{d:02d}T10:30:00+05:30",
        "2024-01-{d:02d}T10:30:00.250",
        "2024/01/{d:02d}",
        "{d:02d}/01/2024",
        "2024-1-{d}",
        " 2024-01-{d:02d}",
        "2024-02-{d:02d}",  # 2024-02-30 and 2024-02-31 are no dates
    ]
)
_PRICES = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False)
_NUMBERS = st.one_of(
    _PRICES.map(repr),
    st.sampled_from(
        [
            "1",
            "+2.5",
            ".5",
            "5.",
            "1e3",
            "1E-2",
            " 7.25 ",
            "-3",
            "0",
            "-0.0",
            "inf",
            "nan",
            "",
            "null",
            "1,5",
            '"1,234.5"',
            "1.234",
            "1e400",
            "1e-300",
            "0x10",
            "1_000",
            "٣",
        ]
    ),
)


@st.composite
def _files(draw: st.DrawFn) -> bytes:
    n = draw(st.integers(1, 8))
    date = draw(_DATES)
    days = draw(st.lists(st.integers(1, 31), min_size=n, max_size=n, unique=draw(st.booleans())))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    extra = draw(st.booleans())
    header = ["Date", "Open", "High", "Low", "Close"] + (["Volume"] if extra else [])
    lines = [sep.join(header)]
    clean = draw(st.booleans())  # numbers the fast path reads (half the files), or any kind of cell
    numbers = _PRICES.map(repr) if clean else _NUMBERS
    for day in days:
        low, high = sorted(draw(st.lists(_PRICES, min_size=2, max_size=2)))
        pair = (repr(high), repr(low)) if clean else (draw(st.sampled_from([repr(high), draw(_NUMBERS)])), draw(_NUMBERS))
        row = [date.format(d=day), draw(numbers), *pair, draw(numbers)] + (["12"] if extra else [])
        if not clean and draw(st.integers(0, 4)) == 0:
            row = row[: draw(st.integers(1, len(row)))] if draw(st.booleans()) else [*row, draw(st.sampled_from(["", "x"]))]
        lines.append(sep.join(row))
    if not clean and draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", sep * 4])))
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + text.replace("\n", draw(st.sampled_from(["\n", "\r\n"]))).encode()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(raw=b"Date,Open,High,Low,Close\n2024-01-01,1,2,1,1.5\n2024-01-02,1,2,1,1.5\n")
@example(raw=b"Date,Open,High,Low,Close\n2024-01-01,1,2,1,1.5\n2024-01-01,1,2,1,1.5\n")  # a repeated date
@example(raw=b"Date,Open,High,Low,Close\n2024-01-02,-1,2,-1,1.5\n")  # negative: accepted with a warning
@example(raw=b"Date,Open,High,Low,Close\n2024-01-02,1,2,1,1.5,\n")  # a blank extra field: accepted, by the careful reader
@given(raw=_files())
def test_the_fast_path_changes_nothing_but_the_time(raw: bytes, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    kind, got, said = _outcome(csvfile.parse, raw, caplog)
    reference = _outcome(csvfile.parse_carefully, raw, caplog)
    assert (kind, said) == reference[::2]
    if kind == "read":
        pd.testing.assert_frame_equal(got, reference[1], check_exact=True)  # type: ignore[arg-type]
    else:
        assert got == reference[1]


def _fast(raw: bytes) -> pd.DataFrame | None:
    return csvfile._fast(raw.removeprefix(b"\xef\xbb\xbf"), raw.decode("utf-8-sig"))


@pytest.mark.parametrize(
    "raw",
    [
        b"Date,Open,High,Low,Close\n2024-01-01,1,2,1,1.5\n",
        b"\xef\xbb\xbfdate;open;high;low;close;volume\r\n2024-01-01 10:00:00;1;2;1;1.5;3\r\n",
        b"Timestamp\tOpen\tHigh\tLow\tClose\n2024-01-01T10:00:00Z\t1\t2\t1\t1.5\n",
    ],
)
def test_a_clean_file_takes_the_fast_path(raw: bytes) -> None:
    fast = _fast(raw)
    assert fast is not None
    pd.testing.assert_frame_equal(fast, csvfile.parse_carefully(raw, Path("X.csv"), "auto"), check_exact=True)


@pytest.mark.parametrize(
    "raw",
    [
        b"\nDate,Open,High,Low,Close\n2024-01-01,1,2,1,1.5\n",  # the header not on the first line
        b"Date,Open,High,Low,Close\n2024-01-01,1,2,1,1.5,\n",  # a blank extra field
        b"Date,Open,High,Low,Close\n2024-01-01,1,2,1,1.5\n2024-01-02 10:00,1,2,1,1.5\n",  # two ways of writing dates
        b"Date,Open,High,Low,Close\n2024-02-30,1,2,1,1.5\n",  # no such day
        b"Date,Open,High,Low,Close\n2024-01-01,-1,2,-1,1.5\n",  # negative: the careful reader warns with the line
        b"Date;Open;High;Low;Close\n2024-01-01;1,5;2;1;1,5\n",  # decimal commas
    ],
)
def test_a_doubtful_file_falls_through_to_the_careful_reader(raw: bytes) -> None:
    assert _fast(raw) is None


def _writable(frame: pd.DataFrame) -> bool:
    """What training and rolling evaluation hand to torch: a float32 copy torch.from_numpy takes without a warning."""
    return bool(frame[list(csvfile.OHLC)].to_numpy(dtype=np.float32).flags.writeable)


def test_the_shipped_data_take_the_fast_path_to_the_same_frames() -> None:
    for path in sorted((ROOT / "trainingdata").glob("*.csv")):
        raw = path.read_bytes()
        fast = _fast(raw)
        assert fast is not None, path.name
        pd.testing.assert_frame_equal(fast, csvfile.parse_carefully(raw, path, "auto"), check_exact=True)
        assert _writable(fast)  # Arrow's buffers are read-only: a frame built on them made torch warn in training


def test_the_series_an_isolated_child_reads_is_the_tail_of_the_one_its_parent_read(tmp_path: Path) -> None:
    from harness.data.window import read_series, write_series

    series = load_ohlc(ROOT / "trainingdata", "BTCUSD")
    write_series(series, tmp_path / "series.parquet", last=300)
    child = read_series(tmp_path / "series.parquet")
    assert (child.symbol, child.path, child.sha256) == (series.symbol, series.path, series.sha256)
    pd.testing.assert_frame_equal(child.frame, series.frame.tail(300).reset_index(drop=True), check_exact=True)
    assert _writable(child.frame)


def test_a_series_file_that_is_not_one_is_an_input_error(tmp_path: Path) -> None:
    from harness.data.window import read_series

    (tmp_path / "series.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match="not a series the bench wrote"):
        read_series(tmp_path / "series.parquet")


def _write_minutes(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 1e-3, rows)))
    spread = np.abs(rng.normal(0, 5e-4, rows))
    frame = pd.DataFrame(
        {
            "Date": pd.date_range("2021-01-01", periods=rows, freq="min").strftime("%Y-%m-%d %H:%M:%S"),
            "open": close,
            "high": close * (1 + spread),
            "low": close * (1 - spread),
            "close": close,
            "volume": rng.uniform(1, 1000, rows),
        }
    )
    frame.to_csv(path, index=False)


def test_a_long_minute_file_loads_on_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_minutes(tmp_path / "BIG.csv", 200_000)
    monkeypatch.setattr(csvfile, "_careful", lambda *a: pytest.fail("the careful reader read a clean file"))
    series = load_ohlc(tmp_path, "BIG")
    assert len(series.frame) == 200_000 and series.frame["timestamp"].is_monotonic_increasing


@pytest.mark.slow
def test_two_million_rows_load_in_under_five_seconds(tmp_path: Path) -> None:
    _write_minutes(tmp_path / "BIG.csv", 2_000_000)
    began = time.perf_counter()
    series = load_ohlc(tmp_path, "BIG")
    seconds = time.perf_counter() - began
    assert len(series.frame) == 2_000_000
    assert seconds < 5.0, f"{seconds:.1f} s"  # the careful reader alone: 36 s on a 2-core AMD EPYC (Zen 4)
