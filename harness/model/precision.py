"""The numeric precisions a compiled configuration may run in (the ``dtype`` column) beyond float32 weights: bfloat16
weights, TF32 matmuls on CUDA tensor cores, int8 dynamic quantization of the Linear layers. One place says what each
one loads and which matmul mode it runs under. Imports torch only when called."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

FLOAT32 = "float32"
BFLOAT16 = "bfloat16"
TF32 = "tf32"  # float32 weights; float32 matmuls on tensor cores with 10-bit mantissas (CUDA only)
INT8_DYNAMIC = "int8-dynamic"  # float32 weights loaded, then every Linear dynamically quantized to int8 (CPU only)
PRECISIONS = (FLOAT32, BFLOAT16, TF32, INT8_DYNAMIC)
# relative precision of one value: float32's machine epsilon, bfloat16's 8 bits, TF32's 11 (10 stored)
EPS = {FLOAT32: 2.0**-23, BFLOAT16: 2.0**-7, TF32: 2.0**-10}


def weight_dtype(precision: str) -> str:
    """The torch dtype name the weights load in: float32 for every precision that is a matmul mode, not a dtype."""
    return FLOAT32 if precision in (TF32, INT8_DYNAMIC) else precision


def unsupported_on(precision: str, device: str) -> str:
    """Why ``precision`` cannot run on ``device`` ("" when it can): a line for an :class:`InputError`."""
    if precision == INT8_DYNAMIC and device.startswith("cuda"):
        return f"dtype {INT8_DYNAMIC}: dynamic int8 quantization has CPU kernels only; fix: --device cpu, or another --dtype"
    if precision == TF32 and not device.startswith("cuda"):
        return (
            f"dtype {TF32}: TF32 is a CUDA tensor-core matmul mode (no CPU kernel here); fix: --device cuda, or another --dtype"
        )
    return ""


@contextlib.contextmanager
def matmul_precision(precision: str) -> Iterator[None]:
    """Inside: float32 matmuls on CUDA in TF32 for ``precision`` "tf32", in full IEEE float32 for any other (eager
    mode's reference never runs in TF32, whatever the process's default); restored after. Compiling reads the mode
    too (inductor picks its kernels under it), so a TF32 configuration compiles and runs inside. A CPU-only torch
    keeps the setting and ignores it."""
    import torch

    matmul = torch.backends.cuda.matmul
    previous = matmul.fp32_precision
    matmul.fp32_precision = "tf32" if precision == TF32 else "ieee"
    try:
        yield
    finally:
        matmul.fp32_precision = previous
