"""The order of an A/B of two software stacks on one host: ``pairs`` process pairs, base and head alternating in ABBA
order (base-head, head-base, base-head, ...), each process fresh, so that a drift of the host over the run falls on
both sides alike instead of on whichever side ran later. Pure. Also the unit an A/B measures (:class:`Pair` of :class:`ProcessTiming`) and the rule that re-runs a pair whose
host moved; :mod:`harness.bench.ab` runs the plan and :mod:`harness.gate.pairs` judges what it measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Side = Literal["base", "head"]


@dataclass(frozen=True, kw_only=True)
class Slot:
    """One fresh process of the A/B: which pair it belongs to, which stack it runs, and its place in the run."""

    pair: int  # 0-based
    side: Side
    position: int  # 0-based, over the whole run


def abba(pairs: int) -> list[Slot]:
    """``2 * pairs`` slots: even pairs run base then head, odd pairs head then base (A B B A A B ...)."""
    if pairs < 1:
        raise ValueError(f"an A/B needs at least one process pair, not {pairs}")
    order: list[Slot] = []
    for pair in range(pairs):
        first = order_first_side(pair)
        sides: tuple[Side, Side] = (first, "head" if first == "base" else "base")
        start = len(order)
        order.extend(Slot(pair=pair, side=side, position=start + i) for i, side in enumerate(sides))
    return order


def order_first_side(pair: int) -> Side:
    """Which stack runs first in ``pair``: base in even pairs, head in odd ones."""
    return "base" if pair % 2 == 0 else "head"


def progress_label(slot: Slot, pairs: int) -> str:
    """What the progress line says of a slot: ``pair 3/8 · head``; past the planned pairs, ``extra pair 7 · head``
    (a pair run to replace one whose host moved)."""
    if slot.pair >= pairs:
        return f"extra pair {slot.pair + 1} · {slot.side}"
    return f"pair {slot.pair + 1}/{pairs} · {slot.side}"


@dataclass(frozen=True, kw_only=True)
class ProcessTiming:
    """What one fresh process measured: medians of its timed calls, and of the machine reference beside them."""

    eager_s: float
    compiled_s: float
    speedup: float  # its own interleaved speedup (uncompiled / compiled, in that process)
    reference_s: float


@dataclass(frozen=True, kw_only=True)
class Pair:
    base: ProcessTiming
    head: ProcessTiming


def host_moved(pair: Pair, *, host_limit: float) -> bool:
    """The machine reference of head and base differ by more than ``host_limit`` (relative); any NaN or non-positive
    reference counts as moved (nothing can be said of that pair)."""
    base, head = pair.base.reference_s, pair.head.reference_s
    if not (math.isfinite(base) and math.isfinite(head) and base > 0 and head > 0):
        return True
    return abs(math.log(head / base)) > math.log1p(host_limit)
