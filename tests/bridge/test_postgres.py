"""cytominer in a real PostgreSQL server (private, loopback), against SQLite and memory."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs

from tests.helpers.postgres_server import PrivateServer, server_binaries

pytestmark = [pytest.mark.usefixtures("r_session"), pytest.mark.slow]
pytest.importorskip("psycopg2", reason="python3-psycopg2 is not installed")


@pytest.fixture(scope="module")
def server():
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    running = PrivateServer(binaries).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def million_cells(server, tmp_path_factory):
    """>= 1,000,000 simulated cells, in SQLite and copied into the server."""
    path = tmp_path_factory.mktemp("cells") / "cells.sqlite"
    truth = rs.simulate_single_cells(path, plates=4, wells=384, cells_per_well=660, features=8, seed=3)
    assert truth.n_cells >= 1_000_000
    server.copy_from_sqlite(path, "single_cells")
    return truth


def test_aggregation_in_the_server_equals_sqlite_and_memory(server, million_cells):
    truth = million_cells
    in_server = rs.aggregate(rs.PostgresTable("single_cells", server.dsn), truth.features, truth.strata)
    in_sqlite = rs.aggregate(rs.SQLiteTable(truth.path, "single_cells"), truth.features, truth.strata)
    with sqlite3.connect(truth.path) as con:
        cells = pd.read_sql_query("SELECT * FROM single_cells", con)
    in_memory = cells.groupby(truth.strata)[truth.features].mean().reset_index()
    assert len(in_server) == len(in_sqlite) == len(in_memory) == 4 * 384
    for other in (in_sqlite, in_memory):
        assert in_server[truth.strata].equals(other[truth.strata])
        np.testing.assert_allclose(in_server[truth.features].to_numpy(), other[truth.features].to_numpy(),
                                   rtol=0, atol=1e-10)


def test_normalize_and_select_in_the_server(server, million_cells):
    truth = million_cells
    wells = rs.aggregate(rs.SQLiteTable(truth.path, "single_cells"), truth.features,
                         truth.strata + ["Metadata_pert_type"])
    with server.connect() as con, con.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS wells")
        columns = ", ".join(f'"{c}" {"double precision" if c in truth.features else "text"}' for c in wells.columns)
        cursor.execute(f"CREATE TABLE wells ({columns})")
        cursor.executemany(f"INSERT INTO wells VALUES ({', '.join(['%s'] * wells.shape[1])})",
                           wells.astype(object).values.tolist())
    table = rs.PostgresTable("wells", server.dsn)
    in_server = rs.normalize(table, truth.features, "Metadata_Plate", {"Metadata_pert_type": "negcon"})
    in_memory = rs.normalize(wells, truth.features, "Metadata_Plate", {"Metadata_pert_type": "negcon"})
    keys = ["Metadata_Plate", "Metadata_Well"]
    a = in_server.sort_values(keys).reset_index(drop=True)
    b = in_memory.sort_values(keys).reset_index(drop=True)
    np.testing.assert_allclose(a[truth.features].to_numpy(), b[truth.features].to_numpy(), atol=1e-10)
    selected = rs.select_features(table, truth.features, operation="variance_threshold")
    assert list(selected.columns) == list(wells.columns)


def test_median_and_bad_tables_are_clear_errors(server, million_cells):
    with pytest.raises(ValueError, match="'median' is not available in PostgreSQL"):
        rs.aggregate(rs.PostgresTable("single_cells", server.dsn), million_cells.features[:1],
                     million_cells.strata, operation="median")
    with pytest.raises(ValueError, match="table 'no_such_table' not found"):
        rs.PostgresTable("no_such_table", server.dsn)
    with pytest.raises(ValueError, match="cannot connect to PostgreSQL"):
        rs.PostgresTable("single_cells", f"postgresql://postgres@127.0.0.1:{server.port + 1}/postgres")
    with pytest.raises(ValueError, match="not a PostgreSQL DSN"):
        rs.PostgresTable("single_cells", "mysql://localhost/x")


def test_server_dropping_mid_query_is_an_error_not_a_partial_table(server, million_cells, tmp_path):
    out = tmp_path / "wells.csv"
    command = [sys.executable, "-m", "rosetta_stats.cli", "--quiet", "aggregate", "--postgres", server.dsn,
               "--table", "single_cells", "--strata", "Metadata_Plate,Metadata_Well,Metadata_broad_sample",
               "--operation", "mean+sd", "--out", str(out)]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    terminated = 0
    deadline = time.time() + 120
    con = server.connect()
    con.autocommit = True
    try:
        with con.cursor() as cursor:
            while run.poll() is None and time.time() < deadline and not terminated:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE state = 'active' AND query ILIKE '%AVG(%' AND query ILIKE '%GROUP BY%' "
                               "AND pid <> pg_backend_pid()")
                terminated = sum(1 for (ok,) in cursor.fetchall() if ok)
                time.sleep(0.02)
    finally:
        con.close()
    stdout, stderr = run.communicate(timeout=120)
    assert terminated, f"the aggregation query was never seen running: {run.returncode} {stderr[-2000:]}"
    assert run.returncode == 2, stdout + stderr
    assert "terminat" in stderr.lower() or "connection" in stderr.lower()
    assert not out.exists()
