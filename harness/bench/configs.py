"""Compile configurations: named compile configurations and the sets that run by default (the pick of the best is
:mod:`harness.gate.picking`).

Every configuration is compared with the same eager mode (float32, eager attention), so their speedups and drifts
line up. Pure: no torch.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from harness.results.schema import RunRecord


# name -> bench settings (BenchRequest fields) that differ from the default configuration
CONFIGS: dict[str, dict[str, object]] = {
    "default": {},
    "sdpa": {"attn": "sdpa"},
    "static": {"dynamic": "false"},
    "dynamic": {"dynamic": "true"},
    "freezing": {"freezing": True},
    "bf16": {"dtype": "bfloat16"},
    "max-autotune": {"compile_mode": "max-autotune"},
    "reduce-overhead": {"compile_mode": "reduce-overhead"},
    "sdpa-freezing": {"attn": "sdpa", "freezing": True},
    "sdpa-math": {"attn": "sdpa", "sdpa_backend": "math"},
    "sdpa-efficient": {"attn": "sdpa", "sdpa_backend": "efficient"},  # CUDA; on CPU it has no kernel
    "sdpa-flash": {"attn": "sdpa", "sdpa_backend": "flash"},  # Chronos-2's float mask rules it out
    # the deeper search (issue 16): inductor's C++ GEMM templates, its C++ wrapper, the encoder alone, threads, AOT
    "max-autotune-cpp": {"compile_mode": "max-autotune", "gemm_backends": "CPP,ATEN"},
    "cpp-wrapper": {"cpp_wrapper": True},
    "encoder": {"compile_scope": "encoder"},  # the encoder stack, fullgraph=True; pre/post-processing stays eager
    "freezing-cpp-gemm": {"freezing": True, "compile_mode": "max-autotune", "gemm_backends": "CPP,ATEN"},
    "freezing-cpp-wrapper": {"freezing": True, "cpp_wrapper": True},
    "encoder-freezing": {"compile_scope": "encoder", "freezing": True},
    "encoder-freezing-cpp-gemm": {
        "compile_scope": "encoder",
        "freezing": True,
        "compile_mode": "max-autotune",
        "gemm_backends": "CPP,ATEN",
    },
    "threads-1": {"compile_threads": 1},  # the compiled model on one thread (its eager partner keeps the process's)
    "omp-close": {"omp_bind": "close"},  # OpenMP threads pinned to cores, eager partner included
    "aot-encoder": {"compile_scope": "aot-encoder"},  # torch.export + AOTInductor package of the encoder
    "aot-encoder-freezing": {"compile_scope": "aot-encoder", "freezing": True},
    "encoder-bf16": {"compile_scope": "encoder", "dtype": "bfloat16"},
    "int8": {"dtype": "int8-dynamic"},  # every Linear dynamically quantized to int8 (torch.ao), judged as bf16 is; CPU
    "encoder-int8": {"compile_scope": "encoder", "dtype": "int8-dynamic"},
    "onnx-encoder": {"compile_scope": "onnx-encoder"},  # the encoder exported to ONNX, run by ONNX Runtime (CPU, extra)
    "tf32": {"dtype": "tf32"},  # float32 weights, matmuls in TF32 on tensor cores, judged as bf16 is; CUDA (skipped on CPU)
    # freezing packs linear weights for MKL, except in AOT mode or with a symbolic batch: then for oneDNN
    # (torch/_inductor/fx_passes/mkldnn_fusion.py), which on some CPUs (AMD Zen 5 here) runs GEMMs 2x faster than MKL
    "freezing-dynamic": {"freezing": True, "dynamic": "true"},
    "encoder-freezing-dynamic": {"compile_scope": "encoder", "freezing": True, "dynamic": "true"},
}
# the bench flags a configuration sets (each settings key is a BenchRequest field named as its flag): a sweep refuses
# them after `--`
CONFIG_FLAGS = tuple(dict.fromkeys(f"--{field.replace('_', '-')}" for settings in CONFIGS.values() for field in settings))
SETS: dict[str, tuple[str, ...]] = {
    "default": ("default", "sdpa", "static", "freezing", "bf16"),  # about one cold compile each
    "full": tuple(CONFIGS),  # every configuration: the search's, dynamic, reduce-overhead (CUDA graphs), SDPA backends
    # on CUDA: the reduced precisions each time their eager too (dtype gain beside compile gain)
    "gpu": ("default", "sdpa", "reduce-overhead", "tf32", "bf16", "sdpa-efficient", "sdpa-flash", "sdpa-math"),
    # the search for a configuration worth adopting on CPU (docs/configurations.md#the-search); with --starts
    "search": (
        "default",
        "freezing",
        "cpp-wrapper",
        "encoder",
        "max-autotune-cpp",
        "freezing-cpp-gemm",
        "freezing-cpp-wrapper",
        "encoder-freezing",
        "encoder-freezing-cpp-gemm",
        "threads-1",
        "omp-close",
        "aot-encoder",
        "aot-encoder-freezing",
        "freezing-dynamic",
        "encoder-freezing-dynamic",
        "bf16",
        "encoder-bf16",
        "int8",
        "encoder-int8",
        "onnx-encoder",  # skipped without the onnx extra, with the reason
        "tf32",  # skipped on CPU, with the reason
    ),
}


@functools.cache
def _names_by_label() -> dict[str, str]:
    from harness.bench.request import BenchRequest
    from harness.results.keys import compile_config

    labels: dict[str, str] = {}
    for name, settings in CONFIGS.items():
        columns = BenchRequest(mode="compiled", **settings).compile_settings().columns()  # type: ignore[arg-type]
        labels.setdefault(compile_config(cast("RunRecord", SimpleNamespace(**columns))), name)
    return labels


def name_of(label: str) -> str:
    """The configuration name (``aot-encoder-freezing``) of a compile-config label, or the label when none matches."""
    return _names_by_label().get(label, label)


def expand(selection: str) -> list[str]:
    """``default`` | ``full`` | a comma-separated list of configuration names, in order, without repeats."""
    names = SETS.get(selection) or tuple(part.strip() for part in selection.split(",") if part.strip())
    unknown = [name for name in names if name not in CONFIGS]
    if unknown:
        raise ValueError(
            f"unknown configuration(s) {', '.join(unknown)}; choose from {', '.join(CONFIGS)} or a set: {', '.join(SETS)}"
        )
    return list(dict.fromkeys(names))
