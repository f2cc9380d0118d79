"""The report's History: per key and environment, its trend chart (one point per run, oldest first, labelled by commit
and date), the change points named by first bad and last good commit, and a table of its latest runs with each commit
linked to its page; and, for the headline, where each regression began. Builds blocks and the drawings to make; draws
nothing itself, reads no file."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.gate import onset
from harness.gate.baseline import Baseline
from harness.gate.changepoints import MIN_SHIFT, MIN_SIZE, Change, changes
from harness.gate.checks import Check, check
from harness.gate.comparison import Comparison, ModeSummary
from harness.gate.history import Series
from harness.report import plots
from harness.report.blocks import Block, Cell, Heading, Image, Link, Paragraph, Table
from harness.report.drawing import Drawing
from harness.results.commits import commit_url, short_commit
from harness.results.keys import Key

TABLE_RUNS = 20  # the latest runs listed under each trend; the chart shows them all

HistoryKey = tuple[Key, str]  # (key, environment)


def to_second(timestamp: str) -> str:
    """``2026-11-26T06:48:58.123456+00:00`` -> ``2026-11-26T06:48:58+00:00``: the fraction orders runs, a reader needs no more."""
    return re.sub(r"(T\d{2}:\d{2}:\d{2})\.\d+", r"\1", timestamp)


def slug(history: Series) -> str:
    key = history.key
    digest = hashlib.sha256(repr((key, history.environment)).encode()).hexdigest()[:8]
    readable = re.sub(
        r"[^A-Za-z0-9._-]+", "-", f"{key.symbol}-{key.model_id}-torch{key.torch_version}-{plots.short_config(key.compile_config)}"
    ).strip("-")
    readable = readable[:120]  # a file name stays far below the 255-byte limit whatever the symbol; the digest keeps it unique
    return f"trend-{readable}-{digest}.png"


def _ms(summary: ModeSummary | None) -> str:
    return "-" if summary is None or summary.latency_median_s is None else f"{summary.latency_median_s * 1000:.2f} ms"


def runs_table(history: Series, moved: Sequence[Change], template: str | None, *, limit: int = TABLE_RUNS) -> Table:
    """The latest ``limit`` runs of ``history``, newest last as in the chart: commit (linked where ``template`` says
    where commits live), date, speedup, median latencies, and the change points each run starts."""
    starts: dict[int, list[str]] = {}
    for change in moved:
        starts.setdefault(change.index, []).append(f"{change.metric} {change.relative:+.1%}: first bad")
    rows: list[tuple[Cell, ...]] = []
    first = max(0, len(history.points) - limit)
    for index, point in enumerate(history.points[first:], start=first):
        c = point.comparison
        url = commit_url(template, point.commit)
        shown = short_commit(point.commit)
        rows.append(
            (
                str(index + 1),
                Link(shown, url) if url else shown,
                to_second(point.timestamp_utc)[:16].replace("T", " "),
                "-" if c.speedup is None else f"{c.speedup:.3f}x",
                _ms(c.eager),
                _ms(c.compiled),
                "; ".join(starts.get(index, [])),
            )
        )
    return Table(("Run", "Commit", "Date (UTC)", "Speedup", "Latency eager", "Latency compiled", "Change point"), tuple(rows))


def section(
    histories: Sequence[Series], checks: Mapping[HistoryKey, Check], out_dir: Path, *, template: str | None
) -> tuple[list[Block], list[Drawing]]:
    """The History section's blocks, and the trend charts to draw into ``out_dir``."""
    blocks: list[Block] = [
        Heading(2, "History"),
        Paragraph(
            "Every past run of each key, oldest to newest, each labelled by the commit it ran and its date: speedup, median "
            "latencies and MAE %, with the baseline and its tolerance band (a point outside the band and significantly so "
            "is what `compare` calls a regression). A change point names its first bad commit (the first run of the new "
            "level) and its last good commit (the run before): the cause lies between them (git log GOOD..BAD)."
        ),
    ]
    drawings = []
    for history in histories:
        current = checks.get((history.key, history.environment))
        name = slug(history)
        moved = changes(history)
        drawings.append(
            Drawing(
                plots.trend,
                (history, current.match.baseline if current else None, out_dir / name),
                {"gated": bool(current and current.gated), "changes": moved},
            )
        )
        blocks.append(Heading(3, f"{plots.row_label(history.points[-1].comparison)} · {history.key.device}"))
        found = "; ".join(change.describe() for change in moved) if moved else "none"
        blocks.append(
            Paragraph(
                f"{len(history.points)} run(s), {to_second(history.points[0].timestamp_utc)} to {to_second(history.points[-1].timestamp_utc)}; environment {history.environment}. "
                f"Change points (PELT, a level held for {MIN_SIZE}+ runs and moved {MIN_SHIFT:.0%}+): {found}."
            )
        )
        blocks.append(Image(name, f"history of {history.key.label()}"))
        listed = min(TABLE_RUNS, len(history.points))
        blocks.append(
            Paragraph(f"The {listed} latest of {len(history.points)} run(s):" if listed < len(history.points) else "Its runs:")
        )
        blocks.append(runs_table(history, moved, template))
    return blocks, drawings


def onsets(
    comparisons: Sequence[Comparison], checks: Sequence[Check], histories: Sequence[Series], baselines: Sequence[Baseline]
) -> dict[tuple[int, str], str]:
    """(index of the comparison, metric) -> where that regression began in its history (first bad and last good
    commit, by the gate's verdict on each past run), for every regression whose key has a history."""
    by_key = {(h.key, h.environment): h for h in histories}
    found: dict[tuple[int, str], str] = {}
    for index, (comparison, checked) in enumerate(zip(comparisons, checks, strict=True)):
        history = by_key.get((comparison.key, comparison.environment))
        if history is None or len(history.points) < 2 or not checked.regressions:
            continue

        def regressed(past: Comparison) -> set[str]:
            return {f.metric for f in check(past, baselines).regressions}

        for metric, began in onset.onsets(history, [f.metric for f in checked.regressions], regressed).items():
            found[(index, metric)] = began.describe()
    return found
