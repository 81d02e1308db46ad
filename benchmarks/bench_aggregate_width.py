"""In-database aggregation at CellProfiler width: ours against one plain SQL GROUP BY, in the same run.

Writes N cells x F features (default 100,000 x 1,700: one plate's three
compartments) into a SQLite file, then times
  * ours: rs.aggregate(SQLiteTable(...), features, [plate, well], "mean") (rpy2 -> rosettabridge -> SQLite);
  * the floor: the same GROUP BY with one AVG per feature, sent by Python's sqlite3;
  * cytominer::aggregate's own route, timed on --cytominer-features features and
    extrapolated (its query is built feature by feature, ~30 ms each);
and prints the ratio of ours to the floor (target: <= 3).

    .venv/bin/python benchmarks/bench_aggregate_width.py [--cells 100000] [--features 1700]
"""
from __future__ import annotations

import argparse
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import rosetta_stats as rs

R_ROUTE = """
suppressPackageStartupMessages({{library(dplyr)}})
con <- DBI::dbConnect(RSQLite::SQLite(), "{path}", flags = RSQLite::SQLITE_RO)
vars <- paste0("Cells_f", seq_len({k}))
elapsed <- system.time(x <- cytominer::aggregate(tbl(con, "cells"), vars, c("Metadata_Plate", "Metadata_Well")) %>%
  collect())[["elapsed"]]
cat(elapsed)
"""


def build(path: Path, cells: int, features: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    names = [f"Cells_f{i}" for i in range(features)]
    with sqlite3.connect(path) as con:
        columns = ", ".join(['"Metadata_Plate" TEXT', '"Metadata_Well" TEXT'] + [f'"{n}" REAL' for n in names])
        con.execute(f"CREATE TABLE cells ({columns})")
        placeholders = ", ".join(["?"] * (features + 2))
        for start in range(0, cells, 5000):
            n = min(5000, cells - start)
            wells = [f"{'ABCDEFGHIJKLMNOP'[i % 16]}{i % 24 + 1:02d}" for i in rng.integers(0, 384, n)]
            block = rng.normal(size=(n, features))
            con.executemany(f"INSERT INTO cells VALUES ({placeholders})",
                            [("P1", w, *row) for w, row in zip(wells, block.tolist())])
    return names


def best(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=1_700)
    parser.add_argument("--cytominer-features", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cells.sqlite"
        start = time.perf_counter()
        names = build(path, args.cells, args.features)
        print(f"wrote {args.cells:,} cells x {args.features:,} features in {time.perf_counter() - start:.1f} s")
        table = rs.SQLiteTable(path, "cells")
        strata = ["Metadata_Plate", "Metadata_Well"]
        ours_result = {}
        ours = best(lambda: ours_result.setdefault("wells", rs.aggregate(table, names, strata, "mean")), args.repeats)
        sql = ("SELECT Metadata_Plate, Metadata_Well, " + ", ".join(f'AVG("{n}") AS "{n}"' for n in names)
               + " FROM cells GROUP BY Metadata_Plate, Metadata_Well")

        def floor():
            with sqlite3.connect(path) as con:
                return pd.read_sql_query(sql, con)

        floor_time = best(floor, args.repeats)
        plain = floor().sort_values("Metadata_Well").reset_index(drop=True)
        wells = ours_result["wells"].sort_values("Metadata_Well").reset_index(drop=True)
        difference = float(np.abs(wells[names].to_numpy() - plain[names].to_numpy()).max())
        route = subprocess.run(["Rscript", "-e", R_ROUTE.format(path=path, k=args.cytominer_features)],
                               capture_output=True, text=True)
        per_feature = float(route.stdout.strip() or "nan") / args.cytominer_features
        print(f"ours (rosetta_stats, one statement in SQLite):  {ours:8.2f} s")
        print(f"floor (plain SQL GROUP BY via sqlite3):         {floor_time:8.2f} s")
        print(f"cytominer::aggregate route, extrapolated:       {per_feature * args.features:8.2f} s "
              f"({per_feature * 1000:.0f} ms per feature)")
        print(f"ratio ours / floor: {ours / floor_time:.2f} (target <= 3); max |difference| {difference:.2e}")
        print("target holds" if ours / floor_time <= 3 else "target missed")


if __name__ == "__main__":
    main()
