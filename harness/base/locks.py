"""The committed locks the bench environments install: ``locks/torch-<torch>-py<python>.txt``.

A lock is ``uv pip compile --generate-hashes`` output for the project's requirements and its ``bench`` extra with
torch pinned, for one Python minor version on one platform; the header :func:`header` writes names both. An upgrade is
then a reviewed diff of a lock (``nox -s lock`` re-resolves), and a bench environment holds exactly its lock
(:func:`differences` says where it does not). Pure, standard library only: the noxfile reads locks before any
environment exists.
"""

from __future__ import annotations

import platform
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.base.errors import InputError

LOCK_DIR = "locks"
TAG = "# chronos-compile-bench lock:"
INSTALLER_TOOLS = frozenset({"pip", "setuptools", "wheel"})  # a virtualenv's own tools, not the project's stack
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")
_FIELD = re.compile(r"(\w+)=(\S+)")


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares it: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def python_tag(version: tuple[int, ...] | None = None) -> str:
    """``3.11``: the Python minor version a lock is resolved for (this interpreter's by default)."""
    major, minor = (version or sys.version_info)[:2]
    return f"{major}.{minor}"


def platform_tag() -> str:
    """``linux-x86_64``: the platform a lock is resolved for (wheels differ by it)."""
    return f"{sys.platform}-{platform.machine().lower()}"


def lock_path(root: Path, torch: str, python: str | None = None) -> Path:
    """Where the lock of ``torch`` for ``python`` (this interpreter's by default) lives under the project ``root``."""
    return root / LOCK_DIR / f"torch-{torch}-py{python or python_tag()}.txt"


def header(*, torch: str, python: str, platform_name: str) -> str:
    """The line that says what a lock is for; :func:`parse_lock` reads it back."""
    return f"{TAG} torch={torch} python={python} platform={platform_name}\n"


@dataclass(frozen=True, kw_only=True)
class Lock:
    """A lock file, read: what it is for and the exact version of every package it installs."""

    path: Path
    torch: str
    python: str
    platform: str
    packages: dict[str, str]  # normalized name -> version
    hashed: bool  # every package carries at least one --hash

    def pins(self, *, without: frozenset[str] = frozenset()) -> list[str]:
        """``name==version`` per package (no hashes), except the names in ``without`` (normalized)."""
        return [f"{name}=={version}" for name, version in sorted(self.packages.items()) if name not in without]

    def fits(self, *, python: str, platform_name: str) -> str | None:
        """Why this lock does not fit that interpreter, or None when it does."""
        if self.python != python:
            return f"it is resolved for Python {self.python}, this is Python {python}"
        if self.platform != platform_name:
            return f"it is resolved for {self.platform}, this is {platform_name}"
        return None


def parse_lock(text: str, *, path: Path) -> Lock:
    """A :class:`Lock` from its text; a one-line :class:`InputError` naming ``path`` and the line when it is not one."""
    fields: dict[str, str] = {}
    packages: dict[str, str] = {}
    hashes: dict[str, int] = {}
    current = ""
    fix = "re-resolve it with `nox -s lock`"
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith(TAG):
            fields = dict(_FIELD.findall(line[len(TAG) :]))
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith("--hash="):
            if not current:
                raise InputError(f"{path}: line {number}: a --hash before any package; fix: {fix}")
            hashes[current] = hashes.get(current, 0) + 1
            continue
        if line.startswith("-"):  # an option line uv may write (--index-url, --find-links): not a package
            continue
        found = _PIN.match(line)
        if found is None:
            raise InputError(f"{path}: line {number}: {line[:80]!r} is not name==version; fix: {fix}")
        current = normalize(found.group(1))
        if current in packages:
            raise InputError(f"{path}: line {number}: {current} is listed twice; fix: {fix}")
        packages[current] = found.group(2)
        if "--hash=" in line:
            hashes[current] = hashes.get(current, 0) + line.count("--hash=")
    missing = [name for name in ("torch", "python", "platform") if name not in fields]
    if missing:
        raise InputError(f"{path}: no `{TAG} ...` header with {', '.join(missing)}; fix: {fix}")
    if "torch" not in packages:
        raise InputError(f"{path}: torch is not in the lock; fix: {fix}")
    return Lock(
        path=path,
        torch=fields["torch"],
        python=fields["python"],
        platform=fields["platform"],
        packages=packages,
        hashed=all(hashes.get(name, 0) > 0 for name in packages),
    )


def read_lock(path: Path) -> Lock:
    """:func:`parse_lock` of a file; a one-line error when it cannot be read."""
    if not path.is_file():
        raise InputError(f"{path}: no such lock; fix: `nox -s lock` resolves one for this Python, then commit it")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it ({exc}); fix: re-resolve it with `nox -s lock`") from None
    return parse_lock(text, path=path)


def differences(lock: Lock, installed: Mapping[str, str]) -> list[str]:
    """Where an environment's packages (name -> version, as ``pip freeze`` lists them) differ from the lock: one line
    per package, empty when the environment holds exactly the lock (a virtualenv's pip, setuptools and wheel aside)."""
    have = {normalize(name): version for name, version in installed.items()}
    out = []
    for name in sorted(set(lock.packages) | set(have)):
        locked, found = lock.packages.get(name), have.get(name)
        if locked == found or (locked is None and name in INSTALLER_TOOLS):
            continue
        if found is None:
            out.append(f"{name}: locked {locked}, not installed")
        elif locked is None:
            out.append(f"{name}: installed {found}, not in the lock")
        else:
            out.append(f"{name}: locked {locked}, installed {found}")
    return out
