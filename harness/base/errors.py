"""The harness's exceptions and the exit codes they map to."""

from __future__ import annotations

import enum
from pathlib import Path


class ExitCode(enum.IntEnum):
    """Process exit codes of ``python -m harness`` (documented in the README)."""

    OK = 0
    REGRESSION = 1
    USAGE = 2
    HARNESS_FAILED = 3
    INTERRUPTED = 130


class HarnessError(Exception):
    """Base class of every error the harness raises on purpose."""

    exit_code: ExitCode = ExitCode.HARNESS_FAILED


class InputError(HarnessError):
    """A user mistake: bad file, bad field, bad option. The message names the file, the field and the fix."""

    exit_code = ExitCode.USAGE


class NoBaselineError(InputError):
    """A result has no committed baseline for its key."""


def one_line(exc: object) -> str:
    """An exception's text on one line, control characters escaped, at most 200 characters."""
    text = " ".join(str(exc).split())[:200]
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def show(value: object, limit: int = 60) -> str:
    """``repr`` of user text for a one-line message: control characters escaped, long text cut."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        return f"{text[:limit]!r}... ({len(text)} characters)"
    return repr(text) if isinstance(value, str) else repr(value)


def field_error(path: Path, where: str, problem: str, fix: str) -> InputError:
    """The one shape of an input error: ``<file>: <where>: <problem>; fix: <what to do>``."""
    return InputError(f"{path}: {where}: {problem}; fix: {fix}")
