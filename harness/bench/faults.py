"""Planted faults: the self-test that shows the harness catching what it exists to catch (``bench --fault``).

``--fault KIND[@P][:SYMBOL]``:

- ``exception``, ``crash``, ``hang``, ``oom``: the first call of the measured mode raises, aborts the process, never
  returns, or raises ``MemoryError`` -- fault isolation must turn each into a result row and go on to the next symbol.
- ``raise``: each prediction attempt raises with probability ``P`` (default 1: every one); ``P < 1`` plants a flaky
  run, which the k-of-n confirmation must tell from a failing one.
- ``slow``: each timed prediction of the measured mode takes ``1 + F`` times as long (``slow@F``, default 0.3: 30%
  slower; the eager partner interleaved with compiled calls is not slowed): a planted timing regression, which the
  gate must catch and ``confirm`` must confirm when it persists (``confirm --fault slow``) or clear when it does not.
- ``:SYMBOL`` limits the fault to one symbol; without it every symbol gets it.

Replaces ``--plant KIND[:SYMBOL]`` and ``--inject-failure [P]`` (still accepted as aliases for one release).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

from harness.base.textenum import TextEnum


class FaultKind(TextEnum):
    EXCEPTION = "exception"
    CRASH = "crash"
    HANG = "hang"
    OOM = "oom"
    RAISE = "raise"
    SLOW = "slow"

    @property
    def first_call_only(self) -> bool:
        """Whether the fault strikes once, at the measured mode's first call (else: every attempt)."""
        return self not in (FaultKind.RAISE, FaultKind.SLOW)


class InjectedFailure(RuntimeError):
    """Raised on purpose by ``--fault`` so that the gate and fault isolation can be seen to work."""


@dataclass(frozen=True, kw_only=True)
class Fault:
    kind: FaultKind
    probability: float = 1.0  # kind raise: per prediction attempt
    slowdown: float = 0.0  # kind slow: each measured prediction takes 1 + this times as long
    symbol: str = ""  # "" = every symbol

    def applies_to(self, symbol: str) -> bool:
        return self.symbol in ("", symbol)

    def text(self) -> str:
        """The flag's value that gives this fault back: ``raise@0.3:GOOG``."""
        rate = f"@{self.probability:g}" if self.kind is FaultKind.RAISE and self.probability != 1.0 else ""
        rate = f"@{self.slowdown:g}" if self.kind is FaultKind.SLOW else rate
        return f"{self.kind.value}{rate}" + (f":{self.symbol}" if self.symbol else "")

    @classmethod
    def parse(cls, text: str) -> Fault:
        """``crash:GOOG``, ``raise``, ``raise@0.3``. A bad value is a :class:`ValueError` saying what is wrong and an example."""
        head, _, symbol = text.partition(":")
        name, at, rate = head.partition("@")
        try:
            kind = FaultKind(name)
        except ValueError:
            raise ValueError(
                f"{text!r}: KIND must be one of {', '.join(k.value for k in FaultKind)}, e.g. crash:GOOG or raise@0.3"
            ) from None
        if kind is FaultKind.SLOW:
            return cls(kind=kind, slowdown=_slowdown(text, rate) if at else DEFAULT_SLOWDOWN, symbol=symbol)
        if not at:
            return cls(kind=kind, symbol=symbol)
        if kind is not FaultKind.RAISE:
            raise ValueError(f"{text!r}: only raise@P and slow@F take a number, e.g. raise@0.3 or slow@0.2")
        try:
            probability = float(rate)
        except ValueError:
            raise ValueError(f"{text!r}: P in raise@P is not a number, e.g. raise@0.3") from None
        if not (math.isfinite(probability) and 0 < probability <= 1):
            raise ValueError(f"{text!r}: P must be in (0, 1], e.g. raise@0.3")
        return cls(kind=kind, probability=probability, symbol=symbol)


DEFAULT_SLOWDOWN = 0.3


def _slowdown(text: str, rate: str) -> float:
    try:
        slowdown = float(rate)
    except ValueError:
        raise ValueError(f"{text!r}: F in slow@F is not a number, e.g. slow@0.2 (20% slower)") from None
    if not (math.isfinite(slowdown) and 0 < slowdown <= 10):
        raise ValueError(f"{text!r}: F must be in (0, 10], e.g. slow@0.2 (20% slower)")
    return slowdown


def strike(kind: FaultKind, mode: str) -> None:
    """Fail the way ``kind`` says (the first-call kinds)."""
    if kind is FaultKind.EXCEPTION:
        raise InjectedFailure(f"planted exception by --fault in {mode} mode")
    if kind is FaultKind.OOM:
        raise MemoryError(f"planted out-of-memory by --fault in {mode} mode")
    if kind is FaultKind.CRASH:
        os.abort()  # SIGABRT: no Python exception, no row from this process (faulthandler prints the stack)
    if kind is FaultKind.HANG:
        while True:
            time.sleep(3600)
