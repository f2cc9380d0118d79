"""Run one mode (eager or compiled) on one symbol: load, first call, N timed predictions, score.

An exception while compiling or predicting is data: it ends up in the run's record with its type and message,
and the harness carries on. Only a model that cannot be loaded at all is a user error.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from harness.base.progress import progress
from harness.bench.compiling import (
    EXPORTED_SCOPES,
    compile_module,
    compiled_threads,
    dynamo_stats,
    end_compile_workers,
    gemm_kernels,
    inductor_cache,
    inductor_config,
)
from harness.bench.faults import FaultKind, InjectedFailure, strike
from harness.bench.rows import build_record, median_close
from harness.bench.shapes import many_series, synchronize, vary_shapes, warm_device
from harness.bench.spec import Call, Measured, RunSpec, resolve_device
from harness.data.params import BenchParams
from harness.data.window import BenchWindow
from harness.model.forecast import predict
from harness.model.loading import load_pipeline
from harness.model.precision import FLOAT32, INT8_DYNAMIC, matmul_precision
from harness.results.fingerprint import gpu_clock_mhz
from harness.results.schema import RunRecord

if TYPE_CHECKING:
    from chronos.chronos2 import Chronos2Pipeline

log = logging.getLogger(__name__)


_REF_SIZE, _REF_STEPS = 128, 40  # machine reference workload


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


class _Caller:
    """Times predictions; a failing one is re-run to confirm (k failures of up to n attempts)."""

    def __init__(self, pipeline: Chronos2Pipeline, spec: RunSpec, device: str, *, precision: str = FLOAT32) -> None:
        """``precision``: the matmul mode every call runs under (TF32 for the "tf32" models, strict float32 else)."""
        self.pipeline, self.spec, self.device, self.precision = pipeline, spec, device, precision
        self.window = spec.window  # swapped for shorter contexts by the shape-variation calls
        self.injector = random.Random(0)  # planted failures: reproducible pattern

    def _attempt(self, *, first: bool, measured: bool, threads: bool) -> tuple[float, np.ndarray] | BaseException:
        fault = self.spec.fault
        slowdown = fault.slowdown if fault is not None and fault.kind is FaultKind.SLOW and measured else 0.0
        try:
            if fault is not None and fault.kind.first_call_only and first:
                strike(fault.kind, self.spec.mode)
            if fault is not None and fault.kind is FaultKind.RAISE and self.injector.random() < fault.probability:
                raise InjectedFailure(f"planted by --fault {fault.text()} in {self.spec.mode} mode")
            # the thread count and matmul mode are set and restored outside the timing
            threading = compiled_threads(self.spec.compile) if threads else contextlib.nullcontext()
            with threading, matmul_precision(self.precision):
                synchronize(self.device)
                start = time.perf_counter()
                forecast = predict(self.pipeline, self.window, self.spec.params)
                synchronize(self.device)
                elapsed = time.perf_counter() - start
            if slowdown:  # planted by --fault slow@F: this call takes 1 + F times as long
                time.sleep(elapsed * slowdown)
                elapsed *= 1.0 + slowdown
            return elapsed, forecast
        except Exception as exc:  # a failing compile or model is a result, not a crash
            return exc

    def __call__(self, module: object, what: str, *, first: bool = False, measured: bool = True, threads: bool = False) -> Call:
        """``threads``: the compiled model's call, under the configuration's thread setting."""
        self.pipeline.model = module
        k, n = self.spec.confirm
        outcomes = [self._attempt(first=first, measured=measured, threads=threads)]
        if not isinstance(outcomes[0], BaseException):
            return Call(seconds=outcomes[0][0], forecast=outcomes[0][1], error=None, flipped=False)
        log.warning("%s: %s: %s; re-running to confirm (%d of %d)", what, type(outcomes[0]).__name__, outcomes[0], k, n)
        while len(outcomes) < n:
            failures = sum(isinstance(o, BaseException) for o in outcomes)
            if failures >= k or failures + (n - len(outcomes)) < k:  # decided either way
                break
            outcomes.append(self._attempt(first=first, measured=measured, threads=threads))
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        passes = [o for o in outcomes if not isinstance(o, BaseException)]
        if len(errors) >= k:
            return Call(seconds=None, forecast=None, error=errors[0], flipped=bool(passes))
        log.warning("%s: flaky: failed %d of %d attempts", what, len(errors), len(outcomes))
        return Call(seconds=passes[-1][0], forecast=passes[-1][1], error=errors[0], flipped=True)


def run(spec: RunSpec) -> RunRecord:
    """Measure one mode. Raises :class:`~harness.base.errors.InputError` only if the model cannot be loaded or the device is not here."""
    device = resolve_device(spec.params.device)
    compiled = spec.mode == "compiled"
    attn = spec.compile.attn_implementation if compiled else "eager"
    dtype = spec.compile.dtype if compiled else "float32"
    start = time.perf_counter()
    pipeline = load_pipeline(spec.source, attn_implementation=attn, device=device, dtype=dtype)
    load_s = time.perf_counter() - start
    reference = None
    if compiled and (attn, dtype) != ("eager", FLOAT32):  # eager mode's own model, for pairs and drift
        reference = load_pipeline(spec.source, attn_implementation="eager", device=device, dtype="float32")

    caches = inductor_cache(spec.compile.cache) if compiled else contextlib.nullcontext()
    with caches, matmul_precision(dtype):  # compiling too runs in the configuration's matmul mode
        measured = _measure(spec, pipeline, device=device, reference=reference)
    return build_record(spec, measured, device=device, pipeline=pipeline, load_s=load_s)


def _float64_forecast(pipeline: Chronos2Pipeline, spec: RunSpec) -> np.ndarray | None:
    """Eager's forecast in float64: the distance to float32 is eager's own numerical noise, the drift yardstick."""
    model = pipeline.model
    try:
        model.double()
        with matmul_precision(FLOAT32):  # eager mode's model: never in a TF32 run's matmul mode
            return predict(pipeline, spec.window, spec.params)
    except Exception as exc:  # an optional yardstick: without it drift is reported but not judged
        log.warning("%s: float64 reference failed: %s: %s", spec.window.symbol, type(exc).__name__, exc)
        return None
    finally:
        model.float()  # float32 -> float64 -> float32 is exact: the weights are unchanged


def _measure(spec: RunSpec, pipeline: Chronos2Pipeline, *, device: str, reference: Chronos2Pipeline | None = None) -> Measured:
    if spec.mode == "eager":
        return _measure_eager(spec, pipeline, device=device)
    return _measure_compiled(spec, pipeline, device=device, reference=reference)


def _measure_eager(spec: RunSpec, pipeline: Chronos2Pipeline, *, device: str) -> Measured:
    out = Measured()
    call = _Caller(pipeline, spec, device)
    eager_module = pipeline.model
    symbol = spec.window.symbol
    with progress(f"{symbol} eager: first call", logger=log) as phase:
        out.first = call(eager_module, f"{symbol} eager first call", first=True, measured=False)
        phase.note = "" if out.first.ok else "failed"
    if not out.first.ok:
        return out
    out.eager_forecast = out.first.forecast
    warm_device(device)
    with progress(f"{symbol} eager", total=spec.runs, unit="predictions", logger=log) as bar:
        for index in range(spec.runs):
            out.reference_s.append(machine_reference())
            out.calls.append(call(eager_module, f"{symbol} eager prediction {index + 1}"))
            _log_call(symbol, "eager", index, out.calls[-1])
            bar.advance(
                seconds=out.calls[-1].seconds, failed=not out.calls[-1].ok, detail=_seconds(out.calls[-1])
            )  # after the timing
    out.gpu_clock_mhz = gpu_clock_mhz(device)
    with progress(f"{symbol} eager: float64 reference", logger=log):
        out.float64_forecast = _float64_forecast(pipeline, spec)
    return out


def _measure_compiled(
    spec: RunSpec, pipeline: Chronos2Pipeline, *, device: str, reference: Chronos2Pipeline | None = None
) -> Measured:
    out = Measured()
    call = _Caller(pipeline, spec, device, precision=spec.compile.dtype)
    symbol = spec.window.symbol

    # compiled: eager mode's model first (reference forecast, float64 yardstick), then compile, then interleave.
    # The reference is this pipeline's own module unless the configuration changes attention or dtype: then it is
    # a second pipeline loaded exactly as eager mode loads it, so speedup and drift are always against eager mode.
    ref_call = call if reference is None else _Caller(reference, spec, device, precision=FLOAT32)
    reference_module = ref_call.pipeline.model
    with progress(f"{symbol} compiled: eager reference (float32, float64)", logger=log) as phase:
        first_reference = ref_call(reference_module, f"{symbol} eager reference", measured=False)
        if first_reference.ok:
            out.float64_forecast = _float64_forecast(ref_call.pipeline, spec)
        else:
            phase.note = "failed"
    if not first_reference.ok:
        out.setup_error = first_reference.error
        return out
    out.eager_forecast = first_reference.forecast
    target = pipeline.model
    if reference is not None and spec.compile.dtype != "float32":  # reduced precision: eager in that dtype, uncompiled
        with progress(f"{symbol} compiled: eager in {spec.compile.dtype}", logger=log):
            try:  # not through the caller: no planted fault, no confirmation; without it the dtype cannot be judged
                out.precision_forecast = predict(pipeline, spec.window, spec.params)
            except Exception as exc:
                out.setup_error = exc
                return out
    with inductor_config(spec.compile):
        try:
            with compiled_threads(spec.compile):
                compiled_module = compile_module(target, spec.compile)
        except Exception as exc:
            out.setup_error = exc
            return out
        with progress(f"{symbol} compiled: first call (compiles)", logger=log) as phase:
            out.first = call(compiled_module, f"{symbol} compiled first call", first=True, measured=False, threads=True)
            phase.note = "" if out.first.ok else "failed"
        if not out.first.ok:
            return out
        out.graphs, out.graph_breaks, out.break_reasons = dynamo_stats()
        if spec.compile.scope in EXPORTED_SCOPES:  # torch.export: one graph by construction, dynamo's counters unused
            out.graphs, out.graph_breaks, out.break_reasons = 1, 0, []
        out.gemm = gemm_kernels()
        end_compile_workers()  # idle since the first call: not beside the timed calls
        warm_device(device)
        # a reduced precision: its own uncompiled model is a third partner, so that what the dtype gives (float32
        # eager / dtype eager) and what compiling adds (dtype eager / compiled) are both ratios within one round
        dtype_partner = reference is not None and spec.compile.dtype != "float32"
        with progress(f"{symbol} compiled", total=spec.runs, unit="predictions", logger=log) as bar:
            for index in range(spec.runs):
                out.reference_s.append(machine_reference())
                for which in _round_order(index, with_dtype=dtype_partner):  # no model always runs first
                    if which == "compiled":
                        out.calls.append(call(compiled_module, f"{symbol} compiled prediction {index + 1}", threads=True))
                    elif which == "dtype":
                        out.paired_dtype.append(
                            call(target, f"{symbol} eager in {spec.compile.dtype} {index + 1}", measured=False)
                        )
                    else:
                        out.paired.append(ref_call(reference_module, f"{symbol} eager reference {index + 1}", measured=False))
                _log_call(symbol, "compiled", index, out.calls[-1])
                detail = f"{_seconds(out.calls[-1])} (eager {_seconds(out.paired[-1])})"
                bar.advance(seconds=out.calls[-1].seconds, failed=not out.calls[-1].ok, detail=detail)  # after both timings
            out.gpu_clock_mhz = gpu_clock_mhz(device)
            eager_s = [c.seconds for c in out.paired if c.seconds is not None]
            bar.note = f"interleaved eager median {statistics.median(eager_s):.4f} s" if eager_s else ""
        vary_shapes(out, spec, call, compiled_module)  # --vary-shapes: its recompiles are counted, as documented
        out.recompiles = 0 if spec.compile.scope in EXPORTED_SCOPES else dynamo_stats()[0] - (out.graphs or 0)
        many_series(out, spec, call, compiled_module, ref_call.pipeline, reference_module)  # not counted: not gated
        ref_call.pipeline.model = reference_module  # the interleaved loop may have left the compiled model in place
        _after_timed(out, spec, call, compiled_module, target, ref_call.pipeline)
    pipeline.model = compiled_module
    return out


def _round_order(index: int, *, with_dtype: bool) -> tuple[str, ...]:
    """The order of the models in timed round ``index``: ABBA for two (compiled, eager), and for three (with the
    dtype's eager) a rotation that reverses every other round, so that over six rounds each model is in each place
    twice and each pair of models in each order three times."""
    if not with_dtype:
        return ("compiled", "eager") if index % 2 == 0 else ("eager", "compiled")
    models = ("compiled", "eager", "dtype")
    turn = (index // 2) % 3
    rotated = models[turn:] + models[:turn]
    return rotated if index % 2 == 0 else rotated[::-1]


def _after_timed(
    out: Measured, spec: RunSpec, call: _Caller, compiled_module: object, target: object, eager: Chronos2Pipeline
) -> None:
    """After the timed calls, inside the configuration's switches: the floor, the dtype's accuracy, the warm compile
    and the precompiled starts. ``eager``: the pipeline holding eager mode's (uncompiled float32) model."""
    symbol = spec.window.symbol
    _limits(out, spec, eager, call)
    call.pipeline.model = target
    if spec.compile.dtype != FLOAT32 and eager is not call.pipeline:
        _precision_skill(out, spec, call.pipeline, target, eager)
    if spec.warm_compile:
        with progress(f"{symbol} compiled: compiling again (warm caches)", logger=log):
            with compiled_threads(spec.compile):
                again = compile_module(target, spec.compile)
            out.warm_compile_s = call(again, f"{symbol} compiled again (warm caches)", measured=False, threads=True).seconds
    if spec.keep_artifacts:
        from harness.bench.artifacts import keep

        try:
            keep(spec, compiled_module, Path(spec.keep_artifacts), device=call.device)
        except OSError as exc:  # the timed calls stand; the user's folder is the problem
            log.warning("%s: --keep-artifacts %s: %s", symbol, spec.keep_artifacts, exc)
    if spec.starts:
        from harness.bench.starts import measure_starts

        with progress(f"{symbol} compiled: precompiled starts (fresh processes)", logger=log):
            try:
                out.starts = measure_starts(spec, compiled_module)
            except Exception as exc:  # a diagnostic: the timed calls stand without it
                log.warning("%s: precompiled starts failed: %s: %s", symbol, type(exc).__name__, exc)
    call.pipeline.model = compiled_module


def _limits(out: Measured, spec: RunSpec, eager: Chronos2Pipeline, call: _Caller) -> None:
    """FLOPs of one eager prediction and the matmul throughput of this process now: the floor any compiler faces."""
    from harness.bench.limits import count_flops, gemm_floor_s, matmul_gflops, model_gemms

    def attempt(what: str, measure: Callable[[], float]) -> float | None:
        try:
            return measure()
        except Exception as exc:  # a diagnostic: its failure is logged, never the run's
            log.warning("%s: %s failed: %s: %s", spec.window.symbol, what, type(exc).__name__, exc)
            return None

    gemms = []
    with matmul_precision(FLOAT32):
        out.flops = attempt("FLOP count", lambda: count_flops(lambda: predict(eager, spec.window, spec.params)))
        try:
            gemms = model_gemms(lambda: predict(eager, spec.window, spec.params))
        except Exception as exc:  # a diagnostic
            log.warning("%s: recording the model's GEMMs failed: %s: %s", spec.window.symbol, type(exc).__name__, exc)
    device = call.device  # the floor of the device the model runs on, not of the host's CPU
    out.matmul_gflops = attempt("float32 matmul throughput", lambda: matmul_gflops("float32", device=device))
    if gemms:
        out.gemm_floor_s = attempt("float32 GEMM floor", lambda: gemm_floor_s(gemms, FLOAT32, device=device))
    if spec.compile.dtype == INT8_DYNAMIC:  # int8 GEMMs: no float matmul bounds them, and none is claimed
        log.info("%s: no floor for %s (its GEMMs run in int8)", spec.window.symbol, INT8_DYNAMIC)
        return
    dtype = spec.compile.dtype
    with compiled_threads(spec.compile):
        out.matmul_gflops_compiled = attempt(f"{dtype} matmul throughput", lambda: matmul_gflops(dtype, device=device))
        if gemms:
            out.gemm_floor_compiled_s = attempt(f"{dtype} GEMM floor", lambda: gemm_floor_s(gemms, dtype, device=device))


def _precision_skill(
    out: Measured, spec: RunSpec, pipeline: Chronos2Pipeline, uncompiled: object, eager: Chronos2Pipeline
) -> None:
    """Does the dtype change accuracy? Over the rolling evaluation windows, against float32 eager: its eager model's
    MAE of the median close (uncompiled on both sides: whether compiling changed the numbers is the drift check's
    job), and the *compiled* model's weighted quantile loss over nine quantile levels, the model a user would adopt
    (it meets the windows' batch shape here, which may cost it a recompile: not timed)."""
    from harness.model.evaluation import rolling_skill
    from harness.rules.recommend import mae_diff_pct

    compiled_module = pipeline.model
    context = spec.params.context_length
    try:
        pipeline.model = uncompiled
        low = rolling_skill(pipeline, spec.series, context_length=context)
        with matmul_precision(FLOAT32):
            full = rolling_skill(eager, spec.series, context_length=context)
        out.precision_mae_diff_pct = mae_diff_pct(full.model_mae_pct, low.model_mae_pct)
        out.precision_windows = min(low.windows, full.windows)
        pipeline.model = compiled_module
        with compiled_threads(spec.compile):
            compiled = rolling_skill(pipeline, spec.series, context_length=context)
        out.precision_wql_diff_pct = mae_diff_pct(full.model_wql_pct, compiled.model_wql_pct)
    except Exception as exc:  # without it the configuration cannot be adopted (the recommendation needs the figure)
        log.warning(
            "%s: rolling-window accuracy in %s failed: %s: %s", spec.window.symbol, spec.compile.dtype, type(exc).__name__, exc
        )
    finally:
        pipeline.model = compiled_module


def _log_call(symbol: str, mode: str, index: int, call: Call) -> None:
    """A failed prediction is a warning; a passing one is only counted by the progress report."""
    if not call.ok:
        log.warning("%s %s: prediction %d failed: %s", symbol, mode, index + 1, call.error)


def _seconds(call: Call) -> str:
    return "failed" if call.seconds is None else f"{call.seconds:.4f} s"
