"""``compare --json``: the verdict the terminal shows, as strict JSON, with the same exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.results.store import write_records
from tests.factories import record_baselines
from tests.gate.test_gate_kinds import runs


def test_compare_json_holds_the_verdict_and_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results, baselines, verdict = tmp_path / "results", tmp_path / "baselines", tmp_path / "verdict.json"
    write_records(list(runs()), results, name="recorded")
    record_baselines(results, baselines)
    dirs = ["--results-dir", str(results), "--baselines-dir", str(baselines), "--json", str(verdict)]
    assert main(["-q", "compare", *dirs]) == 0
    document = json.loads(verdict.read_text(encoding="utf-8"))
    assert (document["format"], document["kind"], document["verdict"], document["exit_code"]) == (1, "compare", "holds", 0)
    (entry,) = document["comparisons"]
    assert entry["gate"] == "full" and entry["verdict"] == "holds" and document["missing"] == []
    assert {f["metric"] for f in entry["findings"]} >= {"compiled.latency_s", "speedup", "compiled.mae"}
    assert document["summary"] in capsys.readouterr().out

    (tmp_path / "slower").mkdir()
    slow = [r for r in runs(compiled_s=0.16, seed=5)]  # compiled 60% slower, on the same machine and software
    write_records(slow, tmp_path / "slower", name="today")
    assert (
        main(
            [
                "-q",
                "compare",
                "--results-dir",
                str(tmp_path / "slower"),
                "--baselines-dir",
                str(baselines),
                "--json",
                str(verdict),
            ]
        )
        == 1
    )
    document = json.loads(verdict.read_text(encoding="utf-8"))
    assert document["verdict"] == "regression" and document["exit_code"] == 1
    kinds = {f["metric"]: f["kind"] for f in document["comparisons"][0]["findings"]}
    assert kinds["compiled.latency_s"] == "regression"


def test_a_json_path_in_no_directory_is_refused_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--results-dir", str(tmp_path), "--json", str(tmp_path / "no" / "such" / "v.json")]) == 2
    assert "--json" in capsys.readouterr().err
