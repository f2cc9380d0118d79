"""Every past run of every key as a time series, for the report's trend charts. Pure: no I/O, no plotting."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harness.gate import stats
from harness.gate.comparison import Comparison, compare_pair
from harness.results.keys import Key, environment_of, key_of, settings_of
from harness.results.schema import RunRecord

TREND_RESAMPLES = 1000  # bootstrap resamples per past run: every point of every trend gets an interval


@dataclass(frozen=True, kw_only=True)
class Point:
    """One compiled run of a key, compared with the eager run that went with it."""

    timestamp_utc: str
    comparison: Comparison

    @property
    def commit(self) -> str:
        """The commit the compiled run was benched at, as recorded (``unknown`` outside a repository)."""
        return str(self.comparison.fingerprint.get("git_commit", ""))

    @property
    def run_id(self) -> str:
        return self.comparison.compiled.run_id if self.comparison.compiled is not None else ""


@dataclass(frozen=True, kw_only=True)
class Series:
    """The runs of one key in one environment, oldest first."""

    key: Key
    environment: str
    points: tuple[Point, ...]


def series(
    records: Iterable[RunRecord], *, confidence: float = stats.DEFAULT_CONFIDENCE, resamples: int = TREND_RESAMPLES
) -> list[Series]:
    """Each compiled run, paired with the latest eager run of its settings and environment that ran before it
    (or, when eager ran after, the first one after: a nox invocation benches eager first, a CI matrix may not)."""
    ordered = sorted((r for r in records if not r.confirms), key=lambda r: (r.timestamp_utc, r.run_id))  # no re-benches
    eager: dict[tuple[object, str], list[RunRecord]] = {}
    for record in ordered:
        if record.mode == "eager":
            eager.setdefault((settings_of(record), environment_of(record)), []).append(record)
    grouped: dict[tuple[Key, str], list[Point]] = {}
    for record in ordered:
        if record.mode != "compiled":
            continue
        environment = environment_of(record)
        partners = eager.get((settings_of(record), environment), [])
        before = [run for run in partners if run.timestamp_utc <= record.timestamp_utc]
        partner = before[-1] if before else (partners[0] if partners else None)
        key = key_of(record)
        comparison = compare_pair(key, partner, record, confidence=confidence, resamples=resamples)
        grouped.setdefault((key, environment), []).append(Point(timestamp_utc=record.timestamp_utc, comparison=comparison))
    return [
        Series(key=key, environment=environment, points=tuple(points)) for (key, environment), points in sorted(grouped.items())
    ]
