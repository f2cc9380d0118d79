"""Where a model comes from, and loading it the one way every model is loaded.

A model name is, in order: a built-in architecture profile (built once with seeded, *untrained* weights and
cached as an ordinary checkpoint), a local directory, or anything ``Chronos2Pipeline.from_pretrained``
accepts (a Hugging Face hub id such as ``amazon/chronos-2``, an ``s3://`` prefix). All of them load through
``Chronos2Pipeline.from_pretrained``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.base.errors import InputError
from harness.base.progress import progress
from harness.model.precision import INT8_DYNAMIC, unsupported_on, weight_dtype

if TYPE_CHECKING:
    from chronos.chronos2 import Chronos2Pipeline

log = logging.getLogger(__name__)

MARKER = "harness-profile.json"
CHECKPOINTS = Path(__file__).resolve().parent / "checkpoints"  # models trained and shipped by this project
_CHRONOS2_QUANTILES = [0.01, 0.05, *[round(0.05 * i, 2) for i in range(2, 19)], 0.95, 0.99]


@dataclass(frozen=True, kw_only=True)
class Profile:
    """A Chronos-2 architecture built from a config with seeded random weights."""

    name: str
    description: str
    d_model: int
    d_kv: int
    d_ff: int
    num_layers: int
    num_heads: int
    seed: int = 0

    def core_config(self) -> dict[str, Any]:
        return {
            "d_model": self.d_model,
            "d_kv": self.d_kv,
            "d_ff": self.d_ff,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "feed_forward_proj": "relu",
            "rope_theta": 10000.0,
            "architectures": ["Chronos2Model"],
        }

    def chronos_config(self) -> dict[str, Any]:
        return {
            "context_length": 8192,
            "input_patch_size": 16,
            "input_patch_stride": 16,
            "output_patch_size": 16,
            "max_output_patches": 64,
            "quantiles": list(_CHRONOS2_QUANTILES),
            "use_reg_token": True,
            "use_arcsinh": True,
            "time_encoding_scale": 8192,
        }


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            name="chronos-2-arch",
            description="the published amazon/chronos-2 shape (d_model 768, 12 layers, 12 heads, d_ff 3072), ~120M params",
            d_model=768,
            d_kv=64,
            d_ff=3072,
            num_layers=12,
            num_heads=12,
        ),
        Profile(
            name="tiny",
            description="2 layers, d_model 64, ~165k params: for tests and smoke runs",
            d_model=64,
            d_kv=16,
            d_ff=128,
            num_layers=2,
            num_heads=4,
        ),
    )
}


@dataclass(frozen=True, kw_only=True)
class ModelSource:
    """A resolved model name: what ``from_pretrained`` gets and what we know about the weights."""

    model_id: str  # what the user asked for
    location: str  # what from_pretrained receives
    trained: bool  # False for built-in profiles: their MAE says nothing about forecasting skill
    weights_sha256: str  # "" when unknown (hub ids before download)


def cache_dir() -> Path:
    """``$HARNESS_CACHE_DIR`` or ``~/.cache/chronos-compile-bench``."""
    env = os.environ.get("HARNESS_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "chronos-compile-bench"


def resolve_model(model_id: str, *, cache: Path | None = None) -> ModelSource:
    """Turn a model name into a :class:`ModelSource`, building a profile's checkpoint on first use."""
    if model_id in shipped_models():
        return _local(model_id, CHECKPOINTS / model_id)
    if model_id in PROFILES:
        return _built_profile(PROFILES[model_id], cache or cache_dir())
    path = Path(model_id).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise InputError(
                f"{path}: not a Chronos-2 checkpoint (no config.json); fix: point --model at a directory saved by save_pretrained"
            )
        return _local(model_id, path)
    if "://" in model_id:  # s3://bucket/prefix and the like: from_pretrained's business
        return ModelSource(model_id=model_id, location=model_id, trained=True, weights_sha256="")
    looks_like_path = model_id.startswith((".", "/", "~")) or model_id.count("/") != 1  # hub ids are "org/name"
    if looks_like_path:  # said at once: tried as a hub id, it would take a minute of retries offline
        raise InputError(
            f"model {model_id!r}: not a built-in model, and no such directory ({path.absolute()}); a hub id is org/name "
            f"(e.g. amazon/chronos-2) and needs the network; fix: one of {', '.join(known_names())}, an existing checkpoint "
            "directory, or a hub id"
        )
    return ModelSource(model_id=model_id, location=model_id, trained=True, weights_sha256="")


def shipped_models() -> list[str]:
    """Names of the trained checkpoints shipped inside the package (``harness/model/checkpoints/<name>/``)."""
    return sorted(p.parent.name for p in CHECKPOINTS.glob("*/config.json")) if CHECKPOINTS.is_dir() else []


def _local(model_id: str, path: Path) -> ModelSource:
    marker = _read_marker(path)
    trained = bool(marker.get("trained", True))  # no marker: a user's own checkpoint, assumed trained
    return ModelSource(
        model_id=model_id, location=str(path), trained=trained, weights_sha256=str(marker.get("weights_sha256", ""))
    )


def _read_marker(path: Path) -> dict[str, Any]:
    marker = path / MARKER
    if not marker.is_file():
        return {}
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{marker}: not valid JSON ({exc}); fix: delete {path} so it is rebuilt") from exc
    return data if isinstance(data, dict) else {}


def _built_profile(profile: Profile, cache: Path) -> ModelSource:
    target = cache / "models" / f"{profile.name}-seed{profile.seed}"
    if not (target / MARKER).is_file():
        _build(profile, target)
    marker = _read_marker(target)
    return ModelSource(model_id=profile.name, location=str(target), trained=False, weights_sha256=str(marker["weights_sha256"]))


def _build(profile: Profile, target: Path) -> None:
    with progress(f"building profile {profile.name} (seed {profile.seed}) into {target}", logger=log):
        _build_into(profile, target)


def _build_into(profile: Profile, target: Path) -> None:
    import torch
    from chronos.chronos2 import Chronos2Model
    from chronos.chronos2.config import Chronos2CoreConfig

    target.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(profile.seed)
    config = Chronos2CoreConfig(**profile.core_config())
    config.chronos_config = profile.chronos_config()
    model = Chronos2Model(config).eval()
    import transformers

    transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    staging = Path(tempfile.mkdtemp(prefix=f".{profile.name}-", dir=target.parent))
    try:
        model.save_pretrained(staging)
        weights = staging / "model.safetensors"
        marker = {
            "profile": profile.name,
            "description": profile.description,
            "seed": profile.seed,
            "trained": False,
            "parameters": sum(p.numel() for p in model.parameters()),
            "weights_sha256": sha256_file(weights),
            "built_with_torch": torch.__version__,
        }
        (staging / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        if target.exists():  # a half-built leftover without a marker
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_pipeline(source: ModelSource, *, attn_implementation: str, device: str, dtype: str = "float32") -> Chronos2Pipeline:
    """Load through ``Chronos2Pipeline.from_pretrained`` (float32 unless told); any failure is an :class:`InputError`.

    ``dtype`` "int8-dynamic": loaded in float32, then its ``Linear`` layers dynamically quantized (int8 weights, each
    call's activations quantized on the fly: ``torch.ao.quantization.quantize_dynamic``). CPU only. "tf32": loaded in
    float32 (its matmul mode is :func:`harness.model.precision.matmul_precision`'s). CUDA only."""
    import torch
    import transformers
    from chronos.chronos2 import Chronos2Pipeline

    refusal = unsupported_on(dtype, device)
    if refusal:
        raise InputError(refusal)
    transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # no carriage-return spam in logs
    try:
        pipeline = Chronos2Pipeline.from_pretrained(
            source.location,
            attn_implementation=attn_implementation,
            dtype=getattr(torch, weight_dtype(dtype)),
        )
    except Exception as exc:  # from_pretrained raises OSError, ValueError, AssertionError, hub errors...
        raise InputError(
            f"model {source.model_id!r}: could not be loaded ({type(exc).__name__}: {' '.join(str(exc).split())[:300]}); "
            f"fix: pass a readable checkpoint directory, a reachable hub id, or a built-in model ({', '.join(known_names())})"
        ) from exc
    if not isinstance(pipeline, Chronos2Pipeline):
        raise InputError(
            f"model {source.model_id!r}: is a {type(pipeline).__name__}, not a Chronos-2 model; fix: use a Chronos-2 checkpoint"
        )
    pipeline.model.to(device).eval()
    if dtype == INT8_DYNAMIC:
        pipeline.model = _int8_dynamic(pipeline.model)
    return pipeline


def _int8_dynamic(model: Any) -> Any:
    """``model`` with every ``nn.Linear`` dynamically quantized to int8 (torch.ao; its deprecation warnings muted)."""
    import warnings

    import torch
    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*(deprecat|quantiz).*")
        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)  # type: ignore[no-untyped-call]


def compare_weights(new: Path, reference: Path) -> str:
    """One line: bit-identical, or the largest absolute difference between two checkpoints' tensors."""
    new_sha, ref_sha = sha256_file(new / "model.safetensors"), sha256_file(reference / "model.safetensors")
    if new_sha == ref_sha:
        return f"bit-identical to {reference} (sha256 {ref_sha})"
    from safetensors.numpy import load_file

    a, b = load_file(str(new / "model.safetensors")), load_file(str(reference / "model.safetensors"))
    if a.keys() != b.keys():
        return f"differs from {reference}: different tensor names"
    worst = max(float(abs(a[k].astype("float64") - b[k].astype("float64")).max()) for k in a)
    return f"differs from {reference}: sha256 {new_sha[:12]} vs {ref_sha[:12]}, max |weight difference| {worst:.3g}"


def known_names() -> list[str]:
    return [*shipped_models(), *PROFILES]


def parameter_count(pipeline: Chronos2Pipeline) -> int:
    return sum(p.numel() for p in pipeline.model.parameters())


def print_models() -> None:
    """``models``: the shipped checkpoints, the built-in untrained shapes, and what else a model name may be."""
    for name in shipped_models():
        print(f"{name:<20} trained by this project (harness/model/checkpoints/{name}/MODEL_CARD.md); the default model")
    for profile in PROFILES.values():
        print(f"{profile.name:<20} {profile.description}; untrained (seeded random weights)")
    print("or: a Hugging Face hub id (e.g. amazon/chronos-2), a local checkpoint directory, an s3:// prefix")
