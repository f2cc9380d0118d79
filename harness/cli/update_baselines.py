"""``update-baselines``: write a baseline per comparison from the latest results (or all of them, pooled), on purpose.

Each refresh prints old -> new per metric against the baseline the gate would use, and refuses (exit 1) to bless a
regression, failed or flaky calls, a status other than pass, broken numbers, a timing excused as the host, fewer
sessions than the baseline it replaces, or a drift from the first baseline of the key beyond tolerance
(:mod:`harness.gate.refresh_rules`) unless ``--accept "why"``. Confirmation re-bench rows never make a baseline.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.base.errors import ExitCode, InputError


@contextlib.contextmanager
def folder_lock(directory: Path) -> Iterator[None]:
    """An exclusive lock on ``directory`` itself (flock on the folder: no lock file for `git add baselines/` to take);
    a second holder is refused at once, in one line."""
    import fcntl

    handle = os.open(directory, os.O_RDONLY)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                f"{directory}: another update-baselines is writing here; fix: wait for it to finish, then run this again"
            ) from None
        yield
    finally:
        os.close(handle)


@dataclass(frozen=True, kw_only=True)
class RefreshOptions:
    results_dir: Path
    baselines_dir: Path
    reason: str
    pool: bool = False  # rest each baseline on every run of its key, not only the latest
    default_tolerances: bool = False  # write today's default tolerances instead of keeping each file's own
    accept: str | None = None


def refresh(options: RefreshOptions) -> ExitCode:
    from harness.results.store import check_writable_dir

    check_writable_dir(options.baselines_dir, "--baselines-dir")  # before any work: a file in the way, a read-only disk
    with folder_lock(options.baselines_dir):  # two refreshes at once would overwrite each other's provenance
        return _refresh(options)


def _refresh(options: RefreshOptions) -> ExitCode:
    from harness.gate.baseline import Tolerances
    from harness.gate.baseline_files import baseline_from, file_to_replace, load_baselines, write_baseline
    from harness.gate.checks import check
    from harness.gate.comparison import build_comparisons, pool_runs
    from harness.gate.provenance import provenance, unblessable
    from harness.gate.refresh_rules import first_of, refresh_problems
    from harness.report.display import format_table
    from harness.results.store import read_records

    records = [r for r in read_records(options.results_dir) if not r.confirms]  # a re-bench is evidence, not a session
    comparisons, _ = build_comparisons(pool_runs(records) if options.pool else records)
    existing = load_baselines(options.baselines_dir) if options.baselines_dir.is_dir() else {}
    paths = {id(baseline): path for baseline, path in existing.values()}
    written = refused = 0
    for comparison in comparisons:
        if comparison.eager is None:
            print(f"skip {comparison.key.label()}: no eager run")
            continue
        checked = check(comparison, [baseline for baseline, _ in existing.values()])
        before = checked.match.baseline
        print(
            f"{comparison.key.label()}: "
            + (f"{checked.match.describe()} against {paths[id(before)]}" if before else "no earlier baseline")
        )
        if before is not None:
            print(format_table(checked.findings, old="old", new="new"))
        problems = [f.message for f in checked.regressions] + unblessable(comparison)
        problems += refresh_problems(comparison, checked, before)
        if problems and not options.accept:
            refused += 1
            print("  refused: " + "\n  refused: ".join(problems))
            print(
                '  fix: find the cause, or record it on purpose with --accept "why" (the reason and the old values go into provenance)\n'
            )
            continue
        previous = file_to_replace(comparison.key, existing)
        accepted = (options.accept, problems) if problems and options.accept else None
        facts = provenance(
            comparison, checked, reason=options.reason, replaced=paths.get(id(before)) if before else None, accepted=accepted
        )
        first = first_of(before, checked)
        if first is not None:
            facts["first"] = first  # the bar later refreshes of this key are judged against too
        tolerances = previous[0].tolerances if previous and not options.default_tolerances else Tolerances()
        path, diff = write_baseline(
            options.baselines_dir,
            baseline_from(comparison, tolerances=tolerances, provenance=facts),
            replace=previous[1] if previous else None,
        )
        written += 1
        print(f"wrote {path}" + (f" (accepted: {options.accept})" if problems else ""))
        print(diff or "  (unchanged)")
    print(f"{written} baseline(s) written, {refused} refused; commit them with the reason in the message")
    return ExitCode.REGRESSION if refused else ExitCode.OK
