"""The code a user pastes to run a configuration the search picked: the lines that load Chronos-2 and compile it exactly
as the bench did (:mod:`harness.bench.compiling`). Pure: text only, no torch."""

from __future__ import annotations

from harness.bench.compiling import SDPA_BACKENDS, CompileSettings
from harness.model.precision import INT8_DYNAMIC, TF32, weight_dtype


def code_lines(settings: CompileSettings, *, model: str = "amazon/chronos-2", device: str = "cpu") -> list[str]:
    """Python lines that reproduce ``settings`` on a freshly loaded pipeline of ``model``."""
    lines = []
    if settings.omp_bind:
        lines.append(f"# before Python starts: export OMP_PROC_BIND={settings.omp_bind} OMP_PLACES=cores")
    lines += ["import torch", "from chronos import Chronos2Pipeline"]
    switches = []
    if settings.freezing:
        switches.append("inductor_config.freezing = True")
    if settings.gemm_backends:
        switches.append(f"inductor_config.max_autotune_gemm_backends = {settings.gemm_backends!r}")
    if settings.cpp_wrapper:
        switches.append("inductor_config.cpp_wrapper = True")
    if switches:
        lines.append("import torch._inductor.config as inductor_config")
    lines += ["", *_loading(settings, model=model, device=device), *switches]
    if settings.threads:
        lines.append(f"torch.set_num_threads({settings.threads})  # while the compiled model compiles and runs")
    options = [f"mode={settings.mode!r}"] if settings.mode != "default" else []
    if settings.backend_label != "inductor":
        options.append(f"backend={settings.backend_label!r}")
    if settings.dynamic is not None:
        options.append(f"dynamic={settings.dynamic}")
    if settings.scope == "encoder":
        args = ", ".join(["pipeline.model.encoder", *options, "fullgraph=True"])
        lines.append(f"pipeline.model.encoder = torch.compile({args})")
    elif settings.scope == "aot-encoder":
        lines += [
            "# build once, from one call's encoder inputs (static shapes: the same number of series and context length):",
            "# exported = torch.export.export(pipeline.model.encoder, (), kwargs=encoder_inputs, strict=False)",
            '# torch._inductor.aoti_compile_and_package(exported, package_path="chronos2-encoder.pt2")',
            "# then, in every process that serves forecasts (no compile):",
            'encoder = torch._inductor.aoti_load_package("chronos2-encoder.pt2")',
            "pipeline.model.encoder.forward = lambda **inputs: encoder(**inputs)",
        ]
    elif settings.scope == "onnx-encoder":
        lines += [
            "# build once, from one call's encoder inputs, series and patches dynamic (harness/bench/onnx_encoder.py does),",
            "# inside harness.bench.onnx_encoder.exportable_masks() (ONNX Runtime refuses Chronos-2's bool Einsum):",
            "# torch.onnx.export(pipeline.model.encoder, (), kwargs=encoder_inputs, dynamo=True, dynamic_shapes=...)",
            "#     .save('chronos2-encoder.onnx')",
            "# then, in every process that serves forecasts (no export):",
            "import onnxruntime",
            "from chronos.chronos2.model import Chronos2EncoderOutput",
            "session = onnxruntime.InferenceSession('chronos2-encoder.onnx', providers=['CPUExecutionProvider'])",
            "names = [node.name for node in session.get_inputs()]",
            "pipeline.model.encoder.forward = lambda **inputs: Chronos2EncoderOutput(",
            "    last_hidden_state=torch.from_numpy(session.run(None, {n: inputs[n].numpy() for n in names})[0])",
            ")",
        ]
    else:
        lines.append(f"pipeline.model = torch.compile({', '.join(['pipeline.model', *options])})")
    if settings.sdpa_backend:
        backend = SDPA_BACKENDS[settings.sdpa_backend]
        lines += [
            "from torch.nn.attention import SDPBackend, sdpa_kernel",
            f"# every prediction inside: with sdpa_kernel([SDPBackend.{backend}]): pipeline.predict_df(...)",
        ]
    return lines


def _loading(settings: CompileSettings, *, model: str, device: str) -> list[str]:
    """Loading the pipeline in the configuration's precision."""
    lines = []
    if settings.dtype == TF32:
        lines.append('torch.backends.cuda.matmul.fp32_precision = "tf32"  # before compiling: inductor reads it')
    lines.append(
        f"pipeline = Chronos2Pipeline.from_pretrained({model!r}, attn_implementation={settings.attn_implementation!r}, "
        f"dtype=torch.{weight_dtype(settings.dtype)})"
    )
    lines.append(f"pipeline.model.to({device!r}).eval()")
    if settings.dtype == INT8_DYNAMIC:
        lines.append(
            "pipeline.model = torch.ao.quantization.quantize_dynamic(pipeline.model, {torch.nn.Linear}, dtype=torch.qint8)"
        )
    return lines
