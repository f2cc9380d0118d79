"""How compiled mode compiles: the settings, ``torch.compile`` after a dynamo reset, inductor's switches and caches,
SDPA backends, and dynamo's counters (graphs, breaks). Imports torch only when called."""

from __future__ import annotations

import contextlib
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


def compile_module(module: Any, settings: CompileSettings) -> Any:
    """A fresh ``torch.compile`` of ``module``: dynamo's caches and counters reset first (inductor's stay)."""
    import torch
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    return torch.compile(module, mode=settings.mode, backend=settings.backend, dynamic=settings.dynamic)


@contextlib.contextmanager
def inductor_config(settings: CompileSettings) -> Iterator[None]:
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


def dynamo_stats() -> tuple[int, int, list[str]]:
    """(graphs compiled, graph breaks, their reasons' first lines) since the last ``torch._dynamo.reset()``."""
    from torch._dynamo.utils import counters

    reasons = [reason.strip().splitlines()[0][:200] for reason in counters["graph_break"]]
    return int(counters["stats"]["unique_graphs"]), int(sum(counters["graph_break"].values())), reasons
