"""``rank`` and ``configs --rerank``: configurations ranked by between-run evidence (:mod:`harness.gate.ranking`).

``configs --rerank K --repeats R`` benches the K fastest float32 configurations that pass every gate (by the lower
end of their one-run interval) R more times, each in a fresh process, then ranks them; ``rank`` ranks whatever runs a
results directory holds. Wiring only: the runs are :func:`harness.bench.benching.bench`, the ranking is pure."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from harness.base.errors import ExitCode
from harness.bench.request import BenchRequest
from harness.gate.comparison import Comparison


def top_configs(results_dir: Path, names: list[str], top: int) -> list[str]:
    """The ``top`` fastest passing float32 configurations among ``names``, by the lower end of their speedup interval."""
    from harness.bench.configs import name_of
    from harness.gate.comparison import build_comparisons
    from harness.gate.picking import speedup_low
    from harness.results.store import read_records
    from harness.rules.recommend import REJECTED

    comparisons, _ = build_comparisons(read_records(results_dir))
    passing = [
        c
        for c in comparisons
        if c.recommendation not in REJECTED
        and c.speedup is not None
        and (c.compiled is None or c.compiled.dtype == "float32")
        and name_of(c.key.compile_config) in names
    ]
    ranked = sorted(passing, key=speedup_low, reverse=True)
    return list(dict.fromkeys(name_of(c.key.compile_config) for c in ranked))[:top]


def rerank(base: BenchRequest, names: list[str], *, top: int, repeats: int) -> int:
    """Bench the ``top`` configurations ``repeats`` more times each, in turn (not one configuration's runs back to
    back, so a slow stretch of the host falls on several), then print the ranking of every run of them."""
    from harness.bench.benching import bench
    from harness.bench.configs import CONFIGS

    chosen = top_configs(base.results_dir, names, top)
    if not chosen:
        print("rerank: no float32 configuration passes every gate: nothing to re-bench")
        return int(ExitCode.OK)
    print(f"== re-bench {', '.join(chosen)}: {repeats} more fresh process(es) each, in turn")
    for round_ in range(repeats):
        for name in chosen:
            print(f"== {name} (re-bench {round_ + 1} of {repeats})", flush=True)
            bench(replace(base, mode="compiled", run_id=None, **CONFIGS[name]))  # type: ignore[arg-type]
    print_ranking(base.results_dir, chosen)
    return int(ExitCode.OK)


def print_ranking(results_dir: Path, names: list[str] | None = None) -> None:
    """Per group (symbol, model, torch, device, environment): its configurations ranked by their runs."""
    from harness.bench.configs import name_of
    from harness.gate.comparison import compare_pair
    from harness.gate.ranking import rank
    from harness.results.keys import environment_of, key_of
    from harness.results.store import read_records

    groups: dict[str, dict[str, list[Comparison]]] = {}
    for record in read_records(results_dir):
        if record.mode != "compiled" or record.confirms:
            continue
        key = key_of(record)
        name = name_of(key.compile_config)
        if names is not None and name not in names:
            continue
        group = f"{key.symbol} · {key.model_id} · torch {key.torch_version} · {key.device} · {environment_of(record)}"
        groups.setdefault(group, {}).setdefault(name, []).append(compare_pair(key, None, record))
    for group, runs in sorted(groups.items()):
        print(f"between runs, {group}:")
        standings = rank(runs)
        for standing in standings:
            mark = " (tied with the leader: the cheaper start ranks first)" if standing.tied_with_leader else ""
            print(f"  {standing.describe()}{mark}")
        if standings and standings[0].median is not None:
            print(f"  Best between runs: {standings[0].config}")
