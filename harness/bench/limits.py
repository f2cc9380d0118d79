"""Distance to the limit: the FLOPs of one prediction and a matmul throughput measured in the same process, so that a
latency can be read as a share of the physical floor (FLOPs / throughput). Imports torch only when called."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import Any

from harness.model.precision import matmul_precision, weight_dtype

MATMUL_SIZE = 2048  # a square matmul large enough to run near the machine's peak (2 * 2048^3 = 17.2 GFLOP)
MATMUL_REPEATS = 3  # the best of these, after one warm-up: the throughput the machine can reach, not its average


def count_flops(call: Callable[[], object]) -> float:
    """Floating-point operations of ``call()`` as torch's FlopCounterMode counts them (matmuls, attention, convs)."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        call()
    return float(counter.get_total_flops())


def matmul_gflops(
    dtype: str = "float32", *, size: int = MATMUL_SIZE, repeats: int = MATMUL_REPEATS, device: str = "cpu"
) -> float:
    """:func:`measure_matmul`, once per process, dtype, device and thread count (a process runs one bench; tests run
    many)."""
    import torch

    return _matmul_gflops(dtype, size, repeats, torch.get_num_threads(), device)


@functools.cache
def _matmul_gflops(dtype: str, size: int, repeats: int, threads: int, device: str) -> float:
    return measure_matmul(dtype, size=size, repeats=repeats, device=device)


def measure_matmul(
    dtype: str = "float32", *, size: int = MATMUL_SIZE, repeats: int = MATMUL_REPEATS, device: str = "cpu"
) -> float:
    """GFLOP/s of a ``size`` x ``size`` matmul in ``dtype`` on ``device``: the best of ``repeats``.

    On a CPU (this process's threads), the best of the two GEMM libraries torch reaches: ATen's ``mm`` (MKL for
    float32) and oneDNN's linear on a prepacked weight (what inductor's freezing emits in AOT mode). They differ by 2x
    on some CPUs: on an AMD Zen 5 here MKL's sgemm ran at 216 GFLOP/s and oneDNN at 445, so a floor from ``mm`` alone
    would be one that compiled code can beat. On a GPU, ``mm`` on that GPU, synchronised: a run on an H200 used to
    read its floor from the host's CPU (1.4 TFLOP/s against the GPU's 51 in float32) and print shares over 100%."""
    import torch

    a, b = _operands(weight_dtype(dtype), size, device)
    if device.startswith("cuda"):
        with matmul_precision(dtype):  # "tf32": float32 operands on tensor cores; any other: strict IEEE float32
            return _measure_cuda(a, b, repeats=repeats, device=device)
    kernels: list[Callable[[], object]] = [lambda: torch.mm(a, b)]
    if torch.backends.mkldnn.is_available():  # type: ignore[no-untyped-call]
        try:
            packed = torch.ops.mkldnn._reorder_linear_weight(b, size)
            kernels.append(lambda: torch.ops.mkldnn._linear_pointwise(a, packed, None, "none", [], ""))
        except RuntimeError:  # no oneDNN kernel for this dtype here
            pass
    best = float("inf")
    for index, kernel in enumerate(kernels):
        try:
            kernel()  # warm-up: thread pool, packing buffers
        except RuntimeError:  # oneDNN without this dtype on this CPU: ATen's mm alone
            if index == 0:
                raise
            continue
        for _ in range(repeats):
            start = time.perf_counter()
            kernel()
            best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 / best / 1e9


def _operands(dtype: str, size: int, device: str) -> tuple[Any, Any]:
    """Two ``size`` x ``size`` random matrices in ``dtype`` on ``device`` (seeded: every run multiplies the same)."""
    import torch

    generator = torch.Generator().manual_seed(0)
    return tuple(torch.randn(size, size, generator=generator).to(device=device, dtype=getattr(torch, dtype)) for _ in range(2))  # type: ignore[return-value]


def _measure_cuda(a: Any, b: Any, *, repeats: int, device: str) -> float:
    import torch

    size = int(a.shape[0])
    torch.mm(a, b)  # warm-up: cuBLAS handles, kernel selection
    best = float("inf")
    for _ in range(repeats):
        torch.cuda.synchronize(device)
        start = time.perf_counter()
        torch.mm(a, b)
        torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 / best / 1e9


def floor_share(flops: float | None, gflops: float | None, latency_s: float | None) -> float | None:
    """The floor (FLOPs at the measured throughput) as a share of ``latency_s``: 1.0 would be a prediction running
    every FLOP at matmul speed with nothing else. None when anything is missing or not positive. Pure."""
    if flops is None or gflops is None or latency_s is None:
        return None
    if not all(math.isfinite(x) and x > 0 for x in (flops, gflops, latency_s)):
        return None
    return flops / (gflops * 1e9) / latency_s
