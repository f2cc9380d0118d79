"""``report/``: the benchmark report people read, as Markdown and HTML from the same blocks, with PNG plots.

The content is built once as a list of blocks (:mod:`harness.report.blocks`) and rendered twice, so the HTML page
always says what ``index.md`` says. Needs matplotlib (the ``report`` extra); never imports torch.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from harness import __version__
from harness.base.errors import ExitCode
from harness.gate.baseline import Baseline
from harness.gate.baseline_files import load_baselines
from harness.gate.checks import Check, check
from harness.gate.comparison import INTERLEAVED, Comparison, ModeSummary, build_comparisons
from harness.gate.findings import FindingKind
from harness.gate.history import series
from harness.gate.matching import GateKind
from harness.gate.verdict import exit_code, tally
from harness.report import history_section, plots
from harness.report.blocks import Block, Code, Heading, Headline, Image, Paragraph, Table, to_html, to_markdown
from harness.report.display import skill
from harness.report.drawing import Drawing, draw_all
from harness.results.schema import RunRecord
from harness.results.store import new_temp_file, write_error

# --- the content ---------------------------------------------------------------------------------------


def _pct(rate: float) -> str:
    return f"{rate:.0%}"


def _latency(summary: ModeSummary | None) -> str:
    if summary is None:
        return "no run"
    if summary.latency_median_s is None:
        return f"- ({summary.status})"
    ci = f" [{summary.latency_ci_s[0] * 1000:.2f}, {summary.latency_ci_s[1] * 1000:.2f}]" if summary.latency_ci_s else ""
    return f"{summary.latency_median_s * 1000:.2f} ms{ci}"


def _mae(summary: ModeSummary | None) -> str:
    if summary is None or summary.mae is None:
        return "-"
    pct = f" ({summary.mae_pct:.2f}%)" if summary.mae_pct is not None else ""
    return f"{summary.mae:.5g}{pct}"


def _skill(summary: ModeSummary | None) -> str:
    """The naive forecast's MAE % (the last close repeated) and eager's skill as the terminal gives it
    (:func:`harness.report.display.skill`: MAE / naive MAE, below 1 the model beats persistence)."""
    if summary is None or summary.naive_mae_pct is None:
        return "-"
    return f"{summary.naive_mae_pct:.3f}% / {skill(summary)}"


def _speedup(comparison: Comparison) -> str:
    if comparison.speedup is None:
        return "-"
    ci = f" [{comparison.speedup_ci[0]:.2f}, {comparison.speedup_ci[1]:.2f}]" if comparison.speedup_ci else ""
    method = "" if comparison.speedup_method == INTERLEAVED else " (separate sessions)"
    return f"{comparison.speedup:.2f}x{ci}{method}"


def _first(summary: ModeSummary | None) -> str:
    if summary is None:
        return "-"
    first = "-" if summary.first_call_s is None else f"{summary.first_call_s:.2f} s"
    return first if summary.compile_s is None else f"{first} / {summary.compile_s:.1f} s"


def _gpu(device: str) -> str:
    kind, _, rest = device.partition(":")
    if kind == "cuda":
        return rest
    return f"none: CPU {rest.rsplit(' x', 1)[0]}, {rest.rsplit(' x', 1)[-1]} threads"


def _run_date(comparison: Comparison) -> str:
    run = comparison.compiled.run_id if comparison.compiled else ""
    return (
        run[:4] + "-" + run[4:6] + "-" + run[6:8] + " " + run[9:11] + ":" + run[11:13] if re.match(r"^\d{8}T\d{4}", run) else run
    )


def _checked_baseline(checked: Check) -> Baseline | None:
    return checked.match.baseline


def build(
    records: Sequence[RunRecord],
    baselines: Sequence[Baseline],
    out_dir: Path,
    *,
    confidence: float,
    source: str,
    commit_url: str | None = None,
) -> list[Block]:
    """Every figure of the report, drawing the plots into ``out_dir`` as it goes; returns the blocks. ``commit_url``:
    where a commit's page is (``{commit}`` in it), to link the commits of the trend tables."""
    comparisons, orphans = build_comparisons(records, confidence=confidence)
    checks = [check(comparison, baselines) for comparison in comparisons]
    histories = series(records, confidence=confidence)
    began = history_section.onsets(comparisons, checks, histories, baselines)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    verdicts = [c.verdict for c in checks]
    counts = ", ".join(
        f"{verdicts.count(word)} {word}" for word in ("regression", "flaky", "improved", "holds", "new") if verdicts.count(word)
    )
    blocks: list[Block] = [
        Heading(1, "Chronos-2: torch.compile vs eager"),
        _headline(comparisons, checks, began),
        Paragraph(
            f"Generated {generated} by chronos-compile-bench {__version__} from {len(records)} run(s) in {source}: "
            f"{len(comparisons)} key(s) (symbol, model, torch, device, settings, compile configuration, environment). "
            f"Against the committed baselines: {counts or 'nothing to check'}."
        ),
        Paragraph(
            f"Rules: adopt compiled only at 100% success, speedup > 1.5x (the lower end of its {confidence:.0%} interval) and MAE "
            "difference < 2%; below 1.2x it is not worth it. Latencies are medians of the timed calls with their "
            f"{confidence:.0%} bootstrap interval; the speedup is the median of eager/compiled ratios of calls interleaved in one process."
        ),
        Heading(2, "Performance Benchmarks"),
    ]
    groups: dict[tuple[str, str, str], list[int]] = {}
    for index, comparison in enumerate(comparisons):
        groups.setdefault((comparison.key.device, comparison.key.torch_version, comparison.environment), []).append(index)
    for (device, torch_version, environment), members in sorted(groups.items()):
        blocks.append(Heading(3, f"torch {torch_version} · {device}"))
        blocks.append(Paragraph(f"GPU: {_gpu(device)}. Environment: {environment or 'not recorded'}."))
        rows = []
        for index in members:
            c = comparisons[index]
            rows.append(
                (
                    c.key.symbol,
                    c.key.model_id + ("" if c.compiled is None or c.compiled.model_trained else " (untrained)"),
                    plots.short_config(c.key.compile_config),
                    _run_date(c),
                    f"{_pct(c.eager.success_rate) if c.eager else '-'} / {_pct(c.compiled.success_rate) if c.compiled else '-'}",
                    _latency(c.eager),
                    _latency(c.compiled),
                    _first(c.compiled),
                    _mae(c.eager),
                    _mae(c.compiled),
                    _skill(c.eager),
                    _speedup(c),
                    "-" if c.mae_diff_pct is None else f"{c.mae_diff_pct:+.3f}%",
                    f"{c.recommendation.value}: {c.reason}",
                )
            )
        blocks.append(
            Table(
                (
                    "Symbol",
                    "Model",
                    "Configuration",
                    "Date (UTC)",
                    "Success eager / compiled",
                    "Latency eager",
                    "Latency compiled",
                    "First call / compile",
                    "MAE eager (MAE %)",
                    "MAE compiled (MAE %)",
                    "Naive MAE % / skill (MAE ÷ naive, < 1 beats it)",
                    "Speedup",
                    "MAE diff",
                    "Recommendation",
                ),
                tuple(rows),
            )
        )
    blocks.append(Heading(2, "Verdicts against the baselines"))
    verdict_rows = []
    for comparison, checked in zip(comparisons, checks, strict=True):
        notable = "; ".join(f.message for f in checked.findings if f.notable)
        if checked.match.kind is GateKind.NEW:
            detail = notable or "no baseline for these settings"
        else:
            detail = notable or "every gated metric within tolerance"
        verdict_rows.append(
            (
                plots.row_label(comparison),
                comparison.environment,
                checked.verdict,
                checked.match.short(),
                f"{comparison.recommendation.value} ({comparison.reason})",
                detail,
            )
        )
    blocks.append(Table(("Key", "Environment", "Baseline", "Gate", "Recommendation", "Details"), tuple(verdict_rows)))
    machines = sorted({checked.match.describe() for checked in checks if checked.match.kind is GateKind.PORTABLE})
    if machines:  # the machines' differences in full, once each, below the table rather than in its cells
        blocks.append(Paragraph("Gate details: " + " | ".join(machines)))
    if orphans:
        blocks.append(
            Paragraph(
                "Eager runs without a compiled run: "
                + "; ".join(f"{r.symbol} {r.model_id} torch {r.torch_version} ({r.run_id})" for r in orphans)
                + "."
            )
        )

    blocks.extend(_search(comparisons))
    blocks.append(Heading(2, "Latency distributions"))
    blocks.append(
        Paragraph(
            "Every timed call of the latest run of each key. 'eager (interleaved)' is the uncompiled model timed in the compiled "
            "run's process, alternating with compiled calls: the speedup is computed from those pairs."
        )
    )
    drawings = [Drawing(plots.latency_distributions, (comparisons, out_dir / "latency.png"))]
    blocks.append(Image("latency.png", "latency per prediction, eager and compiled, per key"))
    blocks.append(Heading(2, "Speedup per torch version and configuration"))
    drawings.append(Drawing(plots.speedups, (comparisons, [_checked_baseline(c) for c in checks], out_dir / "speedup.png")))
    blocks.append(Image("speedup.png", "speedup with confidence interval per key, thresholds and baselines"))
    blocks.append(Heading(2, "Accuracy: MAE % against the naive forecast"))
    drawings.append(Drawing(plots.mae_vs_naive, (comparisons, out_dir / "mae.png")))
    blocks.append(Image("mae.png", "MAE % of the mean truth: naive, eager, compiled"))
    by_key = {(c.key, c.environment): checked for c, checked in zip(comparisons, checks, strict=True)}
    trends, charts = history_section.section(histories, by_key, out_dir, template=commit_url)
    blocks.extend(trends)
    draw_all([*drawings, *charts])
    return blocks


def _headline(comparisons: Sequence[Comparison], checks: Sequence[Check], began: Mapping[tuple[int, str], str]) -> Headline:
    """PASS or FAIL as ``compare`` would exit (a regression fails; without --strict, new keys do not), its counts, the
    gates that applied (a portable gate does not judge timings), and one line per regression, with where its history
    says it began (``began``, by comparison and metric: first bad and last good commit)."""
    result = tally(len(comparisons), checks, missing=0)
    passed = exit_code(result, strict=False, fail_on_improvement=False) is ExitCode.OK
    lines = tuple(
        f"{plots.row_label(comparison)}: {finding.message}"
        + (f" (history: {began[(index, finding.metric)]})" if (index, finding.metric) in began else "")
        for index, (comparison, checked) in enumerate(zip(comparisons, checks, strict=True))
        for finding in checked.findings
        if finding.kind is FindingKind.REGRESSION
    )
    return Headline(passed=passed, text=result.line(), lines=lines)


def _search(comparisons: Sequence[Comparison]) -> list[Block]:
    """The configuration search (harness.report.search_table) of every group benched in two or more configurations, and its best."""
    from harness.gate.picking import pick_best
    from harness.report.search_table import HEADER, best_lines, cells, ordered, search_rows, winner_code

    picks = [pick for pick in pick_best(comparisons) if pick.candidates >= 2]
    if not picks:
        return []
    blocks: list[Block] = [
        Heading(2, "Configuration search"),
        Paragraph(
            "Each compile configuration against the same eager model: speedup with its interval, drift against its "
            "tolerance (reduced precision: against eager in its own dtype), compile time cold and warm, a fresh process's "
            "start from the warm disk cache and precompiled (cache artifacts or AOTInductor package), the predictions "
            "after which compiling pays for itself, and the share of the physical floor (FLOPs at measured matmul speed) "
            "eager and compiled reach."
        ),
    ]
    for pick in picks:
        blocks.append(Heading(3, pick.label))
        blocks.append(Table(HEADER, tuple(cells(row) for row in ordered(search_rows(pick.members)))))
        blocks.extend(Paragraph(line) for line in best_lines(pick))
        code = winner_code(pick)
        if code:
            blocks.append(Paragraph("The best configuration as code (what the bench ran):"))
            blocks.append(Code(tuple(code)))
    return blocks


MANIFEST = ".report-files.json"  # the files the last report wrote: the only ones a new report may remove


def write_report(
    records: Sequence[RunRecord],
    baselines_dir: Path | None,
    out_dir: Path,
    *,
    confidence: float = 0.95,
    source: str = "results/",
    commit_url: str | None = None,
) -> list[Path]:
    """Write ``index.md``, ``index.html`` and the PNGs into ``out_dir``; returns every path written.

    The new report is built in a hidden folder inside ``out_dir`` and moved in file by file, images before the pages
    that show them, so a failure (a full disk) leaves the old report whole; then the files the previous report wrote
    and this one did not are removed, and nothing else (a user's own ``trend-holiday.png`` stays)."""
    baselines = (
        [baseline for baseline, _ in load_baselines(baselines_dir).values()]
        if baselines_dir is not None and baselines_dir.is_dir()
        else []
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".report-new-", dir=out_dir))
    try:
        blocks = build(records, baselines, staging, confidence=confidence, source=source, commit_url=commit_url)
        title = "Chronos-2: torch.compile vs eager"
        (staging / "index.md").write_text(to_markdown(blocks), encoding="utf-8")
        (staging / "summary.md").write_text(to_markdown(blocks, images=False), encoding="utf-8")  # for a CI job summary
        (staging / "index.html").write_text(to_html(blocks, title=title), encoding="utf-8")
        pages = ["summary.md", "index.md", "index.html"]  # last: they show the images, which must be in place first
        names = [*sorted(p.name for p in staging.iterdir() if p.name not in pages), *pages]
        for name in names:
            os.chmod(staging / name, 0o644)
            os.replace(staging / name, out_dir / name)
    except OSError as exc:
        raise write_error(out_dir, exc) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for stale in sorted(set(_previous(out_dir)) - set(names)):  # a key no longer in the results must not linger
        (out_dir / stale).unlink(missing_ok=True)
    _atomic(out_dir / MANIFEST, json.dumps(names, indent=1) + "\n")
    return [out_dir / "index.md", out_dir / "index.html"] + [out_dir / block.path for block in blocks if isinstance(block, Image)]


def _previous(out_dir: Path) -> list[str]:
    """The files the previous report wrote (its manifest); plain names only, so a manifest can remove nothing else."""
    try:
        listed = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return (
        [n for n in listed if isinstance(n, str) and n == Path(n).name and not n.startswith(".")]
        if isinstance(listed, list)
        else []
    )


def _atomic(path: Path, text: str) -> Path:
    handle, tmp = new_temp_file(path.parent, prefix=f".{path.name}.")  # 0644 under umask 022, like the PNGs beside it
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
