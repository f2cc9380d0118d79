"""Where a regression began, named by commit: the first bad run of a key's history and the last good run before it. Pure.

Two ways to find it. A change point (:mod:`harness.gate.changepoints`) is where a level moved and held: its first bad
run is the first of the new level, its last good run the one just before. Without one (a history shorter than two
levels of three runs, or a drift too slow to be a step), the gate's own verdict: the runs that fail a metric in a row up
to the latest, back to the newest that passes it. Either way the runs are consecutive in the history, so the commits
that may hold the cause are those between the two (``git log <last good>..<first bad>``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from harness.gate.comparison import Comparison
from harness.gate.history import Point, Series
from harness.results.commits import short_commit


def culprits(first_bad: str, last_good: str | None) -> str:
    """``first bad commit B, last good commit A``, and what the pair means when it is not that."""
    bad = short_commit(first_bad)
    if last_good is None:
        return f"first bad commit {bad}, no good run before it in the history"
    if first_bad == last_good:
        return f"first bad and last good runs both at commit {bad}: not a change of this repository's code"
    return f"first bad commit {bad}, last good commit {short_commit(last_good)}"


@dataclass(frozen=True, kw_only=True)
class Onset:
    """The runs of one metric failing the gate in a row up to the latest, and the run before them."""

    metric: str
    first_bad: Point
    last_good: Point | None
    failing: int  # runs in the streak, the latest included

    def describe(self) -> str:
        good = f" (good in run {self.last_good.run_id})" if self.last_good is not None else ""
        return (
            f"{self.metric} fails the gate in the last {self.failing} run(s), since run {self.first_bad.run_id} "
            f"({self.first_bad.timestamp_utc[:19]}){good}: "
            f"{culprits(self.first_bad.commit, self.last_good.commit if self.last_good else None)}"
        )


def onset(history: Series, metric: str, failing: Sequence[bool]) -> Onset | None:
    """Where the latest run's failure of ``metric`` began; ``failing[i]``: whether run ``i`` of ``history`` fails it.
    None when the latest run does not fail it, or is the only run (a history of one says nothing of when)."""
    if len(failing) != len(history.points):
        raise ValueError(f"{len(failing)} verdicts for {len(history.points)} runs")
    if len(failing) < 2 or not failing[-1]:
        return None
    start = len(failing) - 1
    while start > 0 and failing[start - 1]:
        start -= 1
    return Onset(
        metric=metric,
        first_bad=history.points[start],
        last_good=history.points[start - 1] if start else None,
        failing=len(failing) - start,
    )


def onsets(history: Series, metrics: Iterable[str], regressed: Callable[[Comparison], Collection[str]]) -> dict[str, Onset]:
    """:func:`onset` of each of ``metrics`` in ``history``, ``regressed`` saying which metrics the gate finds a past run
    regressed in (asked once a run): the one place compare and the report find where a regression began."""
    verdicts = [regressed(point.comparison) for point in history.points]
    found = {metric: onset(history, metric, [metric in verdict for verdict in verdicts]) for metric in metrics}
    return {metric: where for metric, where in found.items() if where is not None}
