"""The package's shape: wings by layer (pyproject's import-linter contract), no import cycle, no module over 450 lines.

The contract is what ``nox -s lint`` (and so CI) runs; these tests show it holds on the code as it is, and that it fails
on a planted back-arrow, so a wing importing one above it cannot land unnoticed.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

from tests.conftest import ROOT

MAX_LINES = 450


def _contract() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    (layers,) = [contract["layers"] for contract in config["contracts"] if contract["type"] == "layers"]
    return [str(layer) for layer in layers]


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports on the package under ``root``, with ``root``'s pyproject (its own process: grimp caches graphs)."""
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=root, env={"PYTHONPATH": str(root)}, capture_output=True, text=True, timeout=120
    )


def _copy_package(target: Path) -> None:
    shutil.copytree(ROOT / "harness", target / "harness", ignore=shutil.ignore_patterns("checkpoints", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")


def test_every_wing_is_in_the_layer_contract_and_says_what_it_may_import() -> None:
    wings = {path.parent.name for path in (ROOT / "harness").glob("*/__init__.py")}
    contracted = {name.strip().removeprefix("harness.") for layer in _contract() for name in layer.split("|")}
    assert wings == contracted, f"pyproject.toml [tool.importlinter]: wings {sorted(wings)} vs layers {sorted(contracted)}"
    for wing in wings:
        docstring = ast.get_docstring(ast.parse((ROOT / "harness" / wing / "__init__.py").read_text(encoding="utf-8")))
        assert docstring and "import" in docstring.lower(), f"harness/{wing}/__init__.py: say what the wing is and may import"
    loose = sorted(path.name for path in (ROOT / "harness").glob("*.py") if path.name not in {"__init__.py", "__main__.py"})
    assert not loose, f"harness/: modules outside any wing: {loose}"


def test_the_layer_contract_holds() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_a_planted_back_arrow_breaks_the_contract(tmp_path: Path) -> None:
    _copy_package(tmp_path)
    errors = tmp_path / "harness" / "base" / "errors.py"
    errors.write_text(errors.read_text(encoding="utf-8") + "\nfrom harness.gate.verdict import exit_code  # noqa\n")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout and "harness.base.errors -> harness.gate.verdict" in result.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative): each holds a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_anywhere_in_the_package() -> None:
    """Every import counts, also inside functions and under TYPE_CHECKING: a cycle there is still a knot to untie."""
    assert _cycles(grimp.build_graph("harness")) == []


def test_the_cycle_finder_finds_a_planted_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "knot"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from knot import b\n")
    (package / "b.py").write_text("def f() -> None:\n    from knot import c\n")
    (package / "c.py").write_text("from knot.a import x\n")
    (package / "d.py").write_text("from knot import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _cycles(grimp.build_graph("knot", cache_dir=None)) == [["knot.a", "knot.b", "knot.c"]]


def test_no_module_over_the_line_limit() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "harness").rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"split these modules (over {MAX_LINES} lines): {long}"


def test_the_console_script_names_a_function_that_exists() -> None:
    """``chronos-compile-bench`` (pyproject [project.scripts]) survives the move into wings: its target imports."""
    import importlib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    module, _, function = scripts["chronos-compile-bench"].partition(":")
    assert callable(getattr(importlib.import_module(module), function)), scripts


def test_python_dash_m_harness_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "harness", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and "usage:" in done.stdout, done.stderr
