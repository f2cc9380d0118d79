"""The configuration search table: every compile configuration of one (symbol, model, environment) side by side --
speedup with its interval (for a reduced precision, split into what the dtype gives and what compiling adds), drift against its tolerance, what a process start costs (cold, warm disk cache,
precompiled), the break-even point of each, and the share of the physical floor eager and compiled reach.

Pure: no I/O, no torch. ``compare`` prints it and the report shows it; :func:`harness.gate.picking.pick_best` names the best.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from harness.bench.configs import CONFIGS, name_of
from harness.bench.limits import floor_share, seconds_share
from harness.gate.comparison import Comparison, ModeSummary
from harness.gate.picking import Pick, speedup_low


def saved_per_call(summary: ModeSummary | None) -> float | None:
    """Seconds compiled saves per prediction: the interleaved eager median less the compiled median (None: none)."""
    if summary is None or summary.partner_latency_median_s is None or summary.latency_median_s is None:
        return None
    saved = summary.partner_latency_median_s - summary.latency_median_s
    return saved if saved > 0 else None


def break_even(start_s: float | None, summary: ModeSummary | None) -> float | None:
    """Predictions after which a start costing ``start_s`` has paid for itself (None: never, or not measured)."""
    saved = saved_per_call(summary)
    return None if start_s is None or saved is None else start_s / saved


def best_start(summary: ModeSummary | None) -> tuple[float, str] | None:
    """The cheapest measured start that skips compiling from scratch: (seconds, how), or None when none was measured."""
    if summary is None:
        return None
    starts = [
        (summary.start_precompiled_s, summary.precompiled_kind or "precompiled"),
        (summary.start_warm_disk_s, "warm disk cache"),
    ]
    measured = [(seconds, kind) for seconds, kind in starts if seconds is not None]
    return min(measured) if measured else None


@dataclass(frozen=True, kw_only=True)
class SearchRow:
    config: str
    speedup: float | None
    speedup_ci: tuple[float, float] | None
    dtype_gain: float | None  # a reduced precision: float32 eager / its own eager (what the dtype gives, no compile)
    compile_gain: float | None  # its own eager / compiled (what compiling adds: what the verdict judges)
    compile_gain_ci: tuple[float, float] | None
    drift: float | None
    tolerance: float | None
    drift_reference: str  # "" = float32 eager
    mae_diff: str  # the MAE difference the recommendation used: 7-step window, or rolling windows for a reduced dtype
    cold_s: float | None  # compile at the first call, empty caches (in the run's process)
    warm_s: float | None  # compiled again in the same process, caches warm
    disk_s: float | None  # a fresh process, inductor's on-disk caches filled
    precompiled_s: float | None  # a fresh process from cache artifacts or the AOTInductor package
    precompiled_kind: str
    break_even_cold: float | None
    break_even_start: float | None  # the cheapest measured fresh-process start (precompiled or warm disk)
    floor_eager: float | None  # share of the physical floor eager reaches (1.0 = matmul speed throughout)
    floor_compiled: float | None  # against the floor of the compiled model's own dtype (and threads)
    floor_compiled_float32: float | None  # a reduced precision: against float32's floor, which it may pass
    floor_kind: str  # "model GEMMs" (each of the model's GEMMs at its best) or "square matmul" (before schema 7)
    graphs: str  # "5 (2 breaks)"
    shapes: str  # other shapes: "3 of 3 ran" | "0 of 3 ran (fixed shapes)" | "-" (not tried)
    many_series: str  # "16 a call: 1.31x" (eager / compiled, one call on 16 windows) | "-"
    gemm: str  # "12 C++ / 53 extern" when counted
    verdict: str
    comparison: Comparison


Throughputs = dict[tuple[str, int], float]  # (dtype, threads; 0 = the process's) -> best matmul GFLOP/s measured
Floors = dict[tuple[str, int], float]  # (dtype, threads) -> the lowest floor on the model's own GEMMs measured, seconds


def best_gemm_floors(comparisons: Iterable[Comparison]) -> Floors:
    """The lowest floor on the model's own GEMMs (``gemm_floor_s``, ``gemm_floor_compiled_s``) any run of a group
    measured, per dtype and thread count: as :func:`best_throughputs`, a property of the machine and the model."""
    return _best(comparisons, "gemm_floor_s", "gemm_floor_compiled_s", lowest=True)


def best_throughputs(comparisons: Iterable[Comparison]) -> Throughputs:
    """The best matmul throughput any run of a group measured, per dtype and thread count: the machine's floor.

    Each run measures its own (``matmul_gflops``, ``matmul_gflops_compiled``); the floor is a property of the machine,
    so a table of one machine uses the best, and a run whose measurement missed the faster GEMM library (before 0.4.0
    only ATen's ``mm`` was timed) cannot make its configuration look faster than physics allows."""
    return _best(comparisons, "matmul_gflops", "matmul_gflops_compiled", lowest=False)


def _best(comparisons: Iterable[Comparison], float32: str, compiled: str, *, lowest: bool) -> dict[tuple[str, int], float]:
    """Per (dtype, threads): the lowest (or highest) positive finite value of the compiled summaries' ``float32``
    field (float32, the process's threads) and ``compiled`` field (the configuration's dtype and threads)."""
    best: dict[tuple[str, int], float] = {}
    for comparison in comparisons:
        summary = comparison.compiled
        if summary is None:
            continue
        for where, value in (
            (("float32", 0), getattr(summary, float32)),
            ((summary.dtype, summary.compile_threads), getattr(summary, compiled)),
        ):
            if value is None or not math.isfinite(value) or value <= 0:  # a NaN never sets a floor
                continue
            if where not in best or (value < best[where] if lowest else value > best[where]):
                best[where] = value
    return best


def search_rows(comparisons: Iterable[Comparison]) -> list[SearchRow]:
    """Every configuration of one group, its floor from the group's best throughputs."""
    members = list(comparisons)
    throughputs, floors = best_throughputs(members), best_gemm_floors(members)
    return [search_row(c, throughputs, floors) for c in members]


def search_row(comparison: Comparison, throughputs: Throughputs | None = None, floors: Floors | None = None) -> SearchRow:
    """``throughputs``, ``floors``: the group's (:func:`best_throughputs`, :func:`best_gemm_floors`); without them,
    this run's own measurements. The floor is the model's own GEMMs where measured (schema 7), else the square
    matmul's throughput over the prediction's FLOPs (``floor_kind`` says which)."""
    compiled = comparison.compiled
    start = best_start(compiled)
    flops = compiled.flops_per_prediction if compiled else None
    throughputs = throughputs if throughputs is not None else best_throughputs([comparison])
    floors = floors if floors is not None else best_gemm_floors([comparison])
    eager_gflops = throughputs.get(("float32", 0))
    compiled_gflops = throughputs.get((compiled.dtype, compiled.compile_threads)) if compiled else None
    eager_floor = floors.get(("float32", 0))
    compiled_floor = floors.get((compiled.dtype, compiled.compile_threads)) if compiled else None
    reduced = compiled is not None and compiled.dtype != "float32"
    if compiled is not None and eager_floor is not None:
        floor_kind = "model GEMMs"
        shares = (
            seconds_share(eager_floor, compiled.partner_latency_median_s),
            seconds_share(compiled_floor, compiled.latency_median_s),
            seconds_share(eager_floor, compiled.latency_median_s) if reduced else None,
        )
    elif compiled is not None:
        floor_kind = "square matmul"
        shares = (
            floor_share(flops, eager_gflops, compiled.partner_latency_median_s),
            floor_share(flops, compiled_gflops, compiled.latency_median_s),
            floor_share(flops, eager_gflops, compiled.latency_median_s) if reduced else None,
        )
    else:
        floor_kind, shares = "", (None, None, None)
    graphs = "-"
    if compiled and compiled.n_graphs is not None:
        graphs = f"{compiled.n_graphs} ({compiled.n_graph_breaks or 0} breaks)"
    gemm = "-"
    if compiled and compiled.cpp_template_kernels is not None:
        gemm = f"{compiled.cpp_template_kernels} C++ / {compiled.extern_kernel_calls} extern"
    return SearchRow(
        config=name_of(comparison.key.compile_config),
        speedup=comparison.speedup,
        speedup_ci=comparison.speedup_ci,
        dtype_gain=comparison.dtype_gain,
        compile_gain=comparison.compile_gain,
        compile_gain_ci=comparison.compile_gain_ci,
        drift=compiled.drift_max_abs if compiled else None,
        tolerance=compiled.drift_tolerance_abs if compiled else None,
        drift_reference=compiled.drift_reference if compiled else "",
        mae_diff=_mae_diff(comparison),
        cold_s=compiled.compile_s if compiled else None,
        warm_s=compiled.warm_compile_s if compiled else None,
        disk_s=compiled.start_warm_disk_s if compiled else None,
        precompiled_s=compiled.start_precompiled_s if compiled else None,
        precompiled_kind=compiled.precompiled_kind if compiled else "",
        break_even_cold=break_even(compiled.compile_s if compiled else None, compiled),
        break_even_start=break_even(start[0], compiled) if start else None,
        floor_eager=shares[0],
        floor_compiled=shares[1],
        floor_compiled_float32=shares[2],
        floor_kind=floor_kind,
        graphs=graphs,
        shapes=_shapes(compiled),
        many_series=_many_series(compiled),
        gemm=gemm,
        verdict=comparison.recommendation.value,
        comparison=comparison,
    )


def _shapes(compiled: ModeSummary | None) -> str:
    """How the compiled model met other shapes (``--vary-shapes``, ``--batch-series``): how many of the calls ran."""
    if compiled is None or not compiled.shape_variant_s:
        return "-"
    ran = sum(math.isfinite(seconds) for seconds in compiled.shape_variant_s)
    fixed = " (fixed shapes)" if ran == 0 else ""
    return f"{ran} of {len(compiled.shape_variant_s)} ran{fixed}"


def _many_series(compiled: ModeSummary | None) -> str:
    """Throughput with many series in one call: float32 eager's seconds over compiled's for the same call (for a
    reduced precision this holds the dtype's gain too, and says so)."""
    if compiled is None or not compiled.batch_series:
        return "-"
    eager, fast = compiled.batch_eager_s, compiled.batch_compiled_s
    if eager is None or fast is None or not all(math.isfinite(x) and x > 0 for x in (eager, fast)):
        return f"{compiled.batch_series} a call: failed"
    against = " vs float32 eager" if compiled.dtype != "float32" else ""  # the dtype's gain is in it
    return f"{compiled.batch_series} a call: {eager / fast:.2f}x{against}"


def _mae_diff(comparison: Comparison) -> str:
    compiled = comparison.compiled
    if compiled is not None and compiled.dtype != "float32":
        if compiled.precision_mae_diff_pct is None:
            return f"- ({compiled.dtype})"
        quantiles = "" if compiled.precision_wql_diff_pct is None else f", wQL {compiled.precision_wql_diff_pct:+.2f}%"
        return f"{compiled.precision_mae_diff_pct:+.2f}%{quantiles} ({compiled.precision_windows} windows, {compiled.dtype})"
    return "-" if comparison.mae_diff_pct is None else f"{comparison.mae_diff_pct:+.2f}%"


HEADER = (
    "configuration",
    "speedup [CI]",
    "dtype / compile gain [CI]",
    "drift / tolerance",
    "MAE diff",
    "compile cold / warm s",
    "start disk / precompiled s",
    "break-even cold / start",
    "floor eager / compiled",
    "graphs",
    "other shapes",
    "many series",
    "GEMM kernels",
    "verdict",
)


def _num(value: float | None, spec: str = ".3g") -> str:
    return "-" if value is None else format(value, spec)


def _calls(value: float | None) -> str:
    return "never" if value is None else f"{value:,.0f}"


def cells(row: SearchRow) -> tuple[str, ...]:
    """The row as text, in :data:`HEADER`'s order."""
    interval = f" [{row.speedup_ci[0]:.2f}, {row.speedup_ci[1]:.2f}]" if row.speedup_ci else ""
    speed = "-" if row.speedup is None else f"{row.speedup:.2f}x{interval}"
    against = f" vs {row.drift_reference}" if row.drift_reference else ""
    kind = {"cache artifacts": " (artifacts)", "AOTInductor package": " (AOT package)"}.get(row.precompiled_kind, "")
    share = "-" if row.floor_eager is None else f"{_pct(row.floor_eager)} / {_pct(row.floor_compiled)}"
    if row.floor_eager is not None and row.floor_kind == "square matmul":
        share += " (square matmul)"
    if row.floor_compiled_float32 is not None and row.floor_compiled_float32 > 1.0:
        share += f" ({row.floor_compiled_float32:.0%} of float32's: beyond any float32 code, the dtype's gain)"
    split = "-"
    if row.compile_gain is not None:
        within = f" [{row.compile_gain_ci[0]:.2f}, {row.compile_gain_ci[1]:.2f}]" if row.compile_gain_ci else ""
        split = f"{_num(row.dtype_gain, '.2f')}x / {row.compile_gain:.2f}x{within}"
    return (
        row.config,
        speed,
        split,
        f"{_num(row.drift)} / {_num(row.tolerance)}{against}",
        row.mae_diff,
        f"{_num(row.cold_s, '.1f')} / {_num(row.warm_s, '.1f')}",
        f"{_num(row.disk_s, '.1f')} / {_num(row.precompiled_s, '.1f')}{kind}",
        f"{_calls(row.break_even_cold)} / {_calls(row.break_even_start)}",
        share,
        row.graphs,
        row.shapes,
        row.many_series,
        row.gemm,
        row.verdict,
    )


def _pct(value: float | None) -> str:
    """A share of the floor; over 100% is flagged: the floor was measured lower than the model ran, so it bounds
    nothing here (another GEMM library, a throttled measurement)."""
    if value is None:
        return "-"
    return f"{value:.0%}" if value <= 1.0 else f"{value:.0%} (over the measured floor)"


def format_table(rows: list[SearchRow]) -> str:
    """Aligned plain-text columns, one configuration per line, fastest (lower end of the interval) first."""
    table = [HEADER, *(cells(row) for row in ordered(rows))]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    return "\n".join(
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in table
    )


def ordered(rows: list[SearchRow]) -> list[SearchRow]:
    return sorted(rows, key=lambda row: -speedup_low(row.comparison))


def start_text(comparison: Comparison) -> str:
    """``break-even 2,639 predictions cold (compile 46.5 s), 410 from a warm disk cache (7.3 s)``: what a start costs."""
    compiled = comparison.compiled
    cold = break_even(compiled.compile_s if compiled else None, compiled)
    text = f"break-even {_calls(cold)} predictions cold (compile {_num(compiled.compile_s if compiled else None, '.1f')} s)"
    start = best_start(compiled)
    if start is None:
        return text + "; precompiled starts not measured (bench --starts)"
    return text + f", {_calls(break_even(start[0], compiled))} from {start[1]} ({start[0]:.1f} s)"


def _choice(comparison: Comparison) -> str:
    interval = f" [{comparison.speedup_ci[0]:.2f}, {comparison.speedup_ci[1]:.2f}]" if comparison.speedup_ci else ""
    speed = "-" if comparison.speedup is None else f"{comparison.speedup:.2f}x"
    return f"{name_of(comparison.key.compile_config)}, speedup {speed}{interval}, {comparison.recommendation.value}"


def best_lines(pick: Pick) -> list[str]:
    """What ``compare`` and the report say under a search table: the best configuration that passes every gate with
    its break-even points, and the best in float32 when the best is reduced precision."""
    if pick.best is None:
        return [f"Best configuration: none of {pick.candidates} passes every gate: keep eager."]
    lines = [
        f"Best configuration: {_choice(pick.best)} ({pick.passing} of {pick.candidates} pass every gate); "
        f"{start_text(pick.best)}."
    ]
    if pick.best_float32 is not None:
        lines.append(f"Best in float32: {_choice(pick.best_float32)}; {start_text(pick.best_float32)}.")
    return lines


def winner_code(pick: Pick) -> list[str]:
    """The best configuration as the Python lines a user pastes (:func:`harness.bench.snippet.code_lines`); [] when
    there is no best, or its configuration is not a named one."""
    from harness.bench.request import BenchRequest
    from harness.bench.snippet import code_lines

    if pick.best is None:
        return []
    name = name_of(pick.best.key.compile_config)
    if name not in CONFIGS:
        return []
    from harness.model.loading import known_names

    settings = BenchRequest(mode="compiled", **CONFIGS[name]).compile_settings()  # type: ignore[arg-type]
    device = "cuda" if pick.best.key.device.startswith("cuda") else "cpu"
    model = pick.best.key.model_id
    if model in known_names():  # the harness's own model: no one serves it, so the lines load the checkpoint one does
        note = f"# benched on the harness's built-in model {model!r}: load the checkpoint you serve (a path or hub id)"
        return [note, *code_lines(settings, device=device)]
    return code_lines(settings, model=model, device=device)
