"""Opt-in (``nox -s tests -- -m slow``): the real-size architecture through the whole bench, a few minutes on CPU."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.results.store import read_records
from tests.conftest import ROOT


def _bench_flags(tmp_path: Path, *flags: str) -> list[str]:
    """Two timed calls, the shipped data and hyperparams, results under ``tmp_path``, then ``flags``."""
    data = ["--data-dir", str(ROOT / "trainingdata"), "--hyperparams-dir", str(ROOT / "hyperparams")]
    return ["--runs", "2", "--results-dir", str(tmp_path), *data, *flags]


@pytest.mark.slow
def test_chronos_2_arch_eager_and_compiled(tmp_path: Path) -> None:
    common = _bench_flags(tmp_path, "--symbol", "BTCUSD", "--model", "chronos-2-arch")
    assert main(["-q", "bench", "--mode", "eager", *common]) == 0
    assert main(["-q", "bench", "--mode", "compiled", *common]) == 0
    records = {r.mode: r for r in read_records(tmp_path)}
    assert records["eager"].status == records["compiled"].status == "pass"
    assert (
        records["eager"].context_length == records["compiled"].context_length == 493
    )  # the seed scenario: 500 daily rows - 7 held back
    assert 100_000_000 < records["eager"].model_parameters < 140_000_000
    assert records["compiled"].mae == pytest.approx(records["eager"].mae, rel=1e-3)


def _tiny(tmp_path: Path, *flags: str) -> list[str]:
    return ["-q", "bench", "--mode", "compiled", *_bench_flags(tmp_path, "--model", "tiny", "--no-warm-compile", *flags)]


@pytest.mark.slow
def test_encoder_only_compile_is_one_graph_and_measures_its_starts(tmp_path: Path) -> None:
    assert main(_tiny(tmp_path, "--compile-scope", "encoder", "--starts")) == 0
    (record,) = read_records(tmp_path)
    assert record.status == "pass" and record.compile_scope == "encoder"
    assert (record.n_graphs, record.n_graph_breaks) == (1, 0)  # fullgraph=True: no break, or it would have failed
    assert record.compile_s is not None and record.start_warm_disk_s is not None
    assert record.start_warm_disk_s < record.compile_s  # a warm cache skips compiling from scratch
    assert record.start_precompiled_s is not None and record.precompiled_kind == "cache artifacts"
    assert record.flops_per_prediction and record.flops_per_prediction > 1e6
    assert record.matmul_gflops and record.matmul_gflops > 1


@pytest.mark.slow
def test_aot_package_loads_in_a_fresh_process(tmp_path: Path) -> None:
    assert main(_tiny(tmp_path, "--compile-scope", "aot-encoder", "--starts", "--batch-series", "4")) == 0
    (record,) = read_records(tmp_path)
    assert record.status == "pass" and record.drift_max_abs is not None
    # a package of fixed shapes, tried on others without being asked (--vary-shapes is implied): each fails, recorded
    assert record.shape_variants == ["context-16", "context-32", "context-48", "series-4"]
    assert all(math.isnan(seconds) for seconds in record.shape_variant_s)
    assert record.batch_eager_s is not None and record.batch_eager_s > 0 and record.batch_compiled_s is None
    assert record.precompiled_kind == "AOTInductor package" and record.start_precompiled_s is not None
    assert record.compile_s is not None and record.start_precompiled_s < record.compile_s  # loaded, not built again
    assert record.start_warm_disk_s is None  # an AOT package is not started from inductor's caches


@pytest.mark.slow
def test_bf16_drift_is_judged_against_bf16_eager(tmp_path: Path) -> None:
    assert main(_tiny(tmp_path, "--dtype", "bfloat16")) == 0
    (record,) = read_records(tmp_path)
    assert record.drift_reference == "bfloat16 eager"
    assert record.precision_error_abs is not None and record.precision_error_abs > 0  # bf16 moves the forecast
    assert record.drift_tolerance_abs is not None and record.drift_tolerance_abs >= record.precision_error_abs
    assert record.precision_windows == 20 and record.precision_mae_diff_pct is not None


_LOAD_KEPT = """
import json, sys
from pathlib import Path
import numpy as np, torch
from harness.bench.request import BenchRequest, plan
from harness.model.forecast import predict
from harness.model.loading import load_pipeline

kept, data, hyperparams = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
(manifest_path,) = kept.glob("*.json")
manifest = json.loads(manifest_path.read_text())
request = BenchRequest(mode="eager", model="tiny", runs=2, data_dir=Path(data), hyperparams_dir=Path(hyperparams),
                       results_dir=kept / "unused")
(spec,) = plan(request)
assert spec.params.context_length == manifest["shapes"]["context_length"]
pipeline = load_pipeline(spec.source, attn_implementation="eager", device="cpu")
eager = predict(pipeline, spec.window, spec.params)
package = torch._inductor.aoti_load_package(str(kept / manifest["file"]))  # no compile in this process
pipeline.model.encoder.forward = lambda **inputs: package(**inputs)
loaded = predict(pipeline, spec.window, spec.params)
print(json.dumps({"max_abs": float(np.max(np.abs(loaded - eager))), "scale": float(np.max(np.abs(eager)))}))
"""


@pytest.mark.slow
def test_a_kept_aot_package_runs_in_a_fresh_process_from_its_manifest(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    kept = tmp_path / "kept"
    assert main(_tiny(tmp_path / "results", "--compile-scope", "aot-encoder", "--keep-artifacts", str(kept))) == 0
    (manifest_path,) = kept.glob("*.json")
    manifest = json.loads(manifest_path.read_text())
    assert manifest["kind"] == "AOTInductor package" and (kept / manifest["file"]).is_file()
    assert manifest["shapes"]["fixed"] and manifest["torch_version"] and manifest["cpu_model"]
    assert any("aoti_load_package" in line and manifest["file"] in line for line in manifest["load"])
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_KEPT, str(kept), str(ROOT / "trainingdata"), str(ROOT / "hyperparams")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["max_abs"] <= 1e-4 * figures["scale"]  # the package computes what eager computes


@pytest.mark.slow
def test_an_installed_wheel_runs_the_default_scenario_from_an_empty_directory(tmp_path: Path) -> None:
    """The wheel installed in a fresh virtual environment (its requirements and the pinned torch, from where pip looks:
    no checkout on the path), then its entry point from an empty directory: bench eager and compiled and compare, on the
    shipped data, settings and model."""
    import os
    import shutil
    import subprocess

    from harness.base.pipconfig import uv_environment

    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("builds and installs the wheel with uv (pip install uv)")
    subprocess.run([uv, "build", "--wheel", "--out-dir", str(tmp_path / "dist"), str(ROOT)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("chronos_compile_bench-*.whl")
    listed = subprocess.run(["pip", "config", "list"], capture_output=True, text=True, check=False).stdout
    env = {**os.environ, **uv_environment(listed, os.environ)}
    env.pop("HARNESS_PROJECT_DIR", None)
    env.pop("PYTHONPATH", None)
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, env=env)
    torch = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.__version__.split('+')[0])"], capture_output=True, text=True, check=True
    )
    install = [
        uv,
        "pip",
        "install",
        "-q",
        "--python",
        str(venv / "bin" / "python"),
        f"{wheel}[bench]",
        f"torch=={torch.stdout.strip()}",
    ]
    subprocess.run(install, check=True, env=env, capture_output=True, timeout=1200)
    empty = tmp_path / "empty"
    empty.mkdir()
    entry = str(venv / "bin" / "chronos-compile-bench")

    def harness(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([entry, *argv], cwd=empty, env=env, capture_output=True, text=True, timeout=900, check=False)

    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import harness; print(harness.__file__)"],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip().startswith(str(venv))  # the installed harness, not the checkout's
    eager = harness("bench", "--mode", "eager", "--runs", "3")
    assert eager.returncode == 0, eager.stderr[-2000:]
    compiled = harness("bench", "--mode", "compiled", "--runs", "3", "--no-warm-compile")
    assert compiled.returncode == 0, compiled.stderr[-2000:]
    compared = harness("compare")
    assert compared.returncode == 0, compared.stdout[-2000:] + compared.stderr[-2000:]
    assert "BTCUSD" in compared.stdout and "every key is new" in compared.stdout
    assert harness("--help").stdout.startswith("usage: chronos-compile-bench")  # the entry point names itself
    assert len(list((empty / "results").glob("*.parquet"))) == 2
    print(eager.stdout, eager.stderr[-1500:], compared.stdout, sep="\n")  # shown with -s: the output the issue asks for
