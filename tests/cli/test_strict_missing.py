"""`compare --strict` names every baseline of this machine that got no result: a whole symbol, a whole torch version
(the review's reproduction: a GOOG baseline with BTCUSD-only results said "0 missing" and exited 0)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli.main import main
from harness.results.store import write_records
from tests.factories import real_session, record_baselines


def test_a_symbol_that_stops_producing_results_fails_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorded, today, baselines = tmp_path / "recorded", tmp_path / "today", tmp_path / "baselines"
    write_records([*real_session("BTCUSD"), *real_session("GOOG")], recorded, name="session")
    record_baselines(recorded, baselines)
    write_records(list(real_session("BTCUSD")), today, name="session")  # GOOG is gone
    capsys.readouterr()
    argv = ["compare", "--results-dir", str(today), "--baselines-dir", str(baselines)]
    assert main(argv) == 0  # without --strict: said, not failed
    assert "GOOG" in capsys.readouterr().out
    assert main([*argv, "--strict"]) == 2  # the README: --strict with a new or missing key exits 2
    out = capsys.readouterr().out
    missing = [line for line in out.splitlines() if line.startswith("missing: ")]
    assert len(missing) == 1 and "GOOG" in missing[0], out
