"""``compare``: join the results, check each comparison against the baselines, print it all, and say how it ends.

Reads only results and baselines (no torch). What the gate decides is :mod:`harness.gate.checks`; how findings become an
exit code, :mod:`harness.gate.verdict`; how it reads, :mod:`harness.report.display`.
"""

from __future__ import annotations

import functools
import itertools
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.version import InvalidVersion, Version

from harness.base.errors import ExitCode, InputError
from harness.cli.history import history_folder
from harness.gate.confirmation import DEFAULT_TIMING_CONFIRM

if TYPE_CHECKING:
    from harness.gate.baseline import Baseline
    from harness.gate.checks import Check
    from harness.gate.comparison import Comparison
    from harness.gate.history import Series
    from harness.results.schema import RunRecord


@dataclass(frozen=True, kw_only=True)
class CompareOptions:
    results_dir: Path
    baselines_dir: Path
    confidence: float = 0.95
    strict: bool = False
    against: dict[str, str] | None = None
    fail_on_improvement: bool = False
    confirm_timing: tuple[int, int] = DEFAULT_TIMING_CONFIRM  # a timing regression stands in K of N measurements
    history_dir: Path | None = None  # past results: say at which run and commit a regression began
    history_branch: str | None = None  # the same, from a branch `publish` writes (fetched from ``remote``)
    remote: str = "origin"
    json: Path | None = None  # also write the verdict as JSON


def _baselines(directory: Path) -> tuple[dict[Any, Any], InputError | None]:
    """The baselines, or none and the problem (the verdicts are still printed, then the problem). The default folder
    missing, with no project around (an installed harness run from its own folder), is no problem: nothing to gate
    yet, every key new."""
    from harness.gate.baseline_files import load_baselines

    if directory == Path("baselines") and not directory.exists():
        print("note: no baselines/ here or in a project directory: every key is new; record them with update-baselines\n")
        return {}, None
    try:
        return dict(load_baselines(directory)), None
    except InputError as exc:
        return {}, exc


def compare(options: CompareOptions) -> ExitCode:
    from harness.gate.checks import check
    from harness.gate.comparison import build_comparisons, rebenched
    from harness.gate.confirmation import confirm
    from harness.gate.matching import GateKind, missing, select
    from harness.gate.verdict import exit_code, tally
    from harness.report.display import format_check, format_comparison
    from harness.results.store import read_records

    check_json_path(options.json)
    records = read_records(options.results_dir)
    comparisons, orphans = build_comparisons(records, confidence=options.confidence)
    reruns = rebenched(records, confidence=options.confidence)
    with history_folder(options.history_dir, options.history_branch, options.remote) as (folder, _):
        histories = load_histories(folder, confidence=options.confidence, current=records)
    if not comparisons:
        raise InputError(
            f"{options.results_dir}: no compiled-mode results to compare; fix: run `nox -s bench_eager bench_compiled` first"
        )
    loaded, unusable = _baselines(options.baselines_dir)
    baselines = [baseline for baseline, _ in loaded.values()]
    paths = {id(baseline): str(path) for baseline, path in loaded.values()}
    regressed = functools.partial(regressions_in, baselines=baselines, against=options.against)  # a past run's
    checks = []
    unmatched_against: list[str] = []
    for comparison in comparisons:
        print(format_comparison(comparison))
        if unusable is not None:
            print("  baseline: not checked (see the error below)\n")
            continue
        checked = check(comparison, baselines, against=options.against)
        if comparison.compiled is not None:
            again = reruns.get((comparison.compiled.run_id, comparison.key), [])
            checked = confirm(checked, [check(r, baselines, against=options.against) for r in again], options.confirm_timing)
        if options.against and checked.match.kind is GateKind.NEW and select(comparison, baselines).kind is not GateKind.NEW:
            unmatched_against.append(comparison.key.label())
        checks.append(checked)
        notes = [thin_baseline(checked), *began(comparison, checked, histories, regressed=regressed)]
        print(
            "\n".join([format_check(comparison, checked, paths.get(id(checked.match.baseline), "")), *filter(None, notes)]) + "\n"
        )
    print_upgrades(comparisons, baselines)
    print_best(comparisons)
    for orphan in orphans:
        print(
            f"note: eager run {orphan.run_id} ({orphan.symbol}, {orphan.model_id}, torch {orphan.torch_version}) has no compiled run to compare with"
        )
    absent = missing(comparisons, baselines) if unusable is None else []
    for baseline in absent:
        print(
            f"missing: {paths[id(baseline)]}: {baseline.key.label()} has a baseline but no result here "
            "(data file changed? configuration or symbol dropped?); fix: bench it, or delete the baseline on purpose"
        )
    result = tally(len(comparisons), checks, missing=len(absent))
    print(result.line())
    if unusable is not None:
        raise unusable
    if unmatched_against and options.against:
        raise InputError(
            f"--against {','.join(f'{k}={v}' for k, v in options.against.items())}: no baseline recorded with that software for "
            f"{'; '.join(unmatched_against)}; fix: name a version recorded in {options.baselines_dir}"
        )
    code = exit_code(result, strict=options.strict, fail_on_improvement=options.fail_on_improvement)
    if code is ExitCode.USAGE:
        print("--strict: a new key or a missing result fails; record or delete baselines on purpose", file=sys.stderr)
    if options.json is not None:
        from harness.report.compare_json import compare_document

        document = compare_document(comparisons, checks, result, exit_code=int(code), missing=[b.key.label() for b in absent])
        write_json(options.json, document)
    return code


def check_json_path(path: Path | None) -> None:
    """``--json PATH``: its directory must exist, checked before any work (nothing is half-done when it is wrong)."""
    if path is not None and not path.parent.is_dir():
        raise InputError(f"--json {path}: no directory {path.parent}; fix: create it or name another path")


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Strict JSON (a NaN would be invalid; the documents carry null instead), written whole."""
    path.write_text(json.dumps(document, indent=1, allow_nan=False) + "\n", encoding="utf-8")


def print_upgrades(comparisons: list[Comparison], baselines: list[Baseline]) -> None:
    """Torch matrix: where one machine ran the same settings with two software versions, the newer against the older."""
    from harness.gate.baseline import Tolerances
    from harness.gate.checks import upgrade_findings
    from harness.gate.matching import select
    from harness.report.display import format_upgrade

    groups: dict[tuple[object, object], list[Comparison]] = {}
    for comparison in comparisons:
        groups.setdefault((comparison.key.what, comparison.key.where), []).append(comparison)
    for members in groups.values():
        ordered = sorted(members, key=lambda c: (version_order(c.key.software.torch), c.key.software))
        for older, newer in itertools.pairwise(ordered):
            own = select(newer, baselines).baseline
            findings = upgrade_findings(older, newer, own.tolerances if own else Tolerances())
            print(format_upgrade(older, newer, findings))
            print("  (shown, not gated: each version is gated against its own baseline above)\n")


def version_order(text: str) -> tuple[int, Version | str]:
    """A sort key for torch versions as PEP 440 orders them (``packaging.version``): ``2.14.0.dev20260101`` <
    ``2.14.0rc1`` < ``2.14.0`` < ``2.14.0+cpu`` < ``2.14.1``; a string that is no version sorts after every version."""
    try:
        return (0, Version(text))
    except InvalidVersion:
        return (1, text)


def print_best(comparisons: list[Comparison]) -> None:
    """Per group of configurations: the search table (harness.report.search_table), then the best that passes every gate."""
    from harness.gate.picking import pick_best
    from harness.report.search_table import best_lines, format_table, search_rows, winner_code

    for pick in pick_best(comparisons):
        if pick.candidates < 2:
            continue
        print(f"configurations of {pick.label}:")
        print(format_table(search_rows(pick.members)))
        print("\n".join(f"  {line}" for line in best_lines(pick)))
        code = winner_code(pick)
        if code:
            print("  As code (what the bench ran):\n" + "\n".join(f"    {line}" for line in code))
        print()


def thin_baseline(checked: Check) -> str:
    """A warning line when the baseline rests on fewer sessions than the calibration the tolerances come from."""
    from harness.gate.baseline import CALIBRATED_SESSIONS
    from harness.gate.provenance import support

    if checked.match.baseline is None or not checked.gated:
        return ""
    rests = support(checked.match.baseline)
    if rests is None or rests.sessions >= CALIBRATED_SESSIONS:
        return ""
    return (
        f"  warning: this baseline rests on {rests.describe()}; the gate's false-alarm rates were measured with "
        f"baselines of {CALIBRATED_SESSIONS} sessions (docs/calibration.md), so a timing verdict here is less sure; "
        f"fix: bench {CALIBRATED_SESSIONS} sessions into one directory and `update-baselines --pool` from it"
    )


_CHANGED = {"speedup": "speedup", "compiled.latency_s": "compiled latency", "eager.latency_s": "eager latency"}


def load_histories(
    directory: Path | None, *, confidence: float, current: Sequence[RunRecord] = ()
) -> dict[tuple[object, str], Series]:
    """Every key's past runs (``--history-dir``, or the branch exported into it), with the ``current`` results (read
    once when the history holds them too: the nightly publishes before it compares), by (key, environment); none
    without a history."""
    from harness.gate.history import series
    from harness.results.store import read_records, unique_records

    if directory is None:
        return {}
    records = unique_records([*read_records(directory), *current])
    return {(history.key, history.environment): history for history in series(records, confidence=confidence)}


def regressions_in(comparison: Comparison, *, baselines: list[Baseline], against: dict[str, str] | None) -> frozenset[str]:
    """The metrics in which the gate finds ``comparison`` (a past run) regressed."""
    from harness.gate.checks import check

    return frozenset(finding.metric for finding in check(comparison, baselines, against=against).regressions)


def began(
    comparison: Comparison,
    checked: Check,
    histories: dict[tuple[object, str], Series],
    *,
    regressed: Callable[[Comparison], frozenset[str]] | None = None,
) -> list[str]:
    """For each timing regression, where its history shows the level moved: the run, first bad and last good commit it
    began with. Where no level moved (too few runs), and for every other regressed metric, the run since which the gate
    (``regressed``: a past run's regressed metrics) fails it, with the same two commits."""
    from harness.gate.changepoints import MIN_SIZE, changes
    from harness.gate.onset import onsets

    history = histories.get((comparison.key, comparison.environment))
    metrics = {_CHANGED[f.metric] for f in checked.regressions if f.metric in _CHANGED}
    if history is None or not checked.regressions:
        return []
    latest: dict[str, str] = {}
    for change in changes(history):  # oldest first: the last worsening of a metric is where its current level began
        worse = change.relative < 0 if change.metric == "speedup" else change.relative > 0
        if change.metric in metrics and worse:
            latest[change.metric] = f"  history: this regression began at {change.describe()}"
    lines = [latest[metric] for metric in sorted(latest)]
    quiet = sorted(metrics - set(latest))
    if quiet:
        lines.append(
            f"  history: no change point in {', '.join(quiet)} over {len(history.points)} run(s) (a new level must hold {MIN_SIZE} runs to be one)"
        )
    if regressed is None:
        return lines
    explained = {name for name, shown in _CHANGED.items() if shown in latest}
    found = onsets(history, sorted({f.metric for f in checked.regressions} - explained), regressed)
    return lines + [f"  history: {where.describe()}" for where in found.values()]
