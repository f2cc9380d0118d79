"""Rank compile configurations by between-run evidence. Pure.

A speedup interval from one run covers the noise inside that process only: the eager partner's median moved
188.8 to 234.3 ms across runs of one search, and a configuration benched while the host was 25% slow came out first
(issue 26). Here each configuration is benched in several fresh processes, each process's interleaved speedup (the
median of its eager/compiled pairs) is one observation, and the ranking rests on their spread:

- the **run-level interval** is the lowest and highest of the runs' speedups: for ``n`` independent runs it covers
  the median run's speedup with probability 1 - 2^(1-n) (75% at 3 runs, 94% at 5, 98% at 7), whatever the
  distribution; the confidence is stated beside it;
- a run whose **machine reference** moved more than :data:`HOST_MOVED` from the median reference of all runs of the
  group is flagged and left out of the interval (while two or more runs remain): its host was not the others';
- configurations are ordered by the lower end of their interval, and the leader's **ties** (intervals overlapping the
  leader's) are broken by what a start costs (the cheapest measured fresh-process start, else the cold compile): the
  AOTInductor package that starts in 6 s wins a tie with a configuration that compiles for 104 s.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from harness.gate.comparison import Comparison

HOST_MOVED = 0.20  # a run's machine reference this far from the group's median: another host, for this purpose
MIN_RUNS = 3  # runs a configuration needs before its interval says anything


@dataclass(frozen=True, kw_only=True)
class Run:
    """One process of one configuration."""

    run_id: str
    speedup: float  # its interleaved speedup
    reference_s: float | None  # its machine reference's median
    host_moved: bool = False


@dataclass(frozen=True, kw_only=True)
class Standing:
    config: str
    runs: tuple[Run, ...]
    median: float | None  # of the kept runs' speedups
    low: float | None  # the run-level interval (lowest and highest kept run)
    high: float | None
    confidence: float | None  # 1 - 2^(1-n) of the kept runs; None below MIN_RUNS
    start_s: float | None  # the cheapest measured start (fresh process), else the cold compile
    start_how: str
    tied_with_leader: bool = False

    @property
    def kept(self) -> tuple[Run, ...]:
        """The runs the interval rests on: those on the group's usual host, unless fewer than two are."""
        return _kept(self.runs)

    def describe(self) -> str:
        if self.median is None or self.low is None or self.high is None:
            return f"{self.config}: no run with a speedup"
        moved = sum(run.host_moved for run in self.runs)
        flagged = f", {moved} run(s) on a moved host left out" if moved and len(self.kept) < len(self.runs) else ""
        level = f"{self.confidence:.0%}" if self.confidence is not None else f"fewer than {MIN_RUNS} runs: no"
        start = f"; start {self.start_s:.1f} s ({self.start_how})" if self.start_s is not None else ""
        return (
            f"{self.config}: {self.median:.2f}x over {len(self.kept)} run(s) [{self.low:.2f}, {self.high:.2f}] "
            f"({level} run-level interval{flagged}){start}"
        )


def _reference(comparison: Comparison) -> float | None:
    samples = comparison.compiled.reference_s if comparison.compiled else ()
    finite = [s for s in samples if math.isfinite(s)]
    return statistics.median(finite) if finite else None


def _start(comparison: Comparison) -> tuple[float | None, str]:
    compiled = comparison.compiled
    if compiled is None:
        return None, ""
    starts = [
        (seconds, how)
        for seconds, how in (
            (compiled.start_precompiled_s, compiled.precompiled_kind or "precompiled"),
            (compiled.start_warm_disk_s, "warm disk cache"),
            (compiled.compile_s, "cold compile"),
        )
        if seconds is not None and math.isfinite(seconds)
    ]
    return min(starts) if starts else (None, "")


def rank(runs_by_config: Mapping[str, Sequence[Comparison]]) -> list[Standing]:
    """Each configuration's runs (one comparison per process, interleaved speedups), ranked as the module says."""
    references = [r for runs in runs_by_config.values() for c in runs if (r := _reference(c)) is not None]
    typical = statistics.median(references) if references else None
    standings = []
    for config, comparisons in runs_by_config.items():
        runs = []
        for comparison in comparisons:
            if comparison.speedup is None or not math.isfinite(comparison.speedup) or comparison.compiled is None:
                continue
            reference = _reference(comparison)
            moved = typical is not None and reference is not None and abs(reference / typical - 1.0) > HOST_MOVED
            runs.append(
                Run(run_id=comparison.compiled.run_id, speedup=comparison.speedup, reference_s=reference, host_moved=moved)
            )
        speedups = sorted(run.speedup for run in _kept(runs))
        starts = [_start(c) for c in comparisons]
        measured = [s for s in starts if s[0] is not None]
        start_s, start_how = min(measured) if measured else (None, "")
        standings.append(
            Standing(
                config=config,
                runs=tuple(runs),
                median=statistics.median(speedups) if speedups else None,
                low=speedups[0] if speedups else None,
                high=speedups[-1] if speedups else None,
                confidence=1.0 - 2.0 ** (1 - len(speedups)) if len(speedups) >= MIN_RUNS else None,
                start_s=start_s,
                start_how=start_how,
            )
        )
    return _ordered(standings)


def _kept(runs: Sequence[Run]) -> tuple[Run, ...]:
    steady = tuple(run for run in runs if not run.host_moved)
    return steady if len(steady) >= 2 else tuple(runs)


def _ordered(standings: Iterable[Standing]) -> list[Standing]:
    with_runs = sorted((s for s in standings if s.low is not None), key=lambda s: -(s.low or 0.0))
    without = [s for s in standings if s.low is None]
    if not with_runs:
        return without
    leader = with_runs[0]
    tied = [s for s in with_runs if s.high is not None and leader.low is not None and s.high >= leader.low]
    rest = [s for s in with_runs if s not in tied]
    tied.sort(key=lambda s: (s.start_s if s.start_s is not None else math.inf, -(s.low or 0.0)))
    return [dataclasses.replace(s, tied_with_leader=len(tied) > 1) for s in tied] + rest + without
