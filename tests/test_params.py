"""harness.params: defaults, the shipped per-symbol files, overrides, and every way a settings file can be wrong."""

from __future__ import annotations

import itertools
import json
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import InputError
from harness.params import DEFAULTS, BenchParams, hyperparams_path, resolve_params
from tests.conftest import ROOT

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
    assert str(path) in message, message
    assert "fix" in message, message
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    return message


# --- what resolves -------------------------------------------------------------------------------------


def test_defaults_without_a_file(tmp_path: Path) -> None:
    params = resolve_params("NOPE", tmp_path)
    assert params == BenchParams()
    assert params.source == "defaults"
    assert (params.model, params.context_length, params.batch_size, params.prediction_length) == ("chronos-bench-mini", 512, 256, 7)
    assert params.quantile_levels == (0.1, 0.5, 0.9)
    assert params.device == "auto"


def test_the_shipped_files_exist() -> None:
    assert [p.stem for p in SHIPPED] == ["BTCUSD", "EURUSD", "GOOG"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_file_loads_with_its_values(path: Path) -> None:
    params = resolve_params(path.stem, ROOT / "hyperparams")
    written = json.loads(path.read_text(encoding="utf-8"))
    assert params.source == str(path)
    assert params.context_length == written["context_length"]
    assert params.quantile_levels == tuple(written["quantile_levels"])
    assert params.model == written["model"]
    assert params.device == written["device"]


def test_shipped_context_lengths() -> None:
    lengths = {p.stem: resolve_params(p.stem, ROOT / "hyperparams").context_length for p in SHIPPED}
    assert lengths == {"BTCUSD": 128, "EURUSD": 480, "GOOG": 480}


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
    params = resolve_params("BTCUSD", ROOT / "hyperparams", context_length=None, model=None, device=None)
    assert params.context_length == 128
    assert params.source == str(ROOT / "hyperparams" / "chronos2" / "BTCUSD.json")


def test_an_override_is_validated_too(tmp_path: Path) -> None:
    with pytest.raises(InputError) as excinfo:
        resolve_params("X", tmp_path, context_length=0)
    assert "'context_length'" in str(excinfo.value)
    assert "fix" in str(excinfo.value)


def test_unknown_override_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown setting 'rows'"):
        resolve_params("X", tmp_path, rows=5)


# --- what is rejected ----------------------------------------------------------------------------------


def test_unknown_key(tmp_path: Path) -> None:
    rejected(tmp_path, {"context_length": 64, "contxt_length": 64}, "unknown key(s) contxt_length", "context_length")


def test_source_is_not_a_settable_key(tmp_path: Path) -> None:
    rejected(tmp_path, {"source": "elsewhere"}, "unknown key(s) source")


@pytest.mark.parametrize("field", ["context_length", "batch_size", "prediction_length"])
@pytest.mark.parametrize("value", ["512", True, False, 512.0, 0, -1, None, [512]], ids=repr)
def test_sizes_must_be_positive_integers(tmp_path: Path, field: str, value: Any) -> None:
    rejected(tmp_path, {field: value}, f"field {field!r}", "not a positive integer")


@pytest.mark.parametrize(("levels", "needle"), [
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
])
def test_bad_quantile_levels(tmp_path: Path, levels: Any, needle: str) -> None:
    rejected(tmp_path, {"quantile_levels": levels}, "field 'quantile_levels'", needle)


# ids=repr: a bare "gpu" test id would be taken for the gpu marker by conftest's keyword check and skipped
@pytest.mark.parametrize("device", ["gpu", "CUDA", "cuda:", "cuda:x", "cuda0", "mps", "", "cpu ", "cpu\n", 0, None], ids=repr)
def test_invalid_device(tmp_path: Path, device: Any) -> None:
    rejected(tmp_path, {"device": device}, "field 'device'", "auto, cpu, cuda, cuda:N")


@pytest.mark.parametrize("model", ["", "   ", 3, None])
def test_invalid_model(tmp_path: Path, model: Any) -> None:
    rejected(tmp_path, {"model": model}, "field 'model'")


@pytest.mark.parametrize("text", ['{"context_length": 64,}', "{context_length: 64}", '{"context_length": 64', ""], ids=["trailing-comma", "unquoted", "unclosed", "empty"])
def test_bad_json_syntax(tmp_path: Path, text: str) -> None:
    rejected(tmp_path, text, "not valid JSON")


@pytest.mark.parametrize(("content", "kind"), [([{"context_length": 64}], "list"), ("64", "int"), ('"x"', "str"), ("null", "NoneType")])
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


# --- property: any JSON object gives BenchParams or an InputError, nothing else --------------------

_KEYS = st.sampled_from(["model", "context_length", "batch_size", "prediction_length", "quantile_levels", "device", "source", "rows", ""])
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["auto", "cpu", "cuda", "cuda:0", "tiny", 0.5, 0.1, 0.9]),
)
_VALUES = st.recursive(_LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=6)
_names = itertools.count()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(obj=st.dictionaries(_KEYS, _VALUES, max_size=6))
def test_any_json_object_gives_params_or_an_input_error(tmp_path: Path, obj: dict[str, Any]) -> None:
    symbol = f"S{next(_names)}"
    path = write_settings(tmp_path, symbol, obj)
    message = ""
    try:
        params = resolve_params(symbol, tmp_path)
    except InputError as exc:
        message = str(exc)
    if message:
        assert str(path) in message
        assert "fix" in message
        return
    assert params.source == str(path)
    assert 0.5 in params.quantile_levels
    assert min(params.context_length, params.batch_size, params.prediction_length) > 0
