"""Helpers the bench wing's tests share: a run of the ``tiny`` profile on GOOG, ready to measure."""

from __future__ import annotations

from harness.bench.compiling import CompileSettings
from harness.bench.spec import RunSpec
from harness.data.params import resolve_params
from harness.data.window import bench_window, load_ohlc
from harness.model.loading import resolve_model
from tests.conftest import ROOT


def tiny_spec(mode: str, **compile_settings: object) -> RunSpec:
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
        warm_compile=False,  # a second compile costs seconds; the diagnostics test turns it on
    )
