"""A measured run as its result row (:class:`~harness.results.schema.RunRecord`): what was asked, how it ended, what was
measured. Adding a metric: its field in ``RunRecord`` (harness/results/schema.py) and the line here that fills it."""

from __future__ import annotations

import math
import statistics
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.bench.compiling import EAGER_COLUMNS
from harness.data.window import OHLC
from harness.model import precision
from harness.model.loading import parameter_count
from harness.results.fingerprint import fingerprint
from harness.results.schema import RunRecord, RunStatus
from harness.rules import drift as drift_judge

if TYPE_CHECKING:
    from chronos.chronos2 import Chronos2Pipeline

    from harness.bench.spec import Measured, RunSpec
    from harness.data.params import BenchParams


def max_abs(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    return None if a is None or b is None else float(np.max(np.abs(a - b)))


def is_out_of_memory(error: BaseException) -> bool:
    """MemoryError, torch.OutOfMemoryError (CUDA), or an allocator's "out of memory" RuntimeError."""
    return isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError" or "out of memory" in str(error).lower()


def _status(
    measured: Measured, *, drift: float | None, tolerance: float | None, repeat: float | None, yardstick: float | None
) -> RunStatus:
    errors = measured.errors()
    if errors:
        return RunStatus.OOM if any(is_out_of_memory(e) for e in errors) else RunStatus.FAIL_EXCEPTION
    if repeat is not None and yardstick is not None and repeat > yardstick:
        return RunStatus.EAGER_NONDETERMINISTIC  # eager disagrees with itself by more than its own rounding error
    if drift_judge.exceeds(drift, tolerance):
        return RunStatus.FAIL_ACCURACY
    return RunStatus.PASS


def build_record(spec: RunSpec, measured: Measured, *, device: str, pipeline: Chronos2Pipeline, load_s: float) -> RunRecord:
    compiled = spec.mode == "compiled"
    calls = measured.calls
    latencies = [c.seconds for c in calls if c.seconds is not None]
    # the uncompiled model's call next to each passing compiled call (NaN where it failed): aligned with `latencies`
    paired = [p.seconds if p.seconds is not None else math.nan for c, p in zip(calls, measured.paired, strict=False) if c.ok]
    paired_dtype = [
        p.seconds if p.seconds is not None else math.nan for c, p in zip(calls, measured.paired_dtype, strict=False) if c.ok
    ]
    median = statistics.median(latencies) if latencies else None
    first_call_s = measured.first.seconds if measured.first else None
    forecasts = [c.forecast for c in calls if c.forecast is not None]
    scored = median_close(forecasts[-1], spec.params) if forecasts else None

    # numerics: eager vs itself, eager vs float64, compiled vs eager (every quantile of every target)
    eager_runs = [c.forecast for c in (measured.paired if compiled else calls) if c.forecast is not None]
    repeat = (
        max((max_abs(f, measured.eager_forecast) or 0.0 for f in eager_runs), default=None)
        if measured.eager_forecast is not None
        else None
    )
    yardstick = max_abs(measured.eager_forecast, measured.float64_forecast)
    floor = noise_floor(yardstick, measured.eager_forecast)
    # drift is judged against eager in the configuration's own dtype, with that dtype's error (against float32) as
    # yardstick, as float32 eager is judged with its error against float64: compiling, not the dtype, is on trial
    precision_error = max_abs(measured.precision_forecast, measured.eager_forecast)
    low_precision = measured.precision_forecast is not None
    drift_ref = measured.precision_forecast if low_precision else measured.eager_forecast
    drift_yardstick = precision_error if low_precision else yardstick
    tolerance = (
        drift_tolerance(drift_yardstick, drift_ref, dtype=spec.compile.dtype if low_precision else "float32")
        if compiled
        else None
    )
    drift_by_q: list[float] = []
    drift: float | None = None
    if compiled and drift_ref is not None:
        compiled_forecasts = (
            [measured.first.forecast] if measured.first and measured.first.forecast is not None else []
        ) + forecasts
        if compiled_forecasts:
            worst = np.max(np.stack([np.abs(f - drift_ref) for f in compiled_forecasts]), axis=0)  # (targets, steps, q)
            drift_by_q = [float(x) for x in worst.max(axis=(0, 1))]
            drift = float(worst.max())
    scale = float(np.max(np.abs(drift_ref))) if drift_ref is not None else 0.0

    truth = spec.window.truth_close
    mae = float(np.mean(np.abs(scored - truth))) if scored is not None else None
    truth_scale = float(np.mean(np.abs(truth)))
    errors = measured.errors()
    partners = [*measured.paired, *measured.paired_dtype]
    flaky_errors = [c.error for c in [*calls, *partners] if c.flipped and c.error is not None]
    first_error = errors[0] if errors else (flaky_errors[0] if flaky_errors else None)
    n_flaky = sum(c.flipped for c in calls) + sum(c.flipped for c in partners)
    n_calls = len(calls) + len(partners)
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
        paired_dtype_eager_latencies_s=paired_dtype,
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
        warm_compile_s=max(measured.warm_compile_s - median, 0.0)
        if measured.warm_compile_s is not None and median is not None
        else None,
        shape_variant_s=measured.shape_variant_s,
        peak_rss_mb=peak_rss_mb(),
        peak_cuda_mb=peak_cuda_mb(device),
        break_even_calls=break_even(compile_s, paired, latencies) if compiled else None,
        cpp_template_kernels=measured.gemm[0] if measured.gemm else None,
        extern_kernel_calls=measured.gemm[1] if measured.gemm else None,
        drift_reference=f"{spec.compile.dtype} eager" if low_precision else "",
        precision_error_abs=precision_error,
        precision_mae_diff_pct=measured.precision_mae_diff_pct,
        precision_windows=measured.precision_windows,
        precision_wql_diff_pct=measured.precision_wql_diff_pct,
        flops_per_prediction=measured.flops,
        matmul_gflops=measured.matmul_gflops,
        matmul_gflops_compiled=measured.matmul_gflops_compiled,
        gemm_floor_s=measured.gemm_floor_s,
        gemm_floor_compiled_s=measured.gemm_floor_compiled_s,
        shape_variants=measured.shape_variants,
        batch_series=measured.batch_series,
        batch_eager_s=measured.batch_eager_s,
        batch_compiled_s=measured.batch_compiled_s,
        gpu_clock_mhz=measured.gpu_clock_mhz,
        start_warm_disk_s=measured.starts.get("disk"),
        start_precompiled_s=measured.starts.get("artifacts", measured.starts.get("aot")),
        precompiled_kind=_precompiled_kind(measured.starts),
    )


def _precompiled_kind(starts: dict[str, float | None]) -> str:
    """What ``start_precompiled_s`` measured (harness.bench.starts kinds); "" when no precompiled start was measured."""
    if starts.get("artifacts") is not None:
        return "cache artifacts"
    return "AOTInductor package" if starts.get("aot") is not None else ""


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (with isolation: of this run), MiB."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0  # bytes on macOS, KiB on Linux


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


def failure_record(spec: RunSpec, *, status: str, error_type: str, message: str, stderr_tail: str, run_id: str) -> RunRecord:
    """The row of a run that could not write its own (crash, hang, OOM kill): what was asked, how it ended."""
    from harness.bench.spec import resolve_device

    return RunRecord(
        **_what_ran(
            spec, run_id=run_id, model_parameters=0, device=resolve_device(spec.params.device)
        ),  # parameters: the model lived in the child
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
        "timestamp_utc": datetime.now(UTC).isoformat(timespec="microseconds"),  # fixed width: sorts as text, by time
        "symbol": spec.window.symbol,
        "data_file": str(spec.series.path),
        "data_sha256": spec.series.sha256,
        "rows_used": spec.window.rows_used,
        "mode": spec.mode,
        **(spec.compile.columns() if compiled else EAGER_COLUMNS),
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
        "confirms": spec.confirms,
        **fingerprint(device).as_dict(),
    }


DRIFT_FACTOR = 4.0  # compiled may drift from eager by this many times eager's own float32 rounding error


UNMEASURED_FLOOR_ULPS = 4.0  # eager's noise when float64 agrees exactly: compiled kernels reorder sums (8 ulps seen)


DTYPE_EPS = precision.EPS  # relative precision of one value in each dtype


def noise_floor(float32_error: float | None, eager_forecast: np.ndarray | None, *, dtype: str = "float32") -> float | None:
    """Eager's own numerical noise: its forecast vs the same weights in the next wider dtype (float32 eager vs float64;
    bfloat16 eager vs float32), max abs over every quantile of every target.

    In float32 it is at least float32's relative precision at the forecast's scale (the float64 run can agree to the
    last bit on a small model): 1.2e-7 of the price, nothing a user sees. A reduced precision gets no such floor: 2**-7
    of a $100,000 price is $781, four times that let a $3,000 drift pass where bfloat16's own error was $108; its
    measured error is the yardstick (a few of its ulps only when nothing was measured)."""
    if float32_error is None or eager_forecast is None:
        return None
    ulp = DTYPE_EPS.get(dtype, DTYPE_EPS["float32"]) * float(np.max(np.abs(eager_forecast)))
    if float32_error == 0.0:  # nothing measured (the wider run agreed to the last bit, e.g. a constant series): a few ulps
        return UNMEASURED_FLOOR_ULPS * ulp
    return max(float32_error, ulp) if dtype == "float32" else float32_error


def drift_tolerance(float32_error: float | None, eager_forecast: np.ndarray | None, *, dtype: str = "float32") -> float | None:
    """How far compiled may drift from eager: :data:`DRIFT_FACTOR` times eager's own noise floor. Measured per run.
    ``dtype``: eager's (the floor is at least that dtype's precision at the forecast's scale)."""
    floor = noise_floor(float32_error, eager_forecast, dtype=dtype)
    return None if floor is None else DRIFT_FACTOR * floor


def new_run_id(now: datetime | None = None) -> str:
    """``20261126T064858123Z-6cc83fac``: UTC time to the millisecond, then random; ids (and file names) sort by time."""
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z-" + uuid.uuid4().hex[:8]


def median_close(quantiles: np.ndarray, params: BenchParams) -> np.ndarray:
    """The scored series: the median forecast of the close, one value per step."""
    return quantiles[OHLC.index("close"), :, params.quantile_levels.index(0.5)]
