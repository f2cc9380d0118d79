"""Distance to the limit: how close a latency comes to the time its matrix multiplications need at the best speed this
machine runs them. Two floors: the FLOPs of one prediction over a square matmul's throughput (the machine's peak: an
optimistic floor, since small GEMMs run slower), and the model's own GEMMs (every mm/addmm/bmm of one eager
prediction, recorded with its shapes) each replayed alone at its best (:func:`gemm_floor_s`). Imports torch only when
called."""

from __future__ import annotations

import functools
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
    """Two ``size`` x ``size`` random matrices in ``dtype`` on ``device``."""
    a, b = _random([(size, size), (size, size)], dtype, device)
    return a, b


def _random(shapes: Sequence[tuple[int, ...]], dtype: str, device: str) -> list[Any]:
    """Random tensors of ``shapes`` in ``dtype`` on ``device``, seeded: every run multiplies the same numbers."""
    import torch

    generator = torch.Generator().manual_seed(0)
    return [torch.randn(shape, generator=generator).to(device=device, dtype=getattr(torch, dtype)) for shape in shapes]


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


GEMM_OPS = ("mm", "addmm", "bmm", "baddbmm")  # the aten ops a Chronos-2 prediction's matrix products reach
GEMM_CALLS = 10  # calls per timing of one GEMM shape (short ones are microseconds)


@dataclass(frozen=True, kw_only=True)
class Gemm:
    """One distinct matrix product of a prediction: the aten op, its operands' shapes, how often one prediction runs it."""

    op: str
    shapes: tuple[tuple[int, ...], ...]
    count: int

    @property
    def flops(self) -> float:
        """2·(B·)M·K·N per product, times ``count``; the bias add not counted (as FlopCounterMode counts)."""
        return 2.0 * math.prod(self.shapes[-2]) * self.shapes[-1][-1] * self.count


def model_gemms(call: Callable[[], object]) -> list[Gemm]:
    """The matrix products ``call()`` runs (aten mm, addmm, bmm, baddbmm), with their operand shapes and counts, in
    order of first use. Recorded under a dispatch mode: what reaches the kernels, after linear and matmul decompose."""
    from torch.utils._python_dispatch import TorchDispatchMode

    seen: Counter[tuple[str, tuple[tuple[int, ...], ...]]] = Counter()

    class Recording(TorchDispatchMode):  # type: ignore[no-untyped-call]
        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            name = func.overloadpacket.__name__
            if name in GEMM_OPS:
                seen[(name, tuple(tuple(int(d) for d in a.shape) for a in args if hasattr(a, "shape")))] += 1
            return func(*args, **(kwargs or {}))

    with Recording():  # type: ignore[no-untyped-call]
        call()
    return [Gemm(op=op, shapes=shapes, count=count) for (op, shapes), count in seen.items()]


def gemm_floor_s(gemms: Sequence[Gemm], dtype: str = "float32", *, device: str = "cpu", repeats: int = MATMUL_REPEATS) -> float:
    """Seconds one prediction's GEMMs need when each runs alone at its best on ``device`` in ``dtype`` (``count`` x
    the best of ``repeats`` timings of :data:`GEMM_CALLS` calls, after one warm-up; on a CPU the best of ATen's op
    and oneDNN's linear on a prepacked weight, as :func:`measure_matmul`). Dispatch included (a few microseconds a
    call, which compiled code with a C++ wrapper may save): a floor for code that calls these GEMMs, not for code that
    fuses them into larger ones; a latency under it is flagged, not hidden."""
    import torch

    total = 0.0
    with matmul_precision(dtype):
        for gemm in gemms:
            operands = _random(gemm.shapes, weight_dtype(dtype), device)
            best = float("inf")
            for kernel in _gemm_kernels(gemm, operands, device):
                try:
                    kernel()
                except RuntimeError:  # no oneDNN kernel for this dtype or shape here: the other kernel stands
                    continue
                for _ in range(repeats):
                    if device.startswith("cuda"):
                        torch.cuda.synchronize(device)
                    start = time.perf_counter()
                    for _ in range(GEMM_CALLS):
                        kernel()
                    if device.startswith("cuda"):
                        torch.cuda.synchronize(device)
                    best = min(best, (time.perf_counter() - start) / GEMM_CALLS)
            if not math.isfinite(best):
                raise RuntimeError(f"no kernel ran {gemm.op} on {gemm.shapes} in {dtype}")
            total += gemm.count * best
    return total


def _gemm_kernels(gemm: Gemm, operands: list[Any], device: str) -> list[Callable[[], object]]:
    """The ways to run ``gemm``: its aten op, and on a CPU oneDNN's linear on a prepacked weight for a 2-D product."""
    import torch

    op = getattr(torch.ops.aten, gemm.op)
    kernels: list[Callable[[], object]] = [lambda: op(*operands)]
    two_d = gemm.op in ("mm", "addmm") and all(len(shape) <= 2 for shape in gemm.shapes)
    if two_d and not device.startswith("cuda") and torch.backends.mkldnn.is_available():  # type: ignore[no-untyped-call]
        bias, left, right = operands if gemm.op == "addmm" else (None, *operands)
        if bias is not None and bias.dim() != 1:
            return kernels
        try:
            packed = torch.ops.mkldnn._reorder_linear_weight(right.t().contiguous(), left.shape[0])
        except RuntimeError:
            return kernels
        kernels.append(lambda: torch.ops.mkldnn._linear_pointwise(left, packed, bias, "none", [], ""))
    return kernels


def floor_share(flops: float | None, gflops: float | None, latency_s: float | None) -> float | None:
    """The floor (FLOPs at the measured throughput) as a share of ``latency_s``: 1.0 would be a prediction running
    every FLOP at matmul speed with nothing else. None when anything is missing or not positive. Pure."""
    if flops is None or gflops is None or latency_s is None:
        return None
    if not all(math.isfinite(x) and x > 0 for x in (flops, gflops, latency_s)):
        return None
    return flops / (gflops * 1e9) / latency_s


def seconds_share(floor_s: float | None, latency_s: float | None) -> float | None:
    """A floor in seconds (:func:`gemm_floor_s`) as a share of ``latency_s``; None when either is missing or not
    positive. Pure."""
    if floor_s is None or latency_s is None or not all(math.isfinite(x) and x > 0 for x in (floor_s, latency_s)):
        return None
    return floor_s / latency_s
