"""Committed baselines: one human-readable JSON file per key under ``baselines/``. Never imports torch.

Format 3 records the key in its three parts (``what``, ``where``, ``software``; see :mod:`harness.results.keys`) and eager's
interleaved partner median. Formats 1 and 2 still read: their where has no ISA flags ("not recorded"), so on any
machine they are checked by the portable gate until refreshed. Every value is validated on reading: a NaN, an inf, a
string where a number belongs or a key field of the wrong type is an :class:`InputError` naming the file and field.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
import os
import re
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from harness.base.errors import InputError
from harness.gate.baseline import Baseline, ModeBaseline, Tolerances
from harness.gate.checks import mode_baseline
from harness.gate.comparison import INTERLEAVED, SEPARATE, Comparison
from harness.results.keys import Key, Software, What, Where
from harness.results.store import new_temp_file, write_error

FORMAT_VERSION = 4
# 1: no flip rate, speedup across sessions; 2: one flat key; 3: what / where / software; 4: each mode's machine reference
READABLE_FORMATS = (1, 2, 3, 4)


def file_name(key: Key) -> str:
    """``<SYMBOL>__<model>__torch-<version>__<hash>.json``: readable, and unique per key."""
    digest = hashlib.sha256(json.dumps(key.as_dict(), sort_keys=True).encode()).hexdigest()[:10]
    model = re.sub(r"[^A-Za-z0-9._-]+", "-", key.model_id).strip("-")
    torch_version = re.sub(r"[^A-Za-z0-9._-]+", "-", key.torch_version)
    return f"{key.symbol}__{model}__torch-{torch_version}__{digest}.json"


def load_baselines(directory: Path) -> dict[Key, tuple[Baseline, Path]]:
    if not directory.is_dir():
        raise InputError(f"{directory}: no baselines directory; fix: run `nox -s update_baselines` after a bench to create it")
    found: dict[Key, tuple[Baseline, Path]] = {}
    for path in sorted(directory.glob("*.json")):
        baseline = read_baseline(path)
        if baseline.key in found:
            raise InputError(f"{path}: same key as {found[baseline.key][1]}; fix: delete one of the two files")
        found[baseline.key] = (baseline, path)
    return found


def _shown(value: object, limit: int = 60) -> str:
    """A value for a one-line message: repr (so control characters are escaped), shortened."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Invalid(Exception):
    """A field with a bad value: (dotted field name, what is wrong)."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name
        self.problem = problem


def _text(data: dict[str, Any], name: str, where: str) -> str:
    if name not in data:
        raise _Invalid(f"{where}.{name}", "missing")
    value = data[name]
    if not isinstance(value, str):
        raise _Invalid(f"{where}.{name}", f"{_shown(value)} is a {type(value).__name__}, expected a string")
    return value


def _integer(data: dict[str, Any], name: str, where: str) -> int:
    if name not in data:
        raise _Invalid(f"{where}.{name}", "missing")
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"{where}.{name}", f"{_shown(value)} is a {type(value).__name__}, expected an integer")
    return value


def _number(
    data: dict[str, Any],
    name: str,
    where: str,
    *,
    optional: bool,
    low: float | None = None,
    high: float | None = None,
    default: float | None = None,
    required: bool = False,
) -> float | None:
    if name not in data:
        if required:
            raise _Invalid(f"{where}.{name}", "missing")
        return default
    value = data[name]
    if value is None:
        if optional:
            return None
        raise _Invalid(f"{where}.{name}", "null, expected a number")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Invalid(f"{where}.{name}", f"{_shown(value)} is a {type(value).__name__}, expected a number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise _Invalid(f"{where}.{name}", f"{_shown(value)} is not a finite number")
    if (low is not None and number < low) or (high is not None and number > high):
        raise _Invalid(f"{where}.{name}", f"{_shown(value)} is outside [{low}, {high}]")
    return number


def _known(data: object, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _Invalid(where, f"{_shown(data)} is not an object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        name = unknown[0] if unknown[0].isprintable() and len(unknown[0]) <= 60 else _shown(unknown[0])
        raise _Invalid(f"{where}.{name}", f"unknown field (known: {', '.join(sorted(allowed))})")
    return data


def _positive(values: dict[str, Any], name: str, where: str, *, required: bool = True) -> float | None:
    """A number a check divides by or compares against: zero or null would switch the check off, so neither is read."""
    number = _number(values, name, where, optional=not required, low=0.0, required=required)
    if number is not None and not number > 0:
        raise _Invalid(f"{where}.{name}", f"{_shown(values[name])} would switch its check off, expected a number above 0")
    return number


def _mode(data: object, where: str) -> ModeBaseline:
    values = _known(data, {f.name for f in fields(ModeBaseline)}, where)
    success = _number(values, "success_rate", where, optional=False, low=0.0, high=1.0, required=True) or 0.0
    if not success > 0:
        raise _Invalid(f"{where}.success_rate", "0 would pass any run, even one that always fails; expected above 0")
    return ModeBaseline(
        success_rate=success,
        latency_median_s=_positive(values, "latency_median_s", where),
        mae=_positive(values, "mae", where),
        mae_pct=_positive(values, "mae_pct", where),
        flip_rate=_number(values, "flip_rate", where, optional=False, low=0.0, high=1.0, default=0.0) or 0.0,
        partner_latency_median_s=_positive(values, "partner_latency_median_s", where, required=False),
        reference_median_s=_positive(values, "reference_median_s", where, required=False),
        latency_p90_s=_positive(values, "latency_p90_s", where, required=False),
        compile_s=_positive(values, "compile_s", where, required=False),
        recompiles=_number(values, "recompiles", where, optional=True, low=0.0),
    )


TOLERANCE_RANGES = {  # a tolerance outside its range would let any regression pass (docs/gate.md: baseline files)
    "speedup_rel": (0.0, 0.5),
    "latency_rel": (0.0, 1.0),
    "mae_rel": (0.0, 0.1),
    "success_rate_abs": (0.0, 0.5),
    "p90_rel": (0.0, 1.0),
    "compile_rel": (0.0, 2.0),
}


def _tolerances(data: object) -> Tolerances:
    values = _known(data, {f.name for f in fields(Tolerances)}, "tolerances")
    defaults = Tolerances()
    chosen: dict[str, Any] = {}
    for f in fields(Tolerances):
        low, high = TOLERANCE_RANGES[f.name]
        chosen[f.name] = _number(
            values, f.name, "tolerances", optional=False, low=low, high=high, default=getattr(defaults, f.name)
        )
    return Tolerances(**chosen)


def _what(data: object) -> What:
    values = _known(data, {f.name for f in fields(What)}, "what")
    ints = ("context_length", "batch_size", "prediction_length")
    chosen: dict[str, Any] = {
        f.name: _integer(values, f.name, "what") if f.name in ints else _text(values, f.name, "what") for f in fields(What)
    }
    return What(**chosen)


def _where(data: object) -> Where:
    values = _known(data, {f.name for f in fields(Where)}, "where")
    ints = ("cpu_count", "torch_threads")
    chosen: dict[str, Any] = {
        f.name: _integer(values, f.name, "where") if f.name in ints else _text(values, f.name, "where") for f in fields(Where)
    }
    return Where(**chosen)


def _software(data: object) -> Software:
    values = _known(data, {f.name for f in fields(Software)}, "software")
    return Software(**{f.name: _text(values, f.name, "software") for f in fields(Software)})


def _key_before_format_3(data: object, recorded: dict[str, Any]) -> Key:
    """A format-1/2 flat key (symbol, model_id, torch_version, device "cpu:NAME xN", ...) and its provenance fingerprint."""
    names = (
        "symbol",
        "model_id",
        "torch_version",
        "device",
        "context_length",
        "batch_size",
        "prediction_length",
        "data_sha256",
        "compile_config",
    )
    values = _known(data, set(names), "key")
    for name in names:
        if name not in values:
            raise _Invalid(f"key.{name}", "missing")
    device = _text(values, "device", "key")
    device_type, _, rest = device.partition(":")
    name, _, threads = rest.rpartition(" x")
    if not device_type or not name or not threads.isdigit():
        raise _Invalid("key.device", f"{_shown(device)} is not TYPE:NAME xTHREADS")
    what = What(
        symbol=_text(values, "symbol", "key"),
        model_id=_text(values, "model_id", "key"),
        weights_sha256=str(recorded.get("weights_sha256", "")),
        context_length=_integer(values, "context_length", "key"),
        batch_size=_integer(values, "batch_size", "key"),
        prediction_length=_integer(values, "prediction_length", "key"),
        data_sha256=_text(values, "data_sha256", "key"),
        compile_config=_text(values, "compile_config", "key"),
    )
    on_cuda = device_type == "cuda"
    cpu_count = recorded.get("cpu_count", 0)
    where = Where(
        device_type=device_type,
        device_name=name,
        cpu_model=str(recorded.get("cpu_model", name if not on_cuda else "")),
        cpu_flags="",  # not recorded before format 3
        cpu_count=cpu_count if isinstance(cpu_count, int) else 0,
        torch_threads=int(threads),
        cuda_version=str(recorded.get("cuda_version", "")) if on_cuda else "",
        cuda_driver=str(recorded.get("cuda_driver", "")) if on_cuda else "",
    )
    software = Software(
        torch=_text(values, "torch_version", "key"),
        chronos=str(recorded.get("chronos_version", "")),
        transformers=str(recorded.get("transformers_version", "")),
        python=str(recorded.get("python_version", "")),
        numpy=str(recorded.get("numpy_version", "")),
        harness=str(recorded.get("harness_version", "")),
    )
    return Key(what=what, where=where, software=software)


MAX_BASELINE_BYTES = 1_000_000  # a baseline is a few kB: anything larger is not one (a link to /dev/zero, say)


def _check_regular(path: Path, fix: str) -> None:
    """Read only a regular file of a baseline's size: a FIFO would block the read forever, a device never end."""
    if not path.is_file():
        kind = "a directory" if path.is_dir() else "not a regular file (a FIFO, a device or a broken link)"
        raise InputError(f"{path}: {kind}, not a baseline; fix: move it out of the baselines directory")
    if path.stat().st_size > MAX_BASELINE_BYTES:
        raise InputError(f"{path}: {path.stat().st_size} bytes, over {MAX_BASELINE_BYTES} for a baseline; {fix}")


def read_baseline(path: Path) -> Baseline:
    fix = f"fix: restore it with `git checkout -- {path}` or refresh it with `nox -s update_baselines`"
    _check_regular(path, fix)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else " ".join(str(exc).split())
        raise InputError(f"{path}: not a readable baseline ({reason}); {fix}") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a baseline (a JSON {type(data).__name__}, expected an object); {fix}")
    version = data.get("format_version")
    if isinstance(version, bool) or version not in READABLE_FORMATS:
        raise InputError(f"{path}: field format_version is {_shown(version)}, expected one of {READABLE_FORMATS}; {fix}")
    try:
        provenance = data.get("provenance", {})
        if not isinstance(provenance, dict):
            raise _Invalid("provenance", f"{_shown(provenance)} is not an object")
        if version >= 3:
            for part in ("what", "where", "software"):
                if part not in data:
                    raise _Invalid(part, "missing")
            key = Key(what=_what(data["what"]), where=_where(data["where"]), software=_software(data["software"]))
        else:
            if "key" not in data:
                raise _Invalid("key", "missing")
            recorded = provenance.get("fingerprint", {})
            key = _key_before_format_3(data["key"], recorded if isinstance(recorded, dict) else {})
        for part in ("eager", "compiled"):
            if part not in data:
                raise _Invalid(part, "missing")
        method = data.get("speedup_method", SEPARATE)
        if method not in (SEPARATE, INTERLEAVED):
            raise _Invalid("speedup_method", f"{_shown(method)} is not {str(SEPARATE)!r} or {str(INTERLEAVED)!r}")
        return Baseline(
            key=key,
            eager=_mode(data["eager"], "eager"),
            compiled=_mode(data["compiled"], "compiled"),
            speedup=_positive(data, "speedup", ""),
            mae_diff_pct=_number(data, "mae_diff_pct", "", optional=True, required=True),
            tolerances=_tolerances(data.get("tolerances", {})),
            provenance=dict(provenance),
            speedup_method=method,
        )
    except _Invalid as exc:
        raise InputError(f"{path}: field {exc.name.lstrip('.')} {exc.problem}; {fix}") from exc


def baseline_from(comparison: Comparison, *, tolerances: Tolerances, provenance: dict[str, Any]) -> Baseline:
    partner = comparison.compiled.partner_latency_median_s if comparison.compiled else None
    return Baseline(
        key=comparison.key,
        eager=mode_baseline(comparison.eager, partner=partner),
        compiled=mode_baseline(comparison.compiled, compiled=True),
        speedup=comparison.speedup,
        mae_diff_pct=comparison.mae_diff_pct,
        tolerances=tolerances,
        provenance=provenance,
        speedup_method=comparison.speedup_method,
    )


def render(baseline: Baseline) -> str:
    body = {
        "format_version": FORMAT_VERSION,
        **baseline.key.as_dict(),
        "speedup": _round(baseline.speedup),
        "speedup_method": baseline.speedup_method,
        "mae_diff_pct": _round(baseline.mae_diff_pct),
        "eager": _mode_dict(baseline.eager, skip=_COMPILED_ONLY),
        "compiled": _mode_dict(baseline.compiled, skip={"partner_latency_median_s"}),
        "tolerances": dataclasses.asdict(baseline.tolerances),
        "provenance": baseline.provenance,
    }
    return json.dumps(body, indent=2) + "\n"


_COMPILED_ONLY = {"latency_p90_s", "compile_s", "recompiles"}
_OPTIONAL = {"reference_median_s", *_COMPILED_ONLY}  # written only when recorded


def _mode_dict(mode: ModeBaseline, *, skip: set[str]) -> dict[str, Any]:
    return {
        k: _round(v, 10 if k.startswith("mae") else 6)
        for k, v in asdict(mode).items()
        if k not in skip and not (k in _OPTIONAL and v is None)
    }


def _round(value: Any, digits: int = 6) -> Any:
    """Six significant digits keep the files readable; MAE keeps ten, since it is deterministic to about 1e-7."""
    return float(f"{value:.{digits}g}") if isinstance(value, float) else value


def write_baseline(directory: Path, baseline: Baseline, *, replace: Path | None = None) -> tuple[Path, str]:
    """Write atomically; returns the path and a unified diff against what was there."""
    directory.mkdir(parents=True, exist_ok=True)
    target = replace or directory / file_name(baseline.key)
    before = target.read_text(encoding="utf-8") if target.is_file() else ""
    text = render(baseline)
    handle, tmp = new_temp_file(directory, prefix=".baseline.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        read_baseline(Path(tmp))  # what compare could not read is never written: it would switch a check off
    except InputError as exc:
        Path(tmp).unlink(missing_ok=True)
        problem = str(exc).split(": ", 1)[1].split("; fix:")[0]
        raise InputError(
            f"{target}: not written: {problem}; fix: bench until both modes succeed (a baseline must keep every check on)"
        ) from None
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise write_error(target, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    os.replace(tmp, target)
    diff = "".join(difflib.unified_diff(before.splitlines(True), text.splitlines(True), f"a/{target.name}", f"b/{target.name}"))
    return target, diff


def file_to_replace(key: Key, existing: dict[Key, tuple[Baseline, Path]]) -> tuple[Baseline, Path] | None:
    """The file a refresh of ``key`` replaces: the same key's, or a format-1/2 file of the same what, software and
    machine (its ISA flags not recorded)."""
    if key in existing:
        return existing[key]
    for baseline, path in existing.values():
        theirs = baseline.key
        if (
            not theirs.where.cpu_flags
            and theirs.what == key.what
            and theirs.software.matches(key.software)
            and dataclasses.replace(theirs.where, cpu_flags=key.where.cpu_flags) == key.where
        ):
            return baseline, path
    return None
