"""The results history kept on a branch of the repository itself: appended to with git plumbing, read back as a folder.

Layout (:func:`branch_path`): ``<git_commit>/<run_id>/<file>.parquet``, one directory per commit and run. The harness's
run ids start with their UTC time (``20261126T064858123Z-6cc83fac``), so the runs of a commit sort by time; a run id that
does not (``--run-id nightly``) gets that time as a prefix (``20261126T064858Z-nightly``). A file holding several runs
goes under its earliest. Hive folders (``torch_version=2.13.0/``) are kept below the run's directory, so the columns
they carry read back. ``README.md`` at the root says what the branch is; :func:`publish` refuses a branch without it.

Appending (:func:`publish`) never touches the working tree, the index or HEAD: blobs are written with ``hash-object``,
the tree is built in a temporary ``GIT_INDEX_FILE``, the commit made with ``commit-tree`` on the fetched tip (an orphan
when the branch is new) and pushed to ``refs/heads/<branch>`` without force. A push rejected because someone pushed
meanwhile is rebuilt on the new tip and pushed again, a bounded number of times. Files already on the branch are never
rewritten or removed; publishing a run twice adds nothing.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from harness.base.errors import InputError, one_line, show
from harness.results.commits import short_commit
from harness.results.schema import RunRecord
from harness.results.store import hive_partitions, parquet_files, read_file

log = logging.getLogger(__name__)

ATTEMPTS = 5  # pushes tried before giving up: someone else pushing five times within seconds is not a race any more
PAUSE_S = 0.5  # between attempts, times the attempt's number
FALLBACK_IDENTITY = ("chronos-compile-bench", "bench@localhost")  # for the commit when git knows no one (a bare CI box)
MARKER = "README.md"
TITLE = "# chronos-compile-bench results history"
README = f"""{TITLE}

Written by `python -m harness publish` (chronos-compile-bench): the Parquet result files of every published bench run,
one directory per commit and run, `<git commit>/<run id>/<file>.parquet` (a run id that does not start with its UTC
time gets it as a prefix, so the runs of a commit sort by time). Files are only ever added: never edited, moved or
deleted, and the branch is never force-pushed. Read it with `--history-branch <this branch>` (compare, report), or
`git archive <this branch> | tar -x -C history/` and `--history-dir history/`.
"""
# a push rejected for one of these lost a race (someone pushed first): rebuilt on the new tip and pushed again.
# "already exists": someone created the branch after we found none
_RACES = (
    "fetch first",
    "non-fast-forward",
    "stale info",
    "failed to update ref",
    "cannot lock ref",
    "incorrect old value",
    "already exists",
)
_TIMED_RUN_ID = re.compile(r"\d{8}T\d{6}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._=+%-]+")


# --- where a file goes (pure) ------------------------------------------------------------------------------------


def _part(text: str, limit: int = 100) -> str:
    """One path component from recorded text: only letters, digits and ``._=+%-``, never empty, ``.`` or ``..``."""
    cleaned = _UNSAFE.sub("_", text).strip(".")[:limit]
    return cleaned or "unknown"


def branch_path(records: Sequence[RunRecord], relative: Path) -> str:
    """Where the results file at ``relative`` (inside the results folder) goes on the branch, from its rows (oldest first)."""
    first = min(records, key=lambda r: (r.timestamp_utc, r.run_id))
    run = first.run_id
    if not _TIMED_RUN_ID.match(run):
        run = datetime.fromisoformat(first.timestamp_utc).strftime("%Y%m%dT%H%M%SZ") + "-" + run
    hive = [f"{_part(name)}={_part(value)}" for name, value in hive_partitions(relative).items()]
    return "/".join([_part(first.git_commit or "unknown"), _part(run), *hive, _part(relative.name)])


@dataclass(frozen=True, kw_only=True)
class Entry:
    """A results file and its place on the branch."""

    source: Path
    path: str
    commit: str  # the commit its runs were benched at (as recorded)


def plan(results_dir: Path) -> list[Entry]:
    """Every results file under ``results_dir``, read and checked (a bad one is an :class:`InputError`), with its place."""
    if not results_dir.is_dir():
        raise InputError(f"--results-dir {results_dir}: no such directory; fix: run the bench first or name the results folder")
    entries = []
    for path in parquet_files(results_dir):
        relative = path.relative_to(results_dir)
        records = read_file(path, partitions=hive_partitions(relative))
        if records:
            entries.append(Entry(source=path, path=branch_path(records, relative), commit=records[0].git_commit))
    if not entries:
        raise InputError(
            f"--results-dir {results_dir}: no results to publish (no Parquet file with a row); fix: run `nox -s bench_eager bench_compiled` first"
        )
    return entries


def identity_env(environ: Mapping[str, str], configured: set[str]) -> dict[str, str]:
    """``GIT_AUTHOR_*``/``GIT_COMMITTER_*`` to add for ``commit-tree``: the fallback identity for each name or email that
    neither the environment nor git's configuration (``configured``: keys such as ``user.email``) gives."""
    added = {}
    for role in ("AUTHOR", "COMMITTER"):
        for part, fallback in zip(("NAME", "EMAIL"), FALLBACK_IDENTITY, strict=True):
            given = environ.get(f"GIT_{role}_{part}") or (part == "EMAIL" and environ.get("EMAIL"))
            if not given and not {f"user.{part.lower()}", f"{role.lower()}.{part.lower()}"} & configured:
                added[f"GIT_{role}_{part}"] = fallback
    return added


def message(entries: Sequence[Entry], branch: str) -> str:
    """The commit message: which commits' runs, then every file added."""
    commits = sorted({short_commit(e.commit) for e in entries})
    what = f"commit {commits[0]}" if len(commits) == 1 else f"{len(commits)} commits"
    return f"results of {what}: {len(entries)} file(s)\n\npython -m harness publish --to {branch}\n\n" + "\n".join(
        sorted(e.path for e in entries)
    )


# --- git ------------------------------------------------------------------------------------------------------------


def _git(repo: Path, *args: str, fix: str, env: Mapping[str, str] | None = None, stdin: str = "") -> str:
    """``git -C repo args``: its stdout, or an :class:`InputError` naming the command, git's first line and ``fix``."""
    done = _run(repo, *args, env=env, stdin=stdin)
    if done.returncode != 0:
        said = next((line for line in done.stderr.splitlines() if line.strip()), f"exit {done.returncode}")
        raise InputError(f"git {args[0]} in {repo}: {one_line(said)}; fix: {fix}")
    return done.stdout


def _run(repo: Path, *args: str, env: Mapping[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**os.environ, **env} if env else None,
            timeout=600,
            check=False,
        )
    except FileNotFoundError as exc:
        raise InputError("git: not found on PATH; fix: install git (the history branch is read and written with it)") from exc
    except subprocess.TimeoutExpired as exc:
        raise InputError(f"git {args[0]} in {repo}: no answer in 10 minutes; fix: check the network and the remote") from exc


def check_setup(repo: Path, remote: str, branch: str, *, writing: bool = False) -> None:
    """A repository here, a branch name git accepts (and, ``writing``, not the one checked out), a remote it knows: each
    wrong one named, with its fix."""
    if _run(repo, "rev-parse", "--git-dir").returncode != 0:
        raise InputError(
            f"{repo}: not inside a git repository; fix: run this in a clone of the repository that keeps the history"
        )
    bad = not branch or branch == "HEAD" or branch.startswith("-") or "@{" in branch
    if bad or _run(repo, "check-ref-format", f"refs/heads/{branch}").returncode != 0:
        raise InputError(f"branch {show(branch)}: git refuses it as a branch name; fix: name a branch such as bench-history")
    if writing and _run(repo, "symbolic-ref", "--quiet", "--short", "HEAD").stdout.strip() == branch:
        raise InputError(
            f"branch {show(branch)}: that is the branch checked out in {repo}; fix: name a branch for results only, such as bench-history"
        )
    if _run(repo, "remote", "get-url", "--", remote).returncode != 0:
        known = _run(repo, "remote").stdout.split()
        raise InputError(
            f"--remote {show(remote)}: no such remote in {repo} (remotes: {', '.join(known) or 'none'}); fix: name one of them or `git remote add`"
        )


def fetch_tip(repo: Path, remote: str, branch: str) -> str | None:
    """The branch's commit on ``remote``, fetched into ``refs/remotes/<remote>/<branch>``; None when it has no such branch."""
    fix = f"check that {remote}'s URL is right and reachable, and your credentials"
    listed = _run(repo, "ls-remote", "--exit-code", remote, f"refs/heads/{branch}")
    if listed.returncode == 2:
        return None
    if listed.returncode != 0:
        _git(repo, "ls-remote", remote, f"refs/heads/{branch}", fix=fix)  # raises with git's own words
    tracking = f"refs/remotes/{remote}/{branch}"
    _git(repo, "fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:{tracking}", fix=fix)
    tip = _git(repo, "rev-parse", "--verify", "--quiet", f"{tracking}^{{commit}}", fix=fix).strip()
    readme = _run(repo, "cat-file", "blob", f"{tip}:{MARKER}")
    if readme.returncode != 0 or not readme.stdout.startswith(TITLE + "\n"):
        raise InputError(
            f"{remote}/{branch}: not a results history (no {MARKER} starting {TITLE!r} at its root); "
            "fix: name a new branch (publish creates it) or the one publish made"
        )
    return tip


def _files(repo: Path, tip: str | None) -> dict[str, str]:
    """Path -> blob of every file on the branch at ``tip``."""
    if tip is None:
        return {}
    listing = _git(repo, "ls-tree", "-r", "-z", "--full-tree", tip, fix="fetch the branch again")
    files = {}
    for item in filter(None, listing.split("\0")):
        meta, _, path = item.partition("\t")
        files[path] = meta.split()[2]
    return files


def _commit(repo: Path, tip: str | None, blobs: Mapping[str, str], text: str) -> str:
    """A commit holding ``tip``'s tree plus ``blobs`` (path -> blob), built in a temporary index: the user's is untouched."""
    fix = "check the repository (`git fsck`) and the free space on its disk"
    with tempfile.TemporaryDirectory(prefix="harness-publish-") as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        if tip is not None:
            _git(repo, "read-tree", tip, env=index, fix=fix)
        lines = "".join(f"100644 {blob}\t{path}\0" for path, blob in sorted(blobs.items()))
        _git(repo, "update-index", "--add", "-z", "--index-info", env=index, stdin=lines, fix=fix)
        tree = _git(repo, "write-tree", env=index, fix=fix).strip()
    names = _run(repo, "config", "--get-regexp", r"^(user|author|committer)\.(name|email)$").stdout
    who = identity_env(os.environ, {line.split(" ", 1)[0].lower() for line in names.splitlines() if line.strip()})
    parents = ["-p", tip] if tip is not None else []
    return _git(repo, "commit-tree", tree, *parents, "-F", "-", env=who, stdin=text, fix=fix).strip()


def _pushed(repo: Path, remote: str, branch: str, commit: str) -> bool:
    """Push ``commit`` to the branch, never forced: True when it landed, False when someone pushed first."""
    done = _run(repo, "push", "--porcelain", "--no-verify", remote, f"{commit}:refs/heads/{branch}")
    if done.returncode == 0:
        return True
    rejected = [line for line in done.stdout.splitlines() if line.startswith("!")]
    if any(race in line for line in rejected for race in _RACES):
        return False
    said = (rejected or [line for line in done.stderr.splitlines() if line.strip()] or [f"exit {done.returncode}"])[0]
    raise InputError(
        f"git push to {remote}/{branch} refused: {one_line(said.lstrip('!').strip())}; fix: make sure you may push to "
        f"{remote} (in the nightly: `permissions: contents: write` and `persist-credentials: true` in the publishing job)"
    )


@dataclass(frozen=True, kw_only=True)
class Published:
    """What :func:`publish` did: the commit it pushed (None when everything was already there) and the files."""

    commit: str | None
    added: tuple[str, ...]
    present: tuple[str, ...]  # already on the branch, identical: left as they are
    attempts: int


def publish(
    repo: Path, results_dir: Path, *, remote: str, branch: str, attempts: int = ATTEMPTS, pause_s: float = PAUSE_S
) -> Published:
    """Append every results file under ``results_dir`` that the branch lacks, as one commit on its tip (see the module)."""
    check_setup(repo, remote, branch, writing=True)
    entries = plan(results_dir)
    fix = "check the repository (`git fsck`) and the free space on its disk"
    hashed = _git(
        repo,
        "hash-object",
        "-w",
        "--no-filters",
        "--stdin-paths",
        stdin="".join(f"{os.path.abspath(e.source)}\n" for e in entries),
        fix=fix,
    )
    blobs: dict[str, str] = {}
    for entry, blob in zip(entries, hashed.split(), strict=True):
        if blobs.setdefault(entry.path, blob) != blob:  # two different files claim one place: a run copied and changed
            raise InputError(
                f"{entry.source}: another file of {results_dir} goes to {entry.path} with other content; fix: keep one of them"
            )
    readme = _git(repo, "hash-object", "-w", "--stdin", stdin=README, fix=fix).strip()
    for attempt in range(1, attempts + 1):
        tip = fetch_tip(repo, remote, branch)
        there = _files(repo, tip)
        clash = sorted(path for path, blob in blobs.items() if there.get(path, blob) != blob)
        if clash:
            raise InputError(
                f"{clash[0]}: already on {remote}/{branch} with other content (results there are never rewritten); "
                "fix: bench again with a new run id, or leave that file out of --results-dir"
            )
        new = {path: blob for path, blob in blobs.items() if path not in there}
        present = tuple(sorted(set(blobs) - set(new)))
        if not new:
            return Published(commit=None, added=(), present=present, attempts=attempt)
        added = list({e.path: e for e in entries if e.path in new}.values())  # a file copied twice is added once
        commit = _commit(repo, tip, new if tip is not None else {**new, MARKER: readme}, message(added, branch))
        if _pushed(repo, remote, branch, commit):
            return Published(commit=commit, added=tuple(sorted(new)), present=present, attempts=attempt)
        if attempt == attempts:  # the last one: no rebuild follows, and no pause
            break
        log.warning(
            "push to %s/%s rejected: someone pushed meanwhile; rebuilding on the new tip (attempt %d of %d)",
            remote,
            branch,
            attempt + 1,
            attempts,
        )
        time.sleep(pause_s * attempt)
    raise InputError(
        f"git push to {remote}/{branch}: rejected {attempts} times, someone else kept pushing first; fix: run publish "
        "again (it adds only what the branch lacks)"
    )


def export(repo: Path, *, remote: str, branch: str, into: Path) -> str:
    """Fetch the branch and write its files into ``into`` (``git archive``, no checkout); returns its commit."""
    check_setup(repo, remote, branch)
    tip = fetch_tip(repo, remote, branch)
    if tip is None:
        raise InputError(
            f"--history-branch {branch}: {remote} has no branch {branch}; fix: publish to it first "
            f"(python -m harness publish --to {branch}) or name the branch publish wrote"
        )
    command = ["git", "-C", str(repo), "archive", "--format=tar", tip]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as archive:  # closes both pipes, waits
        assert archive.stdout is not None and archive.stderr is not None
        failure: Exception | None = None
        try:
            with tarfile.open(fileobj=archive.stdout, mode="r|") as tar:
                if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: nothing outside ``into``, no devices, no links out
                    tar.extractall(into, filter="data")
                else:  # pragma: no cover - Python 3.11.0-3.11.3: plain files and folders below ``into`` only
                    safe = (
                        member
                        for member in tar
                        if (member.isfile() or member.isdir())
                        and not Path(member.name).is_absolute()
                        and ".." not in Path(member.name).parts
                    )
                    tar.extractall(into, members=safe)
        except (tarfile.TarError, OSError) as exc:
            archive.kill()
            failure = exc
        said = one_line(archive.stderr.read().decode(errors="replace"))
    if isinstance(failure, OSError):  # writing failed: a full disk, a folder gone
        raise InputError(f"{remote}/{branch}: cannot be written into {into} ({one_line(failure)}); fix: free space on that disk")
    if archive.returncode != 0 or failure is not None:
        reason = said or (one_line(failure) if failure else f"exit {archive.returncode}")
        raise InputError(f"git archive {short_commit(tip)} in {repo}: {reason}; fix: fetch the branch again")
    return tip
