"""The configuration matrix: sets, and the pick of the fastest configuration that passes every gate."""

from __future__ import annotations

from typing import Any

import pytest

from harness.bench.configs import CONFIGS, SETS, expand
from harness.gate.comparison import Comparison, compare_pair, summarize
from harness.gate.picking import pick_best
from harness.report.display import diagnostics
from harness.results.keys import key_of
from harness.rules.recommend import REJECTED, Recommendation
from tests.factories import make_record


def test_sets_name_only_known_configurations() -> None:
    for names in SETS.values():
        assert set(names) <= set(CONFIGS)
    assert expand("default")[0] == "default" and expand("full") == list(CONFIGS)


def test_expand_a_list_keeps_order_and_drops_repeats() -> None:
    assert expand("bf16, sdpa,bf16") == ["bf16", "sdpa"]


def test_expand_names_the_unknown() -> None:
    with pytest.raises(ValueError, match=r"unknown configuration.*warp-speed"):
        expand("default,warp-speed")


def _comparison(attn: str, compiled_s: float, **fields: Any) -> Comparison:
    eager = make_record("eager", latencies=[0.2] * 5)
    compiled = make_record(
        "compiled", latencies=[compiled_s] * 5, paired_eager_latencies_s=[0.2] * 5, attn_implementation=attn, **fields
    )
    return compare_pair(key_of(compiled), eager, compiled)


def test_pick_best_takes_the_fastest_that_passes_every_gate() -> None:
    fast_but_drifting = _comparison("sdpa", 0.05, drift_max_abs=1.0, drift_tolerance_abs=0.1)
    flaky = _comparison("eager", 0.06, n_flaky=1, compile_dynamic="false")
    good = _comparison("eager", 0.1)
    (pick,) = pick_best([fast_but_drifting, flaky, good])
    assert pick.best is good and pick.candidates == 3 and pick.passing == 1
    assert (
        fast_but_drifting.recommendation is Recommendation.REJECT_ACCURACY and flaky.recommendation is Recommendation.REJECT_FLAKY
    )
    assert {fast_but_drifting.recommendation, flaky.recommendation} <= set(REJECTED) and good.recommendation not in REJECTED


def test_pick_best_says_when_nothing_passes() -> None:
    (pick,) = pick_best([_comparison("sdpa", 0.05, drift_max_abs=1.0, drift_tolerance_abs=0.1)])
    assert pick.best is None and pick.passing == 0


def test_dtype_and_freezing_join_the_key_only_when_not_default() -> None:
    plain = key_of(make_record("compiled"))
    assert plain.compile_config == "mode=default,backend=inductor,dynamic=auto,attn=eager"  # older baselines keep their key
    assert key_of(make_record("compiled", dtype="bfloat16", compile_freezing=True)).compile_config.endswith(
        ",dtype=bfloat16,freezing=true"
    )
    assert key_of(make_record("eager")).compile_config == ""  # eager has no compile configuration: it is shared by every one


def test_diagnostics_line_reads_well() -> None:
    record = make_record(
        "compiled",
        compile_s=30.0,
        warm_compile_s=4.2,
        n_graphs=1,
        n_graph_breaks=0,
        n_recompiles=0,
        break_even_calls=3000.0,
        peak_rss_mb=812.0,
        graph_break_reasons=[],
    )
    line = diagnostics(summarize(record))
    assert (
        line
        == "compile cold 30.0 s, warm 4.2 s · 1 graph(s), 0 break(s), 0 recompile(s) · break-even after 3,000 predictions · peak RSS 812 MiB"
    )
    slower = make_record("compiled", compile_s=30.0, break_even_calls=None)
    assert "break-even never (not faster)" in diagnostics(summarize(slower))
