"""Leave-dataset-out transfer: an sklearn twin gene by gene, the published Extended Data 1 counts, calibration."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Lasso

import rosetta_stats as rs
from rosetta_stats.stats.kernels.regression import standardize_columns
from tests.conftest import shared_file

GENES = ["201000_at", "200814_at", "1007_s_at", "121_at", "200024_at"]


def dataset(seed, n=60, link=None, extra_feature=None, extra_gene=None):
    """A paired dataset: 8 CP features (+1 of its own), 5 genes (+1 of its own); genes = features @ link + noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)) * rng.uniform(0.5, 3, size=8) + rng.normal(size=8)  # its own scale and offset
    y = (x - x.mean(0)) / x.std(0) @ link + rng.normal(size=(n, 5)) if link is not None else rng.normal(size=(n, 5))
    keys = [f"d{seed}_t{i:03d}" for i in range(n)]
    cp = pd.DataFrame(x, columns=[f"Cells_f{i}" for i in range(8)]).assign(pert=keys)
    ge = pd.DataFrame(y, columns=GENES).assign(pert=keys)
    if extra_feature:
        cp[extra_feature] = rng.normal(size=n)
    if extra_gene:
        ge[extra_gene] = rng.normal(size=n)
    return rs.pair(rs.Profiles.from_frame(cp, "cp", "pert"), rs.Profiles.from_frame(ge, "ge", "pert"))


def test_transfer_equals_an_sklearn_lasso_fitted_gene_by_gene():
    link = np.random.default_rng(9).normal(size=(8, 5)) * 0.8
    a = dataset(1, link=link, extra_feature="Cells_only_a", extra_gene="2028_s_at")
    b = dataset(2, link=link, extra_feature="Cells_only_b")
    result = rs.transfer_predictability(a, b, model="lasso", n_permutations=0, names=("A", "B"))
    table = result.table.set_index(["direction", "gene"])
    assert set(table.index.get_level_values(0)) == {"A -> B", "B -> A"}
    assert sorted(table.loc["A -> B"].index) == sorted(GENES)  # only the genes both measure
    features = [f"Cells_f{i}" for i in range(8)]  # only the features both measure
    for way, (train, test) in {"A -> B": (a, b), "B -> A": (b, a)}.items():
        x_train = standardize_columns(train.cp.data[features].to_numpy())
        x_test = standardize_columns(test.cp.data[features].to_numpy())
        for gene in GENES:
            y_train = standardize_columns(train.ge.data[[gene]].to_numpy())[:, 0]
            y_test = standardize_columns(test.ge.data[[gene]].to_numpy())[:, 0]
            predicted = Lasso(alpha=0.1, max_iter=10_000).fit(x_train, y_train).predict(x_test)
            r2 = 1 - ((y_test - predicted) ** 2).sum() / ((y_test - y_test.mean()) ** 2).sum()
            assert table.loc[(way, gene), "r2"] == pytest.approx(r2, abs=1e-8)
    assert result.estimates["by_direction"]["A -> B"]["n_genes"] == 5 and result.estimates["n_features"] == 8


def test_a_shared_link_transfers_and_independent_datasets_do_not():
    link = np.random.default_rng(3).normal(size=(8, 5))
    linked = rs.transfer_predictability(dataset(4, link=link), dataset(5, link=link), n_permutations=99, seed=0)
    assert (linked.table["q_value"] < 0.05).all() and linked.table["above_threshold"].all()
    p = []
    for seed in range(40):  # calibration: datasets with no shared link
        null = rs.transfer_predictability(dataset(100 + seed, link=link), dataset(200 + seed), n_permutations=99,
                                          seed=seed, direction="forward")
        p.extend(null.table["p_value"])
    rate = np.mean(np.array(p) <= 0.05)
    assert rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / (len(p) / 2))


def test_the_paper_preset_adds_the_shuffled_model():
    link = np.random.default_rng(3).normal(size=(8, 5))
    result = rs.transfer_predictability(dataset(4, link=link), dataset(5, link=link), preset="paper")
    assert result.settings["model"] == "lasso_cv" and result.settings["n_permutations"] == 0
    assert "r2_shuffled" in result.table and (result.table["r2_shuffled"] < 0.2).all()
    assert all(v["n_shuffled_above_threshold"] == 0 for v in result.estimates["by_direction"].values())


def test_published_extended_data_1_counts():
    path = shared_file("reference/paper_figures/extended_data1_cross_dataset_scores.csv")
    counts = rs.transfer_counts(pd.read_csv(path)).table
    counts = counts[counts["kind"] == "n-folds"].set_index(["Model", "model_direction"])["n_r2_above_0.2"]
    assert counts[("Lasso", "traind by LINCS predicting LUAD")] == 112
    assert counts[("MLP", "traind by LINCS predicting LUAD")] == 120
    assert counts[("Lasso", "traind by LUAD predicting LINCS")] == 20
    assert counts[("MLP", "traind by LUAD predicting LINCS")] == 13
    shuffled = counts[[m.endswith("shuffled") for m in counts.index.get_level_values(0)]]
    assert (shuffled == 0).all()


def test_datasets_sharing_nothing_are_named():
    a = dataset(1)
    other = rs.pair(rs.Profiles.from_frame(pd.DataFrame({"Nuclei_x": np.arange(10.0), "pert": list("abcdefghij")}),
                                           "cp", "pert"),
                    rs.Profiles.from_frame(pd.DataFrame({"201000_at": np.arange(10.0) % 3,
                                                         "pert": list("abcdefghij")}), "ge", "pert"))
    with pytest.raises(ValueError, match="share no Cell Painting features"):
        rs.transfer_predictability(a, other)
