"""``ab --bisect``: which of the packages that differ between base and head carries a regression (pure search).

As Pinpoint bisects commits, this bisects packages. The packages that differ are put in order (by name); stack ``k``
is base with the first ``k`` of them moved to head's versions, so stack 0 is base and stack ``n`` is head. The search
keeps ``good < bad`` with stack ``good`` known to hold and stack ``bad`` known to regress against base, and probes a
stack between them (one A/B of base against it, by the caller) until they are neighbours: the package between them
carries the regression. A stack that cannot be built (its versions do not resolve together) is skipped: the nearest
buildable stack in the range is probed instead, and when none is, the whole range is named. Each probe costs an A/B
run, so the search asks for ``ceil(log2 n)`` of them when every stack builds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.base.textenum import TextEnum


@dataclass(frozen=True, kw_only=True)
class Change:
    """One package that differs: its version in base and in head (``None``: not installed there)."""

    name: str
    base: str | None
    head: str | None

    def text(self) -> str:
        return f"{self.name} {self.base or '(none)'} → {self.head or '(none)'}"


def package_changes(base: dict[str, str], head: dict[str, str]) -> list[Change]:
    """Every package whose version differs, sorted by name (the order stacks move them in)."""
    return [
        Change(name=name, base=base.get(name), head=head.get(name))
        for name in sorted(set(base) | set(head))
        if base.get(name) != head.get(name)
    ]


def stack_packages(base: dict[str, str], changes: Sequence[Change], k: int) -> dict[str, str]:
    """Stack ``k``: base's packages with the first ``k`` changes at head's versions (removed where head has none)."""
    packages = dict(base)
    for change in changes[:k]:
        if change.head is None:
            packages.pop(change.name, None)
        else:
            packages[change.name] = change.head
    return packages


class Outcome(TextEnum):
    HOLDS = "holds"  # the A/B of base against this stack passes
    REGRESSES = "regresses"  # it fails
    UNBUILDABLE = "unbuildable"  # the stack's versions do not install together


@dataclass(frozen=True, kw_only=True)
class Probe:
    k: int  # the stack probed: base with the first k changes
    outcome: Outcome
    summary: str  # what the A/B said, one line (e.g. "compiled.latency_s 1.25 [1.07, 1.45]")


@dataclass(frozen=True, kw_only=True)
class Bisection:
    culprits: tuple[Change, ...]  # one package when the search closed; a range when stacks in it did not build
    good: int  # the last stack known to hold
    bad: int  # the first stack known to regress
    probes: tuple[Probe, ...]

    def text(self) -> str:
        named = ", ".join(change.text() for change in self.culprits)
        runs = f"{len(self.probes)} A/B run(s) of intermediate stacks"
        if len(self.culprits) == 1:
            return f"bisect: {named} carries the regression ({runs})"
        return f"bisect: one of {named} carries the regression (the stacks between them do not install together; {runs})"


def bisect(changes: Sequence[Change], probe: Callable[[int], Probe]) -> Bisection:
    """Search stacks ``1 .. n-1`` for the first that regresses, given that stack 0 (base) holds and stack ``n``
    (head) regresses. ``probe(k)`` runs the A/B of base against stack ``k``; it is called at most once per ``k``."""
    good, bad = 0, len(changes)
    probes: list[Probe] = []
    unbuildable: set[int] = set()
    while bad - good > 1:
        candidates = [k for k in _from_middle(good, bad) if k not in unbuildable]
        if not candidates:
            break
        found = probe(candidates[0])
        probes.append(found)
        if found.outcome is Outcome.UNBUILDABLE:
            unbuildable.add(found.k)
        elif found.outcome is Outcome.REGRESSES:
            bad = found.k
        else:
            good = found.k
    return Bisection(culprits=tuple(changes[good:bad]), good=good, bad=bad, probes=tuple(probes))


def _from_middle(good: int, bad: int) -> list[int]:
    """The stacks strictly between ``good`` and ``bad``, the middle first, then outwards (nearest to it first)."""
    middle = (good + bad) // 2
    inside = range(good + 1, bad)
    return sorted(inside, key=lambda k: (abs(k - middle), k))
