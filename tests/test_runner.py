"""The runner on the tiny profile: real predictions, and failures recorded as data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.data import bench_window, load_ohlc
from harness.models import resolve_model
from harness.params import resolve_params
from harness.runner import CompileSettings, RunSpec, predict_close, run

ROOT = Path(__file__).resolve().parent.parent


def _spec(mode: str, **compile_settings: object) -> RunSpec:
    params = resolve_params("GOOG", ROOT / "hyperparams", model="tiny", context_length=64)
    series = load_ohlc(ROOT / "trainingdata", "GOOG")
    window = bench_window(series, rows=200, horizon=params.prediction_length, context_length=params.context_length)
    return RunSpec(
        mode=mode,  # type: ignore[arg-type]
        series=series,
        window=window,
        params=params,
        source=resolve_model("tiny"),
        runs=3,
        compile=CompileSettings(**compile_settings),  # type: ignore[arg-type]
        run_id="test-run",
    )


def test_eager_run_scores_the_median_close() -> None:
    spec = _spec("eager")
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
    spec = _spec("eager")
    from harness.models import load_pipeline

    pipeline = load_pipeline(spec.source, attn_implementation="eager", device="cpu")
    first = predict_close(pipeline, spec.window, spec.params)
    second = predict_close(pipeline, spec.window, spec.params)
    np.testing.assert_array_equal(first, second)


def test_invalid_backend_is_recorded_not_raised() -> None:
    record = run(_spec("compiled", backend="no-such-backend"))
    assert record.status == "fail_exception"
    assert record.success_rate == 0.0 and record.n_success == 0 and record.latencies_s == []
    assert "backend" in record.error_message.lower() or "backend" in record.error_type.lower()
    assert record.mae is None and record.first_call_s is None


def test_a_prediction_that_fails_midway_lowers_the_success_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.runner as runner

    real = runner.predict_close
    calls = {"n": 0}

    def flaky(*args: object, **kwargs: object) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 3:  # first call ok, timed call 1 ok, timed call 2 fails
            raise RuntimeError("planted failure")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "predict_close", flaky)
    record = run(_spec("eager"))
    assert record.status == "fail_exception"
    assert record.n_success == 2 and record.success_rate == pytest.approx(2 / 3)
    assert record.error_type == "RuntimeError" and "planted failure" in record.error_message


def test_injected_failure_is_a_failed_run_with_its_cause() -> None:
    import dataclasses

    record = run(dataclasses.replace(_spec("eager"), inject_failure=True))
    assert record.status == "fail_exception" and record.success_rate == 0.0
    assert record.error_type == "InjectedFailure" and "--inject-failure" in record.error_message
