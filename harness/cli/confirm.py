"""``confirm``: re-bench every key whose timing regressed, in fresh processes, so that ``compare`` fails only on a
regression that holds (:mod:`harness.gate.confirmation` decides; this module only measures again).

Runs in a bench environment (torch installed) and re-benches only the keys of the torch it runs with; each re-bench is
an eager and a compiled run with the settings the checked run recorded, written beside it with ``confirms`` set to the
compiled run id it re-measures. Nothing is re-benched when no timing check regressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.base.errors import ExitCode
from harness.bench.faults import Fault
from harness.gate.confirmation import DEFAULT_TIMING_CONFIRM

if TYPE_CHECKING:
    from harness.bench.request import BenchRequest
    from harness.gate.baseline import Baseline
    from harness.gate.checks import Check
    from harness.results.keys import Key
    from harness.results.schema import RunRecord


@dataclass(frozen=True, kw_only=True)
class ConfirmOptions:
    results_dir: Path
    baselines_dir: Path
    confirm_timing: tuple[int, int] = DEFAULT_TIMING_CONFIRM  # K of N measurements must regress
    fault: Fault | None = None  # self-test: planted in the compiled re-benches too (a compiled slowdown that persists)
    hyperparams_dir: Path = Path("hyperparams")
    data_dir: Path = Path("trainingdata")


def request_for(record: RunRecord, *, mode: str, options: ConfirmOptions) -> BenchRequest:
    """The bench request that measures ``record``'s key again: its settings as recorded, written with ``confirms``."""
    from harness.bench.request import BenchRequest

    data_file = Path(record.data_file)
    return BenchRequest(
        mode=mode,
        symbol=(record.symbol,),
        model=record.model_id,
        runs=record.n_predictions,
        rows=record.rows_used,
        context_length=record.context_length,
        device=record.device_type or None,
        compile_mode=record.compile_mode or "default",
        backend=record.compile_backend or "inductor",
        dynamic=record.compile_dynamic or "auto",
        inductor_cache=record.compile_cache or "cold",
        attn=record.attn_implementation,  # the compiled run's: eager mode always loads eager attention
        dtype=record.dtype or "float32",
        sdpa_backend=record.sdpa_backend,
        freezing=record.compile_freezing,
        confirms=record.run_id,
        fault=options.fault if mode == "compiled" else None,
        results_dir=options.results_dir,
        data_dir=data_file.parent if data_file.is_file() else options.data_dir,
        hyperparams_dir=options.hyperparams_dir,
    )


def confirm_timings(options: ConfirmOptions) -> ExitCode:
    import torch

    from harness.gate.baseline_files import load_baselines
    from harness.gate.checks import check
    from harness.gate.comparison import build_comparisons
    from harness.gate.confirmation import timing_regressions
    from harness.results.keys import key_of
    from harness.results.store import read_records

    baselines = [baseline for baseline, _ in load_baselines(options.baselines_dir).values()]
    records = read_records(options.results_dir)
    comparisons, _ = build_comparisons(records)
    slow = [(c, checked) for c in comparisons if c.compiled is not None and timing_regressions(checked := check(c, baselines))]
    if not slow:
        print("confirm: no latency or speedup regression to re-bench")
    for comparison, checked in slow:
        assert comparison.compiled is not None
        label = comparison.key.label()
        if comparison.key.software.torch != torch.__version__:
            print(
                f"{label}: timing regression; not re-benched with torch {torch.__version__}: run confirm in its own torch's environment"
            )
            continue
        original = next(
            r for r in records if r.mode == "compiled" and r.run_id == comparison.compiled.run_id and key_of(r) == comparison.key
        )
        _confirm_key(original, comparison.key, checked, baselines, options)
    return ExitCode.OK


def _confirm_key(original: RunRecord, key: Key, checked: Check, baselines: list[Baseline], options: ConfirmOptions) -> None:
    """Re-bench ``original``'s key until its timing regressions are decided (at most N - 1 times), then say how."""
    from harness.bench.benching import bench
    from harness.gate.checks import check
    from harness.gate.comparison import rebenched
    from harness.gate.confirmation import confirm, decided, timing_regressions
    from harness.results.store import read_records

    k, n = options.confirm_timing
    slow = {f.metric for f in timing_regressions(checked)}
    print(f"{key.label()}: timing regression in {', '.join(sorted(slow))}; confirming ({k} of {n} measurements)")

    def reruns() -> list[Check]:
        found = rebenched(read_records(options.results_dir)).get((original.run_id, key), [])
        return [check(rerun, baselines) for rerun in found]

    done = reruns()
    for _ in range(n - 1):  # bounded: a re-bench whose key came out different is not found, and not retried forever
        if decided(checked, done, options.confirm_timing):
            break
        for mode in ("eager", "compiled"):
            bench(request_for(original, mode=mode, options=options))
        done = reruns()
    for finding in confirm(checked, done, options.confirm_timing).findings:
        if finding.metric in slow:
            print(f"  {finding.kind.value}: {finding.message}")
