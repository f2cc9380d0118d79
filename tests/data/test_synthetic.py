from __future__ import annotations

import numpy as np
import pytest

from harness.data import synthetic


def test_generation_is_reproducible_and_well_formed() -> None:
    first = synthetic.generate(24, length=200, seed=3)
    second = synthetic.generate(24, length=200, seed=3)
    other = synthetic.generate(24, length=200, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))
    for series in first:
        assert series.shape == (4, 200) and series.dtype == np.float32
        assert np.isfinite(series).all()
        open_, high, low, close = series
        assert (high >= np.maximum(open_, close) - 1e-3 * np.abs(close)).all()
        assert (low <= np.minimum(open_, close) + 1e-3 * np.abs(close)).all()


@pytest.mark.parametrize("family", synthetic.FAMILIES)
def test_each_family_is_positive(family: str) -> None:
    path = synthetic.close_path(family, 500, np.random.default_rng(0))
    assert path.shape == (500,) and (path > 0).all()


def test_unknown_family_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown family"):
        synthetic.close_path("nope", 10, np.random.default_rng(0))
