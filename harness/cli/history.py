"""The results history at the command line: ``publish`` appends this run's results to a history branch, and
``--history-branch`` reads one back (into a temporary folder) wherever ``--history-dir`` names a folder of past results.

The git plumbing is :mod:`harness.results.history_branch`; this only wires it and says what happened.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.base.errors import ExitCode

if TYPE_CHECKING:
    from harness.results.schema import RunRecord


@dataclass(frozen=True, kw_only=True)
class PublishOptions:
    to: str
    remote: str = "origin"
    results_dir: Path


def publish(options: PublishOptions) -> ExitCode:
    """Append the results to the branch from the repository here; says what was added, or that nothing was new."""
    from harness.results.commits import short_commit
    from harness.results.history_branch import publish as append

    done = append(Path.cwd(), options.results_dir, remote=options.remote, branch=options.to)
    where = f"{options.remote}/{options.to}"
    if done.commit is None:
        print(f"{where}: nothing new, all {len(done.present)} file(s) of {options.results_dir} are already there")
        return ExitCode.OK
    tries = f" (pushed on attempt {done.attempts}: someone else pushed meanwhile)" if done.attempts > 1 else ""
    kept = f"; {len(done.present)} already there" if done.present else ""
    print(f"{where}: added {len(done.added)} file(s) as commit {short_commit(done.commit)}{kept}{tries}")
    for path in done.added:
        print(f"  {path}")
    return ExitCode.OK


@contextlib.contextmanager
def history_folder(directory: Path | None, branch: str | None, remote: str) -> Iterator[tuple[Path | None, str]]:
    """The folder of past results and its name for messages: ``directory`` as given, or ``branch`` of ``remote`` fetched
    and exported into a temporary folder that lives as long as the ``with``; (None, "") without either."""
    if branch is None:
        yield directory, str(directory or "")
        return
    from harness.results.commits import short_commit
    from harness.results.history_branch import export

    with tempfile.TemporaryDirectory(prefix="harness-history-") as scratch:
        tip = export(Path.cwd(), remote=remote, branch=branch, into=Path(scratch))
        yield Path(scratch), f"branch {branch} of {remote} (at {short_commit(tip)})"


def with_history(results_dir: Path, history_dir: Path | None, branch: str | None, remote: str) -> tuple[list[RunRecord], str]:
    """This run's results and the history's, each run read once, and where they came from in words. With a history, a
    missing ``results_dir`` (a night whose every bench failed before writing) leaves the history alone, with a note."""
    from harness.results.store import read_records, unique_records

    with history_folder(history_dir, branch, remote) as (folder, named):
        past = read_records(folder) if folder is not None else []
    if folder is not None and not results_dir.exists():
        print(f"note: {results_dir}: no such directory; the report shows the history only", file=sys.stderr)
        return past, named
    records = read_records(results_dir)
    return (
        (unique_records([*records, *past]), f"{results_dir} and {named}") if folder is not None else (records, str(results_dir))
    )
