"""harness.report.history_section and the report's link cells: each trend's runs listed by commit (linked where the
repository is known), the run axis labelled by commit and date, and a link that cannot be followed shown as text."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.gate.changepoints import changes
from harness.gate.history import series
from harness.report.blocks import Link, Table, to_html, to_markdown
from harness.report.history_section import runs_table
from harness.results.store import read_records
from tests.gitrepo import night

A, B = "a" * 40, "b" * 40
TEMPLATE = "https://github.com/owner/repo/commit/{commit}"


def _runs(tmp_path: Path, count: int) -> Path:
    for index in range(count):
        night(tmp_path / f"n{index:02d}", commit_hash=A if index < 4 else B, index=index, compiled_s=0.05 if index < 4 else 0.065)
    return tmp_path


def test_the_table_lists_the_latest_runs_by_commit_with_links_and_marks_where_a_level_moved(tmp_path: Path) -> None:
    (history,) = series(read_records(_runs(tmp_path, 8)))
    table = runs_table(history, changes(history), TEMPLATE, limit=6)
    assert [row[0] for row in table.rows] == ["3", "4", "5", "6", "7", "8"]  # the latest six, oldest first
    assert table.rows[2][1] == Link("bbbbbbbbbb", f"https://github.com/owner/repo/commit/{B}")
    assert table.rows[2][2] == "2026-11-05 03:17" and str(table.rows[2][5]).endswith(" ms")
    assert str(table.rows[2][6]).startswith("compiled latency +29.8%: first bad; speedup") and table.rows[1][6] == ""
    assert runs_table(history, [], None).rows[0][1] == "aaaaaaaaaa"  # no repository known: plain text


def test_a_link_renders_as_a_link_in_both_pages_and_as_text_when_it_is_no_web_address() -> None:
    table = Table(("Commit",), ((Link("abc", "https://example.com/c/abc"),), (Link("evil", "javascript:alert(1)"),)))
    markdown, page = to_markdown([table]), to_html([table], title="t")
    assert "| [abc](https://example.com/c/abc) |" in markdown and "| evil |" in markdown
    assert '<a href="https://example.com/c/abc">abc</a>' in page and "javascript" not in page


def test_the_run_axis_labels_at_most_a_dozen_runs_the_newest_always(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from harness.report.plots import run_labels

    (history,) = series(read_records(_runs(tmp_path, 30)))
    where, labels = run_labels(history.points)
    assert len(where) <= 12 and where[-1] == 29 and where == sorted(where)
    assert labels[-1] == "bbbbbbbbbb\n2026-11-30"
    assert run_labels(history.points[:3]) == ([0, 1, 2], [f"aaaaaaaaaa\n2026-11-0{i}" for i in (1, 2, 3)])
