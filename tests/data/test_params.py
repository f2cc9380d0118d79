"""harness.data.params: defaults, the shipped per-symbol files, overrides, and every way a settings file can be wrong."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.base.errors import InputError
from harness.data.params import AUTO_CONTEXT_CAP, DEFAULTS, BenchParams, fit_window, hyperparams_path, resolve_params
from harness.data.window import OhlcSeries, load_ohlc
from tests.conftest import ROOT
from tests.data.conftest import assert_actionable, daily_csv

if TYPE_CHECKING:
    from pathlib import Path

SHIPPED = sorted((ROOT / "hyperparams" / "chronos2").glob("*.json"))


def write_settings(root: Path, symbol: str, content: Any) -> Path:
    """``<root>/chronos2/<symbol>.json`` holding ``content`` (a str is written verbatim, anything else as JSON)."""
    path = hyperparams_path(root, symbol)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def rejected(root: Path, content: Any, *needles: str) -> str:
    """Resolve a file holding ``content``; it must be an InputError naming the file, the fix and each needle."""
    path = write_settings(root, "X", content)
    with pytest.raises(InputError) as excinfo:
        resolve_params("X", root)
    message = str(excinfo.value)
    assert_actionable(message, str(path))
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    return message


# --- what resolves -------------------------------------------------------------------------------------


def test_defaults_without_a_file(tmp_path: Path) -> None:
    params = resolve_params("NOPE", tmp_path)
    assert params == BenchParams(file=str(tmp_path / "chronos2" / "NOPE.json"))
    assert params.origins == ()
    assert params.source == "defaults"
    assert (params.model, params.context_length, params.batch_size, params.prediction_length) == (
        "chronos-bench-mini",
        512,
        256,
        7,
    )
    assert params.quantile_levels == (0.1, 0.5, 0.9)
    assert params.device == "auto"


def test_the_shipped_files_exist() -> None:
    assert [p.stem for p in SHIPPED] == ["BTCUSD", "EURUSD", "GOOG"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_file_loads_with_its_values(path: Path) -> None:
    params = resolve_params(path.stem, ROOT / "hyperparams")
    written = json.loads(path.read_text(encoding="utf-8"))
    assert params.source == str(path)
    assert params.context_length == written.get("context_length", AUTO_CONTEXT_CAP)  # unset: fitted to the window later
    assert params.origin("context_length") == (str(path) if "context_length" in written else None)
    assert params.quantile_levels == tuple(written["quantile_levels"])
    assert params.model == written["model"]
    assert params.device == written["device"]


def test_shipped_context_lengths() -> None:
    # BTCUSD leaves it unset: the whole window, 500 rows - 7 held back (the seed scenario); the others set 480
    lengths = {
        p.stem: fit_window(load_ohlc(ROOT / "trainingdata", p.stem), resolve_params(p.stem, ROOT / "hyperparams"), rows=500)[
            0
        ].context_length
        for p in SHIPPED
    }
    assert lengths == {"BTCUSD": 493, "EURUSD": 480, "GOOG": 480}


def test_a_partial_file_keeps_the_other_defaults(tmp_path: Path) -> None:
    path = write_settings(tmp_path, "X", {"context_length": 64})
    params = resolve_params("X", tmp_path)
    assert params.context_length == 64
    assert params.batch_size == DEFAULTS.batch_size
    assert params.source == str(path)


def test_valid_values_are_normalised(tmp_path: Path) -> None:
    write_settings(tmp_path, "X", {"model": "  amazon/chronos-2 ", "quantile_levels": [0.25, 0.5], "device": "cuda:1"})
    params = resolve_params("X", tmp_path)
    assert params.model == "amazon/chronos-2"
    assert params.quantile_levels == (0.25, 0.5)
    assert params.device == "cuda:1"


def test_overrides_win_over_the_file() -> None:
    params = resolve_params("BTCUSD", ROOT / "hyperparams", context_length=64, device="cpu")
    assert params.context_length == 64
    assert params.device == "cpu"
    assert params.prediction_length == 7
    assert params.source.startswith(str(ROOT / "hyperparams" / "chronos2" / "BTCUSD.json"))
    assert "command line" in params.source


def test_none_overrides_are_ignored() -> None:
    params = resolve_params("GOOG", ROOT / "hyperparams", context_length=None, model=None, device=None)
    assert params.context_length == 480
    assert params.origin("context_length") == str(ROOT / "hyperparams" / "chronos2" / "GOOG.json")
    assert params.source == str(ROOT / "hyperparams" / "chronos2" / "GOOG.json")


def test_an_override_is_validated_too(tmp_path: Path) -> None:
    with pytest.raises(InputError) as excinfo:
        resolve_params("X", tmp_path, context_length=0)
    assert_actionable(str(excinfo.value), "--context-length")


@pytest.mark.parametrize(("override", "flag"), [({"device": "gpu"}, "--device"), ({"model": " "}, "--model")])
def test_a_bad_flag_is_named_as_the_flag_not_the_file(tmp_path: Path, override: dict[str, Any], flag: str) -> None:
    # issue 12 item 16: the message named hyperparams/chronos2/X.json for a value that came from the command line
    path = write_settings(tmp_path, "X", {"context_length": 64})
    with pytest.raises(InputError) as excinfo:
        resolve_params("X", tmp_path, **override)
    assert_actionable(str(excinfo.value), flag)
    assert str(path) not in str(excinfo.value)


def test_each_value_remembers_where_it_was_set(tmp_path: Path) -> None:
    path = write_settings(tmp_path, "X", {"context_length": 64, "device": "cpu"})
    params = resolve_params("X", tmp_path, device="auto", model=None)
    assert params.origin("context_length") == str(path)
    assert params.origin("device") == "--device"
    assert params.origin("model") is None
    assert params.file == str(path)


def test_unknown_override_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown setting 'rows'"):
        resolve_params("X", tmp_path, rows=5)


# --- what is rejected ----------------------------------------------------------------------------------


def test_unknown_key(tmp_path: Path) -> None:
    rejected(tmp_path, {"context_length": 64, "contxt_length": 64}, "key(s) 'contxt_length': unknown", "context_length")


def test_source_is_not_a_settable_key(tmp_path: Path) -> None:
    rejected(tmp_path, {"source": "elsewhere"}, "key(s) 'source': unknown")
    rejected(tmp_path, {"origins": []}, "key(s) 'origins': unknown")


@pytest.mark.parametrize("field", ["context_length", "batch_size", "prediction_length"])
@pytest.mark.parametrize("value", ["512", True, False, 512.0, 0, -1, None, [512]], ids=repr)
def test_sizes_must_be_positive_integers(tmp_path: Path, field: str, value: Any) -> None:
    rejected(tmp_path, {field: value}, f"field {field!r}", "not a positive integer")


@pytest.mark.parametrize(
    ("levels", "needle"),
    [
        ([0.9, 0.5, 0.1], "strictly increasing"),
        ([0.1, 0.5, 0.5, 0.9], "strictly increasing"),
        ([0.0, 0.5], "strictly between 0 and 1"),
        ([0.5, 1.0], "strictly between 0 and 1"),
        ([-0.1, 0.5], "strictly between 0 and 1"),
        ([0.5, 1.5], "strictly between 0 and 1"),
        ([0.1, 0.9], "lacks 0.5"),
        ([], "non-empty list"),
        ("0.5", "non-empty list"),
        (0.5, "non-empty list"),
        ([True, 0.5], "strictly between 0 and 1"),
        (["0.5"], "strictly between 0 and 1"),
    ],
)
def test_bad_quantile_levels(tmp_path: Path, levels: Any, needle: str) -> None:
    rejected(tmp_path, {"quantile_levels": levels}, "field 'quantile_levels'", needle)


# ids=repr: a bare "gpu" test id would be taken for the gpu marker by conftest's keyword check and skipped
@pytest.mark.parametrize("device", ["gpu", "CUDA", "cuda:", "cuda:x", "cuda0", "mps", "", "cpu ", "cpu\n", 0, None], ids=repr)
def test_invalid_device(tmp_path: Path, device: Any) -> None:
    rejected(tmp_path, {"device": device}, "field 'device'", "auto, cpu, cuda, cuda:N")


@pytest.mark.parametrize("model", ["", "   ", 3, None])
def test_invalid_model(tmp_path: Path, model: Any) -> None:
    rejected(tmp_path, {"model": model}, "field 'model'")


@pytest.mark.parametrize(
    "text",
    ['{"context_length": 64,}', "{context_length: 64}", '{"context_length": 64', ""],
    ids=["trailing-comma", "unquoted", "unclosed", "empty"],
)
def test_bad_json_syntax(tmp_path: Path, text: str) -> None:
    rejected(tmp_path, text, "not valid JSON")


@pytest.mark.parametrize(
    ("content", "kind"), [([{"context_length": 64}], "list"), ("64", "int"), ('"x"', "str"), ("null", "NoneType")]
)
def test_json_that_is_not_an_object(tmp_path: Path, content: Any, kind: str) -> None:
    text = content if isinstance(content, str) else json.dumps(content)
    rejected(tmp_path, text, "expected a JSON object", f"found {kind}")


def test_non_utf8_file(tmp_path: Path) -> None:
    path = hyperparams_path(tmp_path, "X")
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"model": "\xff"}')
    with pytest.raises(InputError) as excinfo:
        resolve_params("X", tmp_path)
    assert str(path) in str(excinfo.value)


def test_non_utf8_file_is_told_to_save_as_utf8(tmp_path: Path) -> None:
    path = write_settings(tmp_path, "X", "")
    for content in (b'{"model": "\xff"}', '{"context_length": 64}'.encode("utf-16")):
        path.write_bytes(content)
        with pytest.raises(InputError) as excinfo:
            resolve_params("X", tmp_path)
        assert_actionable(str(excinfo.value), str(path))
        assert "fix: save it as UTF-8" in str(excinfo.value)


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = write_settings(tmp_path, "X", "")
    path.write_bytes(b'\xef\xbb\xbf{"context_length": 64}')
    assert resolve_params("X", tmp_path).context_length == 64


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"context_length": 64, "context_length": 128}', "field 'context_length': appears twice"),
        ("[" * 100_000 + "]" * 100_000, "not usable JSON"),
        ('{"batch_size": ' + "9" * 5000 + "}", "not usable JSON"),
        ('{"context_length": 64,}', "line 1 column 23: not valid JSON"),
    ],
    ids=["duplicate-key", "deep-nesting", "5000-digits", "trailing-comma"],
)
def test_json_python_would_misread_or_crash_on(tmp_path: Path, text: str, needle: str) -> None:
    rejected(tmp_path, text, needle)


def test_a_directory_named_like_the_settings_file_is_refused(tmp_path: Path) -> None:
    # issue 12 item 16: it was ignored without a word, and the defaults used
    path = hyperparams_path(tmp_path, "X")
    path.mkdir(parents=True)
    with pytest.raises(InputError) as excinfo:
        resolve_params("X", tmp_path)
    assert_actionable(str(excinfo.value), str(path))
    assert "a directory" in str(excinfo.value)


def test_a_settings_link_to_nothing_is_refused(tmp_path: Path) -> None:
    path = hyperparams_path(tmp_path, "X")
    path.parent.mkdir(parents=True)
    path.symlink_to(tmp_path / "gone.json")
    with pytest.raises(InputError) as excinfo:
        resolve_params("X", tmp_path)
    assert_actionable(str(excinfo.value), str(path))
    assert "a link to nothing" in str(excinfo.value)


@pytest.mark.parametrize("symbol", ["../../baselines/x", "../x", "A" * 300])
def test_the_symbol_is_checked_before_any_file_is_opened(tmp_path: Path, symbol: str) -> None:
    # issue 12 item 15: --symbol ../../baselines/<file> parsed that file as settings; item 8: 300 characters gave ENAMETOOLONG
    (tmp_path / "hp" / "chronos2").mkdir(parents=True)
    (tmp_path / "baselines").mkdir()
    (tmp_path / "baselines" / "x.json").write_text("not json", encoding="utf-8")
    (tmp_path / "hp" / "x.json").write_text("not json", encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        resolve_params(symbol, tmp_path / "hp")
    message = str(excinfo.value)
    assert "not a plain symbol name" in message and "fix: " in message
    assert "JSON" not in message
    assert message.isprintable() and len(message) < 300


# --- fitting the window: the defaults work together (issue 12 item 10) ------------------------------


@pytest.mark.parametrize(("days", "rows", "context"), [(2148, 500, 493), (156, 500, 149), (600, 600, 512), (20, 500, 13)])
def test_a_new_symbol_with_default_settings_gets_what_the_window_holds(
    tmp_path: Path, days: int, rows: int, context: int
) -> None:
    # was: "context_length 512 + horizon 7 = 519 are needed; fix: ... supply more rows", for every new symbol
    (tmp_path / "data").mkdir()
    closes = daily_csv(tmp_path / "data" / "NEW.csv", days)
    params, window, notes = fit_window(load_ohlc(tmp_path / "data", "NEW"), resolve_params("NEW", tmp_path / "hp"), rows=rows)
    assert params.context_length == context == min(AUTO_CONTEXT_CAP, min(rows, days) - 7)
    assert notes == []  # nothing was asked for: nothing to note
    assert window.truth_close.tolist() == closes[-7:]
    assert len(window.context) == min(rows, days) - 7


@pytest.mark.parametrize("symbol", ["BTCUSD", "GOOG", "EURUSD"])
def test_shipped_settings_keep_their_context_and_window(symbol: str) -> None:
    from harness.data.window import bench_window

    params = resolve_params(symbol, ROOT / "hyperparams")
    series = load_ohlc(ROOT / "trainingdata", symbol)
    fitted, window, notes = fit_window(series, params, rows=500)
    assert notes == []
    if symbol == "BTCUSD":  # unset in its file: the whole window (the seed scenario), nothing else changed
        assert fitted == replace(params, context_length=493)
    else:
        assert fitted == params  # set in the file and fits: never refitted
    same = bench_window(series, rows=500, horizon=params.prediction_length, context_length=fitted.context_length)
    pd.testing.assert_frame_equal(window.context, same.context, check_exact=True)
    assert window.truth_close.tolist() == same.truth_close.tolist()


# --- settings follow the data: a context the window cannot fill is clipped, with a note (issue 13) -------


def test_too_large_a_context_from_the_file_is_clipped_with_a_note_naming_the_file(tmp_path: Path) -> None:
    # was: an error ("fix: pass --rows 519 or more or set context_length to 493 or less in <file>")
    closes = daily_csv(tmp_path / "BTCUSD.csv", 2148)
    path = write_settings(tmp_path / "elsewhere", "BTCUSD", {"context_length": 512})
    params = resolve_params("BTCUSD", tmp_path / "elsewhere")
    fitted, window, notes = fit_window(load_ohlc(tmp_path, "BTCUSD"), params, rows=500)
    assert fitted == replace(params, context_length=493)  # only the context changes; it still says where it was set
    assert fitted.origin("context_length") == str(path)
    assert notes == [
        f"BTCUSD: context_length 512 ({path}) is more than the 493 rows the window holds before the horizon; using 493"
    ]
    assert len(window.context) == 493 and window.truth_close.tolist() == closes[-7:]


def test_too_large_a_context_from_the_flag_is_clipped_with_a_note_naming_the_flag(tmp_path: Path) -> None:
    daily_csv(tmp_path / "X.csv", 100)
    write_settings(tmp_path, "X", {"context_length": 64})  # the flag wins over the file, and the note names the flag
    fitted, window, notes = fit_window(load_ohlc(tmp_path, "X"), resolve_params("X", tmp_path, context_length=480), rows=500)
    assert fitted.context_length == len(window.context) == 93  # all of the file's 100 rows, 7 held back
    assert notes == [
        "X: context_length 480 (--context-length) is more than the 93 rows the window holds before the horizon; using 93"
    ]


def test_a_context_that_fits_exactly_is_kept_without_a_note(tmp_path: Path) -> None:
    daily_csv(tmp_path / "X.csv", 600)
    params = resolve_params("X", tmp_path, context_length=493)
    fitted, window, notes = fit_window(load_ohlc(tmp_path, "X"), params, rows=500)
    assert (fitted, len(window.context), notes) == (params, 493, [])


def test_shipped_btcusd_with_an_explicit_512_is_clipped_to_493(tmp_path: Path) -> None:
    # the seed scenario: the shipped daily BTCUSD, the last 500 rows, 7 held back; 512 asked for in a settings file
    path = write_settings(tmp_path, "BTCUSD", {"context_length": 512})
    series = load_ohlc(ROOT / "trainingdata", "BTCUSD")
    fitted, window, notes = fit_window(series, resolve_params("BTCUSD", tmp_path), rows=500)
    assert fitted.context_length == len(window.context) == 493
    assert notes == [
        f"BTCUSD: context_length 512 ({path}) is more than the 493 rows the window holds before the horizon; using 493"
    ]
    assert window.truth_close.tolist() == series.frame["close"].iloc[-7:].tolist()


@pytest.mark.parametrize(("days", "rows", "flag"), [(7, 500, None), (100, 7, 64), (3, 500, 512)])
def test_a_window_with_no_history_before_the_horizon_is_still_an_error(
    tmp_path: Path, days: int, rows: int, flag: int | None
) -> None:
    # no context at all fits: nothing to clip to, so the honest message (the file, what the window holds, the fix)
    daily_csv(tmp_path / "X.csv", days)
    with pytest.raises(InputError) as excinfo:
        fit_window(load_ohlc(tmp_path, "X"), resolve_params("X", tmp_path, context_length=flag), rows=rows)
    message = str(excinfo.value)
    assert_actionable(message, str(tmp_path / "X.csv"))
    assert f"the window holds {min(days, rows)} rows" in message and "leaves no history before the 7 held back" in message


def test_an_oversized_prediction_length_names_its_file(tmp_path: Path) -> None:
    # issue 12 item 16: the message did not say where prediction_length 10000 came from
    daily_csv(tmp_path / "X.csv", 300)
    path = write_settings(tmp_path, "X", {"prediction_length": 10_000})
    with pytest.raises(InputError) as excinfo:
        fit_window(load_ohlc(tmp_path, "X"), resolve_params("X", tmp_path), rows=500)
    message = str(excinfo.value)
    assert_actionable(message, str(tmp_path / "X.csv"))
    assert "prediction_length 10000" in message
    assert f"set prediction_length to 299 or less in {path}" in message


# --- properties: any settings give BenchParams or one actionable InputError, nothing else -----------

_KEYS = st.sampled_from(
    ["model", "context_length", "batch_size", "prediction_length", "quantile_levels", "device", "source", "rows", "", "\x1b"]
)
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["auto", "cpu", "cuda", "cuda:0", "tiny", 0.5, 0.1, 0.9]),
)
_VALUES = st.recursive(
    _LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=6
)
_names = itertools.count()


def _resolve_or_message(symbol: str, root: Path, **overrides: Any) -> BenchParams | str:
    try:
        return resolve_params(symbol, root, **overrides)
    except InputError as exc:
        return str(exc)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(obj=st.dictionaries(_KEYS, _VALUES, max_size=6))
def test_any_json_object_gives_params_or_an_input_error(tmp_path: Path, obj: dict[str, Any]) -> None:
    symbol = f"S{next(_names)}"
    path = write_settings(tmp_path, symbol, obj)
    result = _resolve_or_message(symbol, tmp_path)
    if isinstance(result, str):
        assert_actionable(result, str(path))
        return
    assert result.source == str(path)
    assert 0.5 in result.quantile_levels
    assert min(result.context_length, result.batch_size, result.prediction_length) > 0


_JSON_PIECES = st.sampled_from(
    [
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        '"model"',
        '"context_length"',
        '"device"',
        '"cpu"',
        "64",
        "-1",
        "1e999",
        "NaN",
        "null",
        "true",
        '"\\u0000"',
        '"\x1b"',
        " ",
        "\n",
    ]
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(_JSON_PIECES, max_size=12), prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xff"]))
def test_any_settings_bytes_give_params_or_an_input_error(tmp_path: Path, pieces: list[str], prefix: bytes) -> None:
    symbol = f"B{next(_names)}"
    path = write_settings(tmp_path, symbol, "")
    path.write_bytes(prefix + "".join(pieces).encode("utf-8"))
    result = _resolve_or_message(symbol, tmp_path)
    if isinstance(result, str):
        assert_actionable(result, str(path))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    model=st.one_of(st.none(), st.text(max_size=6)),
    device=st.one_of(st.none(), st.text(max_size=6)),
    context_length=st.one_of(st.none(), st.integers(-3, 3)),
)
def test_any_flags_give_params_or_an_input_error_naming_the_flag(
    tmp_path: Path, model: str | None, device: str | None, context_length: int | None
) -> None:
    result = _resolve_or_message("X", tmp_path, model=model, device=device, context_length=context_length)
    if isinstance(result, str):
        flag = result.split(": ", 1)[0]
        assert flag in ("--model", "--device", "--context-length"), result
        assert_actionable(result, flag)


@settings(max_examples=80, deadline=None)
@given(
    offsets=st.lists(st.integers(0, 3_600_000), min_size=1, max_size=40, unique=True),
    closes=st.lists(st.sampled_from([0.0, 1.0, -2.5, 1e9]), min_size=40, max_size=40),
    rows=st.integers(1, 60),
    horizon=st.integers(1, 20),
    context=st.one_of(st.none(), st.integers(1, 60)),
)
def test_any_series_and_settings_give_a_window_or_an_input_error(
    offsets: list[int], closes: list[float], rows: int, horizon: int, context: int | None
) -> None:
    stamps = sorted(pd.Timestamp("0001-01-01") + pd.Timedelta(days=o) for o in offsets)
    frame = pd.DataFrame({"timestamp": pd.Series(stamps, dtype="datetime64[us]")})
    for name in ("open", "high", "low", "close"):
        frame[name] = closes[: len(stamps)]
    path = ROOT / "trainingdata" / "X.csv"  # never read: only named in messages
    series = OhlcSeries(symbol="X", path=path, sha256="", frame=frame)
    params = replace(DEFAULTS, prediction_length=horizon, file="hp/chronos2/X.json")
    if context is not None:
        params = replace(params, context_length=context, origins=(("context_length", "--context-length"),))
    try:
        fitted, window, notes = fit_window(series, params, rows=rows)
    except InputError as exc:
        assert_actionable(str(exc), str(path))
        return
    assert len(window.truth_close) == horizon
    assert len(window.context) == min(rows, len(stamps)) - horizon >= fitted.context_length
    # asked for (or the cap when unset), clipped to what the window holds; a note only for a flag's value that was clipped
    assert fitted.context_length == min(AUTO_CONTEXT_CAP if context is None else context, len(window.context))
    assert len(notes) == (context is not None and context > len(window.context))
    assert all("(--context-length)" in note and note.isprintable() for note in notes)
    assert window.context["timestamp"].is_monotonic_increasing and window.context["timestamp"].is_unique
