"""Which baseline a comparison is checked against, and by which gate (full, upgrade, portable, new). Pure.

See :mod:`harness.gate.checks` for what each gate checks. A baseline is chosen by the three parts of the key
(:mod:`harness.results.keys`): the same *what*; then, on the same *where*, the fewest software changes, then the newest (or
the software ``--against`` names); on another machine, the closest the same way.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from harness.results.keys import Software, What, Where

if TYPE_CHECKING:
    from harness.gate.baseline import Baseline
    from harness.gate.comparison import Comparison


class GateKind(enum.Enum):
    FULL = "full"
    UPGRADE = "upgrade"
    PORTABLE = "portable"
    NEW = "new"


@dataclass(frozen=True, kw_only=True)
class Match:
    kind: GateKind
    baseline: Baseline | None
    changes: tuple[
        str, ...
    ] = ()  # upgrade: "torch 2.13.0+cpu → 2.14.1"; portable: "cpu_flags: avx2 (baseline) vs ... (this run)"

    def describe(self) -> str:
        if self.kind is GateKind.FULL:
            return "full gate (same machine, same software)"
        if self.kind is GateKind.UPGRADE:
            return f"upgrade gate ({'; '.join(self.changes)}): every metric gated against the older software's baseline"
        if self.kind is GateKind.PORTABLE:
            return (
                f"portable gate (another machine: {'; '.join(self.changes)}): success, flakiness, drift and MAE gated; "
                "latency and speedup for information only"
            )
        return "new: no baseline for these settings"

    def short(self) -> str:
        """:meth:`describe` in a few words: what differs is named, not spelled out (a CPU's flags run to 260 characters)."""
        if self.kind is GateKind.PORTABLE:
            differ = ", ".join(dict.fromkeys(change.split(":", 1)[0] for change in self.changes))
            return f"portable (another machine: {differ}): timings not gated"
        if self.kind is GateKind.UPGRADE:
            return f"upgrade ({'; '.join(self.changes)})"
        return "full" if self.kind is GateKind.FULL else "new: no baseline"


def same_what(a: What, b: What) -> bool:
    """Equal, except that weights recorded on one side only (format-1 baselines lack them) are not a difference."""
    for f in fields(What):
        mine, theirs = getattr(a, f.name), getattr(b, f.name)
        if mine != theirs and not (f.name == "weights_sha256" and not (mine and theirs)):
            return False
    return True


def where_changes(baseline: Where, current: Where) -> tuple[str, ...]:
    return tuple(
        f"{f.name}: {getattr(baseline, f.name) or 'not recorded'} (baseline) vs {getattr(current, f.name) or 'not recorded'} (this run)"
        for f in fields(Where)
        if getattr(baseline, f.name) != getattr(current, f.name)
    )


def parse_against(text: str) -> dict[str, str]:
    """``torch=2.13.0`` or ``torch=2.13.0,transformers=5.24.0`` (a bare version means torch): which software to compare with."""
    names = {f.name for f in fields(Software)}
    out: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, value = part.partition("=")
        name, value = (name.strip(), value.strip()) if sep else ("torch", name.strip())
        if name not in names or not value:
            raise ValueError(
                f"{part!r}: expected NAME=VERSION with NAME one of {', '.join(sorted(names))} (a bare version means torch)"
            )
        out[name] = value
    if not out:
        raise ValueError(f"{text!r}: expected NAME=VERSION, e.g. torch=2.13.0")
    return out


def software_matches(software: Software, against: dict[str, str]) -> bool:
    """Each named package's version equals the one asked for, or starts with it plus a local tag (2.13.0 ~ 2.13.0+cpu)."""
    for name, wanted in against.items():
        have = getattr(software, name)
        if not (have == wanted or have.startswith(wanted + "+")):
            return False
    return True


def select(comparison: Comparison, baselines: Iterable[Baseline], *, against: dict[str, str] | None = None) -> Match:
    """The baseline ``comparison`` is checked against, and how (see the module doc)."""
    key = comparison.key
    candidates = [b for b in baselines if same_what(b.key.what, key.what)]
    if against:
        candidates = [b for b in candidates if software_matches(b.key.software, against)]
    if not candidates:
        return Match(kind=GateKind.NEW, baseline=None)

    def closest(baseline: Baseline) -> tuple[int, str, Software]:
        """Fewest software changes first (a torch matrix: 2.13.0 meets 2.13.0's baseline, not 2.14.1's), then newest."""
        return -len(key.software.changes_from(baseline.key.software)), baseline.created_utc, baseline.key.software

    here = [b for b in candidates if b.key.where == key.where]
    if here:
        chosen = max(here, key=closest)
        changes = key.software.changes_from(chosen.key.software)
        return Match(kind=GateKind.UPGRADE if changes else GateKind.FULL, baseline=chosen, changes=changes)
    chosen = max(candidates, key=closest)
    changes = where_changes(chosen.key.where, key.where) + key.software.changes_from(chosen.key.software)
    return Match(kind=GateKind.PORTABLE, baseline=chosen, changes=changes)


def missing(comparisons: Iterable[Comparison], baselines: Iterable[Baseline]) -> list[Baseline]:
    """Baselines that got no result in this run, so that nothing disappears silently:

    - of this machine (a *where* some result of the run has): every baseline whose settings (what) and torch version
      got no result, whole symbols, models and torch versions included (a GOOG baseline while only BTCUSD ran, a
      torch 2.14.1 baseline while only 2.13.0 ran); one per what and torch version (the newest);
    - of another machine: a baseline of a symbol and model that ran whose settings got no result (a changed data file,
      a dropped configuration), one per what; whole symbols of other machines are theirs to run.
    """
    ran = list(comparisons)
    models = {(c.key.symbol, c.key.model_id) for c in ran}
    here = {c.key.where for c in ran}
    newest: dict[tuple[What, str], Baseline] = {}
    for baseline in baselines:
        what, torch = baseline.key.what, baseline.key.software.torch
        if baseline.key.where in here:
            covered = any(same_what(what, c.key.what) and c.key.software.torch == torch for c in ran)
            group = (what, torch)
        else:
            covered = (what.symbol, what.model_id) not in models or any(same_what(what, c.key.what) for c in ran)
            group = (what, "")
        if covered:
            continue
        if group not in newest or baseline.created_utc > newest[group].created_utc:
            newest[group] = baseline
    return [newest[group] for group in sorted(newest)]
