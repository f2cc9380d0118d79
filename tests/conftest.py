"""Shared fixtures: offline, seeded, one model cache per session, dynamo reset between tests."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the suite never needs the network
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if item.get_closest_marker("gpu") and not has_cuda:
            item.add_marker(skip)
    # the longest tests first: under pytest-xdist (nox -s tests) no worker starts a 50 s test while the others finish
    items.sort(key=_heavy_seconds, reverse=True)


def _heavy_seconds(item: pytest.Item) -> float:
    marker = item.get_closest_marker("heavy")
    return float(marker.kwargs["seconds"]) if marker else 0.0


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of built profiles for the whole session (building `tiny` takes about a second)."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(autouse=True)
def _isolation(model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(model_cache))
    random.seed(0)
    np.random.seed(0)
    yield
    if "torch" in sys.modules:
        import torch

        torch._dynamo.reset()
