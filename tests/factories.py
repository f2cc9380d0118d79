"""Hand-made records, so verdict tests state their answer in advance."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from harness.results.schema import RunRecord

ENV: dict[str, Any] = {
    "harness_version": "0.1.0",
    "git_commit": "abc123",
    "python_version": "3.11.7",
    "torch_version": "2.13.0+cpu",
    "chronos_version": "2.3.2",
    "transformers_version": "5.24.0",
    "numpy_version": "2.4.6",
    "platform": "Linux",
    "device_type": "cpu",
    "device_name": "Test CPU",
    "cpu_model": "Test CPU",
    "cpu_count": 2,
    "torch_threads": 2,
    "cuda_version": "",
    "cuda_driver": "",
    "cpu_flags": "avx,avx2,fma",
}


def make_record(
    mode: str = "eager", *, latencies: list[float] | None = None, mae: float | None = 10.0, **overrides: Any
) -> RunRecord:
    """A passing run of ``mode`` with the given latencies and MAE; any field can be overridden."""
    lat = [0.10, 0.11, 0.10, 0.12, 0.10] if latencies is None else latencies
    compiled = mode == "compiled"
    values: dict[str, Any] = {
        "run_id": f"run-{mode}",
        "timestamp_utc": "2026-11-25T12:00:00+00:00",
        "symbol": "BTCUSD",
        "data_file": "trainingdata/BTCUSD.csv",
        "data_sha256": "f" * 64,
        "rows_used": 156,
        "mode": mode,
        "compile_mode": "default" if compiled else "",
        "compile_backend": "inductor" if compiled else "",
        "compile_dynamic": "auto" if compiled else "",
        "compile_cache": "cold" if compiled else "",
        "attn_implementation": "eager",
        "dtype": "float32",
        "model_id": "tiny",
        "model_trained": False,
        "model_parameters": 165216,
        "weights_sha256": "0" * 64,
        "prediction_length": 7,
        "context_length": 128,
        "batch_size": 256,
        "n_predictions": len(lat) if lat else 5,
        "status": "pass",
        "error_type": "",
        "error_message": "",
        "n_success": len(lat),
        "success_rate": 1.0 if lat else 0.0,
        "load_s": 0.5,
        "first_call_s": 30.0 if compiled else 0.2,
        "compile_s": 29.9 if compiled else None,
        "latencies_s": lat,
        "latency_median_s": sorted(lat)[len(lat) // 2] if lat else None,
        "forecast_close": [100.0] * 7,
        "truth_close": [101.0] * 7,
        "mae": mae,
        "mae_pct": None if mae is None else mae / 101.0 * 100,
        "naive_mae_pct": 1.0,
        # compiled: its drift from eager, judged against eager's own float32 error (the runner always records both)
        "drift_max_abs": 0.0 if compiled else None,
        "drift_tolerance_abs": 0.01 if compiled else None,
        **ENV,
    }
    values.update(overrides)
    return RunRecord(**values)


def replace(record: RunRecord, **changes: Any) -> RunRecord:
    return dataclasses.replace(record, **changes)


def record_baselines(results_dir: Path, baselines_dir: Path) -> None:
    """``update-baselines`` from ``results_dir`` into ``baselines_dir``, as a test's setup (it must succeed)."""
    from harness.cli.main import main

    command = [
        "-q",
        "update-baselines",
        "--reason",
        "test setup",
        "--results-dir",
        str(results_dir),
        "--baselines-dir",
        str(baselines_dir),
    ]
    assert main(command) == 0


def real_session(symbol: str = "BTCUSD") -> tuple[RunRecord, RunRecord]:
    """A real eager and compiled run of one bench session (calibration-data/test, a 2-core AMD EPYC, 2026-11-26):
    the rows the reviews rewrote, so a test starts from what the harness really writes."""
    from harness.results.store import read_file

    rows = read_file(Path(__file__).resolve().parents[1] / "calibration-data" / "test" / "2026-11-26-sessions.parquet")
    eager = next(r for r in rows if r.symbol == symbol and r.mode == "eager")
    compiled = next(r for r in rows if r.symbol == symbol and r.mode == "compiled" and r.timestamp_utc >= eager.timestamp_utc)
    return eager, compiled


def real_sessions(count: int, symbol: str = "BTCUSD", torch: str = "2.13.0+cpu") -> list[tuple[RunRecord, RunRecord]]:
    """``count`` real sessions of ``symbol`` with ``torch`` in the order benched (the machine and afternoon of
    :func:`real_session`; the batch alternated torch versions)."""
    from harness.results.store import read_file

    rows = read_file(Path(__file__).resolve().parents[1] / "calibration-data" / "test" / "2026-11-26-sessions.parquet")
    mine = sorted((r for r in rows if r.symbol == symbol and r.torch_version == torch), key=lambda r: r.timestamp_utc)
    eagers = [r for r in mine if r.mode == "eager"]
    out = []
    for eager in eagers[:count]:
        compiled = next(r for r in mine if r.mode == "compiled" and r.timestamp_utc >= eager.timestamp_utc)
        out.append((eager, compiled))
    return out
