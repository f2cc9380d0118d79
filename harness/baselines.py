"""Committed baselines: one human-readable JSON file per key under ``baselines/``. Never imports torch."""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.compare import SEPARATE, Baseline, Comparison, Key, ModeBaseline, ModeSummary, Tolerances
from harness.errors import InputError

FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)  # format 1: no flip rate, speedup measured across sessions


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


def read_baseline(path: Path) -> Baseline:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable baseline ({exc}); fix: restore it with `git checkout -- {path}` or refresh it") from exc
    try:
        if data.get("format_version") not in READABLE_FORMATS:
            raise InputError(f"{path}: baseline format_version {data.get('format_version')!r}, expected one of {READABLE_FORMATS}; fix: refresh it with `nox -s update_baselines`")
        return Baseline(
            key=Key(**data["key"]),
            eager=ModeBaseline(**data["eager"]),
            compiled=ModeBaseline(**data["compiled"]),
            speedup=data["speedup"],
            mae_diff_pct=data["mae_diff_pct"],
            tolerances=Tolerances(**data.get("tolerances", {})),
            provenance=dict(data.get("provenance", {})),
            speedup_method=data.get("speedup_method", SEPARATE),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{path}: malformed baseline ({type(exc).__name__}: {exc}); fix: restore it with `git checkout -- {path}` or refresh it") from exc


def _mode_baseline(summary: ModeSummary | None) -> ModeBaseline:
    if summary is None:
        return ModeBaseline(success_rate=0.0, latency_median_s=None, mae=None, mae_pct=None)
    return ModeBaseline(
        success_rate=summary.success_rate,
        latency_median_s=summary.latency_median_s,
        mae=summary.mae,
        mae_pct=summary.mae_pct,
        flip_rate=summary.flip_rate,
    )


def baseline_from(comparison: Comparison, *, tolerances: Tolerances, provenance: dict[str, Any]) -> Baseline:
    return Baseline(
        key=comparison.key,
        eager=_mode_baseline(comparison.eager),
        compiled=_mode_baseline(comparison.compiled),
        speedup=comparison.speedup,
        mae_diff_pct=comparison.mae_diff_pct,
        tolerances=tolerances,
        provenance=provenance,
        speedup_method=comparison.speedup_method,
    )


def render(baseline: Baseline) -> str:
    body = {
        "format_version": FORMAT_VERSION,
        "key": baseline.key.as_dict(),
        "speedup": _round(baseline.speedup),
        "speedup_method": baseline.speedup_method,
        "mae_diff_pct": _round(baseline.mae_diff_pct),
        "eager": {k: _round(v) for k, v in asdict(baseline.eager).items()},
        "compiled": {k: _round(v) for k, v in asdict(baseline.compiled).items()},
        "tolerances": dataclasses.asdict(baseline.tolerances),
        "provenance": baseline.provenance,
    }
    return json.dumps(body, indent=2) + "\n"


def _round(value: Any) -> Any:
    return float(f"{value:.6g}") if isinstance(value, float) else value


def write_baseline(directory: Path, baseline: Baseline, *, replace: Path | None = None) -> tuple[Path, str]:
    """Write atomically; returns the path and a unified diff against what was there."""
    directory.mkdir(parents=True, exist_ok=True)
    target = replace or directory / file_name(baseline.key)
    before = target.read_text(encoding="utf-8") if target.is_file() else ""
    text = render(baseline)
    handle, tmp = tempfile.mkstemp(prefix=".baseline.", suffix=".tmp", dir=directory)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, target)
    diff = "".join(difflib.unified_diff(before.splitlines(True), text.splitlines(True), f"a/{target.name}", f"b/{target.name}"))
    return target, diff
