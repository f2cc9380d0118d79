"""The reduced precisions beyond bfloat16: TF32 (CUDA: refused on a CPU, skipped by a sweep, and its plumbing run here
with the refusal lifted, where the matmul mode is recorded but ignored) and what each precision loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.base.errors import InputError
from harness.bench.request import BenchRequest, plan
from harness.bench.runner import run
from harness.model.precision import BFLOAT16, FLOAT32, INT8_DYNAMIC, TF32, matmul_precision, unsupported_on, weight_dtype
from tests.bench.conftest import tiny_spec

ROOT = Path(__file__).resolve().parents[2]


def test_each_precision_says_what_its_weights_load_in_and_where_it_cannot_run() -> None:
    assert [weight_dtype(p) for p in (FLOAT32, BFLOAT16, TF32, INT8_DYNAMIC)] == ["float32", "bfloat16", "float32", "float32"]
    assert unsupported_on(TF32, "cpu").startswith("dtype tf32: TF32 is a CUDA") and "fix: --device cuda" in unsupported_on(
        TF32, "cpu"
    )
    assert unsupported_on(INT8_DYNAMIC, "cuda:0").startswith("dtype int8-dynamic") and unsupported_on(TF32, "cuda") == ""
    assert unsupported_on(BFLOAT16, "cpu") == unsupported_on(INT8_DYNAMIC, "cpu") == ""


def test_the_matmul_mode_is_tf32_only_inside_and_restored_after() -> None:
    import torch

    matmul = torch.backends.cuda.matmul
    before = matmul.fp32_precision
    with matmul_precision(TF32):
        assert matmul.fp32_precision == "tf32"
        with matmul_precision(FLOAT32):  # eager mode's reference inside a TF32 run: strict IEEE float32
            assert matmul.fp32_precision == "ieee"
        assert matmul.fp32_precision == "tf32"
    assert matmul.fp32_precision == before
    with pytest.raises(RuntimeError), matmul_precision(TF32):
        raise RuntimeError("a failing call")
    assert matmul.fp32_precision == before  # restored on the way out of an error too


def test_tf32_on_a_cpu_is_refused_in_one_line_before_any_run(tmp_path: Path) -> None:
    request = BenchRequest(
        mode="compiled",
        dtype=TF32,
        model="tiny",
        device="cpu",
        data_dir=ROOT / "trainingdata",
        hyperparams_dir=ROOT / "hyperparams",
        results_dir=tmp_path,
    )
    with pytest.raises(InputError, match=r"^--dtype tf32: TF32 is a CUDA .*; fix: --device cuda, or another --dtype$"):
        plan(request)
    assert not list(tmp_path.iterdir())


def test_a_sweep_skips_tf32_on_a_cpu_with_the_reason_and_runs_the_rest(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from harness.bench import benching

    ran: list[tuple[str, str]] = []

    def bench(request: BenchRequest) -> int:
        ran.append((request.mode, request.dtype))
        return 0

    monkeypatch.setattr(benching, "bench", bench)
    base = BenchRequest(mode="eager", model="tiny", device="cpu", hyperparams_dir=ROOT / "hyperparams", results_dir=tmp_path)
    assert benching.configs(base, ["tf32", "default"]) == 0
    out = capsys.readouterr().out
    assert "== tf32: skipped: dtype tf32: TF32 is a CUDA tensor-core matmul mode (no CPU kernel here)\n" in out
    assert ran == [("eager", "float32"), ("compiled", "float32")] and "2 runs per symbol written" in out


@pytest.mark.heavy(seconds=12)
def test_a_tf32_run_times_its_own_eager_and_keeps_float32_eager_out_of_tf32(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole TF32 path, judged as bf16 is, on this CPU with the refusal lifted: every call of the TF32 models
    (compiled and its own eager partner) runs in TF32 mode, every call of float32 eager mode's model in IEEE."""
    import torch

    from harness.bench import runner
    from harness.model import forecast, loading

    monkeypatch.setattr(loading, "unsupported_on", lambda precision, device: "")
    modes: dict[str, set[str]] = {"reference": set(), "tf32": set()}
    real = forecast.predict

    def recording(pipeline: object, *args: object, **kwargs: object) -> np.ndarray:
        which = "reference" if pipeline is reference_pipeline["it"] else "tf32"
        modes[which].add(torch.backends.cuda.matmul.fp32_precision)
        return real(pipeline, *args, **kwargs)  # type: ignore[arg-type]

    reference_pipeline: dict[str, object] = {}
    real_load = loading.load_pipeline

    def loading_pipeline(*args: object, **kwargs: object) -> object:
        pipeline = real_load(*args, **kwargs)  # type: ignore[arg-type]
        if kwargs.get("dtype") == FLOAT32:
            reference_pipeline["it"] = pipeline
        return pipeline

    monkeypatch.setattr(runner, "predict", recording)
    monkeypatch.setattr(runner, "load_pipeline", loading_pipeline)
    record = run(tiny_spec("compiled", backend="eager", dtype=TF32))
    assert record.status == "pass", record.error_message
    assert record.dtype == TF32 and record.drift_reference == "tf32 eager"
    assert len(record.paired_dtype_eager_latencies_s) == len(record.paired_eager_latencies_s) == 3
    assert record.precision_windows == 20 and record.precision_wql_diff_pct is not None
    assert modes == {"reference": {"ieee"}, "tf32": {"tf32"}}
    # on a CPU the mode changes nothing: TF32 eager equals float32 eager, and the tolerance is a few TF32 ulps
    assert record.precision_error_abs == 0.0 and record.drift_tolerance_abs is not None and record.drift_tolerance_abs > 0
    assert torch.backends.cuda.matmul.fp32_precision == "none"  # the process's default, restored
