"""Change points in a key's history: the run at which a metric moved to a new level and stayed there. Pure.

The detection is PELT (exact segmentation under a penalty, Killick et al. 2012) with the least-squares cost on the series
standardised by its own run-to-run noise (a robust scale from successive differences, so one step does not inflate it).
A change is kept when each side holds at least ``min_size`` runs and the levels differ by at least ``min_shift``
(relative): a shift smaller than the gate's tolerances is noise for this purpose. The penalty is 5 ln n per change (BIC
would be 2 ln n: stricter, since a false change costs a team more than a late one).

:func:`segment` is PELT itself, with each segment's cost in O(1) from running sums, so a history of thousands of runs is
segmented in milliseconds (ruptures' PELT recomputes each candidate's variance: 2,500 runs took 2 s per metric).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.gate.history import Series
from harness.gate.onset import culprits

MIN_SIZE = 3  # runs on each side of a change: a level must hold three runs before it is one (medians shrug off one outlier)
MIN_SHIFT = 0.03  # relative shift between the medians of the two sides
PENALTY = 5.0  # per change, times ln n (BIC: 2). Pure noise, sigma 2%, n 40: 1 of 200 series with a false change at 5, 4 at 3
METRICS = ("speedup", "compiled latency", "eager latency")


def segment(signal: np.ndarray, *, penalty: float, min_size: int) -> list[int]:
    """The ends of the segments (the last is ``len(signal)``) minimising the sum of squared deviations from each
    segment's mean plus ``penalty`` per segment, every segment at least ``min_size`` long: PELT, exact."""
    n = len(signal)
    if n < 2 * min_size:
        return [n]
    first = np.concatenate(([0.0], np.cumsum(signal)))
    second = np.concatenate(([0.0], np.cumsum(signal * signal)))
    best = np.full(n + 1, np.inf)  # best[t]: the least total cost of signal[:t]
    best[0] = -penalty
    last = np.zeros(n + 1, dtype=np.int64)  # last[t]: where the last segment of that best split starts
    candidates = np.zeros(0, dtype=np.int64)  # starts of a last segment still able to be optimal

    def cost(starts: np.ndarray, end: int) -> np.ndarray:
        total = first[end] - first[starts]
        out: np.ndarray = np.maximum(second[end] - second[starts] - total * total / np.maximum(end - starts, 1), 0.0)
        return out

    for end in range(min_size, n + 1):
        start = end - min_size  # the latest start a last segment ending here may have
        if np.isfinite(best[start]):
            # pruning: a start that did worse by ``start`` than ending a segment there does worse at every end from
            # here on, where ``start`` itself may begin the last segment (Killick et al.: K = 0 for this cost)
            behind = best[candidates] + cost(candidates, start) > best[start]
            candidates = np.append(candidates[~behind], start)
        value = best[candidates] + cost(candidates, end) + penalty
        pick = int(np.argmin(value))
        best[end], last[end] = value[pick], candidates[pick]
    ends = [n]
    while last[ends[-1]] > 0:
        ends.append(int(last[ends[-1]]))
    return ends[::-1]


def change_points(values: Sequence[float], *, min_size: int = MIN_SIZE, min_shift: float = MIN_SHIFT) -> list[int]:
    """Indices where a new level starts (never 0), found by PELT; ``values`` must be finite."""
    data = np.asarray(values, dtype=np.float64)
    if len(data) < 2 * min_size or not np.all(np.isfinite(data)):
        return []
    scale = float(np.median(np.abs(np.diff(data)))) / 0.6745 / math.sqrt(2)  # sigma of the noise, robust to steps
    level = float(np.median(np.abs(data)))
    scale = max(scale, 1e-3 * level, 1e-12)  # a perfectly flat series must not turn a rounding step into a change
    signal = (data - np.median(data)) / scale
    ends = segment(signal, penalty=PENALTY * math.log(len(data)), min_size=min_size)
    bounds = [0, *ends]  # ends: each segment's end, the last one len(data)
    out = []
    for previous, cut, following in zip(bounds, bounds[1:-1], bounds[2:], strict=False):
        old, new = float(np.median(data[previous:cut])), float(np.median(data[cut:following]))
        if old and abs(new - old) / abs(old) >= min_shift:
            out.append(cut)
    return out


@dataclass(frozen=True, kw_only=True)
class Change:
    """A metric of one key moved at one run and stayed."""

    metric: str
    index: int  # the first point of the new level in the series
    timestamp_utc: str
    run_id: str
    commit: str  # the first bad commit: the first run of the new level was benched at it
    before: float  # median of the runs before (back to the previous change)
    after: float  # median of the runs from here (to the next change)
    last_good_commit: str | None = None  # the run just before (None: not known)
    last_good_run_id: str = ""

    @property
    def relative(self) -> float:
        return (self.after - self.before) / self.before

    def describe(self) -> str:
        return (
            f"{self.metric} {self.before:.4g} -> {self.after:.4g} ({self.relative:+.1%}) from run {self.run_id} "
            f"({self.timestamp_utc[:19]}): {culprits(self.commit, self.last_good_commit)}"
        )


def metric_values(series: Series, metric: str) -> list[tuple[int, float]]:
    """(point index, value) of ``metric`` over the runs where it was measured."""
    out = []
    for index, point in enumerate(series.points):
        comparison = point.comparison
        if metric == "speedup":
            value = comparison.speedup
        else:
            summary = comparison.compiled if metric.startswith("compiled") else comparison.eager
            value = summary.latency_median_s if summary is not None else None
        if value is not None and math.isfinite(value):
            out.append((index, value))
    return out


def changes(series: Series, *, min_size: int = MIN_SIZE, min_shift: float = MIN_SHIFT) -> list[Change]:
    """Every change of every metric of ``series``, oldest first."""
    found = []
    for metric in METRICS:
        measured = metric_values(series, metric)
        values = [value for _, value in measured]
        cuts = change_points(values, min_size=min_size, min_shift=min_shift)
        bounds = [0, *cuts, len(values)]
        for number, cut in enumerate(cuts):
            index = measured[cut][0]
            point, good = series.points[index], series.points[measured[cut - 1][0]]  # a cut is never the first run
            found.append(
                Change(
                    metric=metric,
                    index=index,
                    timestamp_utc=point.timestamp_utc,
                    run_id=point.run_id,
                    commit=point.commit,
                    before=float(np.median(values[bounds[number] : cut])),
                    after=float(np.median(values[cut : bounds[number + 2]])),
                    last_good_commit=good.commit,
                    last_good_run_id=good.run_id,
                )
            )
    return sorted(found, key=lambda change: (change.index, change.metric))
