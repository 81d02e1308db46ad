"""The index-permuting Mantel kernel against the textbook one (copy the matrix, correlate the triangles)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from rosetta_stats.stats.kernels.mantel import mantel_statistics, standardized_similarity


@pytest.mark.slow
@pytest.mark.parametrize("method", ["pearson", "spearman"])
@pytest.mark.parametrize("n", [5, 40, 2100])  # 2100 takes the blocked sums
def test_mantel_statistics_equal_correlating_permuted_triangles(method, n):
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 12))
    y = x[:, :6] + rng.normal(size=(n, 6))
    first, second = np.corrcoef(x), np.corrcoef(y)
    if n == 40:
        second = np.round(second, 1)  # ties, for the ranks
    rows, cols = np.triu_indices(n, 1)
    correlate = {"pearson": stats.pearsonr, "spearman": stats.spearmanr}[method]
    permutations = [np.arange(n)] + [rng.permutation(n) for _ in range(3)]
    expected = [correlate(first[rows, cols], second[np.ix_(p, p)][rows, cols])[0] for p in permutations]
    ours = mantel_statistics(permutations, standardized_similarity(first, method),
                             standardized_similarity(second, method), block=7 if n < 100 else 256)
    np.testing.assert_allclose(ours, expected, atol=1e-12)


def test_a_constant_triangle_has_no_statistic():
    flat = np.ones((6, 6))
    a = standardized_similarity(flat, "pearson")
    assert np.isnan(a[np.triu_indices(6, 1)]).all()
    assert np.isnan(mantel_statistics([np.arange(6)], a, a)[0])
