"""Resolving the bench locks (``nox -s lock``) and checking an environment against one (``lock-check``).

:func:`compile_lock` asks uv for the project's requirements and ``bench`` extra with torch pinned, with every hash,
for this platform and one Python minor version, and writes ``locks/torch-<torch>-py<python>.txt`` atomically with the
header :mod:`harness.base.locks` reads. :func:`check_environment` lists where an installed environment differs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.base.errors import InputError
from harness.base.locks import differences, header, lock_path, platform_tag, python_tag, read_lock
from harness.bench.stacks import freeze, requirements, uv_binary

COMPILE_COMMAND = "nox -s lock"


def lock_requirements(root: Path, torch: str) -> list[str]:
    """What a lock resolves: the project's requirements and ``bench`` extra, torch pinned to ``torch``."""
    return [f"torch=={torch}", *(req for req in requirements(root) if not req.replace(" ", "").startswith("torch"))]


def compile_lock(root: Path, torch: str, *, python: str | None = None, uv_env: dict[str, str]) -> Path:
    """Resolve and write the lock of ``torch`` for ``python`` (this interpreter's by default); returns its path."""
    python = python or python_tag()
    target = lock_path(root, torch, python)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lock-") as tmp:
        wanted = Path(tmp) / "requirements.in"
        wanted.write_text("\n".join(lock_requirements(root, torch)) + "\n", encoding="utf-8")
        resolved = Path(tmp) / "lock.txt"
        command = [
            *uv_binary(),
            "pip",
            "compile",
            str(wanted),
            "--quiet",
            "--generate-hashes",
            "--no-annotate",  # "via" lines would name this temporary file and the machine's pip constraints
            "--python-version",
            python,
            "--custom-compile-command",
            COMPILE_COMMAND,
            "--output-file",
            str(resolved),
        ]
        done = subprocess.run(command, env={**os.environ, **uv_env}, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise InputError(
                f"lock torch=={torch} for Python {python}: uv could not resolve it: {tail}; fix: check the version exists for this platform"
            )
        lines = resolved.read_text(encoding="utf-8").splitlines(keepends=True)
        at = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))  # after uv's header
        text = "".join([*lines[:at], header(torch=torch, python=python, platform_name=platform_tag()), *lines[at:]])
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(text, encoding="utf-8")
        read_lock(partial)  # what is written must read back
        partial.replace(target)
    return target


def check_environment(lock: Path, python: Path | None = None) -> list[str]:
    """Where the environment of ``python`` (this interpreter by default) differs from ``lock``; empty when it is exact."""
    return differences(read_lock(lock), freeze(python or Path(sys.executable)))
