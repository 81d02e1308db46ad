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
    values = values[::-1]
    if not values[0] > 0 or values[-1] < values[0] * _EIGEN_FLOOR:
        return None  # rank-deficient within the top k: the SVD's rank rule decides
    return np.sqrt(values), np.ascontiguousarray(vectors.T[::-1])  # contiguous: BLAS takes no reversed strides


def principal_axes(rows, k: int, mean: np.ndarray, scatter: np.ndarray | None = None):
    """(singular values, axes: k x columns) of the training rows centred on ``mean``.

    ``rows`` may be a function returning them: the permutation null passes
    the scatter and gathers the rows only if the SVD route is needed.
    """
    if scatter is None:
        data = rows() if callable(rows) else rows
        if data.shape[0] > data.shape[1]:
            centred = data - mean
            scatter = centred.T @ centred
    found = _from_covariance(scatter, k) if scatter is not None else None
    if found is not None:
        return found
    data = rows() if callable(rows) else rows
    _, s, vt = np.linalg.svd(data - mean, full_matrices=False)
    k = min(k, int((s > s[0] * 1e-10).sum()))
    return s[:k], vt[:k]


def whitened_pcs(train: np.ndarray, test: np.ndarray, k: int):
    """Training and held-out rows on the top k whitened principal components of the training rows."""
    mean = train.mean(axis=0)
    s, vt = principal_axes(train, k, mean)
    scale = s / np.sqrt(len(train) - 1)
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
        if products is not None and len(train) > y.shape[1]:
            y_train, y_test = _permuted_side(y, rows, train, test, n_pcs, products)
        else:
            y_train, y_test = whitened_pcs(y[rows[train]], y[rows[test]], n_pcs)
        cross = x_train.T @ y_train / (len(train) - 1)
        a, _, bt = np.linalg.svd(cross, full_matrices=False)
        k = min(n_components, a.shape[1])
        out[i, :k] = pearson_columns(x_test @ a[:, :k], y_test @ bt[:k].T)
    return out


def _permuted_side(y, rows, train, test, k, products):
    """``whitened_pcs`` of y's permuted fold without gathering its training rows: their scatter is the
    whole table's less the held-out rows', and their projection is a gather of y's projection."""
    total, column_sums = products
    held_out = y[rows[test]]
    mean = (column_sums - held_out.sum(axis=0)) / len(train)
    scatter = total - held_out.T @ held_out - len(train) * np.outer(mean, mean)
    s, vt = principal_axes(lambda: y[rows[train]], k, mean, scatter)
    scale = s / np.sqrt(len(train) - 1)
    shift = mean @ vt.T
    projected = y @ vt.T  # every row once (n x k): cheaper than centring the n_train x columns rows
    return (projected[rows[train]] - shift) / scale, (held_out @ vt.T - shift) / scale


def permuted_canonical(permutations, x_sides, y, folds, n_components, n_pcs, products) -> np.ndarray:
    """Mean held-out canonical correlations for each permutation of the rows of y."""
    return np.array([np.nanmean(heldout_canonical(x_sides, y, folds, n_components, n_pcs, p, products), axis=0)
                     for p in permutations]).reshape(len(permutations), n_components)
