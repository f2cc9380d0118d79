"""harness.bench.stacks: what --base and --head may name, and what each stack installs (pure parts; no uv, no network)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.base.errors import InputError
from harness.base.locks import lock_path, read_lock
from harness.bench.stacks import (
    Stack,
    StackKind,
    environment_key,
    install_list,
    parse_stack,
    pinned_torch,
    requirement_name,
    requirements,
)
from tests.conftest import ROOT


def test_pins_are_package_specifiers_separated_by_spaces() -> None:
    stack = parse_stack("transformers==5.24.0  torch==2.14.1", flag="--base", root=ROOT)
    assert stack.kind is StackKind.PINS and stack.pins == ("transformers==5.24.0", "torch==2.14.1")


def test_an_environment_is_its_python(tmp_path: Path) -> None:
    stack = parse_stack(f"env:{sys.prefix}", flag="--head", root=ROOT)
    assert stack.kind is StackKind.ENV and stack.path == Path(sys.prefix) / "bin" / "python"
    with pytest.raises(InputError, match=r"^--head env:.*: no Python at .*; fix: name an existing environment$"):
        parse_stack(f"env:{tmp_path}", flag="--head", root=ROOT)


def test_an_existing_file_is_a_lock(tmp_path: Path) -> None:
    lock = tmp_path / "bench.lock"
    lock.write_text("torch==2.13.0\n")
    stack = parse_stack(str(lock), flag="--base", root=ROOT)
    assert stack.kind is StackKind.FILE and stack.path == lock.resolve()
    assert install_list(stack, ROOT) == ["-r", str(lock.resolve())]


def test_a_git_ref_of_the_project(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "f").write_text("x")
    commit = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one"]
    subprocess.run(["git", "-C", str(tmp_path), "add", "f"], check=True)
    subprocess.run(commit, check=True)
    assert parse_stack("HEAD", flag="--base", root=tmp_path).kind is StackKind.REF


@pytest.mark.parametrize("text", ["", "transformers", "transformers=5.24.0", "no-such-ref-anywhere", "torch==2.13.0 oops"])
def test_anything_else_is_one_line_naming_the_flag_and_the_fix(text: str, tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        parse_stack(text, flag="--base", root=tmp_path)
    message = str(caught.value)
    assert message.startswith("--base") and "; fix: " in message and "\n" not in message


def test_a_pin_replaces_that_package_of_the_projects_lock() -> None:
    lock = read_lock(lock_path(ROOT, pinned_torch(ROOT) or "", "3.11"))
    pins = Stack(text="transformers==5.24.0", kind=StackKind.PINS, pins=("transformers==5.24.0",))
    installed = install_list(pins, ROOT, python="3.11")
    assert installed == [*lock.pins(without=frozenset({"transformers"})), "transformers==5.24.0"]
    assert all("==" in requirement for requirement in installed)  # exact: the lock's versions, not ranges


def test_a_torch_pin_takes_that_torchs_lock_when_there_is_one(tmp_path: Path) -> None:
    (tmp_path / "locks").mkdir()
    (tmp_path / "noxfile.py").write_text('PINNED_TORCH = "2.13.0"\n')
    (tmp_path / "pyproject.toml").write_text(
        '[project]\ndependencies = ["numpy>=1.24"]\n[project.optional-dependencies]\nbench = ["torch>=2.4"]\n'
    )
    (tmp_path / "locks" / "torch-2.14.1-py3.11.txt").write_text(
        "# chronos-compile-bench lock: torch=2.14.1 python=3.11 platform=linux-x86_64\ntorch==2.14.1\nsympy==1.14.0\n"
    )
    torch_pin = Stack(text="torch==2.14.1", kind=StackKind.PINS, pins=("torch==2.14.1",))
    assert install_list(torch_pin, tmp_path, python="3.11") == ["sympy==1.14.0", "torch==2.14.1"]
    # no lock of the noxfile's torch for this Python: the requirements, the noxfile's pin and torch>=2.4 replaced
    pins = Stack(text="numpy==2.0.0", kind=StackKind.PINS, pins=("numpy==2.0.0",))
    assert install_list(pins, tmp_path, python="3.11") == ["torch==2.13.0", "torch>=2.4", "numpy==2.0.0"]
    assert install_list(torch_pin, tmp_path, python="3.12") == ["numpy>=1.24", "torch==2.14.1"]


def test_fresh_is_the_projects_requirements_resolved_anew() -> None:
    stack = parse_stack("fresh", flag="--head", root=ROOT)
    assert stack.kind is StackKind.FRESH
    assert install_list(stack, ROOT) == requirements(ROOT)
    assert all(not requirement.startswith(("chronos-forecasting==", "transformers==")) for requirement in requirements(ROOT))


def test_the_environment_key_changes_with_anything_that_decides_its_contents() -> None:
    install = ["torch==2.13.0", "transformers==5.24.0"]
    key = environment_key("3.11", install)
    assert key == environment_key("3.11", list(install))
    assert len({key, environment_key("3.12", install), environment_key("3.11", ["torch==2.13.0", "transformers==5.25.0"])}) == 3


@pytest.mark.parametrize(
    ("requirement", "name"),
    [("Transformers[torch]>=5", "transformers"), ("chronos_forecasting==2.3.2", "chronos-forecasting"), ("torch", "torch")],
)
def test_a_requirements_name_is_normalized(requirement: str, name: str) -> None:
    assert requirement_name(requirement) == name
