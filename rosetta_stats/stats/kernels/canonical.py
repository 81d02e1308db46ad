"""Held-out canonical correlations: numpy kernels for the folds and the permutation null.

Each side is reduced to its top k principal components on the training fold,
whitened, and the canonical pairs are the singular vectors of the training
cross-covariance; their correlation is measured on the held-out rows.

The principal components come from the training covariance when the rows
outnumber the columns (an eigen-decomposition of its top k only, 20x cheaper
than an SVD of the rows at LINCS size), else from the SVD. Under a
permutation only the rows of the second side move, so the first side's
components are computed once per fold, and the second side's training
covariance is the whole table's cross-product minus the held-out rows'.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import eigh

from .regression import pearson_columns

_EIGEN_FLOOR = 1e-8  # top-k eigenvalues below this fraction of the largest: take the SVD route instead


def _from_covariance(scatter: np.ndarray, k: int):
    """(singular values, right vectors) of the top k components from the centred scatter matrix, or None."""
    d = scatter.shape[0]
    k = min(k, d)
    values, vectors = eigh(scatter, subset_by_index=[d - k, d - 1], check_finite=False)
    values, vectors = values[::-1], vectors[:, ::-1]
    if not values[0] > 0 or values[-1] < values[0] * _EIGEN_FLOOR:
        return None  # rank-deficient within the top k: the SVD's rank rule decides
    return np.sqrt(values), vectors.T


def whitened_pcs(train: np.ndarray, test: np.ndarray, k: int, scatter: np.ndarray | None = None,
                 mean: np.ndarray | None = None):
    """Training and held-out rows on the top k whitened principal components of the training rows.

    ``scatter``/``mean``: the training rows' centred cross-product and mean when
    already known (the permutation null builds them by subtraction).
    """
    n, d = train.shape
    mean = train.mean(axis=0) if mean is None else mean
    found = None
    if n > d:
        if scatter is None:
            centred = train - mean
            scatter = centred.T @ centred
        found = _from_covariance(scatter, k)
    if found is None:
        _, s, vt = np.linalg.svd(train - mean, full_matrices=False)
        k = min(k, int((s > s[0] * 1e-10).sum()))
        s, vt = s[:k], vt[:k]
    else:
        s, vt = found
    scale = s / np.sqrt(n - 1)
    return (train - mean) @ vt.T / scale, (test - mean) @ vt.T / scale


def fold_sides(x: np.ndarray, folds, n_pcs: int) -> list:
    """The first side's whitened components in every fold (they do not change under permutation)."""
    return [whitened_pcs(x[train], x[test], n_pcs) for train, test in folds]


def cross_products(y: np.ndarray):
    """(y'y, column sums): with them a training fold's scatter is the held-out rows' subtracted."""
    return y.T @ y, y.sum(axis=0)


def heldout_canonical(x_sides: list, y: np.ndarray, folds, n_components: int, n_pcs: int,
                      rows: np.ndarray | None = None, products=None) -> np.ndarray:
    """Held-out correlation of each canonical pair, per fold (folds x components).

    ``rows``: a permutation of the rows of ``y`` (None: as given). ``products``:
    ``cross_products(y)``, for ``y`` centred on its column means (the
    subtraction then loses nothing to large means).
    """
    rows = np.arange(len(y)) if rows is None else rows
    out = np.full((len(folds), n_components), np.nan)
    for i, (train, test) in enumerate(folds):
        x_train, x_test = x_sides[i]
        y_train, y_test = y[rows[train]], y[rows[test]]
        scatter = mean = None
        if products is not None and len(train) > y.shape[1]:
            total, column_sums = products
            mean = (column_sums - y_test.sum(axis=0)) / len(train)
            scatter = total - y_test.T @ y_test - len(train) * np.outer(mean, mean)
        y_train, y_test = whitened_pcs(y_train, y_test, n_pcs, scatter, mean)
        cross = x_train.T @ y_train / (len(train) - 1)
        a, _, bt = np.linalg.svd(cross, full_matrices=False)
        k = min(n_components, a.shape[1])
        out[i, :k] = pearson_columns(x_test @ a[:, :k], y_test @ bt[:k].T)
    return out


def permuted_canonical(permutations, x_sides, y, folds, n_components, n_pcs, products) -> np.ndarray:
    """Mean held-out canonical correlations for each permutation of the rows of y."""
    return np.array([np.nanmean(heldout_canonical(x_sides, y, folds, n_components, n_pcs, p, products), axis=0)
                     for p in permutations]).reshape(len(permutations), n_components)
