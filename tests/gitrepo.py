"""Real git repositories for the history-branch tests: a bare remote in a temporary folder and clones of it, with no
global or system git configuration (as on a clean CI machine); the tests' own commits name their author with ``-c``."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from harness.results.schema import RunRecord
from harness.results.store import write_records
from tests.factories import make_record

AUTHOR = ("-c", "user.name=Test Author", "-c", "user.email=author@example.com")


def clean_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ~/.gitconfig, no /etc/gitconfig, no identity in the environment: git knows no one, as on a fresh runner."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def commit(clone: Path, name: str) -> str:
    """A new commit in ``clone`` (a file ``name`` added), pushed to its main branch; returns its hash."""
    (clone / name).write_text(f"{name}\n")
    git(clone, "add", name)
    git(clone, *AUTHOR, "commit", "-q", "-m", name)
    git(clone, "push", "-q", "origin", "HEAD:refs/heads/main")
    return git(clone, "rev-parse", "HEAD")


@dataclass(frozen=True)
class Repos:
    remote: Path  # bare, the "GitHub" of the test
    work: Path  # the user's clone

    def clone(self, name: str) -> Path:
        target = self.remote.parent / name
        git(self.remote.parent, "clone", "-q", str(self.remote), str(target))
        return target


def repos(tmp_path: Path) -> Repos:
    """A bare remote holding one commit on main, and a clone of it with main checked out."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "--initial-branch=main", str(remote))
    work = tmp_path / "work"
    git(tmp_path, "init", "-q", "--initial-branch=main", str(work))
    git(work, "remote", "add", "origin", str(remote))
    commit(work, "README")
    git(work, "branch", "-q", "--set-upstream-to=origin/main")
    return Repos(remote=remote, work=work)


def night(
    directory: Path, *, commit_hash: str, index: int, compiled_s: float = 0.050, seed: int = 0, run_id: str | None = None
) -> Path:
    """One nightly run's results (eager, then compiled with its interleaved eager) benched at ``commit_hash``."""
    rng = np.random.default_rng(seed + index)
    stamp = f"2026-11-{index + 1:02d}T03:17"

    def noisy(level: float) -> list[float]:
        return list(level * (1 + rng.uniform(-0.01, 0.01, 20)))

    rows: list[RunRecord] = [
        make_record(
            "eager", latencies=noisy(0.1), run_id=f"e{index:02d}", timestamp_utc=f"{stamp}:00+00:00", git_commit=commit_hash
        ),
        make_record(
            "compiled",
            latencies=noisy(compiled_s),
            paired_eager_latencies_s=noisy(0.1),
            run_id=run_id or f"c{index:02d}",
            timestamp_utc=f"{stamp}:30+00:00",
            git_commit=commit_hash,
        ),
    ]
    for row in rows:
        write_records([row], directory, name=f"{row.run_id}-{row.symbol}-{row.mode}")
    return directory
