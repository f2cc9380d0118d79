"""How far to trust ``ab``: false alarms of A/A runs and detections of planted slowdowns, a whole ``ab`` run as the
unit (each run is independent of every other: no baseline is shared). Pure: reads the runs' JSON verdicts as dicts.

A run is an **A/A** when nothing differs between its stacks and no fault was planted; a **planted** run when nothing
differs and head's compiled calls were slowed (``--head-fault slow@F``). A false alarm is an A/A run that failed; a
detection a planted run that failed on compiled latency or speedup. Rates carry exact (Clopper-Pearson) intervals.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.gate.stats import Rate

TIMING_CAUGHT = ("compiled.latency_s", "speedup")


@dataclass(frozen=True, kw_only=True)
class AbRates:
    """One row of the calibration table: the runs of one kind on one machine."""

    machine: str
    kind: str  # "A/A" or "slow@F"
    runs: int
    failed: Rate  # A/A: false alarms; planted: detections (a timing line failed)
    first_utc: str
    last_utc: str
    median_s: float


def kind_of(document: Mapping[str, Any]) -> str | None:
    """``A/A``, ``slow@F`` or None (a run whose stacks differ: not calibration material)."""
    if document.get("kind") != "ab" or document.get("changes"):
        return None
    fault = (document.get("run") or {}).get("head_fault")
    return fault if fault else "A/A"


def _failed(document: Mapping[str, Any], kind: str) -> bool:
    if kind == "A/A":
        return bool(document.get("exit_code"))
    return any(f["metric"] in TIMING_CAUGHT and f["verdict"] == "regression" for f in document.get("findings", []))


def rates(documents: Iterable[Mapping[str, Any]]) -> list[AbRates]:
    """Per (machine, kind): how many runs, how many failed, when, and how long a run took."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for document in documents:
        kind = kind_of(document)
        if kind is None:
            continue
        machine = str(((document.get("run") or {}).get("machine") or {}).get("cpu_model", "unknown"))
        groups.setdefault((machine, kind), []).append(document)
    rows = []
    for (machine, kind), members in sorted(groups.items()):
        started = sorted(str(m["run"].get("started_utc", "")) for m in members)
        seconds = [float(m["run"]["elapsed_s"]) for m in members if m["run"].get("elapsed_s") is not None]
        rows.append(
            AbRates(
                machine=machine,
                kind=kind,
                runs=len(members),
                failed=Rate(hits=sum(_failed(m, kind) for m in members), trials=len(members)),
                first_utc=started[0],
                last_utc=started[-1],
                median_s=statistics.median(seconds) if seconds else float("nan"),
            )
        )
    return rows


def table(rows: list[AbRates]) -> str:
    """The calibration table as text."""
    header = ("machine", "runs of", "n", "failed (A/A: false alarms; slow: caught)", "from", "to", "median s/run")
    cells = [(r.machine, r.kind, str(r.runs), r.failed.text(), r.first_utc, r.last_utc, f"{r.median_s:.0f}") for r in rows]
    widths = [max(len(row[i]) for row in (header, *cells)) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in (header, *cells))
