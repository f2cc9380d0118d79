"""Change points in a key's history: the run at which a metric moved to a new level and stayed there. Pure.

The detection is ruptures' PELT (exact segmentation under a penalty, Killick et al. 2012) on the series standardised by
its own run-to-run noise (a robust scale from successive differences, so one step does not inflate it). A change is
kept when each side holds at least ``min_size`` runs and the levels differ by at least ``min_shift`` (relative): a
shift smaller than the gate's tolerances is noise for this purpose. The penalty is 5 ln n per change (BIC would be 2 ln n: stricter, since a false change costs a team more than a late one).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.gate.history import Series

MIN_SIZE = 3  # runs on each side of a change: a level must hold three runs before it is one (medians shrug off one outlier)
MIN_SHIFT = 0.03  # relative shift between the medians of the two sides
PENALTY = 5.0  # per change, times ln n (BIC: 2). Pure noise, sigma 2%, n 40: 1 of 200 series with a false change at 5, 4 at 3
METRICS = ("speedup", "compiled latency", "eager latency")


def change_points(values: Sequence[float], *, min_size: int = MIN_SIZE, min_shift: float = MIN_SHIFT) -> list[int]:
    """Indices where a new level starts (never 0), found by PELT; ``values`` must be finite."""
    import ruptures

    data = np.asarray(values, dtype=np.float64)
    if len(data) < 2 * min_size or not np.all(np.isfinite(data)):
        return []
    scale = float(np.median(np.abs(np.diff(data)))) / 0.6745 / math.sqrt(2)  # sigma of the noise, robust to steps
    level = float(np.median(np.abs(data)))
    scale = max(scale, 1e-3 * level, 1e-12)  # a perfectly flat series must not turn a rounding step into a change
    signal = ((data - np.median(data)) / scale).reshape(-1, 1)
    ends = ruptures.Pelt(model="l2", min_size=min_size, jump=1).fit(signal).predict(pen=PENALTY * math.log(len(data)))
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
    commit: str
    before: float  # median of the runs before (back to the previous change)
    after: float  # median of the runs from here (to the next change)

    @property
    def relative(self) -> float:
        return (self.after - self.before) / self.before

    def describe(self) -> str:
        commit = f", commit {self.commit[:10]}" if self.commit else ""
        return (
            f"{self.metric} {self.before:.4g} -> {self.after:.4g} ({self.relative:+.1%}) from run {self.run_id} "
            f"({self.timestamp_utc[:19]}{commit})"
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
            comparison = series.points[index].comparison
            compiled = comparison.compiled
            found.append(
                Change(
                    metric=metric,
                    index=index,
                    timestamp_utc=series.points[index].timestamp_utc,
                    run_id=compiled.run_id if compiled else "",
                    commit=str(comparison.fingerprint.get("git_commit", "")),
                    before=float(np.median(values[bounds[number] : cut])),
                    after=float(np.median(values[cut : bounds[number + 2]])),
                )
            )
    return sorted(found, key=lambda change: (change.index, change.metric))
