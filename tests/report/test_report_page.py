"""harness.gate.history, harness.report.plots and harness.report.page: trends, pictures, and index.md / index.html listing every key."""

from __future__ import annotations

import html
import os
import re
from datetime import UTC
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.gate.baseline import Tolerances
from harness.gate.baseline_files import baseline_from, write_baseline
from harness.gate.comparison import build_comparisons
from harness.gate.history import series
from harness.report.blocks import Block, Heading, Image, Paragraph, Table, to_html, to_markdown
from harness.report.page import write_report
from harness.results.schema import RunRecord
from harness.results.store import write_records
from tests.factories import make_record, replace

PNG = b"\x89PNG\r\n\x1a\n"


def runs(
    symbol: str, torch_version: str, *, when: str, speedup: float = 1.3, compiled_status: str = "pass", tag: str = ""
) -> list[RunRecord]:
    """An eager and a compiled run of one key at ``when``, the compiled one with interleaved pairs at ``speedup``."""
    eager = make_record("eager", symbol=symbol, torch_version=torch_version, timestamp_utc=when, run_id=f"{when}-{symbol}-{tag}e")
    lat = [0.10, 0.11, 0.10, 0.12, 0.10]
    failed = compiled_status != "pass"
    compiled = make_record(
        "compiled",
        symbol=symbol,
        torch_version=torch_version,
        timestamp_utc=when,
        run_id=f"{when}-{symbol}-{tag}c",
        latencies=[] if failed else [x / speedup for x in lat],
        paired_eager_latencies_s=[] if failed else lat,
        status=compiled_status,
        error_type="SIGSEGV" if failed else "",
        mae=None if failed else 10.0,
    )
    return [eager, compiled]


def three_nights() -> list[RunRecord]:
    records = []
    for night, speedup in enumerate((1.30, 1.31, 1.10), start=1):
        when = f"2026-11-2{night}T03:00:00+00:00"
        records += runs("BTCUSD", "2.13.0+cpu", when=when, speedup=speedup) + runs(
            "GOOG", "2.14.1", when=when, speedup=speedup + 0.1
        )
    return records


def test_history_pairs_each_compiled_run_with_the_eager_run_before_it() -> None:
    (btc, goog) = series(three_nights())
    assert (btc.key.symbol, goog.key.symbol) == ("BTCUSD", "GOOG")
    assert [round(p.comparison.speedup or 0, 2) for p in btc.points] == [1.30, 1.31, 1.10]
    assert [p.comparison.eager.run_id for p in btc.points if p.comparison.eager] == [
        f"2026-11-2{n}T03:00:00+00:00-BTCUSD-e" for n in (1, 2, 3)
    ]
    assert all(p.comparison.speedup_ci is not None for p in btc.points)


def test_history_keeps_environments_apart() -> None:
    other = [
        replace(r, python_version="3.12.1", run_id=r.run_id + "-py312")
        for r in runs("BTCUSD", "2.13.0+cpu", when="2026-11-22T03:00:00+00:00")
    ]
    found = series(runs("BTCUSD", "2.13.0+cpu", when="2026-11-21T03:00:00+00:00") + other)
    assert len(found) == 2 and {len(s.points) for s in found} == {1}
    assert {s.points[0].comparison.eager.run_id for s in found if s.points[0].comparison.eager} == {
        "2026-11-21T03:00:00+00:00-BTCUSD-e",
        "2026-11-22T03:00:00+00:00-BTCUSD-e-py312",
    }


def test_blocks_render_the_same_content_to_markdown_and_html() -> None:
    blocks: list[Block] = [
        Heading(2, "Speedup <x>"),
        Paragraph("a | b & c"),
        Table(("k", "v"), (("BTCUSD", "1.30x | [1.2, 1.4]"),)),
        Image("speedup.png", "speedup"),
    ]
    markdown, page = to_markdown(blocks), to_html(blocks, title="t")
    assert (
        markdown.splitlines()[0] == "## Speedup <x>"
        and "| BTCUSD | 1.30x \\| [1.2, 1.4] |" in markdown
        and "![speedup](speedup.png)" in markdown
    )
    assert (
        "<h2>Speedup &lt;x&gt;</h2>" in page
        and "<td>1.30x | [1.2, 1.4]</td>" in page
        and '<img src="speedup.png" alt="speedup">' in page
    )
    assert "a &amp; b" not in page and html.escape("a | b & c") in page


def test_report_lists_every_key_and_writes_every_plot(tmp_path: Path) -> None:
    records = three_nights() + runs("EURUSD", "2.13.0+cpu", when="2026-11-23T03:00:00+00:00", compiled_status="fail_crash")
    baselines = tmp_path / "baselines"
    comparisons, _ = build_comparisons(three_nights()[:4])  # night 1 is the baseline
    for comparison in comparisons:
        write_baseline(baselines, baseline_from(comparison, tolerances=Tolerances(), provenance={"reason": "test"}))
    written = write_report(records, baselines, tmp_path / "report", source="test")

    markdown = (tmp_path / "report" / "index.md").read_text()
    page = (tmp_path / "report" / "index.html").read_text()
    for symbol, torch_version in (("BTCUSD", "2.13.0+cpu"), ("GOOG", "2.14.1"), ("EURUSD", "2.13.0+cpu")):
        assert re.search(rf"^\| {symbol} \| tiny \(untrained\) \| default \|", markdown, flags=re.M), (
            f"{symbol} missing from the table"
        )
        assert f"{symbol} · tiny · default · torch {torch_version}" in markdown
        assert f"<td>{symbol}</td>" in page
    assert "### torch 2.13.0+cpu · cpu:Test CPU x2" in markdown and "### torch 2.14.1 · cpu:Test CPU x2" in markdown
    # night 3 is 15% slower than the baseline: the report says so, as compare would
    assert "| regression |" in markdown and "speedup 1.10x" in markdown
    assert "Against the committed baselines: 2 regression, 1 new." in markdown
    assert "| full |" in markdown  # which gate checked each key
    assert (
        "no speedup" not in markdown and "| 100% / 0% |" in markdown
    )  # EURUSD's crash: 0% compiled success, reported not hidden

    pngs = [path for path in written if path.suffix == ".png"]
    assert {p.name for p in pngs} >= {"latency.png", "speedup.png", "mae.png"}
    assert len([p for p in pngs if p.name.startswith("trend-")]) == 3  # one per key
    for png in pngs:
        assert png.read_bytes()[:8] == PNG and png.stat().st_size > 10_000, png
        assert f"]({png.name})" in markdown and f'src="{png.name}"' in page


def test_report_drops_its_own_trend_charts_of_keys_no_longer_in_the_results_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "report"
    out.mkdir()
    (out / "trend-holiday.png").write_bytes(PNG)  # the user's own file: a report never wrote it, so it stays
    write_report(runs("EURUSD", "2.13.0+cpu", when="2026-11-20T03:00:00+00:00"), None, out)
    [old_trend] = [p for p in out.glob("trend-*.png") if p.name != "trend-holiday.png"]
    write_report(runs("GOOG", "2.13.0+cpu", when="2026-11-21T03:00:00+00:00"), None, out)
    assert not old_trend.exists() and (out / "trend-holiday.png").read_bytes() == PNG
    assert len(list(out.glob("trend-*.png"))) == 2
    assert not [p for p in out.iterdir() if p.name.startswith(".report-new-")]


def test_a_full_disk_mid_report_leaves_the_old_report_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC injected at the page write. Was: exit 3 with a half-replaced report pointing at deleted images."""
    import errno

    from harness.base.errors import InputError

    out = tmp_path / "report"
    write_report(runs("GOOG", "2.13.0+cpu", when="2026-11-21T03:00:00+00:00"), None, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    real_write_text = Path.write_text

    def full(self: Path, text: str, *args: object, **kwargs: object) -> int:
        if self.name == "index.html":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write_text(self, text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(InputError, match=r"not written \(No space left on device\); fix: free space"):
        write_report(runs("EURUSD", "2.13.0+cpu", when="2026-11-22T03:00:00+00:00"), None, out)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert not [p for p in out.iterdir() if p.is_dir()]


def test_report_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results"
    write_records(three_nights(), results, name="nights")
    assert (
        main(
            [
                "report",
                "--results-dir",
                str(results),
                "--baselines-dir",
                str(tmp_path / "none"),
                "--output",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    assert "index.md" in capsys.readouterr().out
    assert (tmp_path / "out" / "index.html").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", "--results-dir", str(empty), "--output", str(tmp_path / "out2")]) == 2
    assert f"{empty}: no results to report" in capsys.readouterr().err


def _trend_artists(nights: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many artists the trend chart of a key with ``nights`` runs (one failed) draws."""
    pytest.importorskip("matplotlib")
    from datetime import datetime, timedelta

    from matplotlib.figure import Figure

    from harness.report import plots

    start = datetime(2026, 1, 1, 3, tzinfo=UTC)
    records = []
    for night in range(nights):
        when = (start + timedelta(days=night)).isoformat()
        records += runs("BTCUSD", "2.13.0+cpu", when=when, compiled_status="fail_exception" if night == 1 else "pass")
    (history,) = series(records)
    drawn: list[int] = []

    def count(figure: Figure, path: Path, **_: object) -> Path:
        drawn.append(sum(len(ax.get_children()) for ax in figure.axes))
        return path

    monkeypatch.setattr(plots, "_save", count)
    plots.trend(history, None, tmp_path / "trend.png")
    return drawn[0]


def test_a_trend_draws_as_many_artists_for_three_hundred_runs_as_for_five(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one artist per kind of point, not per run: drawing (and legend placement) stays linear in the runs; 2,500 runs
    # drawn one artist each took 57 s of the 110 s a 5,000-file report took under cProfile
    assert _trend_artists(300, tmp_path, monkeypatch) == _trend_artists(5, tmp_path, monkeypatch)


def test_the_mae_panel_says_it_is_gated_where_the_timing_panels_say_they_are_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from harness.report import plots

    records = three_nights()
    (btc, _) = series(records)
    comparisons, _ = build_comparisons(records[:4])
    baseline = baseline_from(comparisons[0], tolerances=Tolerances(), provenance={"reason": "test"})
    legends: list[list[str]] = []

    def keep(figure: Figure, path: Path, **_: object) -> Path:
        legends.extend([text.get_text() for text in legend.get_texts()] for ax in figure.axes if (legend := ax.get_legend()))
        return path

    monkeypatch.setattr(plots, "_save", keep)
    plots.trend(btc, baseline, tmp_path / "trend.png", gated=False)
    speed, latency, mae = legends
    assert any("timings not gated" in text for text in speed) and any("timings not gated" in text for text in latency)
    assert "baseline ± tolerance (gated)" in mae and not any("not gated" in text for text in mae)


def test_the_job_summary_names_the_charts_instead_of_linking_them(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    write_report(three_nights(), None, tmp_path / "report", source="test")
    summary = (tmp_path / "report" / "summary.md").read_text()
    index = (tmp_path / "report" / "index.md").read_text()
    assert "![" in index and "![" not in summary  # a job summary shows no relative image: none is linked
    assert "*Chart `latency.png`" in summary and "in the report artifact" in summary
    assert summary.split("\n", 3)[:3] == index.split("\n", 3)[:3]  # the same page, headline first
