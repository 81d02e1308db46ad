"""Feature x gene correlation, held-out CCA and the Mantel test."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from rosetta_stats.stats.correlation import canonical_correlation, feature_gene_correlation, similarity_concordance
from rosetta_stats.stats.core.paired import paired_matrices

from tests.helpers.paired_fixtures import paired_treatments


@pytest.fixture(scope="module")
def signal():
    return paired_treatments(n_perturbations=250, n_replicates=3, n_cp_features=30, n_genes=40,
                             latent_dim=3, reproducible_cp=1.0, reproducible_ge=1.0,
                             linear_genes=1.0, nonlinear_genes=0.0, effect_size=1.5, seed=2)


@pytest.fixture(scope="module")
def null():
    return paired_treatments(n_perturbations=250, n_replicates=3, n_cp_features=30, n_genes=40,
                             latent_dim=3, linear_genes=0.0, nonlinear_genes=0.0, seed=3)


def test_correlations_equal_scipy_pearsonr_on_sampled_pairs(signal):
    paired, _ = signal
    table = feature_gene_correlation(paired).table
    m = paired_matrices(paired)
    assert len(table) == len(m.cp_names) * len(m.ge_names)
    rng = np.random.default_rng(0)
    indexed = table.set_index(["feature", "gene"])
    for i, j in zip(rng.integers(0, len(m.cp_names), 25), rng.integers(0, len(m.ge_names), 25)):
        r, p = stats.pearsonr(m.cp[:, i], m.ge[:, j])
        row = indexed.loc[(m.cp_names[i], m.ge_names[j])]
        assert row["r"] == pytest.approx(r, abs=1e-10)
        assert row["p_value"] == pytest.approx(p, rel=1e-6, abs=1e-300)
    top = feature_gene_correlation(paired, top_k=2).table
    assert (top.groupby("gene").size() == 2).all()
    assert top.groupby("gene")["r"].apply(lambda r: r.abs().max()).equals(
        table.groupby("gene")["r"].apply(lambda r: r.abs().max()).loc[top.groupby("gene").size().index])


def test_heldout_cca_near_zero_under_null_and_high_under_signal(signal, null):
    planted = canonical_correlation(signal[0], n_components=3, n_permutations=30, n_pcs=10, seed=1)
    empty = canonical_correlation(null[0], n_components=3, n_permutations=30, n_pcs=10, seed=1)
    assert planted.table["heldout_correlation"].iloc[0] > 0.8
    assert planted.table["p_value"].iloc[0] == pytest.approx(1 / 31)
    assert abs(empty.table["heldout_correlation"].iloc[0]) < 0.2
    assert empty.table["p_value"].iloc[0] > 0.05
    assert "component 1" in planted.summary()


def test_mantel_concordance(signal, null):
    planted = similarity_concordance(signal[0], n_permutations=199, seed=1)
    empty = similarity_concordance(null[0], n_permutations=199, seed=1)
    assert planted.statistic > 0.5 and planted.p_value == pytest.approx(1 / 200)
    assert abs(empty.statistic) < 0.1 and empty.p_value > 0.01
    m = paired_matrices(signal[0])
    upper = np.triu_indices(len(m.cp), 1)
    expected = stats.pearsonr(np.corrcoef(m.cp)[upper], np.corrcoef(m.ge)[upper])[0]
    assert planted.statistic == pytest.approx(expected, abs=1e-10)
    spearman = similarity_concordance(signal[0], method="spearman", n_permutations=9)
    assert spearman.statistic == pytest.approx(
        stats.spearmanr(np.corrcoef(m.cp)[upper], np.corrcoef(m.ge)[upper])[0], abs=1e-10)
    with pytest.raises(ValueError, match="choose one of: pearson, spearman"):
        similarity_concordance(signal[0], method="kendall")


def test_heldout_table_equals_an_independent_fold_loop(signal):
    """heldout_correlation and heldout_sd recomputed with sklearn PCA and numpy's SVD, fold by fold."""
    from sklearn.decomposition import PCA
    from sklearn.model_selection import GroupKFold

    paired = signal[0] if isinstance(signal, tuple) else signal
    result = canonical_correlation(paired, n_components=2, n_pcs=4, n_permutations=0)
    m = paired_matrices(paired)
    per_fold = []
    for train, test in GroupKFold(5).split(m.cp, groups=m.groups):
        sides = []
        for values in (m.cp, m.ge):
            pca = PCA(n_components=4, whiten=True).fit(values[train])
            sides.append((pca.transform(values[train]), pca.transform(values[test])))
        (xa, xb), (ya, yb) = sides
        a, _, bt = np.linalg.svd(xa.T @ ya, full_matrices=False)
        per_fold.append([abs(np.corrcoef(xb @ a[:, c], yb @ bt[c])[0, 1]) for c in range(2)])
    per_fold = np.array(per_fold)
    np.testing.assert_allclose(result.table["heldout_correlation"].abs(), per_fold.mean(axis=0), atol=1e-8)
    np.testing.assert_allclose(result.table["heldout_sd"], per_fold.std(axis=0, ddof=1), atol=1e-8)
    assert (result.table["heldout_sd"] > 0).all()
