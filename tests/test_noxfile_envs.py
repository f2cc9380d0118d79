"""Every nox environment runs `python -m harness` from any directory: a .pth file puts the checkout on its path (the
environments hold the requirements, not the project). Checked on a real virtual environment, from another directory."""

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
