"""The configuration search: every configuration reachable and keyed apart, the search table's figures (break-even,
precompiled starts, share of the floor), reduced precision judged against its own eager and on rolling windows."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from harness.bench.configs import CONFIG_FLAGS, CONFIGS, SETS, expand, name_of
from harness.bench.limits import floor_share
from harness.bench.request import BenchRequest
from harness.bench.starts import kinds_for
from harness.cli.main import main
from harness.gate.comparison import Comparison, compare_pair
from harness.gate.picking import pick_best
from harness.report.search_table import (
    HEADER,
    best_lines,
    best_start,
    break_even,
    cells,
    format_table,
    search_row,
    search_rows,
    start_text,
)
from harness.results.keys import compile_config, key_of
from harness.results.schema import RunRecord
from harness.rules.recommend import Recommendation, recommend
from tests.factories import make_record

EAGER = [0.20] * 10
FAST = [0.10] * 10  # compiled twice as fast: 0.10 s saved per call


def compiled(config: str = "default", **overrides: object) -> RunRecord:
    settings = BenchRequest(mode="compiled", **CONFIGS[config]).compile_settings()  # type: ignore[arg-type]
    fields = {
        **settings.columns(),
        "latencies": FAST,
        "paired_eager_latencies_s": EAGER,
        "compile_s": 50.0,
        "drift_max_abs": 1e-4,
        "drift_tolerance_abs": 1e-3,
        "run_id": f"run-{config}",
    }
    fields.update(overrides)
    return make_record("compiled", **fields)


def compare(config: str = "default", **overrides: object) -> Comparison:
    record = compiled(config, **overrides)
    return compare_pair(key_of(record), make_record("eager", latencies=EAGER), record)


def test_every_configuration_is_reachable_from_the_bench_flags_and_refused_after_a_sweep() -> None:
    from harness.cli.parser import build

    commands = build()._subparsers._group_actions[0]  # type: ignore[union-attr]
    bench = commands.choices["bench"]  # type: ignore[index]
    flags = {option for action in bench._actions for option in action.option_strings}
    for settings in CONFIGS.values():
        BenchRequest(mode="compiled", **settings).compile_settings()  # type: ignore[arg-type]  # every field exists
    assert set(CONFIG_FLAGS) <= flags and "--compile-scope" in CONFIG_FLAGS  # each a real bench flag
    assert expand("search") == list(SETS["search"])


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--gemm-backends", "CPP,ATEN"], "--gemm-backends CPP,ATEN: inductor autotunes GEMM backends only with max-autotune"),
        (["--compile-scope", "aot-encoder", "--backend", "eager"], "--compile-scope aot-encoder: --backend do(es) not apply"),
        (["--mode", "eager", "--omp-bind", "close"], "--omp-bind: binds the compiled run's process"),
    ],
)
def test_a_setting_that_would_not_apply_is_a_one_line_error(
    flags: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mode = [] if "--mode" in flags else ["--mode", "compiled"]
    assert main(["bench", *mode, *flags, "--model", "tiny", "--results-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0] and "fix:" in err[0]
    assert not list(tmp_path.glob("*.parquet"))


@pytest.mark.parametrize(
    "text",
    [
        "{",
        "[]",
        '{"format": 1, "kind": "disk"}',
        '{"format": 1, "kind": "aot", "request": "", "cache_dir": "", "artifacts": "", "package": "", "out": ""}',
    ],
)
def test_a_bad_start_probe_file_is_a_one_line_error(text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    probe = tmp_path / "probe.json"
    probe.write_text(text)
    assert main(["start-probe", str(probe)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(probe) in err[0] and "not a start probe" in err[0] and "fix:" in err[0]


def test_every_configuration_gets_its_own_key_and_is_named_back() -> None:
    labels = [compile_config(compiled(name)) for name in CONFIGS]
    assert len(set(labels)) == len(labels)
    assert [name_of(label) for label in labels] == list(CONFIGS)
    assert name_of("mode=default,backend=inductor,dynamic=auto,attn=eager,threads=3").endswith("threads=3")  # unknown: as is
    assert "scope=encoder" in compile_config(compiled("encoder"))
    assert "gemm=CPP,ATEN" in compile_config(compiled("freezing-cpp-gemm"))
    # the whole-model default keeps the label older baselines were recorded under
    assert compile_config(compiled("default")) == "mode=default,backend=inductor,dynamic=auto,attn=eager"


def test_break_even_is_start_cost_over_time_saved_per_call() -> None:
    comparison = compare(start_warm_disk_s=8.0, start_precompiled_s=2.0, precompiled_kind="cache artifacts")
    assert break_even(50.0, comparison.compiled) == pytest.approx(500.0)
    assert best_start(comparison.compiled) == (2.0, "cache artifacts")
    row = search_row(comparison)
    assert row.break_even_cold == pytest.approx(500.0) and row.break_even_start == pytest.approx(20.0)
    assert "500 predictions cold (compile 50.0 s), 20 from cache artifacts (2.0 s)" in start_text(comparison)


def test_a_slower_compiled_model_never_breaks_even() -> None:
    comparison = compare(latencies=[0.30] * 10, start_warm_disk_s=1.0)
    assert break_even(50.0, comparison.compiled) is None
    assert cells(search_row(comparison))[HEADER.index("break-even cold / start")] == "never / never"


def test_starts_not_measured_say_so() -> None:
    comparison = compare()
    assert best_start(comparison.compiled) is None
    assert "precompiled starts not measured" in start_text(comparison)
    assert kinds_for("aot-encoder") == ("aot",) and kinds_for("model") == ("disk", "artifacts")


def test_floor_share_is_flops_at_matmul_speed_over_latency() -> None:
    assert floor_share(20e9, 200.0, 0.2) == pytest.approx(0.5)  # 0.1 s of matmul in a 0.2 s prediction
    for bad in (None, 0.0, -1.0, math.nan, math.inf):
        assert floor_share(bad, 200.0, 0.2) is None
        assert floor_share(20e9, bad, 0.2) is None
        assert floor_share(20e9, 200.0, bad) is None
    row = search_row(compare(flops_per_prediction=20e9, matmul_gflops=400.0, matmul_gflops_compiled=400.0))
    assert row.floor_eager == pytest.approx(0.25) and row.floor_compiled == pytest.approx(0.5)


def test_the_floor_of_a_table_is_the_best_throughput_its_machine_measured() -> None:
    slow_measure = compare(flops_per_prediction=20e9, matmul_gflops=200.0, matmul_gflops_compiled=200.0, run_id="a")
    fast_measure = compare("freezing", flops_per_prediction=20e9, matmul_gflops=400.0, matmul_gflops_compiled=math.nan)
    alone = search_row(slow_measure)
    assert alone.floor_compiled == pytest.approx(1.0)  # its own (MKL-only) measurement: compiled "at" the floor
    rows = {row.config: row for row in search_rows([slow_measure, fast_measure])}
    assert rows["default"].floor_compiled == pytest.approx(0.5)  # against the machine's best: half of it
    assert rows["freezing"].floor_eager == pytest.approx(0.25)  # a NaN measurement never raises the floor


def test_a_share_over_the_floor_is_flagged_and_bf16_beyond_float32s_floor_is_named_the_dtypes_gain() -> None:
    column = HEADER.index("floor eager / compiled")
    # float32 at 400 GFLOP/s: a 20 GFLOP prediction takes 50 ms at the floor; bf16 floor 1,000 GFLOP/s: 20 ms
    bf16 = compare("bf16", latencies=[0.045] * 10, flops_per_prediction=20e9, matmul_gflops=400.0, matmul_gflops_compiled=1000.0)
    row = search_row(bf16)
    assert row.floor_compiled == pytest.approx(20 / 45) and row.floor_compiled_float32 == pytest.approx(50 / 45)
    assert "111% of float32's: beyond any float32 code, the dtype's gain" in cells(row)[column]
    over = search_row(
        compare(latencies=[0.04] * 10, flops_per_prediction=20e9, matmul_gflops=400.0, matmul_gflops_compiled=400.0)
    )
    assert "125% (over the measured floor)" in cells(over)[column]


def test_bf16_is_judged_against_bf16_eager_and_on_rolling_windows() -> None:
    adopt = dict(compiled_success_rate=1.0, speedup=2.0, mae_diff=0.2, speedup_ci=(1.9, 2.1), precision="bfloat16")
    verdict, reason = recommend(**adopt, precision_mae_diff=0.5, precision_windows=20)  # type: ignore[arg-type]
    assert verdict is Recommendation.ADOPT and "in bfloat16" in reason and "20 rolling windows" in reason
    verdict, reason = recommend(**adopt, precision_mae_diff=2.5, precision_windows=20)  # type: ignore[arg-type]
    assert verdict is Recommendation.REJECT_ACCURACY and "+2.50%" in reason
    verdict, _ = recommend(**adopt, precision_mae_diff=math.nan, precision_windows=20)  # type: ignore[arg-type]
    assert verdict is Recommendation.REJECT_ACCURACY  # a NaN never passes
    verdict, _ = recommend(**adopt, precision_mae_diff=None, precision_windows=0)  # type: ignore[arg-type]
    assert verdict is Recommendation.INCOMPLETE
    verdict, _ = recommend(**adopt, precision_mae_diff=0.5, precision_windows=20, drift=(3.0, 1.0))  # type: ignore[arg-type]
    assert verdict is Recommendation.REJECT_ACCURACY  # compiling itself moved the numbers beyond bf16's own noise
    verdict, reason = recommend(**{**adopt, "mae_diff": 5.0}, precision_mae_diff=0.5, precision_windows=20)  # type: ignore[arg-type]
    assert verdict is Recommendation.REJECT_ACCURACY and "+5.00%" in reason  # the compiled model's own MAE still counts


def test_float32_keeps_the_seven_step_mae_rule() -> None:
    verdict, _ = recommend(compiled_success_rate=1.0, speedup=2.0, mae_diff=5.0, speedup_ci=(1.9, 2.1))
    assert verdict is Recommendation.REJECT_ACCURACY


def test_the_best_configuration_passes_every_gate_and_the_table_lists_all() -> None:
    bf16 = compare(
        "bf16",
        latencies=[0.08] * 10,
        precision_mae_diff_pct=0.3,
        precision_windows=20,
        drift_reference="bfloat16 eager",
        run_id="run-bf16",
    )
    drifting = compare("freezing", latencies=[0.05] * 10, drift_max_abs=1.0, run_id="run-freezing")
    plain = compare("default")
    picks = pick_best([plain, drifting, bf16])
    assert len(picks) == 1 and picks[0].best is bf16 and picks[0].passing == 2
    assert picks[0].best_float32 is plain  # for a user who keeps float32
    assert bf16.recommendation is Recommendation.ADOPT and "bfloat16" in bf16.reason
    table = format_table([search_row(c) for c in picks[0].members])
    lines = table.splitlines()
    assert len(lines) == 4 and lines[1].lstrip().startswith("freezing ")  # fastest first, rejected or not; by name
    assert "vs bfloat16 eager" in table and "reject compiled: forecasts differ" in table
    assert "+0.30% (20 windows, bfloat16)" in table
    best, full = best_lines(picks[0])
    assert best.startswith("Best configuration: bf16, speedup 2.50x") and "2 of 3 pass every gate" in best
    assert full.startswith("Best in float32: default, speedup 2.00x")
    assert best_lines(pick_best([drifting, compare("sdpa", drift_max_abs=1.0)])[0]) == [
        "Best configuration: none of 2 passes every gate: keep eager."
    ]


def test_an_across_session_ratio_outside_the_interleaved_interval_is_flagged() -> None:
    import dataclasses

    from harness.report.display import format_comparison, sessions_disagree

    comparison = compare()  # interleaved 2.00x, and its sessions agree (eager 0.20 / compiled 0.10)
    assert comparison.session_speedup == pytest.approx(2.0) and not sessions_disagree(comparison)
    assert "outside the interleaved interval" not in format_comparison(comparison)
    swung = dataclasses.replace(comparison, session_speedup=2.45)  # the H200's reduce-overhead case: 2.45x vs 1.79x
    assert sessions_disagree(swung)
    assert "across sessions 2.45x (outside the interleaved interval" in format_comparison(swung)
    assert not sessions_disagree(dataclasses.replace(comparison, session_speedup=float("nan")))  # a NaN is not a finding


def test_the_floor_is_the_models_own_gemms_where_measured_the_lowest_of_the_group() -> None:
    column = HEADER.index("floor eager / compiled")
    # eager partner 200 ms, compiled 100 ms (compiled()'s defaults); GEMMs at their best: 20 ms, or 30 ms in a slower run
    fast = compare(flops_per_prediction=20e9, matmul_gflops=400.0, gemm_floor_s=0.020, gemm_floor_compiled_s=0.020)
    slow = compare("freezing", flops_per_prediction=20e9, matmul_gflops=400.0, gemm_floor_s=0.030, gemm_floor_compiled_s=math.nan)
    rows = {row.config: row for row in search_rows([fast, slow])}
    assert rows["freezing"].floor_kind == "model GEMMs" and rows["freezing"].floor_eager == pytest.approx(0.1)
    assert rows["default"].floor_compiled == pytest.approx(0.2)  # not the square matmul's 20e9 / 400e9 / 0.1 = 50%
    assert "(square matmul)" not in cells(rows["default"])[column]
    older = search_row(compare(flops_per_prediction=20e9, matmul_gflops=400.0, matmul_gflops_compiled=400.0))
    assert older.floor_kind == "square matmul" and cells(older)[column] == "25% / 50% (square matmul)"


def test_other_shapes_and_many_series_read_as_calls_that_ran_and_a_throughput_gain() -> None:
    shapes, many = HEADER.index("other shapes"), HEADER.index("many series")
    package = search_row(
        compare(
            "aot-encoder",
            shape_variants=["context-16", "context-32", "series-16"],
            shape_variant_s=[math.nan] * 3,
            batch_series=16,
            batch_eager_s=0.8,
        )
    )
    assert cells(package)[shapes] == "0 of 3 ran (fixed shapes)" and cells(package)[many] == "16 a call: failed"
    dynamic = search_row(compare(shape_variant_s=[0.2, 0.1, math.nan], batch_series=16, batch_eager_s=0.8, batch_compiled_s=0.5))
    assert cells(dynamic)[shapes] == "2 of 3 ran" and cells(dynamic)[many] == "16 a call: 1.60x"
    bf16 = search_row(compare("bf16", batch_series=16, batch_eager_s=0.8, batch_compiled_s=0.4))
    assert cells(bf16)[many] == "16 a call: 2.00x vs float32 eager"  # the dtype's gain is in it, and it says so
    assert cells(search_row(compare()))[shapes] == cells(search_row(compare()))[many] == "-"  # not measured
