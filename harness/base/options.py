"""Bench options shared by the CLI and the runner, with their calibrated defaults. Imports nothing heavy:
``compare`` runs where only numpy and pyarrow are installed."""

from __future__ import annotations

BENCH_ROWS = 500  # the bench window: the last this many rows of a file, the horizon held back at its end
DEFAULT_RUNS = 30  # timed predictions per mode: the fewest that met the gate's targets in `harness calibrate` (README)
DEFAULT_CONFIRM = (2, 3)  # a failing call is tried up to 3 times; 2 failures confirm it, else it is flaky
PLANTS = ("exception", "crash", "hang", "oom")  # --plant: how the measured mode's first call fails, for the self-test
STRESS_CASES: dict[str, str] = {  # --stress / robustness: name -> what it does to the real window (see harness/data/extreme.py)
    "near_zero": "every price scaled so that |x| < 1e-3",
    "constant": "a frozen feed: every value the last close",
    "spike": "one row near the end multiplied by 50",
    "drop": "one row near the end multiplied by 0.02",
    "huge": "every price scaled so that the peak is 1e9",
    "nan_gaps": "10% of the context rows missing (NaN), seeded",
    "short_context": "only the last 20 rows of history (under two 16-row patches)",
}
