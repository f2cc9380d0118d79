"""What one run is asked to do (:class:`RunSpec`) and what it measured (:class:`Measured`, one
:class:`Call` per prediction); which device it runs on. Pure data: torch only inside :func:`resolve_device`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from harness.base.errors import InputError
from harness.base.options import DEFAULT_CONFIRM, DEFAULT_RUNS
from harness.bench.compiling import (
    CompileSettings,
)
from harness.bench.faults import Fault
from harness.data.params import BenchParams
from harness.data.window import BenchWindow, OhlcSeries
from harness.model.loading import ModelSource

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class RunSpec:
    """Everything one run needs."""

    mode: Literal["eager", "compiled"]
    series: OhlcSeries
    window: BenchWindow
    params: BenchParams
    source: ModelSource
    runs: int = DEFAULT_RUNS
    compile: CompileSettings = field(default_factory=CompileSettings)
    run_id: str = ""
    confirms: str = ""  # a re-bench: the compiled run id whose timing regression it confirms or clears
    confirm: tuple[int, int] = DEFAULT_CONFIRM  # (k, n): a failing call is tried up to n times; k failures confirm it
    fault: Fault | None = None  # self-test (--fault): planted at the first call or at every attempt (harness.bench.faults)
    warm_compile: bool = True  # compiled mode: compile a second time on the now-filled inductor cache, timed
    vary_shapes: bool = (
        False  # compiled mode: after the timed calls, 3 calls on shorter contexts (new shapes), recompiles counted
    )
    batch_series: int = 0  # compiled mode: windows in one many-series call, timed eager and compiled (0: off)
    starts: str = ""  # compiled mode: this run's one-symbol request (JSON): measure precompiled starts in fresh processes
    keep_artifacts: str = ""  # compiled mode: the directory to keep the AOT package or cache artifacts in ("" = none)


def resolve_device(device: str, *, origin: str = "device") -> str:
    """``auto`` -> ``cuda`` when CUDA is available, else ``cpu``. A CUDA device this torch cannot reach is an
    :class:`~harness.base.errors.InputError` naming ``origin`` (the flag or file the value came from)."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
        fix = (
            "fix: --device cpu, or auto (CUDA when there is one)"
            if origin.startswith("--")
            else f'fix: set "device" to "cpu" or "auto" in {origin}, or pass --device cpu'
        )
        if not visible:
            why = (
                "a CPU-only build"
                if torch.version.cuda is None
                else f"built for CUDA {torch.version.cuda}, but no GPU is visible"
            )
            raise InputError(f"{origin}: device {device!r}: no CUDA here (torch {torch.__version__}, {why}); {fix}")
        index = device.partition(":")[2]
        if index and int(index) >= visible:
            raise InputError(f"{origin}: device {device!r}: no such GPU, {visible} visible (cuda:0 to cuda:{visible - 1}); {fix}")
    return device


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


@dataclass
class Measured:
    """What :func:`_measure` saw; turned into a :class:`RunRecord` by :func:`_record`."""

    first: Call | None = None  # the first call of the measured mode (compiles, in compiled mode)
    calls: list[Call] = field(default_factory=list)  # the timed calls of the measured mode
    paired: list[Call] = field(default_factory=list)  # compiled mode: the uncompiled model, interleaved with ``calls``
    paired_dtype: list[Call] = field(default_factory=list)  # a reduced precision: its uncompiled model, interleaved too
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
    gemm: tuple[int, int] | None = None  # (C++ template GEMMs, external kernel calls) of the first compile
    precision_forecast: np.ndarray | None = None  # a reduced-precision configuration: eager in its dtype, uncompiled
    precision_mae_diff_pct: float | None = None  # that eager's rolling-window MAE vs float32 eager's, percent
    precision_windows: int = 0
    precision_wql_diff_pct: float | None = None  # the compiled model's rolling-window wQL vs float32 eager's, percent
    flops: float | None = None  # one eager prediction
    matmul_gflops: float | None = None  # float32, the process's threads
    matmul_gflops_compiled: float | None = None  # the configuration's dtype and threads
    gemm_floor_s: float | None = None  # the model's own GEMMs at their best, float32 (harness.bench.limits.gemm_floor_s)
    gemm_floor_compiled_s: float | None = None  # the same in the configuration's dtype and threads
    shape_variants: list[str] = field(default_factory=list)  # what each shape_variant_s call was
    batch_series: int = 0  # windows in the many-series call (0: not measured)
    batch_eager_s: float | None = None
    batch_compiled_s: float | None = None
    gpu_clock_mhz: float | None = None  # right after the timed calls
    starts: dict[str, float | None] = field(default_factory=dict)  # precompiled starts, by harness.bench.starts kind

    def errors(self) -> list[BaseException]:
        calls = [self.first, *self.calls] if self.first else self.calls
        found = [c.error for c in calls if c.error is not None and not c.ok]
        return [self.setup_error, *found] if self.setup_error else found
