"""Argument types of the command line: each turns one flag's text into a value or says, in one line, what is wrong."""

from __future__ import annotations

import argparse
import math

from harness.bench.faults import Fault
from harness.bench.isolation import DEFAULT_TIMEOUT_S
from harness.results.commits import template_problem

MAX_COUNT = 1_000_000  # calls, runs, rows: a count beyond this is a typo (1e20 was accepted), not a plan


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
    if value > MAX_COUNT:
        raise argparse.ArgumentTypeError(f"{text!r} must be at most {MAX_COUNT}")
    return value


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number of seconds > 0, e.g. {DEFAULT_TIMEOUT_S:g}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def fraction(text: str) -> float:
    """A confidence level: [0.5, 1)."""
    value = _number(text)
    if not 0.5 <= value < 1:  # NaN fails too
        raise argparse.ArgumentTypeError(f"{text!r} must be in [0.5, 1), e.g. 0.95")
    return value


def k_of_n(text: str) -> tuple[int, int]:
    k, _, n = text.partition("/")
    try:
        pair = int(k), int(n)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not K/N, e.g. 2/3") from None
    if not 1 <= pair[0] <= pair[1]:
        raise argparse.ArgumentTypeError(f"{text!r}: need 1 <= K <= N, e.g. 2/3")
    return pair


def fault(text: str) -> Fault:
    try:
        return Fault.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def planted(text: str) -> Fault:
    """The old ``--plant KIND[:SYMBOL]``: only the first-call kinds."""
    parsed = fault(text)
    if not parsed.kind.first_call_only:
        raise argparse.ArgumentTypeError(f"{text!r}: KIND must be one of exception, crash, hang, oom, e.g. crash:GOOG")
    return parsed


def failure_rate(text: str) -> Fault:
    """The old ``--inject-failure P``: ``--fault raise@P``, checked by the same rule."""
    return fault(f"raise@{text}")


def against(text: str) -> dict[str, str]:
    from harness.gate.matching import parse_against

    try:
        return parse_against(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def pairs(text: str) -> int:
    """``ab --pairs``: an interval over pairs needs two of them at least."""
    value = positive(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"{text!r}: an interval needs at least 2 process pairs")
    return value


def relative_limit(text: str) -> float:
    """A relative limit in (0, 10], e.g. 0.25 (10: a pair is never dropped)."""
    value = _number(text)
    if not (0 < value <= 10):  # NaN fails too
        raise argparse.ArgumentTypeError(f"{text!r} must be in (0, 10], e.g. 0.25")
    return value


def slow_fault(text: str) -> Fault:
    """``confirm --fault``: only ``slow@F`` makes sense in a re-bench (a slowdown that persists)."""
    planted = fault(text)
    if planted.kind.value != "slow":
        raise argparse.ArgumentTypeError(f"{text!r}: confirm plants only slow@F in its re-benches, e.g. slow@0.3")
    return planted


def commit_url(text: str) -> str:
    """A commit link template: http(s), ``{commit}`` once."""
    problem = template_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"{text!r} {problem}")
    return text
