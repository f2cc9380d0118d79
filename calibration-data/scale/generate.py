"""Write the inputs the scale figures of docs/faults.md were measured on.

    python calibration-data/scale/generate.py OUT [--files 5000] [--csv-rows 2000000]

- ``OUT/results/``: ``--files`` result files, each one real row of ``calibration-data/tune/2026-11-26-sessions.parquet``
  (each compiled run and the eager run before it, in turn), re-dated two hours apart and spread over 5 symbols, one
  eager and one compiled file a run, as a nightly would leave them;
- ``OUT/data/BIG.csv``: ``--csv-rows`` minute rows of a random-walk OHLC series with volume, ISO timestamps.

Then, with the harness's environment:

    /usr/bin/time -v python -m harness report --results-dir OUT/results --output OUT/report
    /usr/bin/time -v python -m harness compare --results-dir OUT/results --baselines-dir OUT/none
    /usr/bin/time -v python -c "from pathlib import Path; from harness.data.window import load_ohlc; load_ohlc(Path('OUT/data'), 'BIG')"
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SESSIONS = Path(__file__).resolve().parents[1] / "tune" / "2026-11-26-sessions.parquet"
SYMBOLS = ("BTCUSD", "ETHUSD", "SOLUSD", "AAPL", "MSFT")


def results(out: Path, files: int) -> None:
    table = pq.read_table(SESSIONS)
    rows = table.to_pylist()
    pairs, last_eager = [], {}
    for row in sorted(rows, key=lambda r: r["timestamp_utc"]):  # each compiled run with the symbol's eager run before it
        if row["mode"] == "eager":
            last_eager[row["symbol"]] = row
        elif row["symbol"] in last_eager:
            pairs.append((last_eager[row["symbol"]], row))
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    out.mkdir(parents=True, exist_ok=True)
    for run in range(files // 2):
        when = start + dt.timedelta(hours=2 * run)
        symbol = SYMBOLS[run % len(SYMBOLS)]
        run_id = f"{when:%Y%m%dT%H%M%S}Z-{run:08x}"
        for offset, row in enumerate(pairs[run % len(pairs)]):
            stamp = (when + dt.timedelta(seconds=30 * offset)).isoformat()
            written = {**row, "run_id": run_id, "timestamp_utc": stamp, "symbol": symbol}
            pq.write_table(pa.Table.from_pylist([written], schema=table.schema), out / f"{run_id}-{symbol}-{row['mode']}.parquet")


def csv(path: Path, rows: int) -> None:
    import pandas as pd

    rng = np.random.default_rng(0)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 1e-3, rows)))
    opened = close * np.exp(rng.normal(0, 5e-4, rows))
    spread = np.abs(rng.normal(0, 5e-4, rows))
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "Date": pd.date_range("2021-01-01", periods=rows, freq="min").strftime("%Y-%m-%d %H:%M:%S"),
            "open": opened,
            "high": np.maximum(opened, close) * (1 + spread),
            "low": np.minimum(opened, close) * (1 - spread),
            "close": close,
            "volume": rng.uniform(1, 1000, rows),
        }
    ).to_csv(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--csv-rows", type=int, default=2_000_000)
    args = parser.parse_args()
    results(args.out / "results", args.files)
    csv(args.out / "data" / "BIG.csv", args.csv_rows)
    print(f"wrote {args.files} result files and a {args.csv_rows}-row CSV under {args.out}")


if __name__ == "__main__":
    main()
