"""After the timed calls, the compiled model on other shapes: shorter contexts (``--vary-shapes``; implied for the
exported encoders) and many series in one call (``--batch-series``, a throughput beside the latency); and the GPU
warm-up before timed calls. Each figure is a diagnostic: a failure is recorded, never the run's."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import time
from typing import TYPE_CHECKING, Protocol

import numpy as np

from harness.base.progress import progress
from harness.bench.compiling import compiled_threads
from harness.bench.spec import Call, Measured, RunSpec
from harness.data.window import OHLC, BenchWindow
from harness.model.precision import FLOAT32, matmul_precision

if TYPE_CHECKING:
    from chronos.chronos2 import Chronos2Pipeline

log = logging.getLogger(__name__)

PATCH = 16  # Chronos-2's input patch: contexts differing by a multiple of it give new tensor shapes


class Caller(Protocol):
    """The runner's timed caller: calls ``module`` on ``window`` through ``pipeline`` (confirmation, threads, mode)."""

    pipeline: Chronos2Pipeline
    window: BenchWindow
    device: str

    def __call__(
        self, module: object, what: str, *, first: bool = False, measured: bool = True, threads: bool = False
    ) -> Call: ...


WARM_GPU_S = 1.0  # seconds of large matmuls before the timed calls on a GPU


def warm_device(device: str, seconds: float = WARM_GPU_S) -> int:
    """On a GPU, ``seconds`` of 4096² matmuls before the timed calls, so that the first rounds do not run at the
    clocks of an idle GPU (an H200's sessions swung 2x minutes apart); the number of matmuls run. Nothing on a CPU."""
    if not device.startswith("cuda"):
        return 0
    import torch

    a = torch.randn(4096, 4096, device=device)
    runs, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        a @ a
        torch.cuda.synchronize(device)
        runs += 1
    return runs


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def vary_shapes(out: Measured, spec: RunSpec, call: Caller, compiled_module: object) -> None:
    """After the timed calls, ``--vary-shapes`` (implied for exported encoders): shorter contexts."""
    if spec.vary_shapes:
        with progress(f"{spec.window.symbol} compiled: shorter contexts (new shapes)", logger=log):
            out.shape_variants, out.shape_variant_s = _vary_shapes(call, compiled_module, spec)


def many_series(
    out: Measured, spec: RunSpec, call: Caller, compiled_module: object, eager: Chronos2Pipeline, eager_module: object
) -> None:
    """After the timed calls and the recompile count (so that it never moves the gated ``n_recompiles``),
    ``--batch-series``: many series in one call."""
    if spec.batch_series:
        with progress(f"{spec.window.symbol} compiled: {spec.batch_series} series per call", logger=log):
            _many_series(out, spec, call, compiled_module, eager, eager_module)


def _vary_shapes(call: Caller, compiled_module: object, spec: RunSpec) -> tuple[list[str], list[float]]:
    """Three calls on 16, 32 and 48 rows less context, as a growing or trimmed history would give: new shapes. Each
    labelled (``context-16``); one that fails on its shape (an AOT package built for one shape) is NaN, not dropped."""
    labels, seconds = [], []
    full = call.window
    used = min(len(full.context), spec.params.context_length)  # what the model sees: the context is cut at context_length
    try:
        for trim in (16, 32, 48):
            if used - trim < 2 * PATCH:
                break
            call.window = dataclasses.replace(full, context=full.context.iloc[-(used - trim) :])
            result = call(compiled_module, f"{spec.window.symbol} compiled, context -{trim} rows", measured=False, threads=True)
            labels.append(f"context-{trim}")
            seconds.append(math.nan if result.seconds is None else result.seconds)
            if result.error is not None and result.seconds is None:
                error = result.error
                log.warning("%s: context -%d rows failed: %s: %s", spec.window.symbol, trim, type(error).__name__, error)
    finally:
        call.window = full
    return labels, seconds


BATCH_REPEATS = 3  # timed many-series calls per model, after one untimed (the compiled model's new shape compiles)


def _many_series(
    out: Measured, spec: RunSpec, call: Caller, compiled_module: object, eager: Chronos2Pipeline, eager_module: object
) -> None:
    """One call on ``spec.batch_series`` windows of the series (each ending a horizon before the next, the last one the
    bench window's), eager mode's model then the compiled one, best of :data:`BATCH_REPEATS` each: throughput beside
    latency. The compiled model's first call on this shape is a shape variant (``series-N``, recompile included)."""
    count, horizon, context = spec.batch_series, spec.params.prediction_length, spec.params.context_length
    series = spec.series.frame[list(OHLC)].to_numpy(dtype=np.float32).T  # (4, rows)
    end = series.shape[1] - horizon  # the bench window's cut: its last `horizon` rows are held back
    cuts = range(end - (count - 1) * horizon, end + 1, horizon)
    inputs = [series[:, max(0, cut - context) : cut] for cut in cuts if cut > 2 * PATCH]
    out.batch_series = count
    if len(inputs) < count:  # recorded as failed, not as "not asked"
        log.warning("%s: %d series per call: the series holds %d such windows", spec.window.symbol, count, len(inputs))
        out.shape_variants.append(f"series-{count}")
        out.shape_variant_s.append(math.nan)
        return
    levels = list(spec.params.quantile_levels)

    def timed(pipeline: Chronos2Pipeline, module: object, precision: str, threads: bool) -> tuple[float, float]:
        pipeline.model = module
        with compiled_threads(spec.compile) if threads else contextlib.nullcontext(), matmul_precision(precision):
            start = time.perf_counter()
            pipeline.predict_quantiles(inputs, prediction_length=horizon, quantile_levels=levels, context_length=context)
            synchronize(call.device)
            first = time.perf_counter() - start
            best = math.inf
            for _ in range(BATCH_REPEATS):
                start = time.perf_counter()
                pipeline.predict_quantiles(inputs, prediction_length=horizon, quantile_levels=levels, context_length=context)
                synchronize(call.device)
                best = min(best, time.perf_counter() - start)
        return first, best

    try:
        _, out.batch_eager_s = timed(eager, eager_module, FLOAT32, threads=False)
    except Exception as exc:  # a diagnostic: the timed calls stand
        log.warning("%s: %d series per call, eager: %s: %s", spec.window.symbol, count, type(exc).__name__, exc)
    try:
        first, out.batch_compiled_s = timed(call.pipeline, compiled_module, spec.compile.dtype, threads=True)
        out.shape_variants.append(f"series-{count}")
        out.shape_variant_s.append(first)
    except Exception as exc:  # a package of fixed shapes: recorded as a failed shape
        log.warning("%s: %d series per call, compiled: %s: %s", spec.window.symbol, count, type(exc).__name__, exc)
        out.shape_variants.append(f"series-{count}")
        out.shape_variant_s.append(math.nan)
    finally:
        call.pipeline.model = compiled_module
        eager.model = eager_module
