"""Shared by the gate's tests: a baseline recorded from a real session, as update-baselines writes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results.store import write_records
from tests.factories import real_session, record_baselines


@pytest.fixture(scope="module")
def real_baselines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A baselines folder recorded from the real BTCUSD session of :func:`tests.factories.real_session`."""
    root = tmp_path_factory.mktemp("real")
    write_records(list(real_session()), root / "results", name="session")
    record_baselines(root / "results", root / "baselines")
    return root / "baselines"
