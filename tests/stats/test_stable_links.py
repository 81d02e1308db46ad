"""Stability selection: planted sparse links are found, and false links stay within the stated bound."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Lasso

import rosetta_stats as rs
from rosetta_stats.stats.kernels.regression import standardize_columns
from rosetta_stats.stats.prediction.stable_links import subsample_groups

GENES = ["201000_at", "200814_at", "1007_s_at", "121_at"]


def planted(seed, n=120, p=40):
    """Each gene is driven by two features of its own (features 2j and 2j+1) plus noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    y = np.column_stack([x[:, 2 * j] - x[:, 2 * j + 1] + 0.7 * rng.normal(size=n) for j in range(len(GENES))])
    keys = [f"t{i:03d}" for i in range(n)]
    cp = pd.DataFrame(x, columns=[f"Cells_f{i:02d}" for i in range(p)]).assign(pert=keys)
    ge = pd.DataFrame(y, columns=GENES).assign(pert=keys)
    truth = {(g, f"Cells_f{2 * j + k:02d}") for j, g in enumerate(GENES) for k in (0, 1)}
    return cp, ge, truth


def test_planted_links_are_stable_and_false_links_stay_within_the_bound():
    false_counts, bounds = [], []
    for seed in range(6):
        cp, ge, truth = planted(seed)
        result = rs.stable_links(cp, ge, key="pert", alpha=0.15, n_subsamples=50, threshold=0.75, seed=seed)
        stable = result.table[result.table["stable"]]
        links = set(zip(stable["gene"], stable["feature"]))
        assert truth <= links  # every planted link found
        false_counts.append(len(links - truth))
        bounds.append(result.estimates["false_links_bound"])
    assert np.mean(false_counts) <= np.mean(bounds)  # the expected number of false links within the bound
    row = result.table.set_index(["gene", "feature"]).loc[("201000_at", "Cells_f01")]
    assert row["mean_coefficient"] < 0 and row["sign_consistency"] == 1.0 and row["symbol"] == "AARS1"


def test_frequencies_equal_a_loop_of_lasso_fits_on_the_same_halves():
    cp, ge, _ = planted(0, n=60, p=12)
    result = rs.stable_links(cp, ge, key="pert", alpha=0.2, n_subsamples=10, seed=3)
    x = standardize_columns(cp.filter(like="Cells_").to_numpy())
    y = standardize_columns(ge[GENES].to_numpy())
    halves = subsample_groups(np.arange(60), 10, 0.5, np.random.default_rng(3))
    counts = np.zeros((len(GENES), 12))
    for rows in halves:
        for j in range(len(GENES)):
            fit = Lasso(alpha=0.2, max_iter=10_000).fit(standardize_columns(x[rows]),
                                                        standardize_columns(y[rows][:, [j]])[:, 0])
            counts[j] += fit.coef_ != 0
    table = result.table.set_index(["gene", "feature"])["frequency"]
    for j, gene in enumerate(GENES):
        for f in range(12):
            expected = counts[j, f] / 10
            got = table.get((gene, f"Cells_f{f:02d}"), 0.0)
            assert got == pytest.approx(expected)


def test_bad_settings_are_named():
    cp, ge, _ = planted(0, n=30, p=8)
    with pytest.raises(ValueError, match="threshold must be above 0.5"):
        rs.stable_links(cp, ge, key="pert", threshold=0.5)
    with pytest.raises(ValueError, match="not in the profiles: nope"):
        rs.stable_links(cp, ge, key="pert", genes=["nope"])
