"""harness.bench.abba: the ABBA order of an A/B's process pairs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.bench.abba import abba, progress_label


def test_four_pairs_alternate_abba() -> None:
    order = abba(4)
    assert "".join("A" if slot.side == "base" else "B" for slot in order) == "ABBAABBA"
    assert [slot.pair for slot in order] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert [slot.position for slot in order] == list(range(8))
    assert progress_label(order[3], 4) == "pair 2/4 · base"
    assert progress_label(order[3], 1) == "extra pair 2 · base"  # beyond the planned pairs: a re-run


@given(pairs=st.integers(min_value=1, max_value=60))
def test_every_pair_has_one_process_of_each_stack_and_neither_always_goes_first(pairs: int) -> None:
    order = abba(pairs)
    assert len(order) == 2 * pairs
    for pair in range(pairs):
        assert sorted(slot.side for slot in order if slot.pair == pair) == ["base", "head"]
    firsts = [slot.side for slot in order[::2]]
    assert abs(firsts.count("base") - firsts.count("head")) <= 1  # over the run, each stack starts half the pairs
    # the mean position of each stack differs by at most one slot: a host drifting linearly hits both alike
    mean = {side: sum(s.position for s in order if s.side == side) / pairs for side in ("base", "head")}
    assert abs(mean["base"] - mean["head"]) <= 1


@pytest.mark.parametrize("pairs", [0, -3])
def test_no_pairs_is_refused(pairs: int) -> None:
    with pytest.raises(ValueError, match="at least one process pair"):
        abba(pairs)
