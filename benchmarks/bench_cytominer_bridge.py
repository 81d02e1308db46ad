"""Per-well aggregation of >= 1,000,000 simulated single cells stored in SQLite.

Compares rosetta_stats.bridge.cytominer.aggregate(SQLiteTable(...)) with the same
cytominer call in a plain Rscript, measured in this run, and prints both
times, their ratio, and the Python process's memory.

    .venv/bin/python benchmarks/bench_cytominer_bridge.py [--cells 1000000]
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import tempfile
import time
import tracemalloc
from pathlib import Path

from rosetta_stats.bridge import cytominer
from rosetta_stats.simulate.cells import simulate_single_cells
from rosetta_stats.bridge.database_tables import SQLiteTable

R_SCRIPT = """
suppressPackageStartupMessages({{library(cytominer); library(dplyr)}})
con <- DBI::dbConnect(RSQLite::SQLite(), "{path}", flags = RSQLite::SQLITE_RO)
vars <- c({variables})
elapsed <- system.time({{
  wells <- cytominer::aggregate(dplyr::tbl(con, "single_cells"), vars,
                                c("Metadata_Plate", "Metadata_Well")) %>% dplyr::collect()
}})[["elapsed"]]
cat(sprintf("%.6f %d\\n", elapsed, nrow(wells)))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    plates, wells = 8, 384  # 3,072 wells
    per_well = max(1, round(args.cells / (plates * wells)))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        truth = simulate_single_cells(Path(tmp) / "cells.sqlite", plates=plates, wells=wells,
                                      cells_per_well=per_well, features=args.features, seed=1)
        size_mb = truth.path.stat().st_size / 1e6
        print(f"simulated {truth.n_cells:,} cells x {args.features} features in "
              f"{plates * wells:,} wells ({size_mb:.0f} MB SQLite) in {time.perf_counter() - t0:.1f} s")

        table = SQLiteTable(truth.path, truth.table)
        cytominer.aggregate(table, truth.features[:1], ["Metadata_Plate"])  # start R once
        ours = []
        tracemalloc.start()
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            result = cytominer.aggregate(table, truth.features, truth.strata)
            ours.append(time.perf_counter() - t0)
        _, python_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        script = Path(tmp) / "plain.R"
        script.write_text(R_SCRIPT.format(
            path=truth.path, variables=", ".join(f'"{f}"' for f in truth.features)))
        plain = []
        for _ in range(args.repeats):
            run = subprocess.run(["Rscript", str(script)], capture_output=True, text=True, check=True)
            seconds, rows = run.stdout.split()
            plain.append(float(seconds))
        assert int(rows) == len(result) == plates * wells

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    best_ours, best_plain = min(ours), min(plain)
    print(f"rosetta_stats.bridge.cytominer.aggregate (rpy2, in SQLite): {best_ours:.2f} s (best of {args.repeats})")
    print(f"cytominer::aggregate in a plain Rscript           : {best_plain:.2f} s (best of {args.repeats})")
    print(f"ratio ours / plain R: {best_ours / best_plain:.2f}  (target <= 1.5)")
    print(f"peak Python-heap allocations during aggregation: {python_peak / 1e6:.1f} MB "
          f"(the cells are {size_mb:.0f} MB on disk and stay in SQLite)")
    print(f"peak resident memory of this process (Python + embedded R): {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
