"""What a check found: one :class:`Finding` per metric, and the comparisons every check is written with, so that a
NaN anywhere fails it (``not value <= limit``) and never passes it. Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.base.textenum import TextEnum

if TYPE_CHECKING:
    from harness.gate.comparison import Comparison
    from harness.results.keys import Key


class FindingKind(TextEnum):
    REGRESSION = "regression"  # fails the gate (exit 1)
    IMPROVEMENT = "improvement"  # beyond tolerance the good way: the baseline is stale (exit 1 with --fail-on-improvement)
    FLAKY = "flaky"  # calls that failed, then passed on re-run
    SWING = "swing"  # one witness of two slower: a host swing, not a regression
    HOST_NOISY = "host noisy"  # the machine reference moved: neither pass nor fail, re-bench (confirm)
    NOT_JUDGED = "not judged"  # the result lacks what the check reads (exit 2 under --strict)
    NOTE = "note"  # worth saying, not gated
    INFO = "info"  # shown, not gated (timings under the portable gate)
    HOLDS = "holds"  # within tolerance


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One metric checked: its value, the baseline's, and what the gate made of it."""

    key: Key
    metric: str
    current: float | None
    baseline: float | None
    kind: FindingKind
    message: str

    @property
    def regression(self) -> bool:
        return self.kind == "regression"

    @property
    def notable(self) -> bool:
        """Worth a line of its own: anything but a metric that held or was only shown."""
        return self.kind not in ("holds", "info")


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def slower(current: float, interval: tuple[float, float], base: float, tolerance: float) -> bool:
    """Larger than ``base`` by more than ``tolerance`` (relative) and significantly so; NaN anywhere: True."""
    return not (current <= base * (1 + tolerance) or interval[0] <= base)


def lower(current: float, interval: tuple[float, float], base: float, tolerance: float) -> bool:
    """Smaller than ``base`` by more than ``tolerance`` (relative) and significantly so; NaN anywhere: True."""
    return not (current >= base * (1 - tolerance) or interval[1] >= base)


def pct(current: float, base: float) -> str:
    return f"{(current - base) / base:+.1%}" if base else "n/a"


class Findings:
    """Collects the findings of one comparison; every message of an upgrade names what changed."""

    def __init__(self, comparison: Comparison, prefix: str) -> None:
        self.key = comparison.key
        self.prefix = prefix
        self.out: list[Finding] = []

    def add(self, metric: str, current: float | None, base: float | None, kind: str, message: str) -> None:
        shown = f"{self.prefix}: {message}" if self.prefix and kind not in ("holds", "info") else message
        self.out.append(
            Finding(key=self.key, metric=metric, current=current, baseline=base, kind=FindingKind(kind), message=shown)
        )
