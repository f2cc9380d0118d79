"""The runner on the tiny profile: real predictions, and failures recorded as data."""

from __future__ import annotations

import dataclasses
import math
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from harness.base.errors import InputError
from harness.bench.compiling import CompileSettings
from harness.bench.faults import Fault, FaultKind
from harness.bench.rows import failure_record, new_run_id
from harness.bench.runner import predict_close, run
from harness.bench.spec import resolve_device
from harness.results.store import read_records, write_records
from tests.bench.conftest import tiny_spec

ROOT = Path(__file__).resolve().parents[2]


def test_eager_run_scores_the_median_close() -> None:
    spec = tiny_spec("eager")
    record = run(spec)
    assert record.status == "pass" and record.success_rate == 1.0
    assert len(record.latencies_s) == 3 and all(s > 0 for s in record.latencies_s)
    assert record.attn_implementation == "eager" and record.compile_mode == "" and record.compile_s is None
    assert record.model_trained is False
    forecast = np.array(record.forecast_close)
    truth = spec.window.truth_close
    assert forecast.shape == (7,)
    assert record.mae is not None
    assert record.mae == pytest.approx(float(np.mean(np.abs(forecast - truth))))
    assert record.mae_pct == pytest.approx(100 * record.mae / float(np.mean(np.abs(truth))))
    naive = float(np.mean(np.abs(spec.window.context["close"].iloc[-1] - truth)))
    assert record.naive_mae_pct == pytest.approx(100 * naive / float(np.mean(np.abs(truth))))
    assert record.torch_version and record.chronos_version and record.device_type == "cpu"


def test_eager_predictions_are_deterministic() -> None:
    spec = tiny_spec("eager")
    from harness.model.loading import load_pipeline

    pipeline = load_pipeline(spec.source, attn_implementation="eager", device="cpu")
    first = predict_close(pipeline, spec.window, spec.params)
    second = predict_close(pipeline, spec.window, spec.params)
    np.testing.assert_array_equal(first, second)


def test_invalid_backend_is_recorded_not_raised() -> None:
    record = run(tiny_spec("compiled", backend="no-such-backend"))
    assert record.status == "fail_exception"
    assert record.success_rate == 0.0 and record.n_success == 0 and record.latencies_s == []
    assert "backend" in record.error_message.lower() or "backend" in record.error_type.lower()
    assert record.mae is None and record.first_call_s is None


def _planted(monkeypatch: pytest.MonkeyPatch, failing_attempts: set[int]) -> None:
    """Make the n-th call of ``predict`` (1-based, every attempt counts) raise for n in ``failing_attempts``."""
    import harness.bench.runner as runner
    from harness.model.forecast import predict as real

    calls = {"n": 0}

    def planted(*args: object, **kwargs: object) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] in failing_attempts:
            raise RuntimeError(f"planted failure at attempt {calls['n']}")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "predict", planted)


def test_a_failure_confirmed_by_re_runs_lowers_the_success_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    _planted(monkeypatch, {3, 4})  # first call ok, timed call 1 ok, timed call 2 fails twice: 2 of 3 confirms it
    record = run(tiny_spec("eager"))
    assert record.status == "fail_exception"
    assert record.n_success == 2 and record.success_rate == pytest.approx(2 / 3)
    assert record.error_type == "RuntimeError" and "planted failure at attempt 3" in record.error_message
    assert record.n_flaky == 0 and record.confirm == "2/3"


def test_a_failure_that_passes_on_re_run_is_flaky_not_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    _planted(monkeypatch, {3})  # timed call 2 fails once, then passes twice
    record = run(tiny_spec("eager"))
    assert record.status == "pass" and record.success_rate == 1.0 and len(record.latencies_s) == 3
    assert record.n_flaky == 1 and record.flip_rate == pytest.approx(1 / 3)
    assert "planted failure at attempt 3" in record.error_message  # the first error is kept for the record


def test_confirm_1_of_1_counts_the_first_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    _planted(monkeypatch, {3})
    record = run(dataclasses.replace(tiny_spec("eager"), confirm=(1, 1)))
    assert record.status == "fail_exception" and record.n_success == 2 and record.n_flaky == 0


def test_injected_failure_is_a_failed_run_with_its_cause() -> None:
    import dataclasses

    record = run(dataclasses.replace(tiny_spec("eager"), fault=Fault(kind=FaultKind.RAISE)))
    assert record.status == "fail_exception" and record.success_rate == 0.0
    assert record.error_type == "InjectedFailure" and "--fault raise" in record.error_message


def test_injected_flakiness_is_reproducible_and_recorded() -> None:
    import dataclasses

    spec = dataclasses.replace(tiny_spec("eager"), fault=Fault(kind=FaultKind.RAISE, probability=0.3), runs=8)
    first, second = run(spec), run(spec)
    assert (first.n_flaky, first.n_success) == (second.n_flaky, second.n_success)
    assert first.n_flaky > 0  # with p = 0.3 over 8+ calls the seeded pattern flips at least one
    assert first.flip_rate == pytest.approx(first.n_flaky / 8)


def test_eager_records_its_own_numerical_noise_and_machine_reference() -> None:
    record = run(tiny_spec("eager"))
    assert record.eager_repeat_max_abs == 0.0  # same input, same weights, same answer
    assert record.eager_float32_error_abs is not None and record.eager_float32_error_abs >= 0.0
    assert len(record.reference_s) == 3 and all(s > 0 for s in record.reference_s)
    assert record.quantile_levels == [0.1, 0.5, 0.9] and record.paired_eager_latencies_s == []
    assert record.drift_max_abs is None


def test_eager_that_disagrees_with_itself_is_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.bench.runner as runner
    from harness.model.forecast import predict as real

    calls = {"n": 0}

    def drifting(*args: object, **kwargs: object) -> np.ndarray:
        calls["n"] += 1
        out: np.ndarray = real(*args, **kwargs)  # type: ignore[arg-type]
        return out * 1.001 if calls["n"] == 2 else out  # the first timed call disagrees with the first call

    monkeypatch.setattr(runner, "predict", drifting)
    record = run(tiny_spec("eager"))
    assert record.status == "eager_nondeterministic"
    assert record.eager_repeat_max_abs is not None and record.eager_repeat_max_abs > 0


def _perturbing_backend(gm: object, example_inputs: object) -> object:
    """A torch.compile backend that runs the graph and nudges every float output by 0.1%: planted drift."""
    import torch

    def forward(*args: object) -> object:
        outputs = gm(*args)  # type: ignore[operator]
        return type(outputs)(o * 1.001 if isinstance(o, torch.Tensor) and o.is_floating_point() else o for o in outputs)

    return forward


@pytest.mark.heavy(seconds=4)
def test_compiled_drift_beyond_eager_noise_is_fail_accuracy() -> None:
    record = run(tiny_spec("compiled", backend=_perturbing_backend))
    assert record.compile_backend == "_perturbing_backend"
    assert record.drift_max_abs is not None and record.drift_tolerance_abs is not None
    assert record.drift_max_abs > record.drift_tolerance_abs
    assert record.status == "fail_accuracy"
    assert len(record.drift_by_quantile_abs) == 3 and max(record.drift_by_quantile_abs) == record.drift_max_abs


@pytest.mark.heavy(seconds=5)
def test_compiled_runs_interleave_the_uncompiled_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.bench import runner

    events: list[str] = []
    original = runner.machine_reference

    def end_workers() -> bool:
        events.append("end workers")
        return True

    def reference() -> float:
        events.append("timed round")
        return original()

    monkeypatch.setattr(runner, "end_compile_workers", end_workers)
    monkeypatch.setattr(runner, "machine_reference", reference)
    record = run(tiny_spec("compiled", backend="eager"))  # dynamo without inductor: fast, and exact
    assert record.status == "pass", record.error_message
    assert len(record.latencies_s) == len(record.paired_eager_latencies_s) == len(record.reference_s) == 3
    assert all(s > 0 for s in record.paired_eager_latencies_s)
    assert record.drift_max_abs == 0.0 and record.drift_tolerance_abs is not None and record.drift_tolerance_abs > 0
    # inductor's compile workers are ended once, after the first call, before the first timed round
    assert events == ["end workers", "timed round", "timed round", "timed round"]


def test_break_even_is_compile_time_over_time_saved() -> None:
    from harness.bench.rows import break_even

    assert break_even(30.0, [0.2, 0.2, 0.2], [0.1, 0.1, 0.1]) == pytest.approx(300.0)
    assert break_even(30.0, [0.1, float("nan")], [0.2]) is None  # never pays off
    assert break_even(None, [0.2], [0.1]) is None


@pytest.mark.heavy(seconds=15)
def test_compiled_run_records_compile_diagnostics() -> None:
    import dataclasses

    record = run(dataclasses.replace(tiny_spec("compiled", backend="eager"), vary_shapes=True, warm_compile=True))
    assert record.status == "pass", record.error_message
    assert record.n_graphs is not None and record.n_graphs >= 1 and record.n_graph_breaks is not None
    assert record.n_recompiles is not None and record.n_recompiles >= 1  # shorter contexts are new shapes
    # context 64: 48 and 32 rows (16 is too short), each labelled, each ran (many series per call: the ONNX test's)
    assert record.shape_variants == ["context-16", "context-32"] and record.warm_compile_s is not None
    assert all(math.isfinite(s) and s > 0 for s in record.shape_variant_s) and len(record.shape_variant_s) == 2
    assert record.batch_series == 0 and record.batch_eager_s is None  # not asked
    assert record.peak_rss_mb is not None and record.peak_rss_mb > 100 and record.peak_cuda_mb is None


@pytest.mark.heavy(seconds=5)
def test_a_configuration_with_other_attention_and_dtype_is_judged_against_eager_mode() -> None:
    record = run(tiny_spec("compiled", backend="eager", attn_implementation="sdpa", dtype="bfloat16"))
    assert record.dtype == "bfloat16" and record.attn_implementation == "sdpa"
    assert len(record.paired_eager_latencies_s) == 3  # the float32 eager-attention model, loaded beside it
    assert len(record.paired_dtype_eager_latencies_s) == 3  # and bf16's own eager model: the dtype's gain apart
    assert record.precision_wql_diff_pct is not None and math.isfinite(record.precision_wql_diff_pct)  # compiled, 9 levels
    assert all(math.isfinite(x) and x > 0 for x in record.paired_dtype_eager_latencies_s)
    # bf16 vs float32 is the dtype's own error, measured; drift is against eager in bf16 (here: the same module)
    assert record.precision_error_abs is not None and record.precision_error_abs > 0
    assert record.drift_reference == "bfloat16 eager" and record.drift_max_abs == 0.0
    assert record.drift_tolerance_abs is not None and record.drift_tolerance_abs >= record.precision_error_abs
    assert record.gemm_floor_s is not None and record.gemm_floor_compiled_s is not None  # the model's GEMMs, per dtype
    assert 0 < record.gemm_floor_s < statistics.median(record.paired_eager_latencies_s)


def test_int8_dynamic_quantization_is_judged_as_a_reduced_precision() -> None:
    record = run(tiny_spec("compiled", backend="eager", dtype="int8-dynamic"))
    assert record.status == "pass", record.error_message
    assert record.dtype == "int8-dynamic" and record.drift_reference == "int8-dynamic eager"
    assert len(record.paired_dtype_eager_latencies_s) == len(record.latencies_s) == 3  # int8 eager, interleaved
    assert record.precision_error_abs is not None and record.precision_error_abs > 0  # int8 moves the forecast
    assert record.precision_windows == 20 and record.precision_mae_diff_pct is not None
    assert record.matmul_gflops_compiled is None and record.gemm_floor_compiled_s is None  # no float floor for int8 GEMMs
    assert record.gemm_floor_s is not None and record.gemm_floor_s > 0  # float32 eager's own, beside it


def test_ending_the_compile_workers_works_with_or_without_a_pool() -> None:
    from harness.bench.compiling import end_compile_workers

    assert end_compile_workers() is True  # no pool started in this process: nothing to end, no error
    assert end_compile_workers() is True  # twice: still fine


def test_a_round_puts_each_model_first_as_often_as_the_others() -> None:
    from harness.bench.runner import _round_order

    assert [_round_order(i, with_dtype=False) for i in range(2)] == [("compiled", "eager"), ("eager", "compiled")]
    rounds = [_round_order(i, with_dtype=True) for i in range(6)]
    assert all(sorted(r) == ["compiled", "dtype", "eager"] for r in rounds)
    for model in ("compiled", "eager", "dtype"):
        assert [r.index(model) for r in rounds].count(0) == 2 and [r.index(model) for r in rounds].count(2) == 2
    before = [r.index("dtype") < r.index("compiled") for r in rounds]
    assert before.count(True) == 3  # the dtype's eager before compiled in half the rounds: neither warms the other


def test_noise_floor_is_the_measured_error_or_a_few_ulps_when_nothing_was_measured() -> None:
    from harness.bench.rows import UNMEASURED_FLOOR_ULPS, drift_tolerance, noise_floor

    forecast = np.full((4, 7, 3), 1000.0)
    ulp = float(np.finfo(np.float32).eps) * 1000.0
    assert noise_floor(0.5, forecast) == 0.5
    assert noise_floor(1e-9, forecast) == pytest.approx(ulp)  # never below one ulp at the forecast's scale
    assert noise_floor(0.0, forecast) == pytest.approx(UNMEASURED_FLOOR_ULPS * ulp)  # float64 agreed exactly
    assert drift_tolerance(0.5, forecast) == pytest.approx(2.0) and noise_floor(None, forecast) is None


@pytest.mark.parametrize("cache", ["cold", "off"])
def test_cold_and_off_caches_use_a_fresh_directory_and_restore_the_environment(
    cache: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import torch._inductor.config as inductor_settings

    from harness.bench.compiling import inductor_cache, inductor_config

    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", "/before")
    with inductor_cache(cache), inductor_config(CompileSettings(cache=cache)):
        inside = os.environ["TORCHINDUCTOR_CACHE_DIR"]
        assert inside != "/before" and os.path.isdir(inside)
        assert inductor_settings.force_disable_caches is (cache == "off")
    assert os.environ["TORCHINDUCTOR_CACHE_DIR"] == "/before" and not os.path.exists(inside)


def test_run_ids_order_by_time_within_a_second() -> None:
    start = datetime(2026, 11, 26, 6, 48, 58, 1000, tzinfo=UTC)
    ids = [new_run_id(start + timedelta(milliseconds=step)) for step in range(0, 990, 7)]
    assert ids == sorted(ids) and ids[0].startswith("20261126T064858001Z-")


def test_two_runs_in_the_same_second_read_back_in_the_order_they_ran(tmp_path: Path) -> None:
    spec = tiny_spec("eager")
    # the later run gets the run id that sorts first: only the time may order them
    first = failure_record(spec, status="timeout", error_type="Timeout", message="", stderr_tail="", run_id="zz-first")
    second = failure_record(spec, status="timeout", error_type="Timeout", message="", stderr_tail="", run_id="aa-second")
    assert datetime.fromisoformat(first.timestamp_utc) < datetime.fromisoformat(second.timestamp_utc)
    older = dataclasses.replace(
        first, run_id="older", timestamp_utc="2026-01-01T00:00:00+00:00"
    )  # a file of before: seconds only
    for name, record in (("b", second), ("a", first), ("o", older)):
        write_records([record], tmp_path, name=name)
    assert [r.run_id for r in read_records(tmp_path)] == ["older", "zz-first", "aa-second"]


def test_a_cuda_device_this_torch_cannot_reach_is_an_input_error() -> None:
    import torch

    device = "cuda:99" if torch.cuda.is_available() else "cuda"
    with pytest.raises(InputError, match=rf"hp/GOOG.json: device '{device}': no (CUDA here|such GPU).*fix: set \"device\""):
        resolve_device(device, origin="hp/GOOG.json")
    assert resolve_device("cpu") == "cpu" and resolve_device("auto") in ("cpu", "cuda")
