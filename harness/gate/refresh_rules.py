"""What a baseline refresh must not do silently (``update-baselines``), beyond blessing a regression. Pure.

- **A host swing or a noisy host:** a run whose timing the gate excused as the host (a swing, ``host noisy``) says
  nothing sure about the software's seconds; writing it as the new bar needs ``--accept``.
- **A loss of support:** a baseline pooled over 12 sessions replaced by one resting on fewer.
- **A ratchet:** each refresh may move the bar by just under its tolerance and still "hold" (1.295x → 1.224x in three
  steps); so every refresh is also judged against the *first* baseline of the same what, where and software, which
  provenance carries forward (``first``), not only against the last.
"""

from __future__ import annotations

from typing import Any

from harness.gate.baseline import Baseline
from harness.gate.checks import Check
from harness.gate.comparison import Comparison
from harness.gate.findings import FindingKind
from harness.gate.matching import GateKind
from harness.gate.provenance import support

EXCUSED = (FindingKind.SWING, FindingKind.HOST_NOISY)


def sessions_of(comparison: Comparison) -> int:
    """The bench sessions a refresh from ``comparison`` rests on (one compiled run each)."""
    return len(comparison.compiled.run_id.split("+")) if comparison.compiled else 0


def first_of(before: Baseline | None, checked: Check) -> dict[str, Any] | None:
    """The first baseline's values of this what, where and software: carried in ``before``'s provenance, or
    ``before``'s own values when it is the first; None when there is no earlier baseline of the same software."""
    if before is None or checked.match.kind is not GateKind.FULL:
        return None
    carried = before.provenance.get("first")
    if isinstance(carried, dict) and carried:
        return carried
    return {
        "created_utc": before.created_utc,
        "speedup": before.speedup,
        "compiled_latency_s": before.compiled.latency_median_s,
    }


def refresh_problems(comparison: Comparison, checked: Check, before: Baseline | None) -> list[str]:
    """What this refresh would do silently, beyond a regression: each a line for ``refused:``."""
    out = [f"{f.message} (a timing the gate excused as the host is no bar)" for f in checked.findings if f.kind in EXCUSED]
    if before is not None:
        had = support(before)
        now = sessions_of(comparison)
        if had is not None and now < had.sessions:
            out.append(
                f"this refresh rests on {now} session(s), the baseline it replaces on {had.describe()}: "
                "bench as many sessions and refresh with --pool"
            )
    first = first_of(before, checked)
    if first is None:
        return out
    tolerances = before.tolerances if before is not None else None
    speedup, bar = comparison.speedup, first.get("speedup")
    if (
        tolerances
        and isinstance(bar, (int, float))
        and bar > 0
        and speedup is not None
        and not speedup >= bar * (1 - tolerances.speedup_rel)
    ):
        out.append(
            f"speedup {speedup:.3f}x is {speedup / bar - 1:+.1%} from the first baseline of this key "
            f"({bar:.3f}x, {first.get('created_utc') or 'undated'}), beyond its {tolerances.speedup_rel:.0%} tolerance: "
            "refreshes one step at a time would ratchet the bar down"
        )
    latency, bar = (comparison.compiled.latency_median_s if comparison.compiled else None), first.get("compiled_latency_s")
    if (
        tolerances
        and isinstance(bar, (int, float))
        and bar > 0
        and latency is not None
        and not latency <= bar * (1 + tolerances.latency_rel)
    ):
        out.append(
            f"compiled latency {latency:.4f}s is {latency / bar - 1:+.1%} from the first baseline of this key "
            f"({bar:.4f}s), beyond its {tolerances.latency_rel:.0%} tolerance: refreshes would ratchet the bar down"
        )
    return out
