"""harness.results.history_branch with real git: a bare remote in a temporary folder, clones of it, no global git
configuration. Publishing appends (never rewrites, never forces), retries a lost race, leaves the user's HEAD, index
and files alone; the layout and the fallback identity are pure functions."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from harness.base.errors import InputError
from harness.results.history_branch import FALLBACK_IDENTITY, MARKER, branch_path, export, identity_env, publish
from tests.conftest import ROOT
from tests.factories import make_record
from tests.gitrepo import Repos, clean_git, commit, git, night, repos

BRANCH = "bench-history"


@pytest.fixture(autouse=True)
def _clean_git(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_git(monkeypatch)


@pytest.fixture
def setup(tmp_path: Path) -> Repos:
    return repos(tmp_path)


def _files(remote: Path, ref: str = BRANCH) -> list[str]:
    return git(remote, "ls-tree", "-r", "--name-only", ref).splitlines()


# --- where files go, who commits (pure) --------------------------------------------------------------------------------


def test_a_run_goes_under_its_commit_and_run_id_and_a_run_id_without_a_time_gets_one() -> None:
    timed = make_record("compiled", run_id="20261126T031700123Z-6cc83fac", git_commit="a" * 40)
    assert branch_path([timed], Path("x.parquet")) == f"{'a' * 40}/20261126T031700123Z-6cc83fac/x.parquet"
    named = make_record("eager", run_id="nightly", timestamp_utc="2026-11-26T03:17:00.5+00:00", git_commit="b" * 40 + "-dirty")
    assert branch_path([named], Path("sub/y.parquet")) == f"{'b' * 40}-dirty/20261126T031700Z-nightly/y.parquet"


def test_hive_folders_are_kept_and_odd_text_cannot_escape_its_folder() -> None:
    record = make_record("eager", run_id="../../etc passwd", git_commit="", timestamp_utc="2026-11-26T03:17:00+00:00")
    path = branch_path([record], Path("torch_version=2.13.0/part 0.parquet"))
    assert path == "unknown/20261126T031700Z-.._.._etc_passwd/torch_version=2.13.0/part_0.parquet"
    assert ".." not in path.split("/")


def test_the_fallback_identity_fills_only_what_neither_the_environment_nor_git_gives() -> None:
    name, email = FALLBACK_IDENTITY
    assert identity_env({}, set()) == {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
    assert identity_env({}, {"user.name", "user.email"}) == {}
    assert identity_env({"GIT_AUTHOR_NAME": "CI", "EMAIL": "ci@example.com"}, {"committer.name"}) == {}
    assert identity_env({}, {"user.name"}) == {"GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_EMAIL": email}


# --- publishing, with real git -------------------------------------------------------------------------------------


def test_publish_creates_an_orphan_branch_then_appends_and_a_second_publish_adds_nothing(setup: Repos, tmp_path: Path) -> None:
    first = night(tmp_path / "run1", commit_hash=git(setup.work, "rev-parse", "HEAD"), index=1)
    done = publish(setup.work, first, remote="origin", branch=BRANCH)
    assert done.commit is not None and done.attempts == 1 and len(done.added) == 2
    assert git(setup.remote, "rev-list", "--count", BRANCH) == "1"  # an orphan: no parent, not main's history
    assert git(setup.remote, "log", "-1", "--format=%an <%ae>", BRANCH) == "chronos-compile-bench <bench@localhost>"
    assert sorted(_files(setup.remote)) == sorted([MARKER, *done.added])
    again = publish(setup.work, first, remote="origin", branch=BRANCH)
    assert again.commit is None and again.added == () and len(again.present) == 2
    assert git(setup.remote, "rev-list", "--count", BRANCH) == "1"  # nothing new, no commit
    second = night(tmp_path / "run2", commit_hash=commit(setup.work, "change"), index=2)
    grown = publish(setup.work, second, remote="origin", branch=BRANCH)
    assert grown.commit is not None and git(setup.remote, "rev-parse", f"{BRANCH}^") == done.commit
    assert set(done.added) < set(_files(setup.remote))  # the first run's files are still there, untouched


def test_the_users_head_index_and_files_are_untouched(setup: Repos, tmp_path: Path) -> None:
    work = setup.work
    (work / "README").write_text("edited, not staged\n")
    (work / "staged.txt").write_text("staged\n")
    git(work, "add", "staged.txt")
    (work / "untracked.txt").write_text("untracked\n")
    before = (
        git(work, "rev-parse", "HEAD"),
        git(work, "symbolic-ref", "HEAD"),
        git(work, "status", "--porcelain", "--untracked-files=all"),
        hashlib.sha256((work / ".git" / "index").read_bytes()).hexdigest(),
        git(work, "for-each-ref", "refs/heads"),
    )
    publish(work, night(tmp_path / "run", commit_hash=before[0], index=1), remote="origin", branch=BRANCH)
    after = (
        git(work, "rev-parse", "HEAD"),
        git(work, "symbolic-ref", "HEAD"),
        git(work, "status", "--porcelain", "--untracked-files=all"),
        hashlib.sha256((work / ".git" / "index").read_bytes()).hexdigest(),
        git(work, "for-each-ref", "refs/heads"),
    )
    assert after == before  # no local branch made either: the branch lives on the remote (and origin/bench-history)
    assert (work / "README").read_text() == "edited, not staged\n"


def _hook(clone: Path, script: str) -> None:
    """A reference-transaction hook: it runs inside ``git fetch`` as the fetched tip lands, i.e. between publish's fetch
    and its push; ``script`` runs once the update is committed."""
    hook = clone / ".git" / "hooks" / "reference-transaction"
    hook.write_text(f'#!/bin/sh\n[ "$1" = committed ] || exit 0\ncat >/dev/null\n{script}\n')
    hook.chmod(0o755)


def test_a_publisher_whose_view_went_stale_retries_on_the_new_tip_without_forcing(setup: Repos, tmp_path: Path) -> None:
    head = git(setup.work, "rev-parse", "HEAD")
    other = setup.clone("other")  # cloned before the branch existed: its first fetch of it updates a ref (the hook runs)
    start = publish(setup.work, night(tmp_path / "run0", commit_hash=head, index=0), remote="origin", branch=BRANCH).commit
    night(tmp_path / "run1", commit_hash=head, index=1)
    guard = tmp_path / "raced"
    python = f"PYTHONPATH={ROOT} {sys.executable} -m harness -q publish --to {BRANCH} --results-dir {tmp_path / 'run1'}"
    # while `other` fetches, the user's clone publishes run1: other's fetched tip is stale before it pushes
    _hook(other, f"[ -e {guard} ] && exit 0\ntouch {guard}\ncd {setup.work} && env -u GIT_DIR {python} >/dev/null 2>&1")
    done = publish(other, night(tmp_path / "run2", commit_hash=head, index=2), remote="origin", branch=BRANCH, pause_s=0)
    assert guard.exists() and done.attempts == 2  # the first push was rejected: someone pushed meanwhile
    files = "\n".join(_files(setup.remote))
    assert all(f"/c{index:02d}-BTCUSD-compiled.parquet" in files for index in range(3))  # every run is there
    tip = git(setup.remote, "rev-parse", BRANCH)
    assert git(setup.remote, "rev-list", "--count", BRANCH) == "3" and git(setup.remote, "rev-parse", f"{tip}^") != start
    git(setup.remote, "merge-base", "--is-ancestor", str(start), tip)  # never forced: the first commit is still below


def test_a_publisher_that_keeps_losing_gives_up_in_one_line_and_leaves_the_branch_as_others_pushed_it(
    setup: Repos, tmp_path: Path
) -> None:
    head = git(setup.work, "rev-parse", "HEAD")
    other = setup.clone("other")
    publish(setup.work, night(tmp_path / "run0", commit_hash=head, index=0), remote="origin", branch=BRANCH)
    racer = setup.remote.parent / "racer"
    git(tmp_path, "clone", "-q", "--branch", BRANCH, str(setup.remote), str(racer))
    author = "-c user.name=racer -c user.email=racer@example.com"
    _hook(other, f"git -C {racer} {author} commit -q --allow-empty -m race && git -C {racer} push -q origin HEAD:{BRANCH}")
    with pytest.raises(InputError, match="rejected 3 times, someone else kept pushing first; fix: run publish again") as raised:
        publish(other, night(tmp_path / "run1", commit_hash=head, index=1), remote="origin", branch=BRANCH, attempts=3, pause_s=0)
    assert "\n" not in str(raised.value)
    assert git(setup.remote, "rev-parse", BRANCH) == git(racer, "rev-parse", "HEAD")  # the racer's pushes all stand
    assert not any("c01" in name for name in _files(setup.remote))


def test_a_file_already_there_with_other_content_is_never_rewritten(setup: Repos, tmp_path: Path) -> None:
    head = git(setup.work, "rev-parse", "HEAD")
    run = night(tmp_path / "run", commit_hash=head, index=1)
    publish(setup.work, run, remote="origin", branch=BRANCH)
    tip = git(setup.remote, "rev-parse", BRANCH)
    changed = night(tmp_path / "changed", commit_hash=head, index=1, compiled_s=0.09)  # the same run ids, other numbers
    with pytest.raises(InputError, match="already on origin/bench-history with other content"):
        publish(setup.work, changed, remote="origin", branch=BRANCH)
    assert git(setup.remote, "rev-parse", BRANCH) == tip


def test_a_branch_publish_did_not_make_is_refused(setup: Repos, tmp_path: Path) -> None:
    git(setup.work, "push", "-q", "origin", "HEAD:refs/heads/feature")  # code, not results
    run = night(tmp_path / "run", commit_hash=git(setup.work, "rev-parse", "HEAD"), index=1)
    with pytest.raises(InputError, match=r"origin/feature: not a results history \(no README.md"):
        publish(setup.work, run, remote="origin", branch="feature")
    assert git(setup.remote, "rev-parse", "feature") == git(setup.work, "rev-parse", "HEAD")


def test_export_writes_the_branch_files_without_a_checkout(setup: Repos, tmp_path: Path) -> None:
    run = night(tmp_path / "run", commit_hash=git(setup.work, "rev-parse", "HEAD"), index=1)
    done = publish(setup.work, run, remote="origin", branch=BRANCH)
    into = tmp_path / "exported"
    into.mkdir()
    assert export(setup.work, remote="origin", branch=BRANCH, into=into) == done.commit
    written = sorted(str(p.relative_to(into)) for p in into.rglob("*") if p.is_file())
    assert written == sorted([MARKER, *done.added])
    assert all(os.access(into / name, os.R_OK) for name in written)
