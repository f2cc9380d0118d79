"""The one Parquet schema of bench results, derived from :class:`RunRecord` (reading and writing it:
:mod:`harness.results.store`). Never imports torch.

One row per run: one (symbol, mode, configuration) measured N times, the raw per-prediction latencies kept in
a list column. Version 2 added the interleaved eager reference, the machine reference, flakiness and numerical
drift; version 3 the CPU's ISA flags (part of where a run ran); version 4 ``confirms`` (a re-bench that confirms or
clears a timing regression names the run it re-measures); version 5 the deeper compile configurations (GEMM backends,
cpp_wrapper, scope, threads), reduced precision judged against its own eager, the distance to the matmul floor and
precompiled starts; version 6 a reduced precision's own eager timings and quantile loss; version 7 the floor on the
model's own GEMMs, labelled shape variants and many series per call; older files still read (those columns empty).
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

from harness.base.textenum import TextEnum
from harness.results.fingerprint import Fingerprint

SCHEMA_VERSION = 7
READABLE_VERSIONS = ("1", "2", "3", "4", "5", "6", "7")
Mode = Literal["eager", "compiled"]


class RunStatus(TextEnum):
    """How a run ended (the ``status`` column)."""

    PASS = "pass"  # every call ran (flaky ones passed on re-run) and compiled stayed within drift tolerance of eager
    FAIL_EXCEPTION = (
        "fail_exception"  # a confirmed failure (compile, or a call failing k of n attempts), its first error recorded
    )
    FAIL_CRASH = "fail_crash"  # the run's process died of a signal (segfault, abort), recorded by the parent with its stderr tail
    TIMEOUT = "timeout"  # no result within the time limit, the process was killed
    OOM = "oom"  # out of memory (MemoryError, CUDA OOM, or killed by SIGKILL, the kernel OOM killer's signal)
    FAIL_ACCURACY = "fail_accuracy"  # compiled drifted from eager beyond tolerance
    EAGER_NONDETERMINISTIC = "eager_nondeterministic"  # eager disagreed with itself beyond its own float32 rounding error


STATUSES = tuple(status.value for status in RunStatus)


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """One row of the results table. :data:`SCHEMA` is derived from these fields: their order is the column order and
    each annotation gives the Arrow type (str -> string, int -> int64, float -> float64, bool, list[...], ``| None``
    nullable). A new field needs a default (what an older file reads as) and a ``SCHEMA_VERSION`` bump."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    timestamp_utc: str
    # what was run
    symbol: str
    data_file: str
    data_sha256: str
    rows_used: int
    mode: str  # Mode
    compile_mode: str  # "" in eager mode
    compile_backend: str
    compile_dynamic: str  # "auto" | "true" | "false" | ""
    compile_cache: str  # "cold" (fresh inductor cache dir per run) or the cache dir used
    attn_implementation: str
    dtype: str
    model_id: str
    model_trained: bool
    model_parameters: int
    weights_sha256: str
    prediction_length: int
    context_length: int
    batch_size: int
    n_predictions: int
    # outcome
    status: RunStatus
    error_type: str
    error_message: str
    n_success: int
    success_rate: float
    load_s: float
    first_call_s: float | None
    compile_s: float | None
    latencies_s: list[float] = field(default_factory=list)
    latency_median_s: float | None
    forecast_close: list[float] = field(default_factory=list)  # median forecast of the close, one per step
    truth_close: list[float] = field(default_factory=list)
    mae: float | None
    mae_pct: float | None
    naive_mae_pct: float | None  # last observed close repeated: persistence, the skill reference
    # schema v2 (defaults: what a version-1 file reads as)
    quantile_levels: list[float] = field(default_factory=list)
    paired_eager_latencies_s: list[float] = field(default_factory=list)  # compiled: uncompiled model, interleaved
    reference_s: list[float] = field(default_factory=list)  # machine reference workload, once per timed call
    confirm: str = ""  # "k/n": a failing call was tried up to n times, k failures confirmed it
    n_flaky: int = 0  # calls whose attempts disagreed
    flip_rate: float = 0.0  # n_flaky / calls made (compiled mode counts the interleaved eager calls too)
    eager_repeat_max_abs: float | None = None  # eager vs its own first forecast, max abs over every quantile
    eager_float32_error_abs: float | None = None  # eager float32 vs float64, max abs: the drift yardstick
    drift_max_abs: float | None = None  # compiled vs eager, max abs over every target, step and quantile
    drift_max_rel: float | None = None  # drift_max_abs / max |eager forecast|
    drift_by_quantile_abs: list[float] = field(default_factory=list)  # per quantile level, aligned with quantile_levels
    drift_tolerance_abs: float | None = None  # drift beyond this is fail_accuracy
    stderr_tail: str = ""  # last lines of the run's process stderr, when it died without writing its own row
    # compile diagnostics (compiled mode; None when not measured)
    n_graphs: int | None = None  # dynamo graphs after the first call (1 = no graph break)
    n_graph_breaks: int | None = None
    graph_break_reasons: list[str] = field(default_factory=list)  # first line of each distinct reason
    n_recompiles: int | None = None  # graphs compiled after the first call, across the run (shape changes included)
    warm_compile_s: float | None = None  # compile time again after torch._dynamo.reset(), inductor caches warm
    shape_variant_s: list[float] = field(default_factory=list)  # --vary-shapes: calls on shorter contexts (recompile included)
    peak_rss_mb: float | None = None  # peak resident memory of the run's process, MiB
    peak_cuda_mb: float | None = None  # torch.cuda.max_memory_allocated, MiB (CUDA only)
    break_even_calls: float | None = None  # compile_s / (eager - compiled median): predictions until compiling paid off
    compile_freezing: bool = False  # torch._inductor.config.freezing was on
    sdpa_backend: str = ""  # SDPA restricted to this backend ("" = torch chose)
    confirms: str = ""  # schema v4: the compiled run id this re-bench re-measures (``harness confirm``); "" for a normal run
    # schema v5: the compile configuration's further switches (harness.bench.compiling.CompileSettings)
    gemm_backends: str = ""  # inductor's max_autotune_gemm_backends ("" = torch's default)
    cpp_wrapper: bool = False
    compile_scope: str = ""  # "" = the whole model; "encoder" (fullgraph) or "aot-encoder" (AOTInductor package)
    compile_threads: int = 0  # intra-op threads of the compiled model's calls (0 = the process's)
    omp_bind: str = ""  # OMP_PROC_BIND of the run's process ("" = unset)
    cpp_template_kernels: int | None = None  # GEMMs inductor generated from its C++ templates
    extern_kernel_calls: int | None = None  # calls to external kernels (ATen, MKL, oneDNN) in the generated code
    # reduced precision: drift is judged against eager in the same dtype, with that dtype's own error as yardstick
    drift_reference: str = ""  # "" = float32 eager; "bfloat16 eager" for a bf16 configuration
    precision_error_abs: float | None = None  # eager in the configuration's dtype vs float32 eager, max abs
    precision_mae_diff_pct: float | None = None  # its MAE over the rolling windows vs float32 eager's, percent
    precision_windows: int = 0  # rolling evaluation windows behind precision_mae_diff_pct
    # distance to the limit: FLOPs of one prediction over a matmul throughput measured in the same run
    flops_per_prediction: float | None = None  # torch.utils.flop_counter.FlopCounterMode, one eager prediction
    matmul_gflops: float | None = None  # 2048^2 float32 matmul, this process's threads
    matmul_gflops_compiled: float | None = None  # the same in the configuration's dtype and threads
    # precompiled starts: compile cost of a fresh process (start cost = first call - steady call), seconds
    start_warm_disk_s: float | None = None  # inductor's on-disk caches filled by this run
    start_precompiled_s: float | None = None  # from a portable cache artifact, or from the AOTInductor package
    precompiled_kind: str = ""  # "cache artifacts" | "AOTInductor package" | "" (not measured)
    # schema v6: a reduced precision's own eager model, interleaved with the compiled calls and the float32 partner
    # (NaN: failed), so that what the dtype gives and what compiling adds on top are measured apart
    paired_dtype_eager_latencies_s: list[float] = field(default_factory=list)
    # the compiled model's weighted quantile loss (9 levels) over the rolling windows against float32 eager's, percent
    precision_wql_diff_pct: float | None = None
    # schema v7: the floor on the model's own GEMMs (each of one eager prediction's mm/addmm/bmm replayed alone at its
    # best, summed): float32 and the configuration's dtype and threads, seconds (harness.bench.limits.gemm_floor_s)
    gemm_floor_s: float | None = None
    gemm_floor_compiled_s: float | None = None
    # what the shape_variant_s calls were ("context-16", "series-2", ...), aligned; a failed call's seconds are NaN
    shape_variants: list[str] = field(default_factory=list)
    # many series per call: one call on batch_series windows, eager (float32) and compiled, each the best of a few, s
    batch_series: int = 0
    batch_eager_s: float | None = None
    batch_compiled_s: float | None = None
    gpu_clock_mhz: float | None = None  # the GPU's SM clock right after the timed calls (nvidia-smi); None on a CPU
    # environment fingerprint
    harness_version: str
    git_commit: str
    python_version: str
    torch_version: str
    chronos_version: str
    transformers_version: str
    numpy_version: str
    platform: str
    device_type: str
    device_name: str
    cpu_model: str
    cpu_count: int
    torch_threads: int
    cuda_version: str
    cuda_driver: str
    cpu_flags: str = (
        ""  # schema v3: ISA extensions (harness.results.fingerprint.INDUCTOR_ISA_FLAGS); "" in older files: not recorded
    )


def _arrow_type(hint: Any) -> pa.DataType:
    """The Arrow type of a :class:`RunRecord` field's annotation: ``float | None`` -> float64, ``list[str]`` -> list of string."""
    args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if typing.get_origin(hint) is list:
        return pa.list_(_arrow_type(args[0]))
    if args:  # X | None: nullable X
        return _arrow_type(args[0])
    simple = {bool: pa.bool_(), int: pa.int64(), float: pa.float64()}
    if hint in simple:
        return simple[hint]
    if isinstance(hint, type) and issubclass(hint, str):  # str, and the text enums (RunStatus)
        return pa.string()
    raise TypeError(f"RunRecord field type {hint!r} has no Arrow type here; add it to _arrow_type")


# Derived from RunRecord, so a new metric is one field there (and the code that measures it, harness/bench/rows.py).
SCHEMA = pa.schema(
    [
        (f.name, pa.int32() if f.name == "schema_version" else _arrow_type(typing.get_type_hints(RunRecord)[f.name]))
        for f in dataclasses.fields(RunRecord)
    ],
    metadata={b"harness_schema_version": str(SCHEMA_VERSION).encode()},
)


FINGERPRINT_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Fingerprint))  # the last columns
