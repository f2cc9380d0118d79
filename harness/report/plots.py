"""The report's pictures, as PNG files. matplotlib only (the ``report`` extra); never imports torch.

Every function takes comparisons (or a history series) and a path, draws with the object API (no pyplot state,
no display needed) and returns the path written.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from harness.gate.baseline import Baseline, Tolerances
from harness.gate.changepoints import Change
from harness.gate.comparison import Comparison
from harness.gate.history import Point, Series
from harness.results.commits import short_commit
from harness.rules.recommend import ADOPT_SPEEDUP, WORTH_SPEEDUP

EAGER, COMPILED, INTERLEAVED_EAGER, NAIVE = "#4C72B0", "#DD8452", "#8DA0CB", "#999999"
CHANGE = "#8B008B"  # a change point in a trend
DPI = 110

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _plain_text(draw: Callable[_P, _R]) -> Callable[_P, _R]:
    """Draw with every text taken literally: a symbol such as ``$\\frac{$`` is a label, not matplotlib math."""

    @functools.wraps(draw)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with matplotlib.rc_context({"text.parse_math": False}):
            return draw(*args, **kwargs)

    return wrapper


def short_config(label: str) -> str:
    """``mode=default,backend=inductor,dynamic=False,attn=eager`` -> ``dynamic=False``: only what differs from the defaults."""
    defaults = {"mode=default", "backend=inductor", "dynamic=auto", "attn=eager"}
    parts = [part for part in label.split(",") if part and part not in defaults]
    return ",".join(parts) or "default"


def row_label(comparison: Comparison, *, torch: bool = True) -> str:
    key = comparison.key
    text = f"{key.symbol} · {key.model_id} · {short_config(key.compile_config)}"
    return f"{text} · torch {key.torch_version}" if torch else text


def _save(figure: Figure, path: Path, *, tight: bool = True) -> Path:
    """``tight``: crop to what was drawn, which draws the figure twice; a figure laid out by hand need not."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI, bbox_inches="tight" if tight else None)
    return path


def _jitter(n: int, center: float, seed: int) -> np.ndarray:
    return center + np.random.default_rng(seed).uniform(-0.12, 0.12, size=n)


def _clip_above(values: np.ndarray) -> float:
    """Where to cut the y axis so a few calls 10x slower than the rest (a host hiccup) do not flatten every box:
    3 interquartile ranges above the upper quartile, or the maximum when nothing is that far out. Above 5% of
    the calls beyond it, the panel uses a log axis instead and hides nothing."""
    q1, q3 = np.percentile(values, [25, 75])
    limit = float(q3 + 3.0 * max(q3 - q1, 0.02 * q3))
    return float(values.max()) if values.max() <= limit else limit


@_plain_text
def latency_distributions(comparisons: Sequence[Comparison], path: Path) -> Path:
    """One panel per comparison: box plots of the raw per-call latencies (ms) of eager's own session, eager
    interleaved with compiled in the compiled run, and compiled, with every call drawn as a point."""
    columns = min(3, max(1, len(comparisons)))
    rows = max(1, math.ceil(len(comparisons) / columns))
    figure = Figure(figsize=(4.6 * columns, 3.2 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    for index, comparison in enumerate(comparisons):
        ax: Axes = axes[index // columns][index % columns]
        groups = [
            ("eager\n(own session)", comparison.eager.latencies_s if comparison.eager else (), EAGER),
            (
                "eager\n(interleaved)",
                tuple(x for x in comparison.compiled.paired_eager_latencies_s if math.isfinite(x)) if comparison.compiled else (),
                INTERLEAVED_EAGER,
            ),
            ("compiled", comparison.compiled.latencies_s if comparison.compiled else (), COMPILED),
        ]
        shown = [(name, np.asarray(samples, dtype=float) * 1000.0, color) for name, samples, color in groups if len(samples)]
        ax.set_title(row_label(comparison), fontsize=8.5)
        if not shown:
            status = comparison.compiled.status if comparison.compiled else "no run"
            ax.text(0.5, 0.5, f"no latencies: {status}", ha="center", va="center", transform=ax.transAxes, color="#B22222")
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        boxes = ax.boxplot(
            [values for _, values, _ in shown], positions=range(len(shown)), widths=0.5, showfliers=False, patch_artist=True
        )
        for patch, (_, _, color) in zip(boxes["boxes"], shown, strict=True):
            patch.set_facecolor(color)
            patch.set_alpha(0.35)
        every = np.concatenate([values for _, values, _ in shown])
        top = _clip_above(every)
        above_total = int(np.sum(every > top))
        if above_total > 0.05 * len(every):  # not a few hiccups but a slow mode of the host: show it all, on a log axis
            ax.set_yscale("log")
            top = float(every.max())
        for position, (_, values, color) in enumerate(shown):
            inside = values[values <= top]
            ax.scatter(_jitter(len(inside), position, seed=position), inside, s=9, color=color, alpha=0.8, zorder=3, linewidths=0)
            above = int(np.sum(values > top))
            if above:
                ax.scatter([position], [top], marker="^", s=30, color="#B22222", zorder=4, clip_on=False)
                ax.annotate(
                    f"{above} above (max {values.max():.0f})",
                    (position, top),
                    xytext=(0, -11),
                    textcoords="offset points",
                    ha="center",
                    fontsize=6.5,
                    color="#B22222",
                )
        if top < every.max():
            ax.set_ylim(top=top * 1.03)
        ax.set_xticks(range(len(shown)), [name for name, _, _ in shown], fontsize=8)
        ax.set_ylabel("latency per prediction (ms)", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    for index in range(len(comparisons), rows * columns):
        axes[index // columns][index % columns].set_visible(False)
    figure.suptitle("Latency per prediction: every call, with its box (median and quartiles)", fontsize=10)
    return _save(figure, path)


@_plain_text
def speedups(comparisons: Sequence[Comparison], baselines: Sequence[Baseline | None], path: Path) -> Path:
    """Speedup (eager / compiled) with its interval, one row per comparison, grouped by torch version and device;
    the adopt (1.5x) and worth-it (1.2x) thresholds and each baseline's value drawn in."""
    order = sorted(
        range(len(comparisons)),
        key=lambda i: (comparisons[i].key.device, comparisons[i].key.torch_version, row_label(comparisons[i], torch=False)),
    )
    figure = Figure(figsize=(9.0, 1.2 + 0.34 * max(1, len(order))), layout="constrained")
    ax = figure.subplots()
    versions = sorted({(c.key.device, c.key.torch_version) for c in comparisons})
    palette = ["#4C72B0", "#55A868", "#C44E52", "#8172B2", "#CCB974", "#64B5CD"]
    colors = {version: palette[i % len(palette)] for i, version in enumerate(versions)}
    labels = []
    for row, index in enumerate(reversed(order)):
        comparison, baseline = comparisons[index], baselines[index]
        labels.append(row_label(comparison))
        color = colors[(comparison.key.device, comparison.key.torch_version)]
        if comparison.speedup is None:
            status = comparison.compiled.status if comparison.compiled else "no run"
            ax.text(1.0, row, f"  no speedup: {status}", va="center", fontsize=8, color="#B22222")
            continue
        low, high = comparison.speedup_ci or (comparison.speedup, comparison.speedup)
        ax.errorbar(
            comparison.speedup,
            row,
            xerr=[[comparison.speedup - low], [high - comparison.speedup]],
            fmt="o",
            color=color,
            capsize=3,
            markersize=5,
        )
        right = max(high, baseline.speedup) if baseline is not None and baseline.speedup else high
        ax.annotate(
            f"{comparison.speedup:.2f}x", (right, row), xytext=(6, 0), textcoords="offset points", va="center", fontsize=7.5
        )
        if baseline is not None and baseline.speedup:
            ax.plot(baseline.speedup, row, marker="|", markersize=13, color="black", markeredgewidth=1.6)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.axvline(1.0, color="#555555", linewidth=0.8)
    ax.axvline(WORTH_SPEEDUP, color="#CCB974", linestyle="--", linewidth=0.9, label=f"{WORTH_SPEEDUP:g}x: worth it")
    ax.axvline(ADOPT_SPEEDUP, color="#55A868", linestyle="--", linewidth=0.9, label=f"{ADOPT_SPEEDUP:g}x: adopt")
    ax.plot([], [], marker="|", markersize=10, color="black", linestyle="none", label="baseline")
    for (device, version), color in colors.items():
        ax.plot([], [], "o", color=color, label=f"torch {version} · {device}")
    ax.set_xlabel("speedup = eager latency / compiled latency (point: median, bar: confidence interval)", fontsize=8.5)
    ax.set_xlim(
        left=min([0.8, *(c.speedup_ci[0] - 0.05 for c in comparisons if c.speedup_ci and math.isfinite(c.speedup_ci[0]))])
    )
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.6 / max(1, len(order))), ncol=3, frameon=False)
    ax.set_title("Speedup of torch.compile per torch version and configuration", fontsize=10)
    return _save(figure, path)


@_plain_text
def mae_vs_naive(comparisons: Sequence[Comparison], path: Path) -> Path:
    """MAE as % of the mean truth, one panel per symbol (each on its own scale): eager and compiled per model,
    configuration and torch version, against the naive forecast (last close carried forward) as a dashed line."""
    symbols = sorted({c.key.symbol for c in comparisons})
    members = {symbol: [c for c in comparisons if c.key.symbol == symbol] for symbol in symbols}
    heights = [max(1, len(members[s])) for s in symbols]
    figure = Figure(figsize=(8.5, 1.4 + 0.42 * sum(heights) + 0.5 * len(symbols)), layout="constrained")
    axes = figure.subplots(max(1, len(symbols)), 1, squeeze=False, gridspec_kw={"height_ratios": heights or [1]})
    bar = 0.38
    for ax, symbol in zip((row[0] for row in axes), symbols, strict=False):
        rows = list(reversed(members[symbol]))
        naive = next(
            (s.naive_mae_pct for c in rows for s in (c.eager, c.compiled) if s is not None and s.naive_mae_pct is not None), None
        )
        labels = []
        for row, comparison in enumerate(rows):
            trained = comparison.compiled.model_trained if comparison.compiled else True
            labels.append(
                f"{comparison.key.model_id} · {short_config(comparison.key.compile_config)} · torch {comparison.key.torch_version}"
                + ("" if trained else " (untrained)")
            )
            for offset, summary, color in ((bar / 2, comparison.eager, EAGER), (-bar / 2, comparison.compiled, COMPILED)):
                if summary is None or summary.mae_pct is None:
                    continue
                ax.barh(row + offset, summary.mae_pct, height=bar, color=color, hatch="" if trained else "//", edgecolor="white")
                ax.annotate(
                    f"{summary.mae_pct:.3g}%",
                    (summary.mae_pct, row + offset),
                    xytext=(3, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=7,
                )
        if naive is not None:
            ax.axvline(naive, color="#333333", linestyle="--", linewidth=1.1)
            ax.annotate(
                f"naive {naive:.3g}%",
                (naive, len(rows) - 0.5),
                xytext=(3, 0),
                textcoords="offset points",
                fontsize=7.5,
                va="bottom",
            )
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_ylim(-0.6, len(rows) - 0.2)
        ax.set_title(symbol, fontsize=9.5, loc="left")
        ax.grid(axis="x", alpha=0.3)
        ax.margins(x=0.12)
    handles: list[Patch | Line2D] = [
        Patch(color=EAGER, label="eager"),
        Patch(color=COMPILED, label="compiled"),
        Line2D([], [], color="#333333", linestyle="--", label="naive: last close carried forward"),
    ]
    if any(c.compiled is not None and not c.compiled.model_trained for c in comparisons):
        handles.append(
            Patch(facecolor="white", edgecolor="#555555", hatch="//", label="untrained weights: MAE only tracks numerical change")
        )
    figure.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=7.5, frameon=False)
    axes[-1][0].set_xlabel("MAE of the median close forecast, % of the mean truth (lower is better)", fontsize=8.5)
    figure.suptitle("Accuracy per symbol against the naive forecast", fontsize=10)
    return _save(figure, path)


def _at_least(ax: Axes, rel: float) -> None:
    """Zoom no closer than ± ``rel`` of the middle: a 1e-7 difference must not fill the panel like a regression would."""
    low, high = ax.get_ylim()
    middle = (low + high) / 2
    if high - low < 2 * rel * abs(middle):
        ax.set_ylim(middle * (1 - rel), middle * (1 + rel))


def _draw_band(ax: Axes, value: float, tolerance: float, color: str) -> None:
    ax.axhline(value, color=color, linewidth=1.0, linestyle="--")
    ax.axhspan(value * (1 - tolerance), value * (1 + tolerance), color=color, alpha=0.12)


def _trend_points(comparisons: Sequence[Comparison], speed_ax: Axes, latency_ax: Axes, mae_ax: Axes) -> None:
    """Every run of the key, at its place in the run order (0 the oldest): its speedup with its interval (a cross at 1
    when a mode failed), each mode's median latency with its interval, and MAE %. One artist per kind of point, not
    one per run: a history of thousands of runs draws in about the time of one."""
    when = np.arange(len(comparisons))
    speed = [
        (i, c.speedup, *(c.speedup_ci or (c.speedup, c.speedup))) for i, c in enumerate(comparisons) if c.speedup is not None
    ]
    if speed:
        _errorbars(speed_ax, when, speed, color="#333333", marker="o", markersize=4)
    failed = [i for i, c in enumerate(comparisons) if c.speedup is None]
    if failed:
        speed_ax.plot(when[failed], [1.0] * len(failed), marker="x", color="#B22222", markersize=8, linestyle="none")
    for mode, color in (("eager", EAGER), ("compiled", COMPILED)):
        summaries = [(i, c.eager if mode == "eager" else c.compiled) for i, c in enumerate(comparisons)]
        latency = [
            (i, s.latency_median_s * 1000.0, s.latency_ci_s[0] * 1000.0, s.latency_ci_s[1] * 1000.0)
            for i, s in summaries
            if s is not None and s.latency_median_s is not None and s.latency_ci_s is not None
        ]
        if latency:
            _errorbars(latency_ax, when, latency, color=color, marker="o", markersize=4)
        mae = [(i, s.mae_pct) for i, s in summaries if s is not None and s.mae_pct is not None]
        if mae:
            mae_ax.plot(
                when[[i for i, _ in mae]],
                [value for _, value in mae],
                marker="o" if mode == "eager" else "s",
                color=color,
                markersize=4 if mode == "eager" else 3,
                linestyle="none",
            )


def _errorbars(ax: Axes, when: np.ndarray, points: Sequence[tuple[int, float, float, float]], **style: Any) -> None:
    """(index, value, low, high) points as one errorbar artist."""
    index, value, low, high = (np.array(column) for column in zip(*points, strict=True))
    ax.errorbar(when[index.astype(int)], value, yerr=[value - low, high - value], fmt=style.pop("marker"), capsize=3, **style)


MAX_RUN_LABELS = 12  # labelled runs on a trend's axis: more would overlap; the oldest and the newest always are


def run_labels(points: Sequence[Point], *, most: int = MAX_RUN_LABELS) -> tuple[list[int], list[str]]:
    """Where to label the run axis and with what: the short commit over the date (UTC), at most ``most`` runs evenly
    spread, the newest always among them."""
    if not points:
        return [], []
    step = max(1, math.ceil(len(points) / most))
    where = sorted({*range(len(points) - 1, -1, -step)})
    return where, [f"{short_commit(points[i].commit)}\n{points[i].timestamp_utc[:10]}" for i in where]


def _trend_bands(baseline: Baseline, speed_ax: Axes, latency_ax: Axes, mae_ax: Axes) -> None:
    """The baseline of each panel with its tolerance band."""
    tol = baseline.tolerances
    if baseline.speedup:
        _draw_band(speed_ax, baseline.speedup, tol.speedup_rel, "#333333")
    for mode, color in ((baseline.eager, EAGER), (baseline.compiled, COMPILED)):
        if mode.latency_median_s:
            _draw_band(latency_ax, mode.latency_median_s * 1000.0, tol.latency_rel, color)
        if mode.mae_pct:
            _draw_band(mae_ax, mode.mae_pct, tol.mae_rel, color)


@_plain_text
def trend(history: Series, baseline: Baseline | None, path: Path, *, gated: bool = True, changes: Sequence[Change] = ()) -> Path:
    """Speedup, latencies and MAE of every past run of one key, with the baseline and its tolerance band, and a
    dotted line where a metric's level changed (:mod:`harness.gate.changepoints`)."""
    comparisons = [point.comparison for point in history.points]
    # laid out by hand, not "constrained" and cropped: a report draws one trend per key, and layout solving and the
    # second draw were two thirds of each chart's 0.65 s (30 keys: 19 s of a 35 s report)
    figure = Figure(figsize=(8.0, 7.0))
    figure.subplots_adjust(left=0.1, right=0.98, top=0.91, bottom=0.14, hspace=0.12)
    speed_ax, latency_ax, mae_ax = figure.subplots(3, 1, sharex=True)
    _trend_points(comparisons, speed_ax, latency_ax, mae_ax)
    legends: dict[Axes, list[Patch | Line2D]] = {
        speed_ax: [Line2D([], [], marker="o", color="#333333", linestyle="none", label="speedup, interval")],
        latency_ax: [Patch(color=EAGER, label="eager"), Patch(color=COMPILED, label="compiled")],
        mae_ax: [Patch(color=EAGER, label="eager"), Patch(color=COMPILED, label="compiled")],
    }
    if any(c.speedup is None for c in comparisons):
        legends[speed_ax].append(Line2D([], [], marker="x", color="#B22222", linestyle="none", label="no speedup: a mode failed"))
    for change in changes:  # between the last good run and the first bad one
        ax = speed_ax if change.metric == "speedup" else latency_ax
        ax.axvline(change.index - 0.5, color=CHANGE, linestyle=":", linewidth=1.8)
    for ax in {speed_ax if c.metric == "speedup" else latency_ax for c in changes}:
        legends[ax].append(Line2D([], [], color=CHANGE, linestyle=":", label="change point"))
    if baseline is not None:
        _trend_bands(baseline, speed_ax, latency_ax, mae_ax)
        timing_band = "baseline ± tolerance" if gated else "baseline ± tolerance (another machine: timings not gated)"
        for ax in legends:  # MAE is gated on every machine: only the timing panels say when they are not
            label = "baseline ± tolerance (gated)" if ax is mae_ax else timing_band
            legends[ax].append(Patch(facecolor="#999999", alpha=0.3, label=label))
    speed_ax.set_ylabel("speedup (x)", fontsize=8.5)
    latency_ax.set_ylabel("median latency (ms)", fontsize=8.5)
    mae_ax.set_ylabel("MAE % of mean truth", fontsize=8.5)
    default = baseline.tolerances if baseline is not None else Tolerances()
    for ax, rel in ((speed_ax, default.speedup_rel), (latency_ax, default.latency_rel), (mae_ax, default.mae_rel)):
        _at_least(ax, rel)
    for ax, handles in legends.items():
        if ax.get_yscale() == "linear":
            ax.ticklabel_format(axis="y", useOffset=False, style="plain")  # 76.9208, not "+7.692e1" and 0.0008
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        ax.legend(handles=handles, fontsize=7.5, loc="best")
    mae_ax.set_xlim(-0.6, len(comparisons) - 0.4)
    where, labels = run_labels(history.points)
    mae_ax.set_xticks(where, labels, fontsize=7, rotation=30, ha="right", rotation_mode="anchor")
    mae_ax.set_xlabel("run, oldest to newest: commit and date (UTC)", fontsize=8.5)
    key = history.key
    figure.suptitle(
        f"{key.symbol} · {key.model_id} · torch {key.torch_version} · {key.device} · {short_config(key.compile_config)}\n"
        f"{len(history.points)} run(s); bars: confidence intervals",
        fontsize=9.5,
    )
    return _save(figure, path, tight=False)
