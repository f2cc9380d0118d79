"""publish, and --history-branch for compare and report, end to end with real git: two nightly runs at two commits
published to a bare remote, read back by the report (its trend labelled by both commits) and by compare (a planted
regression named by its first bad and last good commit); bad input is one line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli.main import main
from tests.factories import record_baselines
from tests.gitrepo import Repos, clean_git, commit, git, night, repos

BRANCH = "bench-history"
LINKS = "https://github.com/owner/repo/commit/{commit}"


@pytest.fixture(autouse=True)
def _clean_git(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_git(monkeypatch)
    monkeypatch.delenv("GITHUB_SERVER_URL", raising=False)
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repos:
    made = repos(tmp_path)
    monkeypatch.chdir(made.work)  # publish and --history-branch use the repository they are run in
    return made


def _two_nights(setup: Repos, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str, Path]:
    """Night 1 at commit A (compiled 50 ms, its baseline recorded), night 2 at commit B (compiled 80 ms), both published."""
    good = git(setup.work, "rev-parse", "HEAD")
    first = night(tmp_path / "night1", commit_hash=good, index=1)
    record_baselines(first, tmp_path / "baselines")
    assert main(["publish", "--to", BRANCH, "--results-dir", str(first)]) == 0
    bad = commit(setup.work, "slower")
    second = night(tmp_path / "night2", commit_hash=bad, index=2, compiled_s=0.080)
    assert main(["publish", "--to", BRANCH, "--results-dir", str(second)]) == 0
    out = capsys.readouterr().out
    assert f"origin/{BRANCH}: added 2 file(s)" in out and f"{bad}/20261103T031730Z-c02/c02-BTCUSD-compiled.parquet" in out
    return good, bad, second


def test_compare_reads_the_branch_and_names_the_first_bad_and_last_good_commit(
    setup: Repos, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad, second = _two_nights(setup, tmp_path, capsys)
    flags = ["--results-dir", str(second), "--baselines-dir", str(tmp_path / "baselines")]
    assert main(["compare", *flags, "--history-branch", BRANCH]) == 1
    out = capsys.readouterr().out
    named = f"first bad commit {bad[:10]}, last good commit {good[:10]}"
    assert (
        f"history: speedup fails the gate in the last 1 run(s), since run c02 (2026-11-03T03:17:30) (good in run c01): {named}"
        in out
    )
    assert "no change point in" in out  # two runs: too few for a level to hold, so the gate's verdict names them
    assert main(["compare", *flags]) == 1 and "history:" not in capsys.readouterr().out  # no history, nothing claimed


def test_the_report_from_the_branch_shows_both_commits_on_the_trend_and_where_the_regression_began(
    setup: Repos, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    good, bad, second = _two_nights(setup, tmp_path, capsys)
    out = tmp_path / "report"
    flags = ["--results-dir", str(second), "--baselines-dir", str(tmp_path / "baselines"), "--output", str(out)]
    assert main(["-q", "report", *flags, "--history-branch", BRANCH, "--commit-url", LINKS]) == 0
    markdown, page = (out / "index.md").read_text(), (out / "index.html").read_text()
    for text in (markdown, page):
        assert good[:10] in text and bad[:10] in text
        assert f"first bad commit {bad[:10]}, last good commit {good[:10]}" in text  # the headline's regression line
        assert f"in {second} and branch {BRANCH} of origin (at " in text
    assert f"| 1 | [{good[:10]}]({LINKS.format(commit=good)}) | 2026-11-02 03:17 |" in markdown
    assert f'<a href="{LINKS.format(commit=bad)}">{bad[:10]}</a>' in page
    assert len(list(out.glob("trend-*.png"))) == 1


def test_commit_links_come_from_github_actions_variables_when_no_template_is_given(
    setup: Repos, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    good, _, second = _two_nights(setup, tmp_path, capsys)
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "team/bench")
    out = tmp_path / "report"
    assert main(["-q", "report", "--results-dir", str(second), "--history-branch", BRANCH, "--output", str(out)]) == 0
    assert f"https://github.example.com/team/bench/commit/{good}" in (out / "index.html").read_text()


def test_history_dir_still_works_for_the_report(setup: Repos, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    good, bad, second = _two_nights(setup, tmp_path, capsys)
    out = tmp_path / "report"
    flags = ["--results-dir", str(second), "--history-dir", str(tmp_path / "night1"), "--output", str(out)]
    assert main(["-q", "report", *flags]) == 0
    assert good[:10] in (out / "index.md").read_text() and bad[:10] in (out / "index.md").read_text()


def test_a_night_without_results_still_reports_the_history(
    setup: Repos, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    _, bad, _ = _two_nights(setup, tmp_path, capsys)
    out = tmp_path / "report"
    flags = ["--results-dir", str(tmp_path / "merged"), "--history-branch", BRANCH, "--output", str(out)]
    assert main(["-q", "report", *flags]) == 0
    assert "the report shows the history only" in capsys.readouterr().err
    assert bad[:10] in (out / "index.md").read_text()


def _one_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in err, err
    return err


def test_bad_input_is_one_line_and_exit_2(
    setup: Repos, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = night(tmp_path / "run", commit_hash=git(setup.work, "rev-parse", "HEAD"), index=1)
    results = ["--results-dir", str(run)]
    cases = {
        "not inside a git repository": (tmp_path, ["publish", "--to", BRANCH, *results]),
        "none: no such directory": (setup.work, ["publish", "--to", BRANCH, "--results-dir", str(tmp_path / "none")]),
        "no such remote": (setup.work, ["publish", "--to", BRANCH, "--remote", "upstream", *results]),
        "git refuses it as a branch name": (setup.work, ["publish", "--to", "bad..name", *results]),
        "the branch checked out": (setup.work, ["publish", "--to", "main", *results]),
        "origin has no branch nope": (setup.work, ["compare", *results, "--history-branch", "nope"]),
        "origin/main: not a results history": (setup.work, ["-q", "report", *results, "--history-branch", "main"]),
    }
    empty = tmp_path / "empty"
    empty.mkdir()
    cases["no results to publish (no Parquet file"] = (setup.work, ["publish", "--to", BRANCH, "--results-dir", str(empty)])
    for expected, (where, argv) in cases.items():
        monkeypatch.chdir(where)
        assert main(argv) == 2, expected
        assert expected in _one_error(capsys)
    assert git(setup.remote, "for-each-ref", "--format=%(refname)") == "refs/heads/main"  # nothing was pushed


def test_the_remote_flag_and_a_bad_link_template(setup: Repos, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(setup.work, "remote", "add", "mirror", str(setup.remote))
    run = night(tmp_path / "run", commit_hash=git(setup.work, "rev-parse", "HEAD"), index=1)
    assert main(["publish", "--to", BRANCH, "--remote", "mirror", "--results-dir", str(run)]) == 0
    assert f"mirror/{BRANCH}: added 2 file(s)" in capsys.readouterr().out
    assert git(setup.work, "rev-parse", f"refs/remotes/mirror/{BRANCH}") == git(setup.remote, "rev-parse", BRANCH)
    with pytest.raises(SystemExit) as raised:
        main(["report", "--results-dir", str(run), "--commit-url", "https://example.com/commit/"])
    assert raised.value.code == 2 and "{commit}" in capsys.readouterr().err
