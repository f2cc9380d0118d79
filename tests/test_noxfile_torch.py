"""An empty HARNESS_TORCH (what an unset CI matrix variable gives) fails every torch session; it no longer skips them
and lets `compare` gate stale results (issue: `HARNESS_TORCH= nox -s bench_eager bench_compiled compare` exited 0)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize("value", ["", " , "])
def test_an_empty_harness_torch_fails_the_torch_sessions_with_the_fix(value: str) -> None:
    code = (
        "import noxfile\n"
        "class Stop(Exception): pass\n"
        "class Session:\n"
        "    def error(self, message): raise Stop(message)\n"
        "assert noxfile.TORCH_VERSIONS == [noxfile.NO_TORCH], noxfile.TORCH_VERSIONS\n"
        "try:\n"
        "    noxfile._install_locked(Session(), noxfile.TORCH_VERSIONS[0])\n"
        "except Stop as stop:\n"
        "    print(stop)\n"
    )
    env = {"HARNESS_TORCH": value, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"HARNESS_TORCH={value!r} names no torch version; fix: ")


def test_a_named_version_is_still_a_session() -> None:
    code = "import noxfile; print(noxfile.TORCH_VERSIONS)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"HARNESS_TORCH": "2.13.0, 2.14.1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip() == "['2.13.0', '2.14.1']", done.stderr
