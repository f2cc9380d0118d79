"""Where a project keeps its folders (``trainingdata/``, ``hyperparams/``, ``results/``, ``baselines/``), so that the
harness runs outside its own checkout, as an installed package.

A folder named on the command line always wins. Otherwise each default is, in order:

1. the folder of that name in the working directory (a checkout, or a user's project run from its root: as before);
2. the folder of that name in the **project directory**: ``--project-dir`` (or ``HARNESS_PROJECT_DIR``), else the
   nearest directory above the working directory holding both ``trainingdata/`` and ``hyperparams/``;
3. for the data and the settings only, the copies shipped inside the package (``harness/_shipped/``, put there when
   the wheel is built), so that ``chronos-compile-bench bench`` runs the default scenario from an empty directory;
4. the name relative to the working directory (results and baselines are written there).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ENV = "HARNESS_PROJECT_DIR"
SHIPPED = Path(__file__).resolve().parents[1] / "_shipped"  # harness/_shipped in an installed wheel
SHIPPED_NAMES = ("trainingdata", "hyperparams")


def project_dir() -> Path | None:
    """``HARNESS_PROJECT_DIR``, else the nearest directory from the working directory upwards holding both
    ``trainingdata/`` and ``hyperparams/``; None when there is none."""
    given = os.environ.get(PROJECT_ENV, "")
    if given:
        return Path(given)
    here = Path.cwd()
    for folder in (here, *here.parents):
        if all((folder / name).is_dir() for name in SHIPPED_NAMES):
            return folder
    return None


def default_dir(name: str) -> Path:
    """The folder ``name`` (``trainingdata``, ``hyperparams``, ``results``, ``baselines``) as the module docstring says."""
    relative = Path(name)
    if relative.is_dir():
        return relative
    project = project_dir()
    if project is not None and (project / name).is_dir():
        return project / name
    if name in SHIPPED_NAMES and (SHIPPED / name).is_dir():
        return SHIPPED / name
    return project / name if project is not None and os.environ.get(PROJECT_ENV) else relative
