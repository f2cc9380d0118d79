"""How compiled mode compiles: the settings, ``torch.compile`` after a dynamo reset (of the whole model or of its
encoder stack only), an AOTInductor package of the encoder, inductor's switches and caches, SDPA backends, thread
settings, and dynamo's and inductor's counters (graphs, breaks, GEMM kernels). Imports torch only when called."""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


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
    gemm_backends: str = ""  # inductor's max_autotune_gemm_backends (e.g. "CPP,ATEN": C++ GEMM templates); "" = torch's
    cpp_wrapper: bool = False  # inductor's cpp_wrapper: the generated wrapper in C++, less Python between kernels
    scope: str = (
        "model"  # what is compiled: "model", "encoder" (the encoder stack, fullgraph=True), "aot-encoder" or "onnx-encoder"
    )
    threads: int = 0  # intra-op threads for the compiled model's calls (0 = the process's, torch's default)
    omp_bind: str = ""  # OMP_PROC_BIND for the whole run's process ("close", "spread"; "" = unset), with OMP_PLACES=cores

    def columns(self) -> dict[str, Any]:
        """The result row's columns for these settings (harness.results.schema.RunRecord)."""
        return {
            "compile_mode": self.mode,
            "compile_backend": self.backend_label,
            "compile_dynamic": self.dynamic_label,
            "compile_cache": self.cache,
            "attn_implementation": self.attn_implementation,
            "dtype": self.dtype,
            "compile_freezing": self.freezing,
            "sdpa_backend": self.sdpa_backend,
            "gemm_backends": self.gemm_backends,
            "cpp_wrapper": self.cpp_wrapper,
            "compile_scope": self.scope if self.scope != "model" else "",
            "compile_threads": self.threads,
            "omp_bind": self.omp_bind,
        }

    @property
    def backend_label(self) -> str:
        return self.backend if isinstance(self.backend, str) else getattr(self.backend, "__name__", "custom")

    @property
    def dynamic_label(self) -> str:
        return "auto" if self.dynamic is None else str(self.dynamic).lower()


@contextlib.contextmanager
def inductor_cache(cache: str) -> Iterator[None]:
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


EXPORTED_SCOPES = ("aot-encoder", "onnx-encoder")  # the encoder exported once (torch.export): one graph, no dynamo


# an eager run's columns for the compile settings (the uncompiled defaults)
EAGER_COLUMNS: dict[str, Any] = {
    "compile_mode": "",
    "compile_backend": "",
    "compile_dynamic": "",
    "compile_cache": "",
    "attn_implementation": "eager",
    "dtype": "float32",
}


def compile_module(module: Any, settings: CompileSettings, *, package: str = "") -> Any:
    """A fresh compile of ``module`` (a Chronos-2 model) as ``settings.scope`` says, dynamo's caches and counters reset
    first (inductor's stay): the whole model with ``torch.compile``; only its encoder stack with ``fullgraph=True`` (the
    data-dependent pre- and post-processing stays eager); the encoder exported and built into an AOTInductor package
    at the first call (``package``: load this package instead of building one: a precompiled start); or the encoder
    exported to ONNX and run by ONNX Runtime (:mod:`harness.bench.onnx_encoder`)."""
    import torch
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    if settings.scope == "encoder":
        encoder = torch.compile(
            module.encoder, mode=settings.mode, backend=settings.backend, dynamic=settings.dynamic, fullgraph=True
        )
        return with_encoder(module, encoder)
    if settings.scope == "aot-encoder":
        return with_encoder(module, AotEncoder(module.encoder, package=package))
    if settings.scope == "onnx-encoder":
        from harness.bench.onnx_encoder import OnnxEncoder

        return with_encoder(module, OnnxEncoder(module.encoder))
    return torch.compile(module, mode=settings.mode, backend=settings.backend, dynamic=settings.dynamic)


def with_encoder(model: Any, encoder: Any) -> Any:
    """A shallow copy of ``model`` (same weights) whose encoder is ``encoder``: the eager model stays as it was."""
    clone = copy.copy(model)
    clone._modules = dict(model._modules)
    clone._modules["encoder"] = encoder
    return clone


def AotEncoder(encoder: Any, *, package: str = "") -> Any:
    """The encoder stack as an AOTInductor package (an ``nn.Module`` holding the encoder, so the model's parameters
    still count): built at the first call from that call's inputs (``torch.export``, static shapes), or loaded from
    ``package``. Called as the encoder is (keyword arguments), returning its output; ``.package`` names the file."""
    return _aot_encoder_class()(encoder, package)


@functools.cache
def _aot_encoder_class() -> type:
    import time

    import torch

    class _AotEncoder(torch.nn.Module):
        def __init__(self, encoder: Any, package: str) -> None:
            super().__init__()
            self.encoder, self.package = encoder, package
            self.runner: Any = None
            self.build_s: float | None = None

        def forward(self, **kwargs: Any) -> Any:
            if self.runner is None:
                self.runner = self._load(kwargs)
            return self.runner(**kwargs)

        def _load(self, kwargs: dict[str, Any]) -> Any:
            if not self.package:
                start = time.perf_counter()
                exported = torch.export.export(self.encoder, (), kwargs=kwargs, strict=False)
                cache = os.environ.get("TORCHINDUCTOR_CACHE_DIR") or tempfile.mkdtemp(prefix="harness-aot-")
                target = os.path.join(cache, "harness-encoder.pt2")
                self.package = str(torch._inductor.aoti_compile_and_package(exported, package_path=target))
                self.build_s = time.perf_counter() - start
            return torch._inductor.aoti_load_package(self.package)

    return _AotEncoder


def compiled_threads(settings: CompileSettings) -> contextlib.AbstractContextManager[None]:
    """Intra-op threads while the compiled model compiles or runs (inductor's C++ kernels take the count at compile
    time); the process's setting is restored after, so the interleaved eager calls keep it."""
    return _threads(settings.threads) if settings.threads else contextlib.nullcontext()


@contextlib.contextmanager
def _threads(count: int) -> Iterator[None]:
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def omp_environment(settings: CompileSettings) -> dict[str, str]:
    """The OpenMP variables a run's process needs before torch starts its thread pool ({} when unset)."""
    return {"OMP_PROC_BIND": settings.omp_bind, "OMP_PLACES": "cores"} if settings.omp_bind else {}


@contextlib.contextmanager
def inductor_config(settings: CompileSettings) -> Iterator[None]:
    """The configuration's switches (inductor freezing, SDPA backend), for as long as it compiles and runs."""
    import torch._inductor.config as inductor_config

    off = settings.cache == "off"  # every inductor cache disabled: the warm compile then shows in-memory reuse only
    switches: dict[str, object] = {"freezing": settings.freezing, "force_disable_caches": off}
    if settings.gemm_backends:
        switches["max_autotune_gemm_backends"] = settings.gemm_backends
    if settings.cpp_wrapper:
        switches["cpp_wrapper"] = True
    with inductor_config.patch(switches), _sdpa_backend(settings.sdpa_backend):
        yield


SDPA_BACKENDS = {"math": "MATH", "flash": "FLASH_ATTENTION", "efficient": "EFFICIENT_ATTENTION", "cudnn": "CUDNN_ATTENTION"}


def _sdpa_backend(name: str) -> contextlib.AbstractContextManager[None]:
    """``torch.nn.attention.sdpa_kernel`` restricted to one backend; Chronos-2's additive float mask rules out flash."""
    if not name:
        return contextlib.nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    return sdpa_kernel([getattr(SDPBackend, SDPA_BACKENDS[name])])


def end_compile_workers() -> bool:
    """End inductor's pool of compile worker processes, if it started one: they sit idle after the first call, and the
    timed calls should not share the cores with their housekeeping (on an H200 the machine reference reached 57 ms at
    p90 in a compiled run with the pool alive; issue 26). A later compile starts the pool again. Whether it could."""
    try:
        from torch._inductor.async_compile import shutdown_compile_workers
    except ImportError:  # an older torch: nothing to end
        return False
    try:
        shutdown_compile_workers()
    except Exception:  # a diagnostic nicety: the run goes on with the pool alive
        return False
    return True


def gemm_kernels() -> tuple[int, int]:
    """(C++ GEMM template kernels, calls to external kernels such as ATen/MKL/oneDNN) inductor generated since the last
    ``compile_module``: which GEMM backends ran."""
    from torch._dynamo.utils import counters

    return int(counters["inductor"]["cpp_templated_kernel_counter"]), int(counters["inductor"]["extern_calls"])


def dynamo_stats() -> tuple[int, int, list[str]]:
    """(graphs compiled, graph breaks, their reasons' first lines) since the last ``torch._dynamo.reset()``."""
    from torch._dynamo.utils import counters

    reasons = [reason.strip().splitlines()[0][:200] for reason in counters["graph_break"]]
    return int(counters["stats"]["unique_graphs"]), int(sum(counters["graph_break"].values())), reasons
