"""A few training steps on the tiny profile: a loadable, marked checkpoint, bit-identical for the same seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.model.loading import MARKER, PROFILES, compare_weights, load_pipeline, resolve_model
from harness.model.training import TrainConfig, train
from tests.conftest import ROOT

TINY = TrainConfig(
    steps=3, batch_size=8, context_length=64, synthetic_count=8, synthetic_length=96, real_copies=1, profile=PROFILES["tiny"]
)


def _train(output: Path) -> dict[str, object]:
    return train(TINY, data_dir=ROOT / "trainingdata", hyperparams_dir=ROOT / "hyperparams", output=output)


def test_training_writes_a_marked_loadable_checkpoint_and_is_reproducible(tmp_path: Path) -> None:
    facts = _train(tmp_path / "a")
    assert facts["trained"] is True and facts["seed"] == 0
    marker = json.loads((tmp_path / "a" / MARKER).read_text())
    assert marker["weights_sha256"] == facts["weights_sha256"]
    assert set(marker["skill"]) == {"BTCUSD", "GOOG", "EURUSD"}
    card = (tmp_path / "a" / "MODEL_CARD.md").read_text()
    assert "model / naive" in card and "before** its scored windows" in card
    source = resolve_model(str(tmp_path / "a"))
    assert source.trained is True and source.weights_sha256 == facts["weights_sha256"]
    load_pipeline(source, attn_implementation="eager", device="cpu")

    _train(tmp_path / "b")
    assert compare_weights(tmp_path / "b", tmp_path / "a").startswith("bit-identical")


def test_compare_weights_reports_a_difference(tmp_path: Path) -> None:
    import dataclasses

    _train(tmp_path / "a")
    train(
        dataclasses.replace(TINY, seed=1),
        data_dir=ROOT / "trainingdata",
        hyperparams_dir=ROOT / "hyperparams",
        output=tmp_path / "b",
    )
    message = compare_weights(tmp_path / "b", tmp_path / "a")
    assert message.startswith("differs") and "max |weight difference|" in message


@pytest.mark.parametrize("symbol", ["BTCUSD", "GOOG", "EURUSD"])
def test_shipped_default_model_forecasts_sanely(symbol: str) -> None:
    from harness.data.params import fit_window, resolve_params
    from harness.data.window import load_ohlc
    from harness.model.training import DEFAULT_MODEL

    source = resolve_model(DEFAULT_MODEL)
    assert source.trained is True and Path(source.location).is_relative_to(ROOT / "harness" / "model" / "checkpoints")
    assert (Path(source.location) / "model.safetensors").stat().st_size < 25_000_000
    pipeline = load_pipeline(source, attn_implementation="eager", device="cpu")
    params = resolve_params(symbol, ROOT / "hyperparams")
    assert params.model == DEFAULT_MODEL
    params, window, _ = fit_window(load_ohlc(ROOT / "trainingdata", symbol), params, rows=500)  # as the bench does: BTCUSD 493
    frame = pipeline.predict_df(
        window.context,
        target=["open", "high", "low", "close"],
        prediction_length=7,
        quantile_levels=[0.1, 0.5, 0.9],
        context_length=params.context_length,
        freq=window.freq,
    )
    assert len(frame) == 4 * 7
    q = frame[["0.1", "0.5", "0.9"]].to_numpy()
    assert (q == q).all() and abs(q).max() < 1e12  # finite
    assert (q[:, 0] <= q[:, 1]).all() and (q[:, 1] <= q[:, 2]).all()  # quantiles ordered
    last = window.context["close"].iloc[-1]
    close = frame.loc[frame["target_name"] == "close", "0.5"].to_numpy()
    assert (abs(close - last) < 0.5 * abs(last)).all()  # a trained model stays near the price level
