"""harness.base.project: the folders' defaults, so that an installed harness runs outside its checkout -- the working
directory's own folders first, then a project directory, then the data and settings shipped in the package."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.base import project
from harness.base.project import PROJECT_ENV, default_dir, project_dir


def test_the_working_directorys_folders_come_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "trainingdata").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(PROJECT_ENV, raising=False)
    assert default_dir("trainingdata") == Path("trainingdata")  # as before: relative, in a checkout


def test_a_project_above_the_working_directory_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("trainingdata", "hyperparams", "baselines"):
        (tmp_path / name).mkdir()
    (tmp_path / "reports" / "nightly").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "reports" / "nightly")
    monkeypatch.delenv(PROJECT_ENV, raising=False)
    assert project_dir() == tmp_path
    assert default_dir("baselines") == tmp_path / "baselines" and default_dir("hyperparams") == tmp_path / "hyperparams"
    assert default_dir("results") == Path("results")  # not in the project: written where the user is


def test_the_project_dir_variable_wins_over_the_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mine" / "results").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(PROJECT_ENV, str(tmp_path / "mine"))
    assert default_dir("results") == tmp_path / "mine" / "results"
    assert default_dir("baselines") == tmp_path / "mine" / "baselines"  # named there, to be created there


def test_without_any_project_the_shipped_data_and_settings_are_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = tmp_path / "_shipped"
    (shipped / "trainingdata").mkdir(parents=True)
    (shipped / "hyperparams").mkdir()
    monkeypatch.setattr(project, "SHIPPED", shipped)
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")
    monkeypatch.delenv(PROJECT_ENV, raising=False)
    assert default_dir("trainingdata") == shipped / "trainingdata"
    assert default_dir("hyperparams") == shipped / "hyperparams"
    assert default_dir("baselines") == Path("baselines")


def test_a_project_dir_flag_that_is_no_directory_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.cli.main import main

    monkeypatch.delenv(PROJECT_ENV, raising=False)
    assert main(["--project-dir", str(tmp_path / "nowhere"), "compare"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--project-dir" in err and "no such directory" in err


def test_the_program_name_is_how_it_was_called(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.cli.parser import program

    monkeypatch.setattr("sys.argv", ["/usr/local/bin/chronos-compile-bench", "compare"])
    assert program() == "chronos-compile-bench"
    monkeypatch.setattr("sys.argv", ["/work/harness/__main__.py", "compare"])
    assert program() == "python -m harness"
