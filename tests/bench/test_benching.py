"""The bench request as data: flags -> request -> JSON for the isolated child -> the same request; faults; verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.base.errors import ExitCode, InputError
from harness.bench.faults import Fault, FaultKind
from harness.bench.request import BenchRequest
from harness.cli.parser import build as _parser
from harness.gate.checks import Check
from harness.gate.findings import Finding, FindingKind
from harness.gate.matching import GateKind, Match
from harness.gate.verdict import Tally, exit_code, tally


def _request(*argv: str) -> BenchRequest:
    return BenchRequest.from_args(_parser().parse_args(["bench", "--mode", "compiled", *argv]))


@pytest.mark.parametrize(
    "argv",
    [
        (),
        (
            "--symbol",
            "GOOG",
            "--symbol",
            "EURUSD",
            "--fault",
            "raise@0.3:GOOG",
            "--confirm",
            "1/2",
            "--no-warm-compile",
            "--vary-shapes",
        ),
        (
            "--attn",
            "sdpa",
            "--sdpa-backend",
            "math",
            "--freezing",
            "--dtype",
            "bfloat16",
            "--dynamic",
            "false",
            "--extreme",
            "spike",
        ),
        (
            "--context-length",
            "64",
            "--rows",
            "120",
            "--date-format",
            "day-first",
            "--device",
            "cpu",
            "--model",
            "tiny",
            "--timeout",
            "9.5",
        ),
        ("--results-dir", "/tmp/r x", "--data-dir", "d", "--hyperparams-dir", "h", "--inductor-cache", "off", "--fault", "crash"),
    ],
)
def test_every_flag_survives_the_trip_to_the_isolated_child(argv: tuple[str, ...]) -> None:
    request = _request(*argv)
    assert BenchRequest.from_json(request.to_json(), source="spec.json") == request
    assert BenchRequest.from_json(request.to_json(compact=True), source="spec.json") == request  # ab's spec files


def test_a_compact_spec_leaves_defaults_out_so_other_harness_versions_read_it() -> None:
    import json

    written = json.loads(_request("--model", "tiny").to_json(compact=True))["request"]
    assert set(written) == {"mode", "symbol", "model", "confirm", "fault", "results_dir", "data_dir", "hyperparams_dir"}


def test_the_request_has_a_field_for_every_bench_flag_and_no_more() -> None:
    """A new bench flag without a request field (or the reverse) would be lost on the way to the child."""
    import argparse

    (commands,) = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    dests = {a.dest for a in commands.choices["bench"]._actions if a.dest != "help"}
    assert dests == set(BenchRequest.__dataclass_fields__) - {
        "quiet",
        "series_file",
    }  # quiet: the top-level -q; series_file: the parent sets it for its child


def test_old_fault_flags_are_aliases_of_fault() -> None:
    assert (
        _request("--plant", "crash:GOOG").fault
        == _request("--fault", "crash:GOOG").fault
        == Fault(kind=FaultKind.CRASH, symbol="GOOG")
    )
    assert _request("--inject-failure").fault == _request("--fault", "raise").fault == Fault(kind=FaultKind.RAISE)
    assert _request("--inject-failure", "0.3").fault == Fault(kind=FaultKind.RAISE, probability=0.3)
    assert _request("--stress", "spike").extreme == _request("--extreme", "spike").extreme == "spike"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("boom", "KIND must be one of"),
        ("crash@0.5", "only raise@P and slow@F take a number"),
        ("raise@x", "not a number"),
        ("raise@0", "must be in (0, 1]"),
        ("raise@nan", "must be in (0, 1]"),
    ],
)
def test_bad_fault_values_say_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=r"e\.g\.") as excinfo:
        Fault.parse(text)
    assert fragment in str(excinfo.value)


@pytest.mark.parametrize("text", ["raise", "raise@0.3", "raise@0.3:GOOG", "hang:EURUSD", "oom"])
def test_fault_text_gives_the_fault_back(text: str) -> None:
    assert Fault.parse(Fault.parse(text).text()) == Fault.parse(text)


def test_a_spec_file_of_another_kind_is_an_input_error_naming_it() -> None:
    for text in ("{}", "not json", '{"format": 1, "request": {"mode": "eager"}}', '{"format": 99, "request": {}}'):
        with pytest.raises(InputError, match=r"spec\.json: not a bench spec"):
            BenchRequest.from_json(text, source="spec.json")


def _check(gate: GateKind, *kinds: str) -> Check:
    findings = tuple(Finding(key=None, metric="m", current=1.0, baseline=1.0, kind=FindingKind(k), message="") for k in kinds)  # type: ignore[arg-type]
    return Check(match=Match(kind=gate, baseline=None), findings=findings)


@pytest.mark.parametrize(
    ("checks", "missing", "strict", "fail_on_improvement", "expected"),
    [
        ([_check(GateKind.FULL, "holds", "swing", "info")], 0, True, False, ExitCode.OK),
        ([_check(GateKind.FULL, "regression")], 0, False, False, ExitCode.REGRESSION),
        ([_check(GateKind.UPGRADE, "improvement")], 0, False, False, ExitCode.OK),
        ([_check(GateKind.UPGRADE, "improvement")], 0, False, True, ExitCode.REGRESSION),
        ([_check(GateKind.NEW)], 0, False, False, ExitCode.OK),
        ([_check(GateKind.NEW)], 0, True, False, ExitCode.USAGE),
        ([_check(GateKind.FULL, "holds")], 1, True, False, ExitCode.USAGE),
        ([_check(GateKind.NEW, "regression")], 1, True, False, ExitCode.REGRESSION),  # a regression outranks --strict
    ],
)
def test_exit_code_of_a_tally(
    checks: list[Check], missing: int, strict: bool, fail_on_improvement: bool, expected: ExitCode
) -> None:
    assert (
        exit_code(tally(len(checks), checks, missing=missing), strict=strict, fail_on_improvement=fail_on_improvement) is expected
    )


def test_tally_counts_each_kind_and_gate() -> None:
    result = tally(
        3,
        [_check(GateKind.FULL, "regression", "flaky"), _check(GateKind.PORTABLE, "swing", "swing"), _check(GateKind.NEW)],
        missing=2,
    )
    assert result == Tally(
        comparisons=3, regressions=1, flaky=1, swings=2, missing=2, gates=(GateKind.FULL, GateKind.PORTABLE, GateKind.NEW)
    )
    assert result.line().startswith(
        "3 comparison(s): 1 regression(s), 0 improvement(s), 1 flaky, 2 host swing(s), 0 host noisy, 0 not judged, 1 new, 2 missing"
    )


def test_spec_paths_are_paths() -> None:
    request = BenchRequest.from_json(_request("--results-dir", "out").to_json(), source="s")
    assert request.results_dir == Path("out") and isinstance(request.data_dir, Path)


def test_an_isolated_child_gets_the_series_its_parent_read_not_the_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    import pandas as pd

    from harness.bench import benching, isolation
    from harness.bench.isolation import ChildResult
    from harness.bench.request import plan, result_name

    root = Path(__file__).resolve().parents[2]
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(root / "trainingdata" / "BTCUSD.csv", data / "BTCUSD.csv")
    request = BenchRequest(
        mode="eager", model="tiny", rows=60, data_dir=data, hyperparams_dir=root / "hyperparams", results_dir=tmp_path / "r"
    )
    (spec,) = plan(request)
    seen: list[object] = []

    def child(argv: list[str], **_: object) -> ChildResult:
        (data / "BTCUSD.csv").unlink()  # the child must not need the file: its parent parsed it
        child_request = BenchRequest.from_json(Path(argv[-1]).read_text(), source=argv[-1])
        (child_spec,) = plan(child_request)
        seen.append(child_request.series_file)
        pd.testing.assert_frame_equal(child_spec.window.context, spec.window.context, check_exact=True)
        assert (child_spec.series.path, child_spec.series.sha256) == (spec.series.path, spec.series.sha256)
        assert child_spec.window.truth_close.tolist() == spec.window.truth_close.tolist()
        assert len(child_spec.series.frame) < len(spec.series.frame)  # the part it uses, not the whole history
        return ChildResult(status="fail_crash", returncode=-9, error_type="SIGKILL", message="", stderr_tail="", seconds=0.0)

    monkeypatch.setattr(isolation, "run_child", child)
    record = benching._isolated(request, spec, result_name(spec))
    assert record is not None and record.data_sha256 == spec.series.sha256
    assert seen and seen[0] is not None and not Path(str(seen[0])).exists()  # the scratch folder is gone
