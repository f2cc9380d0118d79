from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.base.errors import InputError
from harness.model.loading import MARKER, PROFILES, load_pipeline, parameter_count, resolve_model


def test_tiny_profile_is_built_once_marked_untrained_and_loads(model_cache: Path) -> None:
    source = resolve_model("tiny", cache=model_cache)
    assert source.trained is False
    assert len(source.weights_sha256) == 64
    marker = json.loads((Path(source.location) / MARKER).read_text())
    assert marker["trained"] is False
    assert marker["seed"] == PROFILES["tiny"].seed
    again = resolve_model("tiny", cache=model_cache)
    assert again.weights_sha256 == source.weights_sha256  # cached, not rebuilt with other weights
    pipeline = load_pipeline(source, attn_implementation="eager", device="cpu")
    assert pipeline.model.config._attn_implementation == "eager"
    assert parameter_count(pipeline) == marker["parameters"]
    assert pipeline.model.dtype.is_floating_point


def test_profile_build_is_deterministic(tmp_path: Path) -> None:
    first = resolve_model("tiny", cache=tmp_path / "a")
    second = resolve_model("tiny", cache=tmp_path / "b")
    assert first.weights_sha256 == second.weights_sha256


def test_chronos_2_arch_matches_the_published_shape() -> None:
    arch = PROFILES["chronos-2-arch"]
    assert (arch.d_model, arch.num_layers, arch.num_heads, arch.d_ff, arch.d_kv) == (768, 12, 12, 3072, 64)
    config = arch.chronos_config()
    assert config["input_patch_size"] == config["output_patch_size"] == 16
    assert len(config["quantiles"]) == 21
    assert config["quantiles"][0] == 0.01 and config["quantiles"][-1] == 0.99 and 0.5 in config["quantiles"]


def test_local_checkpoint_directory_is_used_as_trained(model_cache: Path, tmp_path: Path) -> None:
    built = Path(resolve_model("tiny", cache=model_cache).location)
    copy = tmp_path / "ckpt"
    copy.mkdir()
    for name in ("config.json", "model.safetensors"):
        (copy / name).write_bytes((built / name).read_bytes())
    source = resolve_model(str(copy))
    assert source.location == str(copy)
    assert source.trained is True  # no marker: a user's checkpoint is assumed trained
    load_pipeline(source, attn_implementation="eager", device="cpu")


def test_directory_without_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no config.json.*fix"):
        resolve_model(str(tmp_path))


def test_missing_local_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such directory"):
        resolve_model(str(tmp_path / "nope" / "model"))


def test_unreadable_checkpoint_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(InputError, match=r"could not be loaded.*fix"):
        load_pipeline(resolve_model(str(tmp_path)), attn_implementation="eager", device="cpu")


def test_unknown_hub_id_offline_is_an_input_error() -> None:
    source = resolve_model("no-such-org/no-such-chronos")
    assert source.location == "no-such-org/no-such-chronos"
    with pytest.raises(InputError, match=r"no-such-org/no-such-chronos.*could not be loaded"):
        load_pipeline(source, attn_implementation="eager", device="cpu")


@pytest.mark.parametrize("name", ["chronos-bench-mimi", "chronos-2"])
def test_a_name_that_is_no_model_and_no_directory_is_refused_at_once(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not tried as a hub id: offline, that is a minute of retries before the same answer."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # as a user's shell: nothing would stop the retries
    with pytest.raises(
        InputError, match=rf"model '{name}': not a built-in model, and no such directory .* needs the network; fix: "
    ):
        resolve_model(name)


def test_hub_ids_and_remote_prefixes_are_left_to_from_pretrained() -> None:
    for name in ("amazon/chronos-2", "s3://bucket/models/chronos-2"):
        source = resolve_model(name)
        assert (source.location, source.trained) == (name, True)
