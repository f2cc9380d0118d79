"""Run one mode (eager or compiled) on one symbol: load, first call, N timed predictions, score.

An exception while compiling or predicting is data: it ends up in the run's record with its type and message,
and the harness carries on. Only a model that cannot be loaded at all is a user error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from harness import drift as drift_judge
from harness.data import OHLC, BenchWindow, OhlcSeries
from harness.errors import InputError
from harness.faults import Fault, FaultKind, InjectedFailure, strike
from harness.fingerprint import fingerprint
from harness.models import ModelSource, load_pipeline, parameter_count
from harness.options import DEFAULT_CONFIRM, DEFAULT_RUNS
from harness.params import BenchParams
from harness.progress import progress
from harness.results import RunRecord, RunStatus

if TYPE_CHECKING:
    from chronos.chronos2 import Chronos2Pipeline

log = logging.getLogger(__name__)

DRIFT_FACTOR = 4.0  # compiled may drift from eager by this many times eager's own float32 rounding error
UNMEASURED_FLOOR_ULPS = 4.0  # eager's noise when float64 agrees exactly: compiled kernels reorder sums (8 ulps seen)
_REF_SIZE, _REF_STEPS = 128, 40  # machine reference workload
PATCH = 16  # Chronos-2's input patch: contexts differing by a multiple of it give new tensor shapes


@dataclass(frozen=True, kw_only=True)
class CompileSettings:
    """How compiled mode calls ``torch.compile`` on ``pipeline.model``."""

    mode: str = "default"
    backend: str | Callable[..., Any] = "inductor"  # a name from torch._dynamo.list_backends(), or a backend callable
    dynamic: bool | None = None  # None: torch's default (static first, dynamic after a shape change)
    attn_implementation: str = "eager"  # attention the compiled model is loaded with ("eager" or "sdpa")
    cache: str = "cold"  # "cold": a fresh TORCHINDUCTOR_CACHE_DIR per run; "off": caches disabled; else the cache dir to reuse
    dtype: str = "float32"  # the compiled model's weights: "float32" or "bfloat16" (eager mode is always float32)
    freezing: bool = False  # torch._inductor.config.freezing: constant-fold weights (the usual CPU inference switch)
    sdpa_backend: str = ""  # with attn "sdpa": restrict SDPA to "math", "flash", "efficient" or "cudnn" ("" = torch chooses)

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
    confirm: tuple[int, int] = DEFAULT_CONFIRM  # (k, n): a failing call is tried up to n times; k failures confirm it
    fault: Fault | None = None  # self-test (--fault): planted at the first call or at every attempt (harness.faults)
    warm_compile: bool = True  # compiled mode: compile a second time on the now-filled inductor cache, timed
    vary_shapes: bool = False  # compiled mode: after the timed calls, 3 calls on shorter contexts (new shapes), recompiles counted


class ForecastError(RuntimeError):
    """A forecast came back unusable (wrong shape or non-finite values)."""


def resolve_device(device: str, *, origin: str = "device") -> str:
    """``auto`` -> ``cuda`` when CUDA is available, else ``cpu``. A CUDA device this torch cannot reach is an
    :class:`~harness.errors.InputError` naming ``origin`` (the flag or file the value came from)."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
        fix = "fix: --device cpu, or auto (CUDA when there is one)" if origin.startswith("--") else \
            f"fix: set \"device\" to \"cpu\" or \"auto\" in {origin}, or pass --device cpu"
        if not visible:
            why = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}, but no GPU is visible"
            raise InputError(f"{origin}: device {device!r}: no CUDA here (torch {torch.__version__}, {why}); {fix}")
        index = device.partition(":")[2]
        if index and int(index) >= visible:
            raise InputError(f"{origin}: device {device!r}: no such GPU, {visible} visible (cuda:0 to cuda:{visible - 1}); {fix}")
    return device


def new_run_id(now: datetime | None = None) -> str:
    """``20261126T064858123Z-6cc83fac``: UTC time to the millisecond, then random; ids (and file names) sort by time."""
    now = now or datetime.now(timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z-" + uuid.uuid4().hex[:8]


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
        self.window = spec.window  # swapped for shorter contexts by the shape-variation calls
        self.injector = random.Random(0)  # planted failures: reproducible pattern

    def _attempt(self, *, first: bool) -> tuple[float, np.ndarray] | BaseException:
        fault = self.spec.fault
        try:
            if fault is not None and fault.kind.first_call_only and first:
                strike(fault.kind, self.spec.mode)
            if fault is not None and fault.kind is FaultKind.RAISE and self.injector.random() < fault.probability:
                raise InjectedFailure(f"planted by --fault {fault.text()} in {self.spec.mode} mode")
            _synchronize(self.device)
            start = time.perf_counter()
            forecast = predict(self.pipeline, self.window, self.spec.params)
            _synchronize(self.device)
            return time.perf_counter() - start, forecast
        except Exception as exc:  # a failing compile or model is a result, not a crash
            return exc

    def __call__(self, module: object, what: str, *, first: bool = False) -> Call:
        self.pipeline.model = module
        k, n = self.spec.confirm
        outcomes = [self._attempt(first=first)]
        if not isinstance(outcomes[0], BaseException):
            return Call(seconds=outcomes[0][0], forecast=outcomes[0][1], error=None, flipped=False)
        log.warning("%s: %s: %s; re-running to confirm (%d of %d)", what, type(outcomes[0]).__name__, outcomes[0], k, n)
        while len(outcomes) < n:
            failures = sum(isinstance(o, BaseException) for o in outcomes)
            if failures >= k or failures + (n - len(outcomes)) < k:  # decided either way
                break
            outcomes.append(self._attempt(first=first))
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        passes = [o for o in outcomes if not isinstance(o, BaseException)]
        if len(errors) >= k:
            return Call(seconds=None, forecast=None, error=errors[0], flipped=bool(passes))
        log.warning("%s: flaky: failed %d of %d attempts", what, len(errors), len(outcomes))
        return Call(seconds=passes[-1][0], forecast=passes[-1][1], error=errors[0], flipped=True)


def run(spec: RunSpec) -> RunRecord:
    """Measure one mode. Raises :class:`~harness.errors.InputError` only if the model cannot be loaded or the device is not here."""
    device = resolve_device(spec.params.device)
    compiled = spec.mode == "compiled"
    attn = spec.compile.attn_implementation if compiled else "eager"
    dtype = spec.compile.dtype if compiled else "float32"
    start = time.perf_counter()
    pipeline = load_pipeline(spec.source, attn_implementation=attn, device=device, dtype=dtype)
    load_s = time.perf_counter() - start
    reference = None
    if compiled and (attn, dtype) != ("eager", "float32"):  # eager mode's own model, for pairs and drift
        reference = load_pipeline(spec.source, attn_implementation="eager", device=device, dtype="float32")

    caches = _inductor_cache(spec.compile.cache) if compiled else contextlib.nullcontext()
    with caches:
        measured = _measure(spec, pipeline, device=device, reference=reference)
    return _record(spec, measured, device=device, pipeline=pipeline, load_s=load_s)


@contextlib.contextmanager
def _inductor_cache(cache: str) -> Iterator[None]:
    """Point inductor's caches at a fresh directory ("cold", the default, and "off") or at the directory ``cache``."""
    previous = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    fresh = tempfile.mkdtemp(prefix="harness-inductor-") if cache in ("cold", "off") else None
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
    graphs: int | None = None  # dynamo graphs after the first compiled call
    graph_breaks: int | None = None
    break_reasons: list[str] = field(default_factory=list)
    recompiles: int | None = None  # graphs compiled after the first call (shape changes, guard failures)
    warm_compile_s: float | None = None
    shape_variant_s: list[float] = field(default_factory=list)

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


def _measure(spec: RunSpec, pipeline: Chronos2Pipeline, *, device: str, reference: Chronos2Pipeline | None = None) -> Measured:
    out = Measured()
    call = _Caller(pipeline, spec, device)
    eager_module = pipeline.model
    symbol = spec.window.symbol
    if spec.mode == "eager":
        with progress(f"{symbol} eager: first call", logger=log) as phase:
            out.first = call(eager_module, f"{symbol} eager first call", first=True)
            phase.note = "" if out.first.ok else "failed"
        if not out.first.ok:
            return out
        out.eager_forecast = out.first.forecast
        with progress(f"{symbol} eager", total=spec.runs, unit="predictions", logger=log) as bar:
            for index in range(spec.runs):
                out.reference_s.append(machine_reference())
                out.calls.append(call(eager_module, f"{symbol} eager prediction {index + 1}"))
                _log_call(symbol, "eager", index, out.calls[-1])
                bar.advance(seconds=out.calls[-1].seconds, failed=not out.calls[-1].ok, detail=_seconds(out.calls[-1]))  # after the timing
        with progress(f"{symbol} eager: float64 reference", logger=log):
            out.float64_forecast = _float64_forecast(pipeline, spec)
        return out

    # compiled: eager mode's model first (reference forecast, float64 yardstick), then compile, then interleave.
    # The reference is this pipeline's own module unless the configuration changes attention or dtype: then it is
    # a second pipeline loaded exactly as eager mode loads it, so speedup and drift are always against eager mode.
    ref_call = call if reference is None else _Caller(reference, spec, device)
    reference_module = ref_call.pipeline.model
    with progress(f"{symbol} compiled: eager reference (float32, float64)", logger=log) as phase:
        first_reference = ref_call(reference_module, f"{symbol} eager reference")
        if first_reference.ok:
            out.float64_forecast = _float64_forecast(ref_call.pipeline, spec)
        else:
            phase.note = "failed"
    if not first_reference.ok:
        out.setup_error = first_reference.error
        return out
    out.eager_forecast = first_reference.forecast
    target = pipeline.model
    with _inductor_config(spec.compile):
        try:
            compiled_module = _compile(target, spec.compile)
        except Exception as exc:
            out.setup_error = exc
            return out
        with progress(f"{symbol} compiled: first call (compiles)", logger=log) as phase:
            out.first = call(compiled_module, f"{symbol} compiled first call", first=True)
            phase.note = "" if out.first.ok else "failed"
        if not out.first.ok:
            return out
        out.graphs, out.graph_breaks, out.break_reasons = _dynamo_stats()
        with progress(f"{symbol} compiled", total=spec.runs, unit="predictions", logger=log) as bar:
            for index in range(spec.runs):  # ABBA order: neither mode always runs first
                out.reference_s.append(machine_reference())
                order = ("compiled", "eager") if index % 2 == 0 else ("eager", "compiled")
                for which in order:
                    if which == "compiled":
                        out.calls.append(call(compiled_module, f"{symbol} compiled prediction {index + 1}"))
                    else:
                        out.paired.append(ref_call(reference_module, f"{symbol} eager reference {index + 1}"))
                _log_call(symbol, "compiled", index, out.calls[-1])
                detail = f"{_seconds(out.calls[-1])} (eager {_seconds(out.paired[-1])})"
                bar.advance(seconds=out.calls[-1].seconds, failed=not out.calls[-1].ok, detail=detail)  # after both timings
            eager_s = [c.seconds for c in out.paired if c.seconds is not None]
            bar.note = f"interleaved eager median {statistics.median(eager_s):.4f} s" if eager_s else ""
        if spec.vary_shapes:
            with progress(f"{symbol} compiled: shorter contexts (new shapes)", logger=log):
                out.shape_variant_s = _vary_shapes(call, compiled_module, spec)
        out.recompiles = _dynamo_stats()[0] - (out.graphs or 0)
        if spec.warm_compile:
            with progress(f"{symbol} compiled: compiling again (warm caches)", logger=log):
                out.warm_compile_s = call(_compile(target, spec.compile), f"{symbol} compiled again (warm caches)").seconds
    pipeline.model = compiled_module
    return out


def _compile(module: Any, settings: CompileSettings) -> Any:
    """A fresh ``torch.compile`` of ``module``: dynamo's caches and counters reset first (inductor's stay)."""
    import torch
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    return torch.compile(module, mode=settings.mode, backend=settings.backend, dynamic=settings.dynamic)


@contextlib.contextmanager
def _inductor_config(settings: CompileSettings) -> Iterator[None]:
    """The configuration's switches (inductor freezing, SDPA backend), for as long as it compiles and runs."""
    import torch._inductor.config as inductor_config

    off = settings.cache == "off"  # every inductor cache disabled: the warm compile then shows in-memory reuse only
    with inductor_config.patch(freezing=settings.freezing, force_disable_caches=off), _sdpa_backend(settings.sdpa_backend):
        yield


SDPA_BACKENDS = {"math": "MATH", "flash": "FLASH_ATTENTION", "efficient": "EFFICIENT_ATTENTION", "cudnn": "CUDNN_ATTENTION"}


def _sdpa_backend(name: str) -> contextlib.AbstractContextManager[None]:
    """``torch.nn.attention.sdpa_kernel`` restricted to one backend; Chronos-2's additive float mask rules out flash."""
    if not name:
        return contextlib.nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    return sdpa_kernel([getattr(SDPBackend, SDPA_BACKENDS[name])])


def _dynamo_stats() -> tuple[int, int, list[str]]:
    """(graphs compiled, graph breaks, their reasons' first lines) since the last ``torch._dynamo.reset()``."""
    from torch._dynamo.utils import counters

    reasons = [reason.strip().splitlines()[0][:200] for reason in counters["graph_break"]]
    return int(counters["stats"]["unique_graphs"]), int(sum(counters["graph_break"].values())), reasons


def _vary_shapes(call: _Caller, compiled_module: object, spec: RunSpec) -> list[float]:
    """Three calls on 16, 32 and 48 rows less context, as a growing or trimmed history would give: new shapes."""
    seconds = []
    full = call.window
    used = min(len(full.context), spec.params.context_length)  # what the model sees: the context is cut at context_length
    try:
        for trim in (16, 32, 48):
            if used - trim < 2 * PATCH:
                break
            call.window = dataclasses.replace(full, context=full.context.iloc[-(used - trim):])
            result = call(compiled_module, f"{spec.window.symbol} compiled, context -{trim} rows")
            if result.seconds is not None:
                seconds.append(result.seconds)
    finally:
        call.window = full
    return seconds


def _log_call(symbol: str, mode: str, index: int, call: Call) -> None:
    """A failed prediction is a warning; a passing one is only counted by the progress report."""
    if not call.ok:
        log.warning("%s %s: prediction %d failed: %s", symbol, mode, index + 1, call.error)


def _seconds(call: Call) -> str:
    return "failed" if call.seconds is None else f"{call.seconds:.4f} s"


def _max_abs(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    return None if a is None or b is None else float(np.max(np.abs(a - b)))


def is_out_of_memory(error: BaseException) -> bool:
    """MemoryError, torch.OutOfMemoryError (CUDA), or an allocator's "out of memory" RuntimeError."""
    return isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError" or "out of memory" in str(error).lower()


def _status(measured: Measured, *, drift: float | None, tolerance: float | None, repeat: float | None, yardstick: float | None) -> RunStatus:
    errors = measured.errors()
    if errors:
        return RunStatus.OOM if any(is_out_of_memory(e) for e in errors) else RunStatus.FAIL_EXCEPTION
    if repeat is not None and yardstick is not None and repeat > yardstick:
        return RunStatus.EAGER_NONDETERMINISTIC  # eager disagrees with itself by more than its own rounding error
    if drift_judge.exceeds(drift, tolerance):
        return RunStatus.FAIL_ACCURACY
    return RunStatus.PASS


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
    errors = measured.errors()
    flaky_errors = [c.error for c in [*calls, *measured.paired] if c.flipped and c.error is not None]
    first_error = errors[0] if errors else (flaky_errors[0] if flaky_errors else None)
    n_flaky = sum(c.flipped for c in calls) + sum(c.flipped for c in measured.paired)
    n_calls = len(calls) + len(measured.paired)
    compile_s = max(first_call_s - median, 0.0) if compiled and first_call_s is not None and median is not None else None
    return RunRecord(
        **_what_ran(spec, run_id=spec.run_id or new_run_id(), model_parameters=parameter_count(pipeline), device=device),
        status=_status(measured, drift=drift, tolerance=tolerance, repeat=repeat, yardstick=floor),
        error_type=type(first_error).__name__ if first_error else "",
        error_message=" ".join(str(first_error).split())[:1000] if first_error else "",
        n_success=len(latencies),
        success_rate=len(latencies) / spec.runs if spec.runs else 0.0,
        load_s=load_s,
        first_call_s=first_call_s,
        compile_s=compile_s,
        latencies_s=latencies,
        latency_median_s=median,
        forecast_close=scored.tolist() if scored is not None else [],
        mae=mae,
        mae_pct=100.0 * mae / truth_scale if mae is not None and truth_scale > 0 and math.isfinite(mae) else None,
        paired_eager_latencies_s=paired,
        reference_s=measured.reference_s,
        n_flaky=n_flaky,
        flip_rate=n_flaky / n_calls if n_calls else 0.0,
        eager_repeat_max_abs=repeat,
        eager_float32_error_abs=yardstick,
        drift_max_abs=drift,
        drift_max_rel=drift / scale if drift is not None and scale > 0 else None,
        drift_by_quantile_abs=drift_by_q,
        drift_tolerance_abs=tolerance,
        n_graphs=measured.graphs,
        n_graph_breaks=measured.graph_breaks,
        graph_break_reasons=measured.break_reasons,
        n_recompiles=measured.recompiles,
        warm_compile_s=max(measured.warm_compile_s - median, 0.0) if measured.warm_compile_s is not None and median is not None else None,
        shape_variant_s=measured.shape_variant_s,
        peak_rss_mb=peak_rss_mb(),
        peak_cuda_mb=peak_cuda_mb(device),
        break_even_calls=break_even(compile_s, paired, latencies) if compiled else None,
    )


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (with isolation: of this run), MiB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kilobytes on Linux


def peak_cuda_mb(device: str) -> float | None:
    if not device.startswith("cuda"):
        return None
    import torch

    return float(torch.cuda.max_memory_allocated()) / 2**20


def break_even(compile_s: float | None, eager_s: Sequence[float], compiled_s: Sequence[float]) -> float | None:
    """Predictions after which compiling has paid for itself: compile time / time saved per call (None: never)."""
    finite = [e for e in eager_s if math.isfinite(e)]
    if compile_s is None or not finite or not compiled_s:
        return None
    saved = statistics.median(finite) - statistics.median(compiled_s)
    return compile_s / saved if saved > 0 else None


def noise_floor(float32_error: float | None, eager_forecast: np.ndarray | None) -> float | None:
    """Eager's own numerical noise: its float32 forecast vs the same weights in float64 (max abs, every quantile of
    every target), and at least float32's relative precision at the forecast's scale (the float64 run can agree to
    the last bit on a small model)."""
    if float32_error is None or eager_forecast is None:
        return None
    ulp = float(np.finfo(np.float32).eps) * float(np.max(np.abs(eager_forecast)))
    if float32_error == 0.0:  # nothing measured (float64 agreed to the last bit, e.g. a constant series): a few ulps
        return UNMEASURED_FLOOR_ULPS * ulp
    return max(float32_error, ulp)


def drift_tolerance(float32_error: float | None, eager_forecast: np.ndarray | None) -> float | None:
    """How far compiled may drift from eager: :data:`DRIFT_FACTOR` times eager's own noise floor. Measured per run."""
    floor = noise_floor(float32_error, eager_forecast)
    return None if floor is None else DRIFT_FACTOR * floor


def failure_record(spec: RunSpec, *, status: str, error_type: str, message: str, stderr_tail: str, run_id: str) -> RunRecord:
    """The row of a run that could not write its own (crash, hang, OOM kill): what was asked, how it ended."""
    return RunRecord(
        **_what_ran(spec, run_id=run_id, model_parameters=0, device=resolve_device(spec.params.device)),  # parameters: the model lived in the child
        status=RunStatus(status),
        error_type=error_type,
        error_message=message,
        n_success=0,
        success_rate=0.0,
        load_s=0.0,
        first_call_s=None,
        compile_s=None,
        latency_median_s=None,
        mae=None,
        mae_pct=None,
        stderr_tail=stderr_tail,
    )


def _what_ran(spec: RunSpec, *, run_id: str, model_parameters: int, device: str) -> dict[str, Any]:
    """The fields of a row that describe what was asked, whatever happened: settings, data, truth, environment."""
    compiled = spec.mode == "compiled"
    truth = spec.window.truth_close
    truth_scale = float(np.mean(np.abs(truth)))
    naive_mae = float(np.mean(np.abs(float(spec.window.context["close"].iloc[-1]) - truth)))
    k, n = spec.confirm
    return {
        "run_id": run_id,
        "timestamp_utc": datetime.now(timezone.utc).isoformat(timespec="microseconds"),  # fixed width: sorts as text, by time
        "symbol": spec.window.symbol,
        "data_file": str(spec.series.path),
        "data_sha256": spec.series.sha256,
        "rows_used": spec.window.rows_used,
        "mode": spec.mode,
        "compile_mode": spec.compile.mode if compiled else "",
        "compile_backend": spec.compile.backend_label if compiled else "",
        "compile_dynamic": spec.compile.dynamic_label if compiled else "",
        "compile_cache": spec.compile.cache if compiled else "",
        "attn_implementation": spec.compile.attn_implementation if compiled else "eager",
        "dtype": spec.compile.dtype if compiled else "float32",
        "compile_freezing": spec.compile.freezing if compiled else False,
        "sdpa_backend": spec.compile.sdpa_backend if compiled else "",
        "model_id": spec.source.model_id,
        "model_trained": spec.source.trained,
        "model_parameters": model_parameters,
        "weights_sha256": spec.source.weights_sha256,
        "prediction_length": spec.params.prediction_length,
        "context_length": spec.params.context_length,
        "batch_size": spec.params.batch_size,
        "n_predictions": spec.runs,
        "truth_close": truth.tolist(),
        "naive_mae_pct": 100.0 * naive_mae / truth_scale if truth_scale > 0 else None,  # persistence: the skill reference
        "quantile_levels": list(spec.params.quantile_levels),
        "confirm": f"{k}/{n}",
        **fingerprint(device).as_dict(),
    }
