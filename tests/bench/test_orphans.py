"""No process outlives a SIGKILLed parent: the isolated child (and what it started) ends itself within seconds, leaves
no result and no spec folder (issue: `kill -9` of the bench parent left the child computing under PID 1, writing a
result 45 s later; a child hung with `--fault hang` never ended)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _children(pid: int, *, running: str = "") -> list[int]:
    """The children of ``pid``; with ``running``, only those whose command line holds it (the parent may have reaped
    or not yet reaped a short-lived helper, whose command line is empty)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes().decode(errors="replace") if running else ""
            except OSError:
                continue
            if int(fields[1]) == pid and running in command:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.heavy(seconds=10)
def test_a_hung_child_ends_within_seconds_of_its_parents_sigkill(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    argv = [sys.executable, "-m", "harness", "-q", "bench", "--mode", "eager", "--model", "tiny", "--runs", "2"]
    argv += ["--fault", "hang", "--results-dir", str(tmp_path / "results")]
    parent = subprocess.Popen(argv, cwd=ROOT, env=env, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (children := _children(parent.pid, running="run-spec")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert children, "the isolated child never started"
        child = children[0]
        assert list(tmp_path.glob("harness-spec-*")), "the parent's spec folder"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        gone_by = time.monotonic() + 5
        while _alive(child) and time.monotonic() < gone_by:
            time.sleep(0.1)
        assert not _alive(child), "the child outlived its SIGKILLed parent by more than 5 s"
        assert not list(tmp_path.glob("harness-spec-*")) and not list((tmp_path / "results").glob("*.parquet"))
    finally:
        if parent.poll() is None:
            parent.kill()
        for pid in _children(parent.pid):
            os.kill(pid, signal.SIGKILL)
