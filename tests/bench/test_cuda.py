"""CUDA paths (synchronised timing, peak CUDA memory) run where a GPU is; SDPA backend selection runs anywhere."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from harness.bench.compiling import CompileSettings
from harness.bench.runner import run
from tests.bench.conftest import tiny_spec

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")


@pytest.mark.heavy(seconds=6)
def test_sdpa_restricted_to_the_math_backend_runs() -> None:
    spec = tiny_spec("compiled", backend="eager", attn_implementation="sdpa", sdpa_backend="math")
    record = run(dataclasses.replace(spec, warm_compile=False))  # a second, warm compile is not what this test is about
    assert record.status == "pass", record.error_message
    assert record.sdpa_backend == "math" and record.attn_implementation == "sdpa"


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a CUDA machine the efficient kernel may exist")
def test_sdpa_backend_without_a_kernel_is_a_recorded_failure() -> None:
    record = run(tiny_spec("compiled", backend="eager", attn_implementation="sdpa", sdpa_backend="efficient"))  # no CPU kernel
    assert record.status == "fail_exception" and "No viable backend" in record.error_message


@needs_cuda
@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_cuda_run_records_peak_cuda_memory_and_synchronised_latency(mode: str) -> None:
    spec = dataclasses.replace(
        tiny_spec(mode),
        params=dataclasses.replace(tiny_spec(mode).params, device="cuda"),
        compile=CompileSettings(backend="inductor"),
    )
    record = run(spec)
    assert record.status == "pass", record.error_message
    assert record.device_type == "cuda" and record.peak_cuda_mb is not None and record.peak_cuda_mb > 0
    assert all(s > 0 for s in record.latencies_s)


@needs_cuda
def test_reduce_overhead_on_cuda_is_measured() -> None:
    base = tiny_spec("compiled")
    record = run(
        dataclasses.replace(
            base, params=dataclasses.replace(base.params, device="cuda"), compile=CompileSettings(mode="reduce-overhead")
        )
    )
    assert record.status in ("pass", "fail_accuracy"), record.error_message
    assert record.compile_mode == "reduce-overhead"


@needs_cuda
def test_the_floor_on_a_gpu_is_the_gpus_matmul() -> None:
    from harness.bench.limits import measure_matmul

    gpu = measure_matmul("float32", size=1024, repeats=2, device="cuda")
    cpu = measure_matmul("float32", size=1024, repeats=2, device="cpu")
    assert gpu > cpu > 0  # an H200 run used to take its floor from the host's CPU and report shares over 100%


def test_warming_the_device_runs_nothing_on_a_cpu_and_matmuls_on_a_gpu() -> None:
    from harness.bench.shapes import warm_device

    assert warm_device("cpu") == 0
    if torch.cuda.is_available():
        assert warm_device("cuda", seconds=0.2) > 0
