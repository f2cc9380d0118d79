"""harness.bench.snippet: the best configuration as code. The lines are run here, on the shipped tiny model, and must
give a compiled pipeline that forecasts as the bench's eager one does."""

from __future__ import annotations

import numpy as np
import pytest

from harness.bench.compiling import CompileSettings
from harness.bench.configs import CONFIGS
from harness.bench.request import BenchRequest
from harness.bench.snippet import code_lines


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_named_configuration_has_code_that_parses_and_names_its_switches(name: str) -> None:
    settings = BenchRequest(mode="compiled", **CONFIGS[name]).compile_settings()  # type: ignore[arg-type]
    text = "\n".join(code_lines(settings))
    compile(text, name, "exec")  # valid Python
    int8, tf32 = settings.dtype == "int8-dynamic", settings.dtype == "tf32"
    assert f"dtype=torch.{'float32' if int8 or tf32 else settings.dtype}" in text
    assert ('torch.backends.cuda.matmul.fp32_precision = "tf32"' in text) == tf32
    assert f"attn_implementation={settings.attn_implementation!r}" in text
    assert ("quantize_dynamic(pipeline.model, {torch.nn.Linear}, dtype=torch.qint8)" in text) == int8
    assert ("inductor_config.freezing = True" in text) == settings.freezing
    assert ("cpp_wrapper = True" in text) == settings.cpp_wrapper
    assert (f"mode={settings.mode!r}" in text) == (settings.mode != "default")
    assert ("aoti_load_package" in text) == (settings.scope == "aot-encoder")
    assert ("pipeline.model.encoder = torch.compile" in text) == (settings.scope == "encoder")


def test_the_code_runs_and_forecasts_as_eager_does() -> None:
    import torch

    from harness.model.loading import load_pipeline, resolve_model

    source = resolve_model("tiny")
    # dynamo with its eager backend: the same lines as inductor's, without minutes of C++ compiling
    settings = CompileSettings(backend="eager", dynamic=True, freezing=True)
    scope: dict[str, object] = {}
    exec("\n".join(code_lines(settings, model=str(source.location))), scope)
    pipeline = scope["pipeline"]
    context = torch.linspace(100.0, 120.0, 64).reshape(1, 1, 64)
    compiled, _ = pipeline.predict_quantiles(context, prediction_length=7, quantile_levels=[0.5])  # type: ignore[attr-defined]
    eager = load_pipeline(source, attn_implementation="eager", device="cpu")
    expected, _ = eager.predict_quantiles(context, prediction_length=7, quantile_levels=[0.5])
    assert "OptimizedModule" in type(pipeline.model).__name__  # type: ignore[attr-defined]
    np.testing.assert_allclose(compiled[0].numpy(), expected[0].numpy(), rtol=1e-5, atol=1e-4)
