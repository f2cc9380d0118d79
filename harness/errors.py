"""The harness's exceptions and the exit codes they map to."""

from __future__ import annotations

import enum


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
