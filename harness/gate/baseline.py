"""What a baseline holds: per-mode figures, the speedup, the tolerances it is checked with, and its provenance. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.gate.comparison import SEPARATE
from harness.results.keys import Key


@dataclass(frozen=True, kw_only=True)
class Tolerances:
    """How far a result may move from its baseline before it is a regression.

    A change is a regression only when it is both larger than the tolerance (point estimate) and significant
    (the interval excludes the baseline value): the tolerance absorbs session-to-session noise, the interval
    protects runs with few calls. The defaults were chosen by ``harness gate-rates`` on a tuning batch of sessions.
    """

    speedup_rel: float = 0.06  # speedup below baseline x (1 - this); interleaved speedup moves ~1-2% between sessions here
    latency_rel: float = 0.20  # a mode's latency above baseline x (1 + this): chosen on 12 sessions per key (docs/calibration.md)
    mae_rel: float = 0.01  # MAE above baseline x (1 + this); MAE is deterministic (2.6e-7 relative across two CPUs)
    success_rate_abs: float = 0.0  # success rate below baseline - this
    p90_rel: float = 0.25  # compiled p90 above baseline x (1 + this): p90 varied with CV 8-9% over 24 sessions here
    compile_rel: float = 0.50  # cold compile time above baseline x (1 + this): up to 1.34x the median over 24 sessions


CALIBRATED_SESSIONS = 12  # the baselines behind docs/calibration.md's rates each pooled this many bench sessions


@dataclass(frozen=True, kw_only=True)
class ModeBaseline:
    success_rate: float
    latency_median_s: float | None
    mae: float | None
    mae_pct: float | None
    flip_rate: float = 0.0  # absent in format 1
    partner_latency_median_s: float | None = None  # eager: the interleaved partner's median (format 3), the second witness
    reference_median_s: float | None = None  # the machine reference beside this mode's calls (format 4): the host's witness
    latency_p90_s: float | None = None  # compiled (format 4): the 90th percentile of its calls, the tail the median hides
    compile_s: float | None = None  # compiled (format 4): cold compile time of the first call
    recompiles: float | None = None  # compiled (format 4): graphs compiled after the first call


@dataclass(frozen=True, kw_only=True)
class Baseline:
    key: Key
    eager: ModeBaseline
    compiled: ModeBaseline
    speedup: float | None
    mae_diff_pct: float | None
    tolerances: Tolerances = field(default_factory=Tolerances)
    provenance: dict[str, object] = field(default_factory=dict)
    speedup_method: str = SEPARATE

    @property
    def created_utc(self) -> str:
        return str(self.provenance.get("created_utc", ""))
