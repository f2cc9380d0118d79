"""One CSV row per process of every calibration run (its medians and machine reference), from the result rows
collect.sh copied: calibration-data/ab/<machine>/rows-<stamp>/*.parquet -> <machine>/processes.csv (merged with
the rows already there).
Run from the repository root: python calibration-data/ab/processes.py calibration-data/ab/<machine>"""

from __future__ import annotations

import csv
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, ".")
from harness.results.store import read_file


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main(out_dir: Path) -> int:
    rows = []
    for folder in sorted(out_dir.glob("rows-*")):
        stamp = folder.name.removeprefix("rows-")
        kind = "planted" if (out_dir / f"planted-{stamp}.json").exists() else "aa"
        for path in sorted(folder.glob("*.parquet")):
            for record in read_file(path):
                found = re.search(r"-(\d{3})-(base|head)$", record.run_id)
                if found is None:
                    continue
                position, side = int(found.group(1)), found.group(2)
                eager, compiled = median(record.paired_eager_latencies_s), median(record.latencies_s)
                rows.append(
                    {
                        "run": stamp,
                        "kind": kind,
                        "position": position,
                        "pair": position // 2,  # ABBA: a pair is two consecutive processes
                        "side": side,
                        "status": record.status,
                        "eager_s": f"{eager:.6f}",
                        "compiled_s": f"{compiled:.6f}",
                        "speedup": f"{eager / compiled:.5f}",
                        "reference_s": f"{median(record.reference_s):.6f}",
                        "mae": record.mae,
                        "cpu_model": record.cpu_model,
                        "torch": record.torch_version,
                    }
                )
    if not rows:
        print(f"{out_dir}: no rows-*/ result rows to convert", file=sys.stderr)
        return 2
    target = out_dir / "processes.csv"
    if target.exists():  # keep the rows of earlier collections; a run converted again replaces its own rows
        converted = {row["run"] for row in rows}
        with target.open(newline="", encoding="utf-8") as handle:
            kept = [row for row in csv.DictReader(handle) if row["run"] not in converted]
        rows = sorted(kept + rows, key=lambda row: (row["run"], int(row["position"])))
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{out_dir / 'processes.csv'}: {len(rows)} processes")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
