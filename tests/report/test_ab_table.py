"""harness.report.ab_table: the A/B verdict as a table and as JSON that machines can rely on."""

from __future__ import annotations

import json
import math

from harness.bench.abba import Pair, ProcessTiming
from harness.gate.pairs import ABTolerances, ABVerdict, judge_ab
from harness.report.ab_table import JSON_FORMAT, as_json, render

STACK = {"stack": "transformers==5.24.0", "kind": "pins", "harness_commit": "abc", "packages": {"transformers": "5.24.0"}}


def _verdict(head_factor: float, *, pairs: int = 4, nan_mae: bool = False) -> ABVerdict:
    def process(compiled: float) -> ProcessTiming:
        return ProcessTiming(eager_s=0.02, compiled_s=compiled, speedup=0.02 / compiled, reference_s=2e-3)

    made = [Pair(base=process(0.016), head=process(0.016 * head_factor * (1 + i / 1000))) for i in range(pairs)]
    return judge_ab(
        made,
        base_mae=[100.0] * pairs,
        head_mae=[math.nan if nan_mae else 100.0] * pairs,
        head_drift=[False] * pairs,
        failed={"base": 0, "head": 0},
        processes={"base": pairs, "head": pairs},
        changes=["transformers 5.24.0 → 5.25.0"],
        pairs_planned=pairs,
        tolerances=ABTolerances(),
    )


def test_the_json_holds_the_same_verdict_as_the_table() -> None:
    for factor, expected in ((1.0, "holds"), (1.3, "regression")):
        verdict = _verdict(factor)
        document = as_json(verdict, base=STACK, head=STACK, exit_code=1 if expected == "regression" else 0)
        parsed = json.loads(json.dumps(document, allow_nan=False))  # strict JSON: no NaN anywhere
        assert parsed["format"] == JSON_FORMAT and parsed["kind"] == "ab" and parsed["verdict"] == expected
        assert parsed["changes"] == ["transformers 5.24.0 → 5.25.0"] and parsed["base"] == STACK
        assert set(parsed["pairs"]) == {"planned", "used", "dropped_host_moved"}
        metrics = {f["metric"]: f for f in parsed["findings"]}
        assert list(metrics) == ["eager.latency_s", "compiled.latency_s", "speedup", "compiled.mae", "success", "compiled.drift"]
        assert all(set(f) == {"metric", "base", "head", "ratio", "interval", "verdict", "message"} for f in parsed["findings"])
        table = render(verdict, base="transformers==5.24.0", head="transformers==5.25.0")
        assert ("ab: REGRESSION" in table) == (expected == "regression")
        for name, finding in metrics.items():
            assert any(line.split()[:1] == [name] and line.rstrip().endswith(finding["verdict"]) for line in table.splitlines())


def test_a_nan_is_null_in_json_and_undecided_in_both() -> None:
    verdict = _verdict(1.0, nan_mae=True)
    parsed = json.loads(json.dumps(as_json(verdict, base=STACK, head=STACK, exit_code=1), allow_nan=False))
    mae = next(f for f in parsed["findings"] if f["metric"] == "compiled.mae")
    assert mae["head"] is None and mae["ratio"] is None and mae["verdict"] == "undecided" and parsed["verdict"] == "regression"
