"""Per-symbol settings: ``hyperparams/chronos2/<SYMBOL>.json``, validated once, unknown keys rejected.

Every key is optional; a missing file means all defaults. Defaults (see :data:`DEFAULTS`):

- ``model``: ``"chronos-bench-mini"``: the shipped trained model, a built-in profile, a Hugging Face hub id, a local directory or ``s3://...``
- ``context_length``: rows of history fed to the model (cut at this length; fixed so shapes never change). Left unset,
  it is what the bench window holds before the horizon, at most 512 (:func:`fit_window`): the default ``--rows``
  500 gives 493, a file shorter than that all of its history. Set to more than the window holds, it is clipped to
  that, with a note
- ``batch_size``: 256 series per model call (our 4 OHLC variates always fit one call)
- ``prediction_length``: 7 steps held back and forecast
- ``quantile_levels``: ``[0.1, 0.5, 0.9]``; must contain 0.5, the median that is scored
- ``device``: ``"auto"`` (CUDA when available, else CPU), or ``"cpu"``, ``"cuda"``, ``"cuda:N"``

Each value remembers where it was set (the settings file, or a command-line flag), so that a message about it
names the place to change it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.base.errors import InputError
from harness.data.window import bench_window, check_symbol, file_state, show

if TYPE_CHECKING:
    from harness.data.window import BenchWindow, OhlcSeries

AUTO_CONTEXT_CAP = 512  # an unset context_length: what the window holds, at most this many rows


@dataclass(frozen=True, kw_only=True)
class BenchParams:
    """Settings for one symbol, after defaults and validation."""

    model: str = "chronos-bench-mini"
    context_length: int = AUTO_CONTEXT_CAP
    batch_size: int = 256
    prediction_length: int = 7
    quantile_levels: tuple[float, ...] = field(default=(0.1, 0.5, 0.9))
    device: str = "auto"
    source: str = "defaults"  # the file the values came from, for messages and provenance
    file: str = ""  # the symbol's settings file, whether or not it exists: <hyperparams-dir>/chronos2/<SYMBOL>.json
    origins: tuple[tuple[str, str], ...] = ()  # (key, where it was set: the file's path or a flag such as --context-length)

    def origin(self, key: str) -> str | None:
        """Where ``key`` was set (a file's path or a command-line flag); None when it is the default."""
        return dict(self.origins).get(key)


DEFAULTS = BenchParams()
_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")
_KEYS = tuple(f.name for f in fields(BenchParams) if f.name not in ("source", "file", "origins"))
_UTF8 = "save it as UTF-8 text"


def hyperparams_path(hyperparams_dir: Path, symbol: str) -> Path:
    return hyperparams_dir / "chronos2" / f"{symbol}.json"


def flag(key: str) -> str:
    """The command-line flag that sets ``key``: ``context_length`` -> ``--context-length``."""
    return "--" + key.replace("_", "-")


def resolve_params(symbol: str, hyperparams_dir: Path = Path("hyperparams"), **overrides: Any) -> BenchParams:
    """Defaults, then ``<hyperparams_dir>/chronos2/<symbol>.json``, then non-None ``overrides`` (CLI flags).

    The symbol is checked before any file is opened: it is part of a path.
    """
    path = hyperparams_path(hyperparams_dir, check_symbol(symbol))
    values = _read_settings(path)
    origins = dict.fromkeys(values, str(path))
    for key, value in overrides.items():
        if key not in _KEYS:
            raise InputError(f"unknown setting {key!r}; fix: use one of {', '.join(_KEYS)}")
        if value is not None:
            values[key] = value
            origins[key] = flag(key)
    source = (str(path) if path.is_file() else "defaults") + (
        " + command line" if any(o.startswith("--") for o in origins.values()) else ""
    )
    checked = {key: _check(key, value, origins[key]) for key, value in values.items()}
    return replace(DEFAULTS, **checked, source=source, file=str(path), origins=tuple(origins.items()))


def fit_window(series: OhlcSeries, params: BenchParams, *, rows: int) -> tuple[BenchParams, BenchWindow, list[str]]:
    """The bench window of ``series`` for ``params``, ``params`` with ``context_length`` fitted to it, and notes to print.

    Unset, ``context_length`` becomes the rows of history the window holds, at most :data:`AUTO_CONTEXT_CAP`. Set in a
    file or by a flag, it is clipped to what the window holds, with a note naming that file or flag and both lengths:
    settings follow the data, so a user's own file runs without editing JSON. Still an error (naming the file and the
    fix): a window with no row of history before the horizon.
    """
    where = {"prediction_length": params.origin("prediction_length") or params.file}
    window = bench_window(series, rows=rows, horizon=params.prediction_length, context_length=None, origins=where)
    holds = len(window.context)
    notes = []
    origin = params.origin("context_length")
    if params.context_length > holds:
        if origin is not None:
            notes.append(
                f"{series.symbol}: context_length {params.context_length} ({origin}) is more than the {holds} rows the window holds "
                f"before the horizon; using {holds}"
            )
        params = replace(params, context_length=holds)
    return params, window, notes


def _read_settings(path: Path) -> dict[str, Any]:
    """The file's settings; {} when there is no file. A directory or an unreadable file in its place is refused."""
    state = file_state(path)
    if state == "missing":
        if path.is_symlink():
            raise InputError(f"{path}: file: a link to nothing; fix: point it at a settings file or remove it")
        return {}
    if state == "other":
        raise InputError(
            f"{path}: file: a directory or other non-file, not a settings file; fix: replace it with a JSON file or remove it"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: file: cannot be read ({exc.strerror or exc}); fix: check that it is a readable file") from exc
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw:
        raise InputError(f"{path}: encoding: UTF-16 text (or not text at all); fix: {_UTF8}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}: line {line}: byte 0x{raw[exc.start]:02x} is not UTF-8; fix: {_UTF8}") from exc
    try:
        loaded = json.loads(text, object_pairs_hook=lambda pairs: _no_repeats(pairs, path))
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg}); "
            f"fix: check the syntax, e.g. with `python -m json.tool {path}`"
        ) from exc
    except (ValueError, RecursionError) as exc:  # a number of over 4300 digits; nesting deeper than Python's stack
        raise InputError(
            f"{path}: contents: not usable JSON ({type(exc).__name__}: {str(exc)[:80]}); fix: write plain settings such as "
            '{"context_length": 128}'
        ) from exc
    if not isinstance(loaded, dict):
        raise InputError(
            f"{path}: top level: expected a JSON object {{...}}, found {type(loaded).__name__}; fix: wrap the settings in {{}}"
        )
    unknown = sorted(set(loaded) - set(_KEYS))
    if unknown:
        names = ", ".join(show(key, 30) for key in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise InputError(f"{path}: key(s) {names}: unknown; fix: use only {', '.join(_KEYS)}")
    return loaded


def _no_repeats(pairs: list[tuple[str, Any]], path: Path) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise InputError(f"{path}: field {show(key, 30)}: appears twice; fix: keep one")
        seen[key] = value
    return seen


UPPER_BOUNDS = {  # beyond these nothing fits in memory or in Chronos-2's window: refuse at the boundary, not after a run
    "context_length": 1_000_000,
    "batch_size": 65_536,
    "prediction_length": 10_000,
}


def _count(key: str, value: Any, where: str, shown: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InputError(f"{where}: {shown} is not a positive integer; fix: e.g. {getattr(DEFAULTS, key)}")
    if value > UPPER_BOUNDS[key]:
        raise InputError(f"{where}: {shown} is above {UPPER_BOUNDS[key]}; fix: e.g. {getattr(DEFAULTS, key)}")
    return value


def _check(key: str, value: Any, origin: str) -> Any:
    where = origin if origin.startswith("--") else f"{origin}: field {key!r}"
    shown = show(value)
    if key in UPPER_BOUNDS:
        return _count(key, value, where, shown)
    if key == "quantile_levels":
        if not isinstance(value, (list, tuple)) or not value:
            raise InputError(f"{where}: {shown} is not a non-empty list of numbers; fix: e.g. [0.1, 0.5, 0.9]")
        levels = []
        for level in value:
            if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
                raise InputError(f"{where}: {show(level)} is not a number strictly between 0 and 1; fix: e.g. [0.1, 0.5, 0.9]")
            levels.append(float(level))
        if sorted(set(levels)) != levels:
            raise InputError(f"{where}: {shown} must be strictly increasing; fix: e.g. [0.1, 0.5, 0.9]")
        if 0.5 not in levels:
            raise InputError(f"{where}: {shown} lacks 0.5, the median that is scored; fix: add 0.5")
        return tuple(levels)
    if key == "model":
        if not isinstance(value, str) or not value.strip() or not value.strip().isprintable():
            raise InputError(f'{where}: {shown} is not a model name; fix: e.g. "chronos-2-arch" or "amazon/chronos-2"')
        return value.strip()
    if key == "device":
        if not isinstance(value, str) or not _DEVICE.fullmatch(value):
            raise InputError(f"{where}: {shown} is not a device; fix: one of auto, cpu, cuda, cuda:N")
        return value
    raise AssertionError(key)  # unreachable: keys are checked against _KEYS first
