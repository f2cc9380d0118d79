"""Per-symbol settings: ``hyperparams/chronos2/<SYMBOL>.json``, validated once, unknown keys rejected.

Every key is optional; a missing file means all defaults. Defaults (see :data:`DEFAULTS`):

- ``model``: ``"chronos-bench-mini"``: the shipped trained model, a built-in profile, a Hugging Face hub id, a local directory or ``s3://...``
- ``context_length``: 512 rows of history fed to the model (cut at this length; fixed so shapes never change)
- ``batch_size``: 256 series per model call (our 4 OHLC variates always fit one call)
- ``prediction_length``: 7 steps held back and forecast
- ``quantile_levels``: ``[0.1, 0.5, 0.9]``; must contain 0.5, the median that is scored
- ``device``: ``"auto"`` (CUDA when available, else CPU), or ``"cpu"``, ``"cuda"``, ``"cuda:N"``
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from harness.errors import InputError


@dataclass(frozen=True, kw_only=True)
class BenchParams:
    """Settings for one symbol, after defaults and validation."""

    model: str = "chronos-bench-mini"
    context_length: int = 512
    batch_size: int = 256
    prediction_length: int = 7
    quantile_levels: tuple[float, ...] = field(default=(0.1, 0.5, 0.9))
    device: str = "auto"
    source: str = "defaults"  # the file the values came from, for messages and provenance


DEFAULTS = BenchParams()
_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")
_KEYS = tuple(f.name for f in fields(BenchParams) if f.name != "source")


def hyperparams_path(hyperparams_dir: Path, symbol: str) -> Path:
    return hyperparams_dir / "chronos2" / f"{symbol}.json"


def resolve_params(symbol: str, hyperparams_dir: Path = Path("hyperparams"), **overrides: Any) -> BenchParams:
    """Defaults, then ``<hyperparams_dir>/chronos2/<symbol>.json``, then non-None ``overrides`` (CLI flags)."""
    path = hyperparams_path(hyperparams_dir, symbol)
    values: dict[str, Any] = {}
    if path.is_file():
        values = _read_json(path)
        unknown = sorted(set(values) - set(_KEYS))
        if unknown:
            raise InputError(f"{path}: unknown key(s) {', '.join(unknown)}; fix: use only {', '.join(_KEYS)}")
    source = str(path) if path.is_file() else "defaults"
    for key, value in overrides.items():
        if key not in _KEYS:
            raise InputError(f"unknown setting {key!r}; valid: {', '.join(_KEYS)}")
        if value is not None:
            values[key] = value
            source = f"{source} + command line"
    return replace(DEFAULTS, **{key: _check(key, value, path) for key, value in values.items()}, source=source)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc}); fix: check the syntax, e.g. with `python -m json.tool`") from exc
    if not isinstance(loaded, dict):
        raise InputError(f"{path}: expected a JSON object {{...}}, found {type(loaded).__name__}; fix: wrap the settings in {{}}")
    return loaded


def _check(key: str, value: Any, path: Path) -> Any:
    where = f"{path}: field {key!r}"
    if key in ("context_length", "batch_size", "prediction_length"):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InputError(f"{where}: {value!r} is not a positive integer; fix: e.g. {getattr(DEFAULTS, key)}")
        return value
    if key == "quantile_levels":
        if not isinstance(value, (list, tuple)) or not value:
            raise InputError(f"{where}: {value!r} is not a non-empty list of numbers; fix: e.g. [0.1, 0.5, 0.9]")
        levels = []
        for level in value:
            if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
                raise InputError(f"{where}: {level!r} is not a number strictly between 0 and 1; fix: e.g. [0.1, 0.5, 0.9]")
            levels.append(float(level))
        if sorted(set(levels)) != levels:
            raise InputError(f"{where}: {value!r} must be strictly increasing; fix: e.g. [0.1, 0.5, 0.9]")
        if 0.5 not in levels:
            raise InputError(f"{where}: {value!r} lacks 0.5, the median that is scored; fix: add 0.5")
        return tuple(levels)
    if key == "model":
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{where}: {value!r} is not a model name; fix: e.g. \"chronos-2-arch\" or \"amazon/chronos-2\"")
        return value.strip()
    if key == "device":
        if not isinstance(value, str) or not _DEVICE.fullmatch(value):
            raise InputError(f"{where}: {value!r} is not a device; fix: one of auto, cpu, cuda, cuda:N")
        return value
    raise AssertionError(key)  # unreachable: keys are checked against _KEYS first
