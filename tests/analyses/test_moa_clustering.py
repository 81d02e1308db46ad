"""MoA clustering: Jaccard as defined on a planted clustering, joint methods run, the published table read."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs
from rosetta_stats.analyses.moa_clustering import best_jaccard
from tests.conftest import shared_file


def test_jaccard_of_the_best_cluster_by_hand():
    labels = np.array(["a", "a", "a", "b", "b", "c", "c", "c"])
    clusters = np.array([0, 0, 1, 1, 1, 2, 2, 0])
    scores = best_jaccard(labels, clusters)
    # a: cluster 0 = {0,1,7} -> |{0,1}| / |{0,1,2,7}| = 2/4; cluster 1 = {2,3,4} -> 1/5
    assert scores["a"] == pytest.approx(2 / 4)
    assert scores["b"] == pytest.approx(2 / 3)  # cluster 1 = {2,3,4}: |{3,4}| / |{2,3,4}|
    assert scores["c"] == pytest.approx(2 / 3)  # cluster 2 = {5,6}: |{5,6}| / |{5,6,7}| beats cluster 0's 1/5


def paired_with_moas(seed=0, n_moas=4, per_moa=8, signal=3.0):
    rng = np.random.default_rng(seed)
    moas = np.repeat([f"moa{i}" for i in range(n_moas)], per_moa)
    centres_cp = rng.normal(size=(n_moas, 12)) * signal
    centres_ge = rng.normal(size=(n_moas, 10)) * signal
    index = np.repeat(np.arange(n_moas), per_moa)
    keys = [f"t{i:03d}" for i in range(len(moas))]
    cp = pd.DataFrame(centres_cp[index] + rng.normal(size=(len(moas), 12)),
                      columns=[f"Cells_f{i}" for i in range(12)]).assign(pert=keys, Metadata_moa=moas)
    ge = pd.DataFrame(centres_ge[index] + rng.normal(size=(len(moas), 10)),
                      columns=[f"{200000 + 17 * i}_at" for i in range(10)]).assign(pert=keys)
    return rs.pair(rs.Profiles.from_frame(cp, "cp", "pert"), rs.Profiles.from_frame(ge, "ge", "pert"))


def test_planted_moas_cluster_perfectly_and_noise_does_not():
    result = rs.moa_clustering(paired_with_moas(), n_components=4, n_runs=3)
    assert set(result.estimates["median_jaccard"]) == {"cp", "ge", "early_fusion", "cca", "pls"}
    assert all(v == pytest.approx(1.0) for v in result.estimates["median_jaccard"].values())
    noise = rs.moa_clustering(paired_with_moas(signal=0.0), n_components=4, n_runs=3)
    assert all(v < 0.6 for v in noise.estimates["median_jaccard"].values())
    assert list(result.tables["by_run"].columns) == ["run", "cp", "ge", "early_fusion", "cca", "pls"]


def test_the_published_fig4a_table_has_rgcca_best():
    published = pd.read_csv(shared_file("reference/paper_figures/fig4a_moa_clustering_jaccard.csv"))
    medians = published.groupby("Dataset").median(numeric_only=True)
    assert medians.loc["CDRP-bio"].idxmax() == "RGCCA" and medians.loc["CDRP-bio", "RGCCA"] == pytest.approx(0.301, abs=0.01)


def test_an_unknown_moa_column_is_named():
    with pytest.raises(ValueError, match="MoA column 'moa' not found"):
        rs.moa_clustering(paired_with_moas(), moa="moa")
