"""``bench --keep-artifacts DIR``: what a compiled run built, kept for a production process to load without compiling.

- the AOTInductor package of the encoder (``aot-encoder`` configurations), which a fresh process loads with
  ``torch._inductor.aoti_load_package``: fixed shapes, the run's context length and number of series;
- otherwise inductor's cache artifacts (``torch.compiler.save_cache_artifacts``), which a fresh process hands to
  ``torch.compiler.load_cache_artifacts`` before compiling the same way (nothing when inductor cached nothing: freezing
  bypasses its FX graph cache);

each beside a manifest (``<run id>-<symbol>.json``) naming the file, the torch version, the CPU or GPU, the shapes it
was built for, the configuration, and the lines that load it (:mod:`harness.bench.snippet`). Imports torch only when
called."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.bench.snippet import code_lines

if TYPE_CHECKING:
    from harness.bench.spec import RunSpec

log = logging.getLogger(__name__)

MANIFEST_FORMAT = 1


# an exported encoder's file: the attribute of the compiled model's encoder naming it, its suffix, what it is
EXPORTS = {"aot-encoder": ("package", "pt2", "AOTInductor package"), "onnx-encoder": ("path", "onnx", "ONNX model")}


def keep(spec: RunSpec, compiled_module: Any, directory: Path, *, device: str) -> Path | None:
    """Copy what the run built into ``directory`` and write its manifest; the manifest's path, or None (logged) when the
    run built nothing to keep."""
    import torch

    from harness import __version__
    from harness.results.fingerprint import fingerprint

    name = f"{spec.run_id}-{spec.window.symbol}"
    encoder = getattr(compiled_module, "_modules", {}).get("encoder")
    directory.mkdir(parents=True, exist_ok=True)
    if spec.compile.scope in EXPORTS:
        attribute, suffix, kind = EXPORTS[spec.compile.scope]
        built = getattr(encoder, attribute, "")
        if not built:
            log.warning("%s: --keep-artifacts: the first call built no %s; nothing kept", spec.window.symbol, kind)
            return None
        kept = directory / f"{name}-encoder.{suffix}"
        shutil.copyfile(built, kept)
    else:
        saved = torch.compiler.save_cache_artifacts() if hasattr(torch.compiler, "save_cache_artifacts") else None
        if saved is None:
            log.warning(
                "%s: --keep-artifacts: inductor cached nothing this run (freezing bypasses it); nothing kept", spec.window.symbol
            )
            return None
        kept = directory / f"{name}-cache-artifacts.bin"
        kept.write_bytes(saved[0])
        kind = "cache artifacts"
    where = fingerprint(device).as_dict()
    manifest = {
        "format": MANIFEST_FORMAT,
        "kind": kind,
        "file": kept.name,
        "harness_version": __version__,
        "torch_version": torch.__version__,
        "device": device,
        "device_name": where.get("device_name", ""),
        "cpu_model": where.get("cpu_model", ""),
        "cpu_flags": where.get("cpu_flags", ""),
        "model_id": spec.source.model_id,
        "configuration": spec.compile.columns(),
        "shapes": {
            "series": 1,
            "targets": 4,  # open, high, low, close
            "context_length": spec.params.context_length,
            "prediction_length": spec.params.prediction_length,
            "fixed": spec.compile.scope == "aot-encoder",  # the package runs these shapes only (the ONNX model any)
        },
        "load": _load_lines(spec, kept, device=device),
    }
    path = directory / f"{name}.json"
    path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    print(f"kept {kind}: {kept} (manifest {path})", flush=True)
    return path


def _load_lines(spec: RunSpec, kept: Path, *, device: str) -> list[str]:
    lines = code_lines(spec.compile, model=spec.source.model_id, device="cuda" if device.startswith("cuda") else "cpu")
    if spec.compile.scope == "aot-encoder":
        return [line.replace('"chronos2-encoder.pt2"', repr(kept.name)) for line in lines if not line.startswith("# ")]
    if spec.compile.scope == "onnx-encoder":
        return [line.replace("'chronos2-encoder.onnx'", repr(kept.name)) for line in lines if not line.startswith("# ")]
    return [f"torch.compiler.load_cache_artifacts(open({kept.name!r}, 'rb').read())  # before compiling", *lines]
