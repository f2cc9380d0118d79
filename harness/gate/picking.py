"""The pick of the best compile configuration: per group of comparisons that differ only in compile configuration, the
fastest that passes every check, ranked by the lower end of its speedup interval. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.gate.comparison import Comparison
from harness.rules.recommend import REJECTED

if TYPE_CHECKING:
    pass


@dataclass(frozen=True, kw_only=True)
class Pick:
    """The fastest configuration of one (symbol, model, environment) that passes every gate, or why there is none."""

    label: str  # what the configurations share
    best: Comparison | None
    candidates: int
    passing: int
    members: tuple[Comparison, ...] = ()  # every configuration of the group
    best_float32: Comparison | None = None  # the same pick among float32 configurations, when ``best`` is not one


def speedup_low(comparison: Comparison) -> float:
    """What configurations are ranked by: the lower end of the speedup interval, else the speedup (0 when none)."""
    low = comparison.speedup_ci[0] if comparison.speedup_ci else comparison.speedup
    return low or 0.0


def _fastest(comparisons: list[Comparison]) -> Comparison | None:
    return max(comparisons, key=speedup_low, default=None)


def pick_best(comparisons: Iterable[Comparison]) -> list[Pick]:
    """Per group of comparisons differing only in compile configuration: the highest speedup among those that pass
    (100% success, not flaky, drift and MAE inside tolerance), judged on the lower end of the speedup interval."""
    groups: dict[tuple[object, ...], list[Comparison]] = {}
    for comparison in comparisons:
        key = comparison.key
        groups.setdefault(
            (
                key.symbol,
                key.model_id,
                key.torch_version,
                key.device,
                key.context_length,
                key.batch_size,
                key.data_sha256,
                comparison.environment,
            ),
            [],
        ).append(comparison)
    picks = []
    for (symbol, model, torch_version, device, *_), members in sorted(groups.items(), key=lambda item: str(item[0])):
        passing = [c for c in members if c.recommendation not in REJECTED and c.speedup is not None]
        best = _fastest(passing)
        full = _fastest([c for c in passing if c.compiled is None or c.compiled.dtype == "float32"])
        picks.append(
            Pick(
                label=f"{symbol} · {model} · torch {torch_version} · {device}",
                best=best,
                candidates=len(members),
                passing=len(passing),
                members=tuple(members),
                best_float32=full if full is not best else None,
            )
        )
    return picks
