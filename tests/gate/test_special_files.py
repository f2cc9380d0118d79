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


def test_an_unwritable_inductor_cache_is_the_users_setup_exit_2_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was: `fail_exception` rows and "REJECT COMPILED: IT FAILS", exit 1 against a baseline."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    argv = ["bench", "--mode", "compiled", "--model", "tiny", "--runs", "2", "--results-dir", str(tmp_path / "results")]
    assert main([*argv, "--inductor-cache", str(blocker / "cache")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: --inductor-cache {blocker / 'cache'}: cannot write there") and "; fix: " in err
    assert not list((tmp_path / "results").glob("*.parquet"))


def test_a_full_disk_in_update_baselines_is_one_line_and_leaves_nothing(
    recorded: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """ENOSPC injected at the write call. Was: exit 3 "please report it", and a 0-byte .baseline.*.tmp left behind."""
    import errno

    from harness.gate import baseline_files

    results, _ = recorded
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, handle: int, *args: object, **kwargs: object) -> None:
            self.file = real_fdopen(handle, "w")

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            self.file.close()

        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(baseline_files.os, "fdopen", Full)  # type: ignore[attr-defined]
    fresh = tmp_path / "fresh-baselines"
    assert main(["update-baselines", "--reason", "t", "--results-dir", str(results), "--baselines-dir", str(fresh)]) == 2
    err = capsys.readouterr().err.strip()
    assert "not written (No space left on device); fix: free space" in err and "\n" not in err
    assert list(fresh.iterdir()) == []  # no .baseline.*.tmp for `git add baselines/` to take


@pytest.mark.parametrize("blocker", ["file", "read-only"])
def test_update_baselines_checks_its_folder_before_any_work(
    blocker: str, recorded: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results, _ = recorded
    target = tmp_path / "target"
    if blocker == "file":
        target.write_text("in the way")
    else:
        target = Path("/proc/harness-baselines")  # a read-only filesystem, even for root
    capsys.readouterr()
    argv = ["update-baselines", "--reason", "t", "--results-dir", str(results), "--baselines-dir", str(target)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: --baselines-dir {target}: ") and "\n" not in err and "Traceback" not in err


def test_counts_have_an_upper_bound_at_the_boundary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Was: --runs 1e20 accepted; batch_size 2**63 in hyperparams ran the whole bench, then exit 3."""
    with pytest.raises(SystemExit) as stopped:
        main(["bench", "--mode", "eager", "--runs", "100000000000000000000"])
    assert stopped.value.code == 2
    assert "argument --runs: '100000000000000000000' must be at most 1000000" in capsys.readouterr().err
    (tmp_path / "hp" / "chronos2").mkdir(parents=True)
    (tmp_path / "hp" / "chronos2" / "BTCUSD.json").write_text(f'{{"batch_size": {2**63}}}')
    argv = ["bench", "--mode", "eager", "--model", "tiny", "--hyperparams-dir", str(tmp_path / "hp")]
    assert main([*argv, "--results-dir", str(tmp_path / "results")]) == 2
    assert f"field 'batch_size': {2**63} is above 65536; fix: e.g. 256" in capsys.readouterr().err


def test_a_second_update_baselines_at_once_is_refused_not_interleaved(
    recorded: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import fcntl

    results, baselines = recorded
    before = {p.name: p.read_text() for p in baselines.glob("*.json")}
    holder = os.open(baselines, os.O_RDONLY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)  # as the first update-baselines holds it while it writes
        argv = ["update-baselines", "--reason", "second", "--results-dir", str(results), "--baselines-dir", str(baselines)]
        code = main(argv)  # flock conflicts between two opens of the folder, in one process too
    finally:
        os.close(holder)
    assert code == 2 and "another update-baselines is writing here; fix: wait" in capsys.readouterr().err
    assert {p.name: p.read_text() for p in baselines.glob("*.json")} == before
