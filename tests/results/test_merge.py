"""Results from many machines or CI jobs merged into one directory: compare and report keep each machine and software apart.

The two "machines" are hand-made runs that differ only in torch's thread count, which puts them on two device keys, as
two CI runners would be (a real bench's records are tested end to end in tests/test_end_to_end.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from harness.cli.main import main
from harness.gate.baseline_files import load_baselines
from harness.gate.comparison import build_comparisons
from harness.results.keys import environment_of
from harness.results.schema import RunRecord
from harness.results.store import read_records, write_records
from tests.factories import make_record, replace

LATENCIES = [0.10, 0.11, 0.10, 0.12, 0.10]


def machine(name: str, threads: int, *, slower: float = 1.0, when: str = "2026-11-25T03:00:00+00:00") -> list[RunRecord]:
    """One bench job's GOOG runs on a machine with `threads` torch threads: eager, then compiled at 1.25x, or `slower`."""
    common: dict[str, Any] = {"symbol": "GOOG", "torch_threads": threads, "timestamp_utc": when}
    eager = make_record("eager", run_id=f"{name}-eager", latencies=LATENCIES, **common)
    compiled = make_record(
        "compiled",
        run_id=f"{name}-compiled",
        latencies=[x / 1.25 * slower for x in LATENCIES],
        paired_eager_latencies_s=LATENCIES,
        **common,
    )
    return [eager, compiled]


def test_merge_compare_and_report_over_two_machines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    merged = tmp_path / "merged"  # what the nightly's final job downloads: one folder per bench job
    write_records(machine("a", threads=2), merged / "results-machine-a", name="runs")
    write_records(machine("b", threads=1), merged / "results-machine-b", name="runs")

    records = read_records(merged)
    assert len(records) == 4 and {r.status for r in records} == {"pass"}
    threads = {path.parent.name: read_records(path.parent)[0].torch_threads for path in merged.rglob("*.parquet")}
    assert threads == {"results-machine-a": 2, "results-machine-b": 1}

    comparisons, orphans = build_comparisons(records)
    assert len(comparisons) == 2 and not orphans
    by_device = {c.key.device: c for c in comparisons}
    assert set(by_device) == {"cpu:Test CPU x2", "cpu:Test CPU x1"}
    for record in records:  # each machine's eager run is paired with that machine's compiled run, never the other's
        if record.mode == "eager":
            paired = by_device[f"cpu:Test CPU x{record.torch_threads}"].eager
            assert paired is not None and paired.run_id == record.run_id

    baselines = tmp_path / "baselines"
    baselines.mkdir()
    dirs = ["--results-dir", str(merged), "--baselines-dir", str(baselines)]
    assert main(["-q", "compare", *dirs]) == 0
    out = capsys.readouterr().out
    assert (
        "2 comparison(s): 0 regression(s), 0 improvement(s), 0 flaky, 0 host swing(s), 0 host noisy, 0 not judged, 2 new, 0 missing"
        in out
    )
    assert out.count("GOOG · tiny") == 2

    # a baseline for each machine, from that machine's folder, then a planted regression on machine B only
    for name in ("a", "b"):
        assert (
            main(
                [
                    "-q",
                    "update-baselines",
                    "--reason",
                    f"machine {name}",
                    "--results-dir",
                    str(merged / f"results-machine-{name}"),
                    "--baselines-dir",
                    str(baselines),
                ]
            )
            == 0
        )
    assert main(["-q", "compare", *dirs]) == 0
    assert (
        "0 new, 0 missing · gates: 2 full, 0 upgrade, 0 portable" in capsys.readouterr().out
    )  # each machine against its own baseline
    write_records(
        machine("b-night-2", threads=1, slower=3.0, when="2099-01-01T00:00:00+00:00")[1:],
        merged / "results-machine-b-night-2",
        name="slow",
    )
    capsys.readouterr()
    assert main(["-q", "compare", *dirs]) == 1
    blocks = {
        block.split("\n")[1]: block for block in capsys.readouterr().out.split("GOOG · tiny")[1:]
    }  # one block per comparison
    machine_a, machine_b = (
        next(text for line, text in blocks.items() if f"{device} ·" in line) for device in ("cpu:Test CPU x2", "cpu:Test CPU x1")
    )
    assert "REGRESSION: compiled latency" in machine_b and "REGRESSION: speedup" in machine_b
    assert "REGRESSION" not in machine_a and "every gated metric within tolerance" in machine_a

    report = tmp_path / "report"
    assert main(["-q", "report", *dirs, "--output", str(report)]) == 0
    markdown = (report / "index.md").read_text()
    for device in by_device:
        assert f"· {device}" in markdown
    assert "Against the committed baselines: 1 regression, 1 holds." in markdown
    assert len(list(report.glob("trend-*.png"))) == 2


def test_update_baselines_writes_one_baseline_per_software_for_the_same_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the same settings measured with two chronos versions are two keys now (software is part of the key), so each gets
    # its own baseline instead of a refusal; compare then gates each against its own
    results = tmp_path / "merged"
    a = [make_record("eager"), make_record("compiled", paired_eager_latencies_s=[0.1] * 5)]
    b = [replace(r, chronos_version="2.4.0", run_id=r.run_id + "-b") for r in a]
    write_records(a, results / "a", name="a")
    write_records(b, results / "b", name="b")
    assert environment_of(a[1]) != environment_of(b[1])
    dirs = ["--results-dir", str(results), "--baselines-dir", str(tmp_path / "baselines")]
    assert main(["update-baselines", "--reason", "x", *dirs]) == 0
    assert "2 baseline(s) written, 0 refused" in capsys.readouterr().out
    written = load_baselines(tmp_path / "baselines")
    assert sorted(key.software.chronos for key in written) == ["2.3.2", "2.4.0"]
    assert len({(key.what, key.where) for key in written}) == 1
    assert main(["compare", *dirs]) == 0
    out = capsys.readouterr().out
    assert "0 new, 0 missing · gates: 2 full, 0 upgrade, 0 portable" in out
    assert "upgrade chronos 2.3.2 → 2.4.0" in out  # the two software versions of one machine, side by side (not gated)


def test_two_environments_with_one_key_are_two_comparisons_each_with_its_own_eager() -> None:
    a = [make_record("eager", run_id="a-eager", latencies=[0.2] * 5), make_record("compiled", run_id="a-compiled")]
    b = [
        replace(
            make_record("eager", run_id="b-eager", latencies=[0.4] * 5),
            transformers_version="5.30.0",
            timestamp_utc="2026-11-26T00:00:00+00:00",
        ),
        replace(make_record("compiled", run_id="b-compiled"), transformers_version="5.30.0"),
    ]
    comparisons, orphans = build_comparisons([*a, *b])
    assert not orphans and len(comparisons) == 2
    first, second = (c.key for c in comparisons)
    assert (first.what, first.where) == (second.what, second.where) and first.software.changes_from(second.software)
    pairs = {c.compiled.run_id: c.eager.run_id for c in comparisons if c.compiled and c.eager}
    assert pairs == {"a-compiled": "a-eager", "b-compiled": "b-eager"}  # before: the latest eager (b) was paired with both


def test_hive_partitioned_dataset_reads_with_its_partition_columns(tmp_path: Path) -> None:
    records = [
        make_record("eager", torch_version="2.13.0+cpu"),
        make_record("compiled", torch_version="2.14.1+cu130", run_id="c2"),
    ]
    plain = tmp_path / "plain"
    write_records(records, plain, name="runs")
    table = pq.read_table(plain / "runs.parquet")
    ds.write_dataset(
        table,
        tmp_path / "hive",
        format="parquet",
        partitioning=ds.partitioning(pa.schema([("torch_version", pa.string()), ("mode", pa.string())]), flavor="hive"),
    )
    files = sorted(p.relative_to(tmp_path / "hive").as_posix() for p in (tmp_path / "hive").rglob("*.parquet"))
    assert files[0].startswith("torch_version=2.13.0%2Bcpu/mode=eager/")  # the columns live in the path, not the file
    assert "torch_version" not in pq.read_schema(tmp_path / "hive" / files[0]).names
    assert sorted(read_records(tmp_path / "hive"), key=lambda r: r.run_id) == sorted(records, key=lambda r: r.run_id)


def test_a_run_copied_into_two_artifacts_is_read_once(tmp_path: Path) -> None:
    write_records([make_record("eager"), make_record("compiled")], tmp_path / "job-1", name="runs")
    shutil.copytree(tmp_path / "job-1", tmp_path / "job-1-again")
    assert len(read_records(tmp_path)) == 2
