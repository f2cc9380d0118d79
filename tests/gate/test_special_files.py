"""Special files where baselines or results live: a FIFO, a link to /dev/zero, a symlinked results folder (issue:
compare hung on a FIFO, grew memory without end on /dev/zero, and dropped a symlinked folder silently)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.results.store import read_records, write_records
from tests.conftest import ROOT
from tests.factories import real_session, record_baselines


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Path, Path]:
    write_records(list(real_session()), tmp_path / "results", name="rows")
    record_baselines(tmp_path / "results", tmp_path / "baselines")
    return tmp_path / "results", tmp_path / "baselines"


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory"])
def test_a_special_file_named_json_is_refused_in_one_line_not_read(kind: str, recorded: tuple[Path, Path]) -> None:
    results, baselines = recorded
    odd = baselines / "x.json"
    if kind == "fifo":
        os.mkfifo(odd)
    elif kind == "dev-zero":
        odd.symlink_to("/dev/zero")
    else:
        odd.mkdir()
    argv = [sys.executable, "-m", "harness", "compare", "--results-dir", str(results), "--baselines-dir", str(baselines)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)  # a hang fails here
    assert done.returncode == 2, done.stderr
    err = done.stderr.strip().splitlines()[-1]
    assert err.startswith(f"error: {odd}: ") and "not a baseline" in err and "; fix: " in err


def test_a_symlinked_results_folder_is_read_once_and_a_loop_is_not_followed(tmp_path: Path) -> None:
    eager, compiled = real_session()
    write_records([eager, compiled], tmp_path / "artifacts" / "torch-2.13.0", name="rows")
    merged = tmp_path / "merged"
    (merged / "local").mkdir(parents=True)
    write_records([eager, compiled], merged / "local", name="same")  # the same runs, read once
    (merged / "linked").symlink_to(tmp_path / "artifacts" / "torch-2.13.0", target_is_directory=True)
    (merged / "loop").symlink_to(merged, target_is_directory=True)
    other = [r.__class__(**{**r.__dict__, "run_id": r.run_id + "-other"}) for r in (eager, compiled)]
    write_records(other, tmp_path / "artifacts" / "torch-2.13.0", name="other")
    assert sorted(r.run_id for r in read_records(merged)) == sorted(r.run_id for r in [eager, compiled, *other])
    (tmp_path / "none").mkdir()
    assert main(["compare", "--results-dir", str(merged), "--baselines-dir", str(tmp_path / "none")]) == 0
