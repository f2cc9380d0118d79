"""harness.gate.bisect: the search over the packages that differ, on a fake bench (pure: a probe is a function)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.gate.bisect import Bisection, Change, Outcome, Probe, bisect, package_changes, stack_packages

BASE = {"accelerate": "1.15.0", "numpy": "2.3.0", "tokenizers": "0.22.0", "torch": "2.13.0", "transformers": "5.24.0"}
HEAD = {
    "accelerate": "1.16.0",
    "numpy": "2.3.0",
    "tokenizers": "0.23.0",
    "torch": "2.13.0",
    "transformers": "5.25.0",
    "xxhash": "3.6",
}


def test_the_changes_are_every_package_that_differs_in_name_order() -> None:
    changes = package_changes(BASE, HEAD)
    assert [change.text() for change in changes] == [
        "accelerate 1.15.0 → 1.16.0",
        "tokenizers 0.22.0 → 0.23.0",
        "transformers 5.24.0 → 5.25.0",
        "xxhash (none) → 3.6",
    ]
    assert stack_packages(BASE, changes, 0) == BASE
    assert stack_packages(BASE, changes, len(changes)) == HEAD
    assert stack_packages(BASE, changes, 2) == {**BASE, "accelerate": "1.16.0", "tokenizers": "0.23.0"}
    assert stack_packages(HEAD, package_changes(HEAD, BASE), 4) == BASE  # head's extra package removed


def _bench(culprit: int, unbuildable: frozenset[int] = frozenset()) -> tuple[list[int], object]:
    """A fake bench: stack k regresses when it holds change ``culprit`` (k > culprit); records what it was asked."""
    asked: list[int] = []

    def probe(k: int) -> Probe:
        asked.append(k)
        if k in unbuildable:
            return Probe(k=k, outcome=Outcome.UNBUILDABLE, summary="uv: no solution")
        outcome = Outcome.REGRESSES if k > culprit else Outcome.HOLDS
        return Probe(k=k, outcome=outcome, summary=f"compiled.latency_s {'1.25' if k > culprit else '1.00'}")

    return asked, probe


def _changes(n: int) -> list[Change]:
    return [Change(name=f"p{i:02d}", base="1", head="2") for i in range(n)]


def test_eight_packages_take_three_ab_runs_and_name_the_one() -> None:
    asked, probe = _bench(culprit=5)
    found = bisect(_changes(8), probe)  # type: ignore[arg-type]
    assert [change.name for change in found.culprits] == ["p05"]
    assert asked == [4, 6, 5] and (found.good, found.bad) == (5, 6)
    assert found.text() == "bisect: p05 1 → 2 carries the regression (3 A/B run(s) of intermediate stacks)"


def test_one_package_needs_no_run() -> None:
    asked, probe = _bench(culprit=0)
    found = bisect(_changes(1), probe)  # type: ignore[arg-type]
    assert asked == [] and [change.name for change in found.culprits] == ["p00"]


def test_a_stack_that_does_not_install_is_stepped_around() -> None:
    asked, probe = _bench(culprit=3, unbuildable=frozenset({2}))
    found = bisect(_changes(5), probe)  # type: ignore[arg-type]
    assert asked == [2, 1, 3, 4]  # the middle does not install: its nearest neighbour instead, never the middle again
    assert [change.name for change in found.culprits] == ["p03"]
    asked, probe = _bench(culprit=2, unbuildable=frozenset({2}))
    found = bisect(_changes(5), probe)  # type: ignore[arg-type]
    assert [change.name for change in found.culprits] == ["p01", "p02"]  # stack 2 is the only one that could split them


def test_when_no_stack_between_installs_the_range_is_named() -> None:
    asked, probe = _bench(culprit=1, unbuildable=frozenset({1, 2, 3}))
    found = bisect(_changes(4), probe)  # type: ignore[arg-type]
    assert sorted(asked) == [1, 2, 3]
    assert [change.name for change in found.culprits] == ["p00", "p01", "p02", "p03"]
    assert found.text().startswith("bisect: one of p00 1 → 2, p01 1 → 2") and "do not install together" in found.text()


@given(
    n=st.integers(min_value=1, max_value=40),
    culprit_at=st.floats(min_value=0, max_value=0.999),
    unbuildable=st.frozensets(st.integers(min_value=1, max_value=39), max_size=10),
)
def test_the_culprit_is_always_among_those_named_each_stack_probed_once(
    n: int, culprit_at: float, unbuildable: frozenset[int]
) -> None:
    culprit = int(culprit_at * n)
    asked, probe = _bench(culprit=culprit, unbuildable=unbuildable)
    found: Bisection = bisect(_changes(n), probe)  # type: ignore[arg-type]
    assert f"p{culprit:02d}" in [change.name for change in found.culprits]
    assert len(asked) == len(set(asked)) and all(0 < k < n for k in asked)
    if not unbuildable:
        assert len(found.culprits) == 1 and len(asked) <= max(0, (n - 1).bit_length())


@pytest.mark.parametrize("outcome", list(Outcome))
def test_outcomes_read_as_words(outcome: Outcome) -> None:
    assert str(outcome) == outcome.value
