"""Run one mode (eager or compiled) on one symbol: load, first call, N timed predictions, score.

An exception while compiling or predicting is data: it ends up in the run's record with its type and message,
and the harness carries on. Only a model that cannot be loaded at all is a user error.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from harness.data import OHLC, BenchWindow, OhlcSeries
from harness.env import fingerprint
from harness.models import ModelSource, load_pipeline, parameter_count
from harness.params import BenchParams
from harness.results import RunRecord

if TYPE_CHECKING:
    from chronos.chronos2 import Chronos2Pipeline

log = logging.getLogger(__name__)

DEFAULT_RUNS = 20  # timed predictions per mode: the fewest that met the gate's targets in `harness calibrate` (README)
DEFAULT_CONFIRM = (2, 3)  # a failing call is tried up to 3 times; 2 failures confirm it, else it is flaky
DRIFT_FACTOR = 4.0  # compiled may drift from eager by this many times eager's own float32 rounding error
_REF_SIZE, _REF_STEPS = 128, 40  # machine reference workload


@dataclass(frozen=True, kw_only=True)
class CompileSettings:
    """How compiled mode calls ``torch.compile`` on ``pipeline.model``."""

    mode: str = "default"
    backend: str | Callable[..., Any] = "inductor"  # a name from torch._dynamo.list_backends(), or a backend callable
    dynamic: bool | None = None  # None: torch's default (static first, dynamic after a shape change)
    attn_implementation: str = "eager"  # attention the compiled model is loaded with ("eager" or "sdpa")
    cache: str = "cold"  # "cold": a fresh TORCHINDUCTOR_CACHE_DIR per run; else the cache dir to reuse

    @property
    def backend_label(self) -> str:
        return self.backend if isinstance(self.backend, str) else getattr(self.backend, "__name__", "custom")

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
    runs: int = DEFAULT_RUNS
    compile: CompileSettings = CompileSettings()
    run_id: str = ""
    inject_failure: float = 0.0  # self-test of the gate: each call attempt raises InjectedFailure with this probability
    confirm: tuple[int, int] = DEFAULT_CONFIRM  # (k, n): a failing call is tried up to n times; k failures confirm it


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


def predict(pipeline: Chronos2Pipeline, window: BenchWindow, params: BenchParams) -> np.ndarray:
    """One joint OHLC forecast: every requested quantile, shape (4 targets in OHLC order, horizon, quantiles)."""
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
    columns = [str(level) for level in params.quantile_levels]
    out = np.stack([frame.loc[frame["target_name"] == name, columns].to_numpy(dtype=np.float64) for name in OHLC])
    expected = (len(OHLC), params.prediction_length, len(columns))
    if out.shape != expected:
        raise ForecastError(f"expected forecasts of shape {expected} (targets, steps, quantiles), got {out.shape}")
    if not np.all(np.isfinite(out)):
        raise ForecastError(f"non-finite forecast values: {int(np.sum(~np.isfinite(out)))} of {out.size}")
    return out


def median_close(quantiles: np.ndarray, params: BenchParams) -> np.ndarray:
    """The scored series: the median forecast of the close, one value per step."""
    return quantiles[OHLC.index("close"), :, params.quantile_levels.index(0.5)]


def predict_close(pipeline: Chronos2Pipeline, window: BenchWindow, params: BenchParams) -> np.ndarray:
    return median_close(predict(pipeline, window, params), params)


def machine_reference() -> float:
    """Seconds for a fixed small CPU workload (matmuls and tanh): how fast this host is right now.

    Timed next to every prediction, so that a slow moment of a shared machine shows up in the record instead
    of passing for a regression. Same work on every machine and torch version; a few milliseconds here.
    """
    import torch

    generator = torch.Generator().manual_seed(0)
    matrix = torch.randn(_REF_SIZE, _REF_SIZE, generator=generator) / math.sqrt(_REF_SIZE)
    start = time.perf_counter()
    x = matrix
    for _ in range(_REF_STEPS):
        x = torch.tanh(x @ matrix)
    return time.perf_counter() - start


def _synchronize(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


@dataclass(frozen=True)
class Call:
    """One prediction, after confirmation: passed (``seconds`` set) or a confirmed failure (``error`` set)."""

    seconds: float | None
    forecast: np.ndarray | None
    error: BaseException | None  # the first error seen, also for a call that passed on re-run
    flipped: bool  # its attempts disagreed: failed, then passed (or the reverse)

    @property
    def ok(self) -> bool:
        return self.seconds is not None


class _Caller:
    """Times predictions; a failing one is re-run to confirm (k failures of up to n attempts)."""

    def __init__(self, pipeline: Chronos2Pipeline, spec: RunSpec, device: str) -> None:
        self.pipeline, self.spec, self.device = pipeline, spec, device
        self.injector = random.Random(0)  # planted failures: reproducible pattern

    def _attempt(self) -> tuple[float, np.ndarray] | BaseException:
        try:
            if self.spec.inject_failure and self.injector.random() < self.spec.inject_failure:
                raise InjectedFailure(f"planted by --inject-failure in {self.spec.mode} mode")
            _synchronize(self.device)
            start = time.perf_counter()
            forecast = predict(self.pipeline, self.spec.window, self.spec.params)
            _synchronize(self.device)
            return time.perf_counter() - start, forecast
        except Exception as exc:  # a failing compile or model is a result, not a crash
            return exc

    def __call__(self, module: object, what: str) -> Call:
        self.pipeline.model = module
        k, n = self.spec.confirm
        outcomes = [self._attempt()]
        if not isinstance(outcomes[0], BaseException):
            return Call(seconds=outcomes[0][0], forecast=outcomes[0][1], error=None, flipped=False)
        log.warning("%s: %s: %s; re-running to confirm (%d of %d)", what, type(outcomes[0]).__name__, outcomes[0], k, n)
        while len(outcomes) < n:
            failures = sum(isinstance(o, BaseException) for o in outcomes)
            if failures >= k or failures + (n - len(outcomes)) < k:  # decided either way
                break
            outcomes.append(self._attempt())
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        passes = [o for o in outcomes if not isinstance(o, BaseException)]
        if len(errors) >= k:
            return Call(seconds=None, forecast=None, error=errors[0], flipped=bool(passes))
        log.warning("%s: flaky: failed %d of %d attempts", what, len(errors), len(outcomes))
        return Call(seconds=passes[-1][0], forecast=passes[-1][1], error=errors[0], flipped=True)


def run(spec: RunSpec) -> RunRecord:
    """Measure one mode. Raises :class:`~harness.errors.InputError` only if the model cannot be loaded."""
    device = resolve_device(spec.params.device)
    attn = "eager" if spec.mode == "eager" else spec.compile.attn_implementation
    start = time.perf_counter()
    pipeline = load_pipeline(spec.source, attn_implementation=attn, device=device)
    load_s = time.perf_counter() - start

    caches = _inductor_cache(spec.compile.cache) if spec.mode == "compiled" else contextlib.nullcontext()
    with caches:
        measured = _measure(spec, pipeline, device=device)
    return _record(spec, measured, device=device, pipeline=pipeline, load_s=load_s)


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


@dataclass
class Measured:
    """What :func:`_measure` saw; turned into a :class:`RunRecord` by :func:`_record`."""

    first: Call | None = None  # the first call of the measured mode (compiles, in compiled mode)
    calls: list[Call] = field(default_factory=list)  # the timed calls of the measured mode
    paired: list[Call] = field(default_factory=list)  # compiled mode: the uncompiled model, interleaved with ``calls``
    reference_s: list[float] = field(default_factory=list)  # machine reference, once per timed call
    eager_forecast: np.ndarray | None = None  # eager (or the uncompiled reference): the first forecast
    float64_forecast: np.ndarray | None = None  # the same model in float64: eager's own rounding error
    setup_error: BaseException | None = None  # compiling or the eager reference failed before any timed call

    def errors(self) -> list[BaseException]:
        calls = [self.first, *self.calls] if self.first else self.calls
        found = [c.error for c in calls if c.error is not None and not c.ok]
        return [self.setup_error, *found] if self.setup_error else found


def _float64_forecast(pipeline: Chronos2Pipeline, spec: RunSpec) -> np.ndarray | None:
    """Eager's forecast in float64: the distance to float32 is eager's own numerical noise, the drift yardstick."""
    model = pipeline.model
    try:
        model.double()
        return predict(pipeline, spec.window, spec.params)
    except Exception as exc:  # an optional yardstick: without it drift is reported but not judged
        log.warning("%s: float64 reference failed: %s: %s", spec.window.symbol, type(exc).__name__, exc)
        return None
    finally:
        model.float()  # float32 -> float64 -> float32 is exact: the weights are unchanged


def _measure(spec: RunSpec, pipeline: Chronos2Pipeline, *, device: str) -> Measured:
    import torch

    out = Measured()
    call = _Caller(pipeline, spec, device)
    eager_module = pipeline.model
    symbol = spec.window.symbol
    if spec.mode == "eager":
        log.info("%s eager: first call", symbol)
        out.first = call(eager_module, f"{symbol} eager first call")
        if not out.first.ok:
            return out
        out.eager_forecast = out.first.forecast
        for index in range(spec.runs):
            out.reference_s.append(machine_reference())
            out.calls.append(call(eager_module, f"{symbol} eager prediction {index + 1}"))
            _log_call(symbol, "eager", index, spec.runs, out.calls[-1])
        out.float64_forecast = _float64_forecast(pipeline, spec)
        return out

    # compiled: the uncompiled model first (reference forecast, float64 yardstick), then compile, then interleave
    reference = call(eager_module, f"{symbol} eager reference")
    if not reference.ok:
        out.setup_error = reference.error
        return out
    out.eager_forecast = reference.forecast
    out.float64_forecast = _float64_forecast(pipeline, spec)
    try:
        torch._dynamo.reset()
        compiled_module = torch.compile(eager_module, mode=spec.compile.mode, backend=spec.compile.backend, dynamic=spec.compile.dynamic)
    except Exception as exc:
        out.setup_error = exc
        return out
    log.info("%s compiled: first call (compiles)", symbol)
    out.first = call(compiled_module, f"{symbol} compiled first call")
    if not out.first.ok:
        return out
    for index in range(spec.runs):  # ABBA order: neither mode always runs first
        out.reference_s.append(machine_reference())
        order = ("compiled", "eager") if index % 2 == 0 else ("eager", "compiled")
        for which in order:
            if which == "compiled":
                out.calls.append(call(compiled_module, f"{symbol} compiled prediction {index + 1}"))
            else:
                out.paired.append(call(eager_module, f"{symbol} eager reference {index + 1}"))
        _log_call(symbol, "compiled", index, spec.runs, out.calls[-1])
    pipeline.model = compiled_module
    return out


def _log_call(symbol: str, mode: str, index: int, runs: int, call: Call) -> None:
    if call.ok:
        log.info("%s %s: prediction %d/%d %.4f s", symbol, mode, index + 1, runs, call.seconds)
    else:
        log.warning("%s %s: prediction %d failed: %s", symbol, mode, index + 1, call.error)


def _max_abs(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    return None if a is None or b is None else float(np.max(np.abs(a - b)))


def _status(measured: Measured, *, drift: float | None, tolerance: float | None, repeat: float | None, yardstick: float | None) -> str:
    if measured.errors():
        return "fail_exception"
    if repeat is not None and yardstick is not None and repeat > yardstick:
        return "eager_nondeterministic"  # eager disagrees with itself by more than its own rounding error
    if drift is not None and tolerance is not None and drift > tolerance:
        return "fail_accuracy"
    return "pass"


def _record(spec: RunSpec, measured: Measured, *, device: str, pipeline: Chronos2Pipeline, load_s: float) -> RunRecord:
    compiled = spec.mode == "compiled"
    calls = measured.calls
    latencies = [c.seconds for c in calls if c.seconds is not None]
    # the uncompiled model's call next to each passing compiled call (NaN where it failed): aligned with `latencies`
    paired = [p.seconds if p.seconds is not None else math.nan for c, p in zip(calls, measured.paired, strict=False) if c.ok]
    median = statistics.median(latencies) if latencies else None
    first_call_s = measured.first.seconds if measured.first else None
    forecasts = [c.forecast for c in calls if c.forecast is not None]
    scored = median_close(forecasts[-1], spec.params) if forecasts else None

    # numerics: eager vs itself, eager vs float64, compiled vs eager (every quantile of every target)
    eager_runs = [c.forecast for c in (measured.paired if compiled else calls) if c.forecast is not None]
    repeat = max((_max_abs(f, measured.eager_forecast) or 0.0 for f in eager_runs), default=None) if measured.eager_forecast is not None else None
    yardstick = _max_abs(measured.eager_forecast, measured.float64_forecast)
    floor = noise_floor(yardstick, measured.eager_forecast)
    tolerance = drift_tolerance(yardstick, measured.eager_forecast) if compiled else None
    drift_by_q: list[float] = []
    drift: float | None = None
    if compiled and measured.eager_forecast is not None:
        compiled_forecasts = ([measured.first.forecast] if measured.first and measured.first.forecast is not None else []) + forecasts
        if compiled_forecasts:
            worst = np.max(np.stack([np.abs(f - measured.eager_forecast) for f in compiled_forecasts]), axis=0)  # (targets, steps, q)
            drift_by_q = [float(x) for x in worst.max(axis=(0, 1))]
            drift = float(worst.max())
    scale = float(np.max(np.abs(measured.eager_forecast))) if measured.eager_forecast is not None else 0.0

    truth = spec.window.truth_close
    mae = float(np.mean(np.abs(scored - truth))) if scored is not None else None
    truth_scale = float(np.mean(np.abs(truth)))
    last_close = float(spec.window.context["close"].iloc[-1])
    naive_mae = float(np.mean(np.abs(last_close - truth)))
    errors = measured.errors()
    flaky_errors = [c.error for c in [*calls, *measured.paired] if c.flipped and c.error is not None]
    first_error = errors[0] if errors else (flaky_errors[0] if flaky_errors else None)
    n_flaky = sum(c.flipped for c in calls) + sum(c.flipped for c in measured.paired)
    n_calls = len(calls) + len(measured.paired)
    env = fingerprint(device)
    k, n = spec.confirm
    return RunRecord(
        run_id=spec.run_id or new_run_id(),
        timestamp_utc=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        symbol=spec.window.symbol,
        data_file=str(spec.series.path),
        data_sha256=spec.series.sha256,
        rows_used=spec.window.rows_used,
        mode=spec.mode,
        compile_mode=spec.compile.mode if compiled else "",
        compile_backend=spec.compile.backend_label if compiled else "",
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
        status=_status(measured, drift=drift, tolerance=tolerance, repeat=repeat, yardstick=floor),
        error_type=type(first_error).__name__ if first_error else "",
        error_message=" ".join(str(first_error).split())[:1000] if first_error else "",
        n_success=len(latencies),
        success_rate=len(latencies) / spec.runs if spec.runs else 0.0,
        load_s=load_s,
        first_call_s=first_call_s,
        compile_s=max(first_call_s - median, 0.0) if compiled and first_call_s is not None and median is not None else None,
        latencies_s=latencies,
        latency_median_s=median,
        forecast_close=scored.tolist() if scored is not None else [],
        truth_close=truth.tolist(),
        mae=mae,
        mae_pct=100.0 * mae / truth_scale if mae is not None and truth_scale > 0 and math.isfinite(mae) else None,
        naive_mae_pct=100.0 * naive_mae / truth_scale if truth_scale > 0 else None,
        quantile_levels=list(spec.params.quantile_levels),
        paired_eager_latencies_s=paired,
        reference_s=measured.reference_s,
        confirm=f"{k}/{n}",
        n_flaky=n_flaky,
        flip_rate=n_flaky / n_calls if n_calls else 0.0,
        eager_repeat_max_abs=repeat,
        eager_float32_error_abs=yardstick,
        drift_max_abs=drift,
        drift_max_rel=drift / scale if drift is not None and scale > 0 else None,
        drift_by_quantile_abs=drift_by_q,
        drift_tolerance_abs=tolerance,
        **env.as_dict(),  # type: ignore[arg-type]
    )


def noise_floor(float32_error: float | None, eager_forecast: np.ndarray | None) -> float | None:
    """Eager's own numerical noise: its float32 forecast vs the same weights in float64 (max abs, every quantile of
    every target), and at least float32's relative precision at the forecast's scale (the float64 run can agree to
    the last bit on a small model)."""
    if float32_error is None or eager_forecast is None:
        return None
    return max(float32_error, float(np.finfo(np.float32).eps) * float(np.max(np.abs(eager_forecast))))


def drift_tolerance(float32_error: float | None, eager_forecast: np.ndarray | None) -> float | None:
    """How far compiled may drift from eager: :data:`DRIFT_FACTOR` times eager's own noise floor. Measured per run."""
    floor = noise_floor(float32_error, eager_forecast)
    return None if floor is None else DRIFT_FACTOR * floor
