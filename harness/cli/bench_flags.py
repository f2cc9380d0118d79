"""The flags of ``bench`` (each dest a field of :class:`harness.bench.request.BenchRequest`, shared with ``ab``), and
the directory flags every command that reads or writes files takes. Grammar only: nothing runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.base.options import BENCH_ROWS, DEFAULT_CONFIRM, DEFAULT_RUNS, STRESS_CASES
from harness.base.project import default_dir
from harness.bench.faults import Fault, FaultKind
from harness.bench.isolation import DEFAULT_TIMEOUT_S
from harness.cli import argtypes
from harness.model.precision import PRECISIONS


def bench_flags(bench: argparse.ArgumentParser, *, mode: bool = True) -> None:
    """The flags of ``bench``; each dest is a field of :class:`harness.bench.request.BenchRequest`. ``mode``: whether
    the command asks for ``--mode`` (``ab`` always benches compiled, with its eager partner interleaved)."""
    if mode:
        bench.add_argument("--mode", choices=("eager", "compiled"), required=True)
    bench.add_argument("--symbol", action="append", help="symbol(s) in the data dir (repeatable; default BTCUSD)")
    bench.add_argument(
        "--model", help="override the hyperparams' model: a profile (see `models`), a hub id, a local dir, s3://..."
    )
    bench.add_argument(
        "--runs",
        type=argtypes.positive,
        default=DEFAULT_RUNS,
        help=f"timed predictions after the first call (default {DEFAULT_RUNS})",
    )
    bench.add_argument(
        "--rows",
        type=argtypes.positive,
        default=BENCH_ROWS,
        help=f"last rows of the CSV to use, horizon included (default {BENCH_ROWS})",
    )
    bench.add_argument(
        "--context-length",
        type=argtypes.positive,
        help="override the hyperparams' context_length (clipped, with a note, to what the window holds)",
    )
    bench.add_argument(
        "--date-format",
        default=None,
        metavar="ORDER|FORMAT",
        help="how the CSV writes dates: auto (default, read from the file), day-first, month-first, or a strptime format such as %%d/%%m/%%Y",
    )
    bench.add_argument("--device", help="override the hyperparams' device: auto, cpu, cuda, cuda:N")
    bench.add_argument(
        "--compile-mode",
        default="default",
        choices=("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"),
        help="torch.compile mode (default: default)",
    )
    bench.add_argument("--backend", default="inductor", help="torch.compile backend (default: inductor)")
    bench.add_argument(
        "--dynamic", choices=("auto", "true", "false"), default="auto", help="torch.compile dynamic= (default: auto, i.e. None)"
    )
    bench.add_argument(
        "--inductor-cache",
        default="cold",
        help="'cold' (default): a fresh inductor cache per run, so compile time is cold; "
        "'off': inductor's caches disabled (TORCHINDUCTOR_FORCE_DISABLE_CACHES); or a directory to reuse (warm)",
    )
    bench.add_argument(
        "--attn",
        choices=("eager", "sdpa"),
        default="eager",
        help="attention the compiled model loads with (default: eager, as in eager mode)",
    )
    bench.add_argument(
        "--dtype",
        choices=PRECISIONS,
        default="float32",
        help="the compiled model's dtype (default float32; eager mode is always float32); int8-dynamic: float32 weights, "
        "every Linear dynamically quantized to int8 (CPU); tf32: float32 weights, matmuls on tensor cores in TF32 (CUDA)",
    )
    bench.add_argument(
        "--sdpa-backend",
        choices=("math", "flash", "efficient", "cudnn"),
        default="",
        help="with --attn sdpa: restrict SDPA to one backend (default: torch chooses)",
    )
    bench.add_argument(
        "--freezing",
        action="store_true",
        help="compile with torch._inductor.config.freezing (constant-folded weights, a CPU inference switch)",
    )
    bench.add_argument(
        "--gemm-backends",
        default="",
        metavar="LIST",
        help="inductor's max_autotune_gemm_backends, e.g. CPP,ATEN (C++ GEMM templates; with --compile-mode max-autotune)",
    )
    bench.add_argument(
        "--cpp-wrapper", action="store_true", help="inductor's cpp_wrapper: the generated wrapper code in C++, not Python"
    )
    bench.add_argument(
        "--compile-scope",
        choices=("model", "encoder", "aot-encoder", "onnx-encoder"),
        default="model",
        help="what compiled mode compiles: the whole model (default), its encoder stack with fullgraph=True, the encoder "
        "exported and built as an AOTInductor package at the first call, or exported to ONNX and run by ONNX Runtime "
        "(CPU; pip install 'chronos-compile-bench[onnx]')",
    )
    bench.add_argument(
        "--compile-threads",
        type=argtypes.positive,
        default=None,
        metavar="N",
        help="intra-op threads for the compiled model's calls (the interleaved eager calls keep the process's)",
    )
    bench.add_argument(
        "--omp-bind",
        choices=("close", "spread"),
        default="",
        help="OMP_PROC_BIND (with OMP_PLACES=cores) for the run's process, eager partner included",
    )
    bench.add_argument(
        "--starts",
        action="store_true",
        help="compiled mode: after the timed calls, measure precompiled starts in fresh processes (warm disk cache, "
        "portable cache artifacts or the AOTInductor package)",
    )
    bench.add_argument(
        "--fault",
        type=argtypes.fault,
        default=None,
        metavar="KIND[@P][:SYMBOL]",
        help="self-test: exception, crash, hang or oom at the measured mode's first call; or raise@P: each prediction attempt raises "
        "with probability P (default 1; P < 1 plants a flaky run); or slow@F: each measured prediction 1+F times as long "
        "(default 0.3), a planted timing regression. :SYMBOL limits it to one symbol",
    )
    bench.add_argument(
        "--plant", dest="fault", type=argtypes.planted, metavar="KIND[:SYMBOL]", help="deprecated alias of --fault KIND[:SYMBOL]"
    )
    bench.add_argument(
        "--inject-failure",
        dest="fault",
        nargs="?",
        type=argtypes.failure_rate,
        const=Fault(kind=FaultKind.RAISE),
        metavar="P",
        help="deprecated alias of --fault raise@P",
    )
    bench.add_argument(
        "--isolate",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run each symbol in its own child process, so a crash, hang or OOM kill becomes a result row (default: on)",
    )
    bench.add_argument(
        "--timeout",
        type=argtypes.seconds,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"seconds one isolated run may take before it is killed and recorded as timeout (default {DEFAULT_TIMEOUT_S:g})",
    )
    bench.add_argument(
        "--warm-compile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="compiled mode: compile a second time on the filled inductor cache and record the warm compile time (default: on)",
    )
    bench.add_argument(
        "--vary-shapes",
        action="store_true",
        help="compiled mode: after the timed calls, 3 calls on shorter contexts (new shapes); recompiles and their cost "
        "recorded, a call that fails on its shape recorded as failed (always on for --compile-scope aot-encoder)",
    )
    bench.add_argument(
        "--batch-series",
        type=argtypes.positive,
        default=0,
        metavar="N",
        help="compiled mode: after the timed calls, one call on N windows of the series (many series per call), eager and "
        "compiled, best of 3 each: a throughput beside the latency (default: off)",
    )
    bench.add_argument(
        "--keep-artifacts",
        type=Path,
        default=None,
        metavar="DIR",
        help="compiled mode: keep the AOTInductor package (aot-encoder) or inductor's cache artifacts in DIR, with a "
        "manifest (torch, CPU/GPU, shapes, the lines that load it)",
    )
    bench.add_argument(
        "--extreme",
        "--stress",
        dest="extreme",
        choices=sorted(STRESS_CASES),
        help="distort the real window as CASE (see `extreme`); the symbol becomes SYMBOL~CASE (--stress: deprecated alias)",
    )
    bench.add_argument("--run-id", help=argparse.SUPPRESS)  # a run id to write under (tests; results are never overwritten)
    bench.add_argument("--confirms", default="", help=argparse.SUPPRESS)  # a re-bench: the compiled run id it re-measures
    bench.add_argument(
        "--confirm",
        type=argtypes.k_of_n,
        default=DEFAULT_CONFIRM,
        metavar="K/N",
        help="a failing prediction is tried up to N times and counts as failed after K failures (default 2/3); "
        "fewer than K failures make it flaky, recorded with its flip rate",
    )
    dirs(bench, results=True, data=True)


def dirs(parser: argparse.ArgumentParser, *, results: bool = False, data: bool = False, baselines: bool = False) -> None:
    """The directory flags; each default found as :mod:`harness.base.project` says (so an installed harness finds its
    shipped data from any directory), shown in the help as found."""
    if results:
        found = default_dir("results")
        parser.add_argument("--results-dir", type=Path, default=found, help=f"where Parquet results live (default {found}/)")
    if data:
        found = default_dir("trainingdata")
        parser.add_argument("--data-dir", type=Path, default=found, help=f"OHLC CSVs (default {found}/)")
        found = default_dir("hyperparams")
        parser.add_argument("--hyperparams-dir", type=Path, default=found, help=f"per-symbol JSON (default {found}/)")
    if baselines:
        found = default_dir("baselines")
        parser.add_argument("--baselines-dir", type=Path, default=found, help=f"committed baselines (default {found}/)")
