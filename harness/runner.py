"""Run one mode (eager or compiled) on one symbol: load, first call, N timed predictions, score.

An exception while compiling or predicting is data: it ends up in the run's record with its type and message,
and the harness carries on. Only a model that cannot be loaded at all is a user error.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Literal

import numpy as np

from harness.data import OHLC, BenchWindow, OhlcSeries
from harness.env import fingerprint
from harness.models import ModelSource, load_pipeline, parameter_count
from harness.params import BenchParams
from harness.results import RunRecord

if TYPE_CHECKING:
    from chronos.chronos2 import Chronos2Pipeline

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class CompileSettings:
    """How compiled mode calls ``torch.compile`` on ``pipeline.model``."""

    mode: str = "default"
    backend: str = "inductor"
    dynamic: bool | None = None  # None: torch's default (static first, dynamic after a shape change)
    attn_implementation: str = "eager"  # attention the compiled model is loaded with ("eager" or "sdpa")
    cache: str = "cold"  # "cold": a fresh TORCHINDUCTOR_CACHE_DIR per run; else the cache dir to reuse

    @property
    def dynamic_label(self) -> str:
        return "auto" if self.dynamic is None else str(self.dynamic).lower()


@dataclass(frozen=True, kw_only=True)
class RunSpec:
    """Everything one run needs."""

    mode: Literal["eager", "compiled"]
    series: OhlcSeries
    window: BenchWindow
    params: BenchParams
    source: ModelSource
    runs: int = 5
    compile: CompileSettings = CompileSettings()
    run_id: str = ""
    inject_failure: bool = False  # self-test of the gate: every prediction raises InjectedFailure


class InjectedFailure(RuntimeError):
    """Raised on purpose by ``--inject-failure`` so that the gate can be seen to fail."""


class ForecastError(RuntimeError):
    """A forecast came back unusable (wrong shape or non-finite values)."""


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


def predict_close(pipeline: Chronos2Pipeline, window: BenchWindow, params: BenchParams) -> np.ndarray:
    """One joint OHLC forecast; returns the median forecast of the close, one value per step."""
    frame = pipeline.predict_df(
        window.context,
        target=list(OHLC),
        prediction_length=params.prediction_length,
        quantile_levels=list(params.quantile_levels),
        batch_size=params.batch_size,
        context_length=params.context_length,
        cross_learning=False,
        freq=window.freq,  # the window is regular by construction: no per-call frequency inference
    )
    close: np.ndarray = frame.loc[frame["target_name"] == "close", "0.5"].to_numpy(dtype=np.float64)
    if close.shape != (params.prediction_length,):
        raise ForecastError(f"expected {params.prediction_length} close forecasts, got shape {close.shape}")
    if not np.all(np.isfinite(close)):
        raise ForecastError(f"non-finite median forecast: {close.tolist()}")
    return close


def _synchronize(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def _timed(pipeline: Chronos2Pipeline, spec: RunSpec, device: str) -> tuple[np.ndarray, float]:
    if spec.inject_failure:
        raise InjectedFailure(f"planted by --inject-failure in {spec.mode} mode")
    _synchronize(device)
    start = time.perf_counter()
    forecast = predict_close(pipeline, spec.window, spec.params)
    _synchronize(device)
    return forecast, time.perf_counter() - start


def run(spec: RunSpec) -> RunRecord:
    """Measure one mode. Raises :class:`~harness.errors.InputError` only if the model cannot be loaded."""
    device = resolve_device(spec.params.device)
    attn = "eager" if spec.mode == "eager" else spec.compile.attn_implementation
    start = time.perf_counter()
    pipeline = load_pipeline(spec.source, attn_implementation=attn, device=device)
    load_s = time.perf_counter() - start

    caches = _inductor_cache(spec.compile.cache) if spec.mode == "compiled" else contextlib.nullcontext()
    with caches:
        return _measure(spec, pipeline, device=device, load_s=load_s)


@contextlib.contextmanager
def _inductor_cache(cache: str) -> Iterator[None]:
    """Point inductor's caches at a fresh directory (cold compile, the default) or at ``cache``."""
    previous = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    fresh = tempfile.mkdtemp(prefix="harness-inductor-") if cache == "cold" else None
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = fresh or cache
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TORCHINDUCTOR_CACHE_DIR", None)
        else:
            os.environ["TORCHINDUCTOR_CACHE_DIR"] = previous
        if fresh:
            shutil.rmtree(fresh, ignore_errors=True)


def _measure(spec: RunSpec, pipeline: Chronos2Pipeline, *, device: str, load_s: float) -> RunRecord:
    import torch

    latencies: list[float] = []
    first_call_s: float | None = None
    forecast: np.ndarray | None = None
    errors: list[BaseException] = []
    try:
        if spec.mode == "compiled":
            torch._dynamo.reset()
            pipeline.model = torch.compile(
                pipeline.model, mode=spec.compile.mode, backend=spec.compile.backend, dynamic=spec.compile.dynamic
            )
        log.info("%s %s: first call%s", spec.window.symbol, spec.mode, " (compiles)" if spec.mode == "compiled" else "")
        forecast, first_call_s = _timed(pipeline, spec, device)
    except Exception as exc:  # a failing compile or model is a result, not a crash
        log.warning("%s %s: first call failed: %s: %s", spec.window.symbol, spec.mode, type(exc).__name__, exc)
        errors.append(exc)
    if first_call_s is not None:
        for index in range(spec.runs):
            try:
                forecast_i, seconds = _timed(pipeline, spec, device)
            except Exception as exc:
                log.warning("%s %s: prediction %d failed: %s", spec.window.symbol, spec.mode, index + 1, exc)
                errors.append(exc)
                continue
            latencies.append(seconds)
            forecast = forecast_i
            log.info("%s %s: prediction %d/%d %.4f s", spec.window.symbol, spec.mode, index + 1, spec.runs, seconds)

    return _record(spec, device=device, pipeline=pipeline, load_s=load_s, first_call_s=first_call_s, latencies=latencies, forecast=forecast, errors=errors)


def _record(
    spec: RunSpec,
    *,
    device: str,
    pipeline: Chronos2Pipeline,
    load_s: float,
    first_call_s: float | None,
    latencies: list[float],
    forecast: np.ndarray | None,
    errors: list[BaseException],
) -> RunRecord:
    truth = spec.window.truth_close
    median = statistics.median(latencies) if latencies else None
    compiled = spec.mode == "compiled"
    mae = float(np.mean(np.abs(forecast - truth))) if forecast is not None and latencies else None
    scale = float(np.mean(np.abs(truth)))
    last_close = float(spec.window.context["close"].iloc[-1])
    naive_mae = float(np.mean(np.abs(last_close - truth)))
    first = errors[0] if errors else None
    env = fingerprint(device)
    return RunRecord(
        run_id=spec.run_id or new_run_id(),
        timestamp_utc=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        symbol=spec.window.symbol,
        data_file=str(spec.series.path),
        data_sha256=spec.series.sha256,
        rows_used=spec.window.rows_used,
        mode=spec.mode,
        compile_mode=spec.compile.mode if compiled else "",
        compile_backend=spec.compile.backend if compiled else "",
        compile_dynamic=spec.compile.dynamic_label if compiled else "",
        compile_cache=spec.compile.cache if compiled else "",
        attn_implementation="eager" if not compiled else spec.compile.attn_implementation,
        dtype="float32",
        model_id=spec.source.model_id,
        model_trained=spec.source.trained,
        model_parameters=parameter_count(pipeline),
        weights_sha256=spec.source.weights_sha256,
        prediction_length=spec.params.prediction_length,
        context_length=spec.params.context_length,
        batch_size=spec.params.batch_size,
        n_predictions=spec.runs,
        status="pass" if not errors else "fail_exception",
        error_type=type(first).__name__ if first else "",
        error_message=" ".join(str(first).split())[:1000] if first else "",
        n_success=len(latencies),
        success_rate=len(latencies) / spec.runs if spec.runs else 0.0,
        load_s=load_s,
        first_call_s=first_call_s,
        compile_s=max(first_call_s - median, 0.0) if compiled and first_call_s is not None and median is not None else None,
        latencies_s=latencies,
        latency_median_s=median,
        forecast_close=forecast.tolist() if forecast is not None and latencies else [],
        truth_close=truth.tolist(),
        mae=mae,
        mae_pct=100.0 * mae / scale if mae is not None and scale > 0 and math.isfinite(mae) else None,
        naive_mae_pct=100.0 * naive_mae / scale if scale > 0 else None,
        **env.as_dict(),  # type: ignore[arg-type]
    )
