"""The upgrade table orders torch versions as PEP 440 does (issue: 2.14.0rc1 read as 2.14.1, .dev after its release)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli.compare import version_order
from harness.cli.main import main
from harness.results.store import write_records
from tests.factories import real_session, replace


def test_release_candidates_and_nightlies_sort_before_their_release() -> None:
    versions = ["2.14.1", "2.14.0+cpu", "2.14.0rc1", "2.14.0.dev20260101+cpu", "2.13.0+cpu", "2.14.0", "not-a-version"]
    assert sorted(versions, key=version_order) == [
        "2.13.0+cpu",
        "2.14.0.dev20260101+cpu",
        "2.14.0rc1",
        "2.14.0",
        "2.14.0+cpu",
        "2.14.1",
        "not-a-version",
    ]


@pytest.mark.parametrize(("older", "newer"), [("2.14.0rc1", "2.14.0"), ("2.14.0.dev20260101", "2.14.0")])
def test_the_upgrade_table_pairs_a_pre_release_before_its_release(
    older: str, newer: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    eager, compiled = real_session()
    rows = []
    for version in (newer, older):  # written newest first: the order must come from the versions
        stamp = f"-{version}"
        rows += [
            replace(eager, torch_version=version, run_id=eager.run_id + stamp),
            replace(compiled, torch_version=version, run_id=compiled.run_id + stamp),
        ]
    write_records(rows, tmp_path / "results", name="rows")
    main(["compare", "--results-dir", str(tmp_path / "results"), "--baselines-dir", str(tmp_path / "none")])
    out = capsys.readouterr().out
    assert f"upgrade torch {older} → {newer}" in out, out
