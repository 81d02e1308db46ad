"""A real local dask cluster (2 worker processes on loopback): same numbers, and faults."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs
from rosetta_stats.stats.core.parallel import ClusterError, map_blocks

from tests.helpers.paired_fixtures import paired_treatments

pytestmark = pytest.mark.slow

distributed = pytest.importorskip("distributed", reason="python3-distributed is not installed")
dask = pytest.importorskip("dask")


def _cluster():
    """Two worker processes on loopback; a task that kills its worker twice is given up."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=None)
        with distributed.Client(cluster) as c:
            yield c
        cluster.close()


@pytest.fixture(scope="module")
def client():
    yield from _cluster()


def test_replicates_on_the_cluster_give_the_same_numbers(client):
    sim = rs.simulate_paired(n_perturbations=120, n_replicates=3, seed=4)
    cp, _ = sim.to_profiles()
    alone = rs.replicate_reproducibility(cp, n_null=1000, seed=9)
    spread = rs.replicate_reproducibility(cp, n_null=1000, seed=9, client=client)
    pd.testing.assert_frame_equal(alone.table, spread.table)
    assert len(client.scheduler_info()["workers"]) == 2


def test_predictability_on_the_cluster_gives_the_same_numbers(client):
    paired, _ = paired_treatments(n_perturbations=100, n_replicates=2, n_cp_features=20, n_genes=15, seed=2)
    alone = rs.gene_predictability(paired, n_permutations=30, seed=5)
    spread = rs.gene_predictability(paired, n_permutations=30, seed=5, client=client)
    pd.testing.assert_frame_equal(alone.table, spread.table)


def test_cca_and_mantel_on_the_cluster_give_the_same_numbers(client):
    paired, _ = paired_treatments(n_perturbations=80, n_replicates=2, n_cp_features=20, n_genes=15, seed=3)
    alone = rs.canonical_correlation(paired, n_components=2, n_pcs=5, n_permutations=25, seed=1)
    spread = rs.canonical_correlation(paired, n_components=2, n_pcs=5, n_permutations=25, seed=1, client=client)
    pd.testing.assert_frame_equal(alone.table, spread.table)
    local = rs.similarity_concordance(paired, n_permutations=120, seed=2)
    remote = rs.similarity_concordance(paired, n_permutations=120, seed=2, client=client)
    assert (local.statistic, local.p_value) == (remote.statistic, remote.p_value)


def _die_once(block, marker):
    """Kill the worker process the first time any block runs; compute normally afterwards."""
    if not Path(marker).exists():
        Path(marker).write_text("died")
        os._exit(1)
    return block * 2


def _always_die(block):
    os._exit(1)


@pytest.fixture
def dying_client():
    """A cluster of its own for the tests that kill workers: nothing waits for them to come back."""
    yield from _cluster()


def test_a_worker_dying_mid_run_is_retried_to_the_right_answer(dying_client, tmp_path):
    client = dying_client
    marker = str(tmp_path / "died-once")
    result = map_blocks(_die_once, [np.arange(3), np.arange(4)], {"marker": marker}, client)
    assert Path(marker).exists()  # a worker really died
    np.testing.assert_array_equal(result[0], [0, 2, 4])
    np.testing.assert_array_equal(result[1], [0, 2, 4, 6])


def test_workers_that_keep_dying_give_a_clear_error(dying_client):
    with pytest.raises(ClusterError, match="dask workers kept dying while running _always_die"):
        map_blocks(_always_die, [1], None, dying_client, retries=0)


def test_two_pass_null_quantile_on_the_cluster_equals_numpy(client):
    from rosetta_stats.stats.kernels.pairwise import pairwise_quantile
    from rosetta_stats.stats.kernels.similarity import unit_rows

    units = unit_rows(np.random.default_rng(5).normal(size=(400, 30)))
    everything = (units @ units.T)[np.triu_indices(400, 1)]
    spread = pairwise_quantile(units, 0.9, block=64, max_pairs_in_memory=0,
                               mapper=lambda f, blocks, shared: map_blocks(f, blocks, shared, client))
    assert spread == pytest.approx(np.percentile(everything, 90), abs=1e-12)


def test_the_report_on_the_cluster_writes_the_same_tables(client, tmp_path, capsys):
    """``report --client ADDRESS``: every table equal to the report made in this process."""
    from rosetta_stats.cli import main

    sim = rs.simulate_paired(n_perturbations=60, n_replicates=3, n_cp_features=12, n_genes=10, seed=3)
    sim.cp.to_csv(tmp_path / "cp.csv", index=False)
    sim.ge.to_csv(tmp_path / "ge.csv", index=False)
    common = ["--quiet", "report", "--cp", str(tmp_path / "cp.csv"), "--ge", str(tmp_path / "ge.csv"),
              "--cp-key", "Metadata_broad_sample", "--ge-key", "pert_id", "--cp-control", "pert_type=control",
              "--ge-control", "control_type=negcon", "--permutations", "20", "--seed", "2"]
    assert main([*common, "--out", str(tmp_path / "here")]) == 0
    with distributed.get_task_stream(client) as stream:
        assert main([*common, "--client", client.scheduler.address, "--out", str(tmp_path / "there")]) == 0
    assert len(stream.data) > 0  # the work did go to the cluster
    here, there = rs.read_results(tmp_path / "here")[0], rs.read_results(tmp_path / "there")[0]
    assert set(here) == set(there) and "replicate_reproducibility_cp" in here
    for name in here:
        pd.testing.assert_frame_equal(here[name], there[name], check_exact=False, rtol=1e-12, obj=name)


def test_an_unreachable_scheduler_is_a_one_line_error(tmp_path, capsys):
    from rosetta_stats.cli import main

    code = main(["--quiet", "report", "--demo", "--client", "tcp://127.0.0.1:9", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "no dask scheduler answered at tcp://127.0.0.1:9" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()
