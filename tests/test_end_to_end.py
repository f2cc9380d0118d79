"""The real thing on the tiny profile: bench eager, bench compiled (a real torch.compile), compare, baselines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.results.fingerprint import cpu_flags
from harness.results.store import read_records
from tests.conftest import ROOT


@pytest.mark.heavy(seconds=42)
def test_eager_and_compiled_bench_then_compare_and_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results, baselines = tmp_path / "results", tmp_path / "baselines"
    common = [
        "--symbol",
        "GOOG",
        "--model",
        "tiny",
        "--runs",
        "3",
        "--context-length",
        "64",
        "--results-dir",
        str(results),
        "--data-dir",
        str(ROOT / "trainingdata"),
        "--hyperparams-dir",
        str(ROOT / "hyperparams"),
    ]
    assert main(["-q", "bench", "--mode", "eager", *common]) == 0
    assert main(["-q", "bench", "--mode", "compiled", "--no-warm-compile", *common]) == 0  # the warm compile: test_runner

    records = {r.mode: r for r in read_records(results)}
    eager, compiled = records["eager"], records["compiled"]
    assert eager.status == compiled.status == "pass", (eager.error_message, compiled.error_message)
    assert len(eager.latencies_s) == len(compiled.latencies_s) == 3
    assert (
        compiled.compile_s is not None and compiled.first_call_s is not None and compiled.first_call_s > max(compiled.latencies_s)
    )
    assert compiled.compile_mode == "default" and compiled.compile_backend == "inductor" and compiled.compile_cache == "cold"
    # the same deterministic model: compiled forecasts agree with eager's to float32 noise
    assert compiled.forecast_close == pytest.approx(eager.forecast_close, rel=1e-4)
    assert compiled.mae == pytest.approx(eager.mae, rel=1e-4)
    # every quantile of every target, compiled vs the uncompiled model in the same process: within eager's own noise
    assert compiled.drift_max_abs is not None and compiled.drift_tolerance_abs is not None
    assert compiled.drift_max_abs <= compiled.drift_tolerance_abs
    assert len(compiled.paired_eager_latencies_s) == 3 and len(compiled.reference_s) == 3
    assert eager.cpu_flags == compiled.cpu_flags == cpu_flags()  # schema 3: where the run ran includes the CPU's ISA flags

    baselines.mkdir()
    dirs = ["--results-dir", str(results), "--baselines-dir", str(baselines)]
    assert main(["-q", "compare", *dirs]) == 0  # nothing recorded yet: reported as new
    assert "baseline: new, no baseline" in capsys.readouterr().out
    assert main(["-q", "compare", *dirs, "--strict"]) == 2
    assert main(["-q", "update-baselines", "--reason", "e2e", *dirs]) == 0
    assert main(["-q", "compare", *dirs]) == 0
    out = capsys.readouterr().out
    assert "GOOG · tiny (UNTRAINED" in out and "recommendation:" in out and "], interleaved; across sessions" in out
    assert "drift compiled vs eager, every quantile: max abs" in out
    assert "gate: full gate (same machine, same software)" in out and "1 full, 0 upgrade, 0 portable" in out

    (path,) = baselines.glob("*.json")
    data = json.loads(path.read_text())
    assert data["provenance"]["reason"] == "e2e" and data["provenance"]["fingerprint"]["torch_version"] == compiled.torch_version
    assert (
        data["format_version"] == 4
        and data["software"]["torch"] == compiled.torch_version
        and data["where"]["cpu_flags"] == compiled.cpu_flags
    )
    assert data["eager"]["partner_latency_median_s"] > 0  # eager's second witness, from the interleaved calls
    data["compiled"]["mae"] *= 0.9  # plant: the baseline forecast 10% better than today's
    path.write_text(json.dumps(data))
    assert main(["-q", "compare", *dirs]) == 1
    assert "REGRESSION: compiled MAE" in capsys.readouterr().out
