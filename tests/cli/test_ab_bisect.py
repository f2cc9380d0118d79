"""``ab --bisect`` wired to its steps: intermediate stacks built from base's packages, each A/B'd against base, the
culprit named; the bench is faked (no environment is built, no process runs)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from harness.base.errors import InputError
from harness.bench import ab as ab_module
from harness.bench import stacks
from harness.bench.stacks import Prepared, Stack, StackKind
from harness.cli import ab as cli_ab
from harness.cli.ab import AbOptions
from harness.gate.pairs import ABFinding, ABTolerances, ABVerdict, PairVerdict


def _prepared(text: str, packages: dict[str, str]) -> Prepared:
    return Prepared(
        stack=Stack(text=text, kind=StackKind.PINS), python=Path("/bin/true"), source=Path("."), commit="c", packages=packages
    )


def _verdict(slow: bool) -> ABVerdict:
    finding = ABFinding(
        metric="compiled.latency_s",
        base=0.02,
        head=0.025 if slow else 0.02,
        ratio=1.25 if slow else 1.0,
        low=1.1 if slow else 0.97,
        high=1.4 if slow else 1.03,
        verdict=PairVerdict.REGRESSION if slow else PairVerdict.HOLDS,
        message="",
    )
    return ABVerdict(findings=(finding,), changes=(), pairs_planned=2, pairs_used=2, pairs_dropped=0, failed={})


def test_bisect_builds_each_stack_from_bases_packages_and_names_the_culprit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _prepared("base", {"accelerate": "1.15.0", "tokenizers": "0.22.0", "transformers": "5.24.0", "torch": "2.13.0"})
    head = _prepared("head", {"accelerate": "1.16.0", "tokenizers": "0.23.0", "transformers": "5.25.0", "torch": "2.13.0"})
    built: list[dict[str, str]] = []

    def fake_prepare(stack: Stack, **_: Any) -> Prepared:
        assert stack.path is not None
        packages = dict(line.split("==") for line in stack.path.read_text().split())
        if packages["tokenizers"] == "0.23.0" and packages["accelerate"] == "1.15.0":  # never asked: stacks move in order
            raise InputError("bisect stack: uv could not build its environment: no solution")
        built.append(packages)
        return _prepared(stack.text, packages)

    def fake_run_ab(request: Any, base_: Prepared, head_: Prepared, **_: Any) -> tuple[list[Any], Path]:
        return [head_.packages["transformers"]], tmp_path  # the "processes" carry what _judge needs to know

    def fake_judge(processes: list[Any], **_: Any) -> ABVerdict:
        return _verdict(slow=processes[0] == "5.25.0")  # transformers 5.25.0 is slow

    monkeypatch.setattr(stacks, "prepare", fake_prepare)
    monkeypatch.setattr(ab_module, "run_ab", fake_run_ab)
    monkeypatch.setattr(cli_ab, "_judge", fake_judge)
    monkeypatch.setattr(stacks, "uv_environment_here", dict)
    options = AbOptions(base="base", head="head", pairs=2, work_dir=tmp_path, bisect=True)
    found = cli_ab._bisect(None, options, base, head, _verdict(slow=True), ABTolerances())  # type: ignore[arg-type]
    assert found["culprits"] == ["transformers 5.24.0 → 5.25.0"]
    assert [(probe["stack"], probe["outcome"]) for probe in found["probes"]] == [(1, "holds"), (2, "holds")]
    assert built == [  # base's packages, the first k changes (in name order) at head's versions
        {"accelerate": "1.16.0", "tokenizers": "0.22.0", "transformers": "5.24.0", "torch": "2.13.0"},
        {"accelerate": "1.16.0", "tokenizers": "0.23.0", "transformers": "5.24.0", "torch": "2.13.0"},
    ]
    out = capsys.readouterr().out
    assert "bisect stack 1/3: holds (compiled.latency_s holds 1.000 [0.970, 1.030])" in out
    assert "bisect: transformers 5.24.0 → 5.25.0 carries the regression (2 A/B run(s)" in out


def test_bisect_refuses_stacks_of_different_harness_commits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _prepared("base", {"torch": "2.13.0"})
    head = dataclasses.replace(base, commit="d")
    options = AbOptions(base="main", head="HEAD", work_dir=tmp_path, bisect=True)
    found = cli_ab._bisect(None, options, base, head, _verdict(slow=True), ABTolerances())  # type: ignore[arg-type]
    assert found == {"skipped": "different harness commits"}
    assert "bisect: skipped" in capsys.readouterr().out
