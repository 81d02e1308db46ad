"""Past one machine: cytominer in PostgreSQL, statistics on a dask cluster.

(a) per-well aggregation of simulated single cells (default 5,000,000 cells x
    50 features) in a private PostgreSQL server vs SQLite vs pandas groupby in
    memory, with times and the peak Python-heap memory of each;
(b) replicate reproducibility with the size-matched null on 30,000
    perturbations x 5 replicates x 1,000 features, one process vs a local
    cluster of 2 worker processes, with the ratio and the cost per extra
    worker extrapolated from it.

    .venv/bin/python benchmarks/bench_scale.py [--cells 5000000] [--perturbations 30000]
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import rosetta_stats as rs  # noqa: E402
from tests.helpers.postgres_server import PrivateServer, server_binaries  # noqa: E402


def timed(label, function):
    tracemalloc.start()
    t0 = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    print(f"  {label:<28} {seconds:7.1f} s   peak Python heap {peak:8.1f} MB")
    return result, seconds


def aggregation(n_cells: int, features: int) -> None:
    plates, wells = 16, 384
    per_well = max(1, round(n_cells / (plates * wells)))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        truth = rs.simulate_single_cells(Path(tmp) / "cells.sqlite", plates=plates, wells=wells,
                                         cells_per_well=per_well, features=features, seed=0)
        print(f"(a) {truth.n_cells:,} cells x {features} features, {plates * wells:,} wells "
              f"(simulated in {time.perf_counter() - t0:.0f} s)")
        server = PrivateServer(server_binaries()).start()
        try:
            t0 = time.perf_counter()
            server.copy_from_sqlite(truth.path, "single_cells")
            print(f"  loaded into PostgreSQL in {time.perf_counter() - t0:.0f} s")
            rs.aggregate(rs.SQLiteTable(truth.path, "single_cells"), truth.features[:1], ["Metadata_Plate"])
            pg, _ = timed("PostgreSQL (in the server)", lambda: rs.aggregate(
                rs.PostgresTable("single_cells", server.dsn), truth.features, truth.strata))
            lite, _ = timed("SQLite (in the database)", lambda: rs.aggregate(
                rs.SQLiteTable(truth.path, "single_cells"), truth.features, truth.strata))

            def in_memory():  # the naive way: every cell into a DataFrame, then groupby
                columns = ", ".join(f'"{c}"' for c in truth.strata + truth.features)
                with sqlite3.connect(truth.path) as con:
                    chunks = pd.read_sql_query(f"SELECT {columns} FROM single_cells", con, chunksize=500_000)
                    cells = pd.concat(list(chunks), ignore_index=True)
                return cells.groupby(truth.strata)[truth.features].mean().reset_index()

            memory, _ = timed("pandas groupby in memory", in_memory)
            gap = max(np.abs(pg[truth.features].to_numpy() - other[truth.features].to_numpy()).max()
                      for other in (lite, memory))
            print(f"  largest difference between the three: {gap:.1e}")
        finally:
            server.stop()


def replicates(n_perturbations: int, n_features: int) -> None:
    import distributed

    rng = np.random.default_rng(0)
    r = 5
    signal = rng.normal(size=(n_perturbations, n_features)).astype(np.float32)
    values = np.repeat(signal, r, axis=0) + rng.normal(size=(n_perturbations * r, n_features)).astype(np.float32)
    features = [f"Cells_f{i}" for i in range(n_features)]
    frame = pd.DataFrame(values, columns=features)
    frame.insert(0, "pert", np.repeat(np.arange(n_perturbations), r))
    print(f"(b) {n_perturbations:,} perturbations x {r} replicates x {n_features:,} features, size-matched null")
    alone, one = timed("one process", lambda: rs.replicate_reproducibility(
        frame, "pert", features, n_null=1000, seed=0))
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                       dashboard_address=None, memory_limit="8GB")
    with distributed.Client(cluster) as client:
        spread, two = timed("2-worker local cluster", lambda: rs.replicate_reproducibility(
            frame, "pert", features, n_null=1000, seed=0, client=client))
    cluster.close()
    assert alone.table.equals(spread.table)
    print(f"  ratio one process / cluster: {one / two:.2f} (same numbers: yes)")
    print(f"  on one machine the 2 workers share the 2 cores that BLAS threads use in one process, so this "
          f"ratio weighs parallel blocks against scatter and scheduling costs; every further worker on "
          f"another machine adds its cores to the block work for one scatter of "
          f"{frame[features].to_numpy().nbytes * 2 / 1e9:.1f} GB (float64 units)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", type=int, default=5_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--perturbations", type=int, default=30_000)
    parser.add_argument("--replicate-features", type=int, default=1000)
    args = parser.parse_args()
    aggregation(args.cells, args.features)
    replicates(args.perturbations, args.replicate_features)


if __name__ == "__main__":
    main()
