"""The noxfile's environments and flags: every environment runs `python -m harness` from any directory (a .pth file
puts the checkout on its path: the environments hold the requirements, not the project), checked on a real virtual
environment from another directory; and a bench flag after `--` is never read as a session's own."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

from tests.conftest import ROOT


def test_the_checkout_pth_makes_this_checkout_importable_from_any_directory(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    try:
        import noxfile
    finally:
        sys.path.remove(str(ROOT))
    environment = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(environment)
    python = environment / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = [str(python), "-c", "import harness, pathlib; print(pathlib.Path(harness.__file__).parent)"]
    before = subprocess.run(probe, cwd=elsewhere, capture_output=True, text=True, timeout=60, check=False)
    assert before.returncode != 0 and "No module named 'harness'" in before.stderr  # what the issue saw
    subprocess.run([str(python), "-c", noxfile.checkout_pth_script(ROOT)], check=True, timeout=60)
    after = subprocess.run(probe, cwd=elsewhere, capture_output=True, text=True, timeout=60, check=False)
    assert after.returncode == 0, after.stderr
    assert Path(after.stdout.strip()) == ROOT / "harness"


def test_a_bench_flag_is_never_taken_for_an_abbreviation_of_a_session_flag() -> None:
    """`nox -s bench_compiled confirm -- --confirm 2/3`: the bench's --confirm, not confirm's --confirm-timing."""
    from types import SimpleNamespace

    sys.path.insert(0, str(ROOT))
    try:
        import noxfile
    finally:
        sys.path.remove(str(ROOT))
    session = SimpleNamespace(name="bench_compiled", posargs=["--confirm", "2/3", "--confirm-timing", "1/2"])
    bench_args, known = noxfile._split_posargs(session)  # type: ignore[arg-type]
    assert bench_args == ["--confirm", "2/3"] and known.confirm_timing == "1/2"
