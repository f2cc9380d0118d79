"""How much a baseline rests on and why it was written: its provenance (reason, commit, runs, sessions, what it
replaces or accepts), what a refresh must not bless without ``--accept``, and the support a stored baseline records.
Pure but for the clock and the commit read into a new provenance."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC
from pathlib import Path
from typing import Any

from harness.gate.baseline import Baseline
from harness.gate.checks import Check
from harness.gate.comparison import Comparison


def provenance(
    comparison: Comparison, check: Check, *, reason: str, replaced: Path | None, accepted: tuple[str, list[str]] | None
) -> dict[str, Any]:
    """Why and from what a baseline was written: the reason, the commit, the runs it rests on, the environment, and
    what it replaces (file, gate, old values) or accepts on purpose (``--accept``: why, and the problems it blessed)."""
    from datetime import datetime

    from harness.results.fingerprint import git_commit

    modes = (("eager", comparison.eager), ("compiled", comparison.compiled))
    out: dict[str, Any] = {
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "reason": reason,
        "git_commit": git_commit(),
        "run_ids": sorted({run for _, s in modes if s is not None for run in s.run_id.split("+")}),
        **_sessions(comparison),
        "samples": {mode: len(s.latencies_s) for mode, s in modes if s is not None},
        "model_trained": comparison.compiled.model_trained if comparison.compiled else None,
        "fingerprint": comparison.fingerprint,
    }
    if accepted is not None:
        out["accepted"] = {"why": accepted[0], "problems": accepted[1]}
    before = check.match.baseline
    if before is not None and replaced is not None:
        out["replaces"] = {
            "file": replaced.name,
            "gate": check.match.kind.value,
            "created_utc": before.created_utc,
            "reason": before.provenance.get("reason", ""),
            "values": {f.metric: f.baseline for f in check.findings if f.baseline is not None},
        }
    return out


def unblessable(comparison: Comparison) -> list[str]:
    """What a baseline must not bless without ``--accept``: failed or flaky calls, a status other than pass."""
    out = []
    for mode, summary in (("eager", comparison.eager), ("compiled", comparison.compiled)):
        if summary is None:
            out.append(f"{mode}: no run")
            continue
        if not summary.success_rate >= 1.0:
            out.append(f"{mode} succeeded in {summary.success_rate:.0%} of predictions")
        if summary.status != "pass":
            out.append(f"{mode} status {summary.status}" + (f" ({summary.error[:120]})" if summary.error else ""))
        if summary.n_flaky:
            out.append(f"{mode}: {summary.n_flaky} flaky call(s)")
    return out


_RUN_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\d*Z-")


def run_time(run_id: str) -> str:
    """``20261126T112144922Z-3ca8871b`` -> ``2026-11-26T11:21:44Z``; "" when the id carries no time."""
    found = _RUN_TIME.match(run_id)
    if not found:
        return ""
    y, mo, d, h, mi, se = found.groups()
    return f"{y}-{mo}-{d}T{h}:{mi}:{se}Z"


def _sessions(comparison: Comparison) -> dict[str, Any]:
    """How much a baseline rests on: its bench sessions (one compiled run each) and the time they span."""
    if comparison.compiled is None:
        return {}
    runs = comparison.compiled.run_id.split("+")
    times = sorted(t for t in (run_time(run) for run in runs) if t)
    return {"sessions": len(runs), "span_utc": [times[0], times[-1]] if times else []}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Support:
    """The sessions a baseline rests on, as its provenance records them (or, before 0.3, as its run ids imply)."""

    sessions: int
    first_utc: str
    last_utc: str
    inferred: bool  # counted from the run ids: a baseline written before 0.3 did not record it

    def describe(self) -> str:
        span = f", {self.first_utc} to {self.last_utc}" if self.first_utc and self.first_utc != self.last_utc else ""
        return f"{self.sessions} session(s){span}" + (" (counted from its run ids)" if self.inferred else "")


def support(baseline: Baseline) -> Support | None:
    recorded = baseline.provenance
    sessions, span = recorded.get("sessions"), recorded.get("span_utc")
    if isinstance(sessions, int) and not isinstance(sessions, bool) and sessions > 0:
        first, last = (str(span[0]), str(span[-1])) if isinstance(span, list) and span else ("", "")
        return Support(sessions=sessions, first_utc=first, last_utc=last, inferred=False)
    run_ids = recorded.get("run_ids")
    if not isinstance(run_ids, list) or not run_ids:
        return None
    times = sorted(t for t in (run_time(str(run)) for run in run_ids) if t)
    return Support(
        sessions=max(1, len(run_ids) // 2),  # an eager and a compiled run per session
        first_utc=times[0] if times else "",
        last_utc=times[-1] if times else "",
        inferred=True,
    )
