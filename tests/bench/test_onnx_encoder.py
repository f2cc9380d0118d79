"""The ONNX Runtime arm on the tiny model: the encoder exported (series and patches dynamic), run by ONNX Runtime,
judged against eager as every configuration is; kept with a manifest whose lines load it; refused in one line where
it cannot run, and skipped by a sweep with the reason."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from harness.base.errors import InputError
from harness.bench import onnx_encoder
from harness.bench.request import BenchRequest, plan
from harness.bench.runner import run
from harness.model.forecast import predict
from harness.model.loading import load_pipeline
from tests.bench.conftest import tiny_spec

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(bool(onnx_encoder.missing()), reason="the onnx extra is not installed")


@pytest.mark.heavy(seconds=15)
def test_the_onnx_encoder_runs_every_shape_matches_eager_and_its_kept_model_loads_from_the_manifest(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    spec = tiny_spec("compiled", scope="onnx-encoder")
    record = run(dataclasses.replace(spec, vary_shapes=True, batch_series=4, keep_artifacts=str(kept)))
    assert record.status == "pass", record.error_message
    assert record.compile_scope == "onnx-encoder" and (record.n_graphs, record.n_graph_breaks, record.n_recompiles) == (1, 0, 0)
    assert record.drift_max_abs is not None and record.drift_tolerance_abs is not None
    assert record.drift_max_abs <= record.drift_tolerance_abs  # ONNX Runtime computes what eager computes
    # dynamic in series and patches: shorter contexts and 4 series in one call all run (an AOT package's fail)
    assert record.shape_variants == ["context-16", "context-32", "series-4"]
    assert all(math.isfinite(s) and s > 0 for s in record.shape_variant_s)
    assert record.batch_series == 4 and record.batch_compiled_s is not None and record.batch_compiled_s > 0
    assert record.batch_eager_s is not None and record.batch_eager_s > 0  # float32 eager on the same 4 windows
    (manifest_path,) = kept.glob("*.json")
    manifest = json.loads(manifest_path.read_text())
    assert manifest["kind"] == "ONNX model" and (kept / manifest["file"]).is_file() and not manifest["shapes"]["fixed"]
    # the manifest's lines, run on a fresh pipeline (its loading lines aside: the tiny model has no hub id)
    pipeline = load_pipeline(spec.source, attn_implementation="eager", device="cpu")
    eager = predict(pipeline, spec.window, spec.params)
    lines = [line for line in manifest["load"] if not line.startswith(("pipeline = Chronos2Pipeline", "pipeline.model.to("))]
    namespace = {"pipeline": pipeline}
    import os

    previous = Path.cwd()
    os.chdir(kept)  # the lines name the model file as a user would: beside them
    try:
        exec("\n".join(lines), namespace)
    finally:
        os.chdir(previous)
    loaded = predict(pipeline, spec.window, spec.params)
    assert float(np.max(np.abs(loaded - eager))) <= 1e-4 * float(np.max(np.abs(eager)))


def _request(tmp_path: Path, **changes: object) -> BenchRequest:
    settings: dict[str, object] = {
        "mode": "compiled",
        "compile_scope": "onnx-encoder",
        "model": "tiny",
        "device": "cpu",
        "data_dir": ROOT / "trainingdata",
        "hyperparams_dir": ROOT / "hyperparams",
        "results_dir": tmp_path,
    }
    return BenchRequest(**{**settings, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"freezing": True}, "--compile-scope onnx-encoder: --freezing do(es) not apply to an ONNX export"),
        ({"dtype": "bfloat16"}, "--compile-scope onnx-encoder: --dtype bfloat16 do(es) not apply"),
        ({"backend": "eager"}, "--compile-scope onnx-encoder: --backend do(es) not apply"),
    ],
)
def test_a_setting_the_onnx_arm_ignores_is_a_one_line_error(tmp_path: Path, changes: dict[str, object], says: str) -> None:
    with pytest.raises(InputError, match="^" + re.escape(says) + ".*fix: leave them out$"):
        plan(_request(tmp_path, **changes))


def test_without_the_onnx_extra_a_bench_is_refused_and_a_sweep_skips_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.bench import benching

    real = importlib.util.find_spec
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None if name == "onnxruntime" else real(name))
    with pytest.raises(InputError, match=r"^--compile-scope onnx-encoder: onnxruntime not installed .*\[onnx\]'$"):
        plan(_request(tmp_path))
    ran: list[str] = []

    def bench(request: BenchRequest) -> int:
        ran.append(request.compile_scope)
        return 0

    monkeypatch.setattr(benching, "bench", bench)
    assert benching.configs(_request(tmp_path, mode="eager", compile_scope="model"), ["onnx-encoder"]) == 0
    assert "== onnx-encoder: skipped: --compile-scope onnx-encoder: onnxruntime not installed" in capsys.readouterr().out
    assert ran == ["model"]  # eager only
