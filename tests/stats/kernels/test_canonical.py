"""Held-out CCA kernels: the covariance route and the permutation shortcut against the plain SVD route."""
import numpy as np

from rosetta_stats.stats.kernels.canonical import cross_products, heldout_canonical, whitened_pcs


def _svd_whitened(train, test, k):
    """The textbook route, written out: SVD of the centred training rows."""
    mean = train.mean(axis=0)
    _, s, vt = np.linalg.svd(train - mean, full_matrices=False)
    scale = s[:k] / np.sqrt(len(train) - 1)
    return (train - mean) @ vt[:k].T / scale, (test - mean) @ vt[:k].T / scale


def _same_up_to_sign(a, b):
    signs = np.sign((a * b).sum(axis=0))
    np.testing.assert_allclose(a, b * signs, atol=1e-8)


def test_covariance_route_equals_the_svd_route():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((300, 40)) @ rng.standard_normal((40, 40)) + 5
    ours = whitened_pcs(data[:240], data[240:], 6)
    expected = _svd_whitened(data[:240], data[240:], 6)
    for a, b in zip(ours, expected):
        _same_up_to_sign(a, b)


def test_rank_deficient_top_components_fall_back_to_the_svd_rank_rule():
    rng = np.random.default_rng(1)
    data = rng.standard_normal((200, 3)) @ rng.standard_normal((3, 30))  # rank 3 in 30 columns
    train, test = whitened_pcs(data[:150], data[150:], 6)
    assert train.shape == (150, 3) and test.shape == (50, 3)
    np.testing.assert_allclose(np.cov(train, rowvar=False), np.eye(3), atol=1e-8)


def test_permuted_folds_from_subtracted_products_equal_a_fresh_computation():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((200, 25))
    y = x[:, :10] @ rng.standard_normal((10, 30)) + rng.standard_normal((200, 30))
    y = y - y.mean(axis=0)
    folds = [(np.setdiff1d(np.arange(200), t), t) for t in np.array_split(rng.permutation(200), 4)]
    sides = [_svd_whitened(x[train], x[test], 5) for train, test in folds]
    rows = rng.permutation(200)
    shortcut = heldout_canonical(sides, y, folds, 3, 5, rows=rows, products=cross_products(y))
    fresh = heldout_canonical(sides, y[rows], folds, 3, 5)
    np.testing.assert_allclose(shortcut, fresh, atol=1e-8)
    expected = []  # and the components themselves from the textbook route
    for (train, test), (xa, xb) in zip(folds, sides):
        ya, yb = _svd_whitened(y[rows][train], y[rows][test], 5)
        a, _, bt = np.linalg.svd(xa.T @ ya, full_matrices=False)
        expected.append([abs(np.corrcoef(xb @ a[:, c], yb @ bt[c])[0, 1]) for c in range(3)])
    np.testing.assert_allclose(np.abs(shortcut), expected, atol=1e-8)
