"""The software stacks an A/B compares (``ab --base STACK --head STACK``), and an environment for each on this host.

A STACK names what differs from the project as it is checked out:

- package pins, separated by spaces: ``"transformers==5.24.0"``, ``"torch==2.14.1 transformers==5.25.0"``, applied on
  top of the project's lock (``locks/torch-<torch>-py<python>.txt`` of the pinned torch, or of the torch the pins name;
  without a lock, the project's requirements: pyproject's dependencies and ``bench`` extra, torch as the noxfile pins it);
- a requirements or lock file (an existing path): installed as it is, the checkout's harness runs it;
- ``fresh``: the project's requirements resolved anew, the newest versions they allow (what tonight's upgrade would be);
- ``env:PATH``: an existing environment (its ``bin/python``, or a Python executable), used as it is;
- a git ref of this project (``HEAD``, ``main``, ``HEAD~1``, a merge base): its harness and its lock (or requirements).

Parsing is pure; :func:`prepare` builds (with uv) or reuses an environment keyed by everything that decides its
contents, so the same stack is built once per host.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

from harness.base.errors import InputError
from harness.base.locks import lock_path, normalize, python_tag, read_lock

_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*(===|==|~=|!=|<=|>=|<|>)\s*\S+$")
_PINNED_TORCH = re.compile(r'^PINNED_TORCH\s*=\s*"([^"]+)"', re.M)


class StackKind(Enum):
    PINS = "pins"
    FILE = "file"
    FRESH = "fresh"
    ENV = "env"
    REF = "ref"


@dataclass(frozen=True, kw_only=True)
class Stack:
    """What ``--base`` or ``--head`` said, parsed."""

    text: str
    kind: StackKind
    pins: tuple[str, ...] = ()  # PINS
    path: Path | None = None  # FILE, ENV
    ref: str = ""  # REF

    def label(self) -> str:
        return self.text


def parse_stack(text: str, *, flag: str, root: Path) -> Stack:
    """A STACK from its flag's text; a one-line :class:`InputError` naming ``flag`` when it is none of the four."""
    text = text.strip()
    if not text:
        raise InputError(
            f'{flag}: empty; fix: give package pins ("transformers==5.24.0"), a lock file, fresh, env:PATH or a git ref'
        )
    if text.startswith("env:"):
        path = Path(text[4:]).expanduser()
        python = _python_of(path)
        if python is None:
            raise InputError(f"{flag} {text}: no Python at {path} (nor {path}/bin/python); fix: name an existing environment")
        return Stack(text=text, kind=StackKind.ENV, path=python)
    if text == "fresh":
        return Stack(text=text, kind=StackKind.FRESH)
    words = text.split()
    if all(_REQUIREMENT.match(word) for word in words):
        return Stack(text=text, kind=StackKind.PINS, pins=tuple(words))
    if (len(words) == 1 and (root / text).is_file()) or Path(text).is_file():
        path = Path(text) if Path(text).is_file() else root / text
        return Stack(text=text, kind=StackKind.FILE, path=path.resolve())
    if len(words) == 1 and _git(root, "rev-parse", "--verify", "--quiet", f"{text}^{{commit}}") is not None:
        return Stack(text=text, kind=StackKind.REF, ref=text)
    bad = next((word for word in words if not _REQUIREMENT.match(word)), text)
    raise InputError(
        f"{flag} {text!r}: {bad!r} is not a pin (name==version), an existing file, fresh, env:PATH or a git ref of {root}; "
        'fix: e.g. --base "transformers==5.24.0" --head "transformers==5.25.0", or --base main --head HEAD'
    )


def _python_of(path: Path) -> Path | None:
    for candidate in (path / "bin" / "python", path):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=60, check=False)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@dataclass(frozen=True, kw_only=True)
class Prepared:
    """A stack ready to bench: the Python that runs it, the tree whose harness it runs, and what it has installed."""

    stack: Stack
    python: Path
    source: Path  # the harness checkout: this one, or the git ref's tree
    commit: str  # the harness commit it runs ("" when not a git checkout)
    packages: dict[str, str]  # name -> version, as `pip freeze` says


def pinned_torch(source: Path) -> str | None:
    """The torch version ``source``'s noxfile pins (``PINNED_TORCH``), or None."""
    noxfile = source / "noxfile.py"
    found = _PINNED_TORCH.search(noxfile.read_text(encoding="utf-8")) if noxfile.is_file() else None
    return found.group(1) if found else None


def requirements(source: Path) -> list[str]:
    """The project's runtime requirements and its ``bench`` extra, from ``source``'s pyproject, torch pinned as its
    noxfile pins it."""
    project = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    torch = pinned_torch(source)
    return [*([f"torch=={torch}"] if torch else []), *project["dependencies"], *project["optional-dependencies"]["bench"]]


def environment_key(python_version: str, install: list[str]) -> str:
    """What decides an environment's contents, hashed: the Python and the requirement list (order kept: pins last)."""
    return hashlib.sha256(json.dumps([python_version, install]).encode()).hexdigest()[:16]


def install_list(stack: Stack, source: Path, *, python: str | None = None) -> list[str]:
    """What ``uv pip install`` gets for a stack. A file: itself. ``fresh``: the project's requirements. Pins and git
    refs: the project's lock for this Python (of the torch a pin names, else of the pinned torch) as exact pins, then
    the pins, each replacing the package of the same name; without such a lock, the project's requirements instead."""
    if stack.kind is StackKind.FILE:
        assert stack.path is not None
        return ["-r", str(stack.path)]
    if stack.kind is StackKind.FRESH:
        return requirements(source)
    pinned = {requirement_name(pin): pin for pin in stack.pins}
    torch = pinned["torch"].split("==", 1)[1] if "torch" in pinned and "==" in pinned["torch"] else pinned_torch(source)
    lock = lock_path(source, torch, python) if torch else None
    base = read_lock(lock).pins() if lock is not None and lock.is_file() else requirements(source)
    return [*(req for req in base if requirement_name(req) not in pinned), *stack.pins]


def requirement_name(requirement: str) -> str:
    """The normalized package name of a requirement (``Transformers[torch]>=5`` -> ``transformers``)."""
    return normalize(re.split(r"[\[<>=!~ ;]", requirement.strip(), maxsplit=1)[0])


def prepare(stack: Stack, *, root: Path, work: Path, uv_env: dict[str, str]) -> Prepared:
    """The environment of ``stack`` under ``work`` (built once, then reused), and the tree whose harness it runs."""
    source = _source_tree(stack, root=root, work=work)
    commit = _git(source, "rev-parse", "HEAD") or ""
    if stack.kind is StackKind.REF:
        commit = _git(root, "rev-parse", f"{stack.ref}^{{commit}}") or ""
    if stack.kind is StackKind.ENV:
        assert stack.path is not None
        python = stack.path
    else:
        install = install_list(stack, source)
        key = environment_key(python_tag(), [*install, *_content_of(stack)])
        python = _build(work / "envs" / key, install, uv_env=uv_env, label=stack.text)
    return Prepared(stack=stack, python=python, source=source, commit=commit, packages=freeze(python))


def _content_of(stack: Stack) -> list[str]:
    """What else decides an environment: a file's contents (edited in place, same path), the day of a fresh resolve."""
    if stack.kind is StackKind.FILE:
        assert stack.path is not None
        return [hashlib.sha256(stack.path.read_bytes()).hexdigest()]
    if stack.kind is StackKind.FRESH:
        return [datetime.now(UTC).strftime("fresh %Y-%m-%d")]
    return []


def _source_tree(stack: Stack, *, root: Path, work: Path) -> Path:
    if stack.kind is not StackKind.REF:
        return root
    commit = _git(root, "rev-parse", f"{stack.ref}^{{commit}}")
    if commit is None:
        raise InputError(f"{stack.text}: not a commit of {root}; fix: name a branch, tag or commit")
    tree = work / "src" / commit
    if not (tree / "harness" / "__main__.py").is_file():
        partial = tree.with_name(f".{commit}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=root, capture_output=True, check=True).stdout
        archive_path = partial.with_suffix(".tar")
        archive_path.write_bytes(archive)
        with tarfile.open(archive_path) as tar:
            tar.extractall(partial, filter="data")
        archive_path.unlink()
        shutil.rmtree(tree, ignore_errors=True)
        partial.rename(tree)
    return tree


def uv_binary() -> list[str]:
    found = shutil.which("uv")
    if found:
        return [found]
    try:
        import uv  # type: ignore[import-not-found]

        return [uv.find_uv_bin()]
    except ImportError:
        raise InputError("ab: uv is not installed; fix: python3 -m pip install uv (nox -s ab finds it beside nox)") from None


def _build(directory: Path, install: list[str], *, uv_env: dict[str, str], label: str) -> Path:
    python = directory / "bin" / "python"
    done_marker = directory / ".ab-installed.json"
    if done_marker.is_file() and python.is_file():
        return python
    uv = uv_binary()
    env = {**os.environ, **uv_env}
    print(f"ab: building the environment of {label} in {directory} (once)", file=sys.stderr, flush=True)
    steps = [
        [*uv, "venv", "--quiet", "--clear", "--python", sys.executable, str(directory)],
        [*uv, "pip", "install", "--quiet", "--python", str(python), *install],
    ]
    for step in steps:
        done = subprocess.run(step, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise InputError(f"{label}: uv could not build its environment: {tail}; fix: check the pins resolve together")
    done_marker.write_text(json.dumps(install), encoding="utf-8")
    return python


def freeze(python: Path) -> dict[str, str]:
    """name -> version of what ``python``'s environment has installed (importlib.metadata, in that interpreter)."""
    code = (
        "import json, importlib.metadata as m; "
        "print(json.dumps({d.metadata['Name'].lower().replace('_', '-'): d.version for d in m.distributions() if d.metadata['Name']}))"
    )
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise InputError(f"{python}: cannot list its packages ({done.stderr.strip()[-200:]}); fix: name a working environment")
    packages: dict[str, str] = json.loads(done.stdout)
    return packages


def uv_environment_here() -> dict[str, str]:
    """uv told where pip looks on this machine (:func:`harness.base.pipconfig.uv_environment`), as the noxfile does."""
    from harness.base.pipconfig import uv_environment

    try:
        listed = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        listed = ""
    return uv_environment(listed, os.environ)
