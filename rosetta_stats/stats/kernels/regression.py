"""numpy kernels for predicting many outputs at once: arrays in, arrays out.

Ridge regression for every output and every penalty on a grid comes from one
SVD of the training inputs: with X = U S V' (centred), the coefficients for
penalty a are V diag(s / (s^2 + a)) U' Y. The penalty of each output is chosen
by generalised cross-validation (GCV), which needs only U' Y:

    RSS(a) = ||Y||^2 - ||U'Y||^2 + sum_j (a / (s_j^2 + a))^2 (U'Y)_j^2
    GCV(a) = n RSS(a) / (n - df(a))^2,  df(a) = 1 + sum_j s_j^2 / (s_j^2 + a)

(the 1 counts the fitted intercept: without it, when features outnumber the
training rows the centred fit interpolates, RSS and the penalty term vanish
together and GCV always picks the smallest penalty)

so the grid costs O(rank x outputs) per penalty and the SVD is shared by
every output and, in permutation tests, by every permutation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_ALPHAS = tuple(np.logspace(-3, 9, 25))  # at 1e9 a fit is the training mean


@dataclass(frozen=True)
class RidgeBasis:
    """The SVD of centred training inputs, reusable for any outputs."""

    x_mean: np.ndarray
    u: np.ndarray
    s: np.ndarray
    vt: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> "RidgeBasis":
        x_mean = x.mean(axis=0)
        u, s, vt = np.linalg.svd(x - x_mean, full_matrices=False)
        keep = s > s[0] * 1e-12 if len(s) else np.zeros(0, bool)
        return cls(x_mean, u[:, keep], s[keep], vt[keep])


    def project(self, x_new: np.ndarray) -> np.ndarray:
        """New inputs in the basis (new x rank); fixed per fold, so computed once for every output set."""
        return (x_new - self.x_mean) @ self.vt.T


def _rotated(basis: RidgeBasis, y: np.ndarray):
    y_mean = y.mean(axis=0)
    yc = y - y_mean
    return yc, y_mean, basis.u.T @ yc  # rank x outputs: the one large product per output set


def _gcv_table(basis: RidgeBasis, yc: np.ndarray, rotated: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    n = yc.shape[0]
    outside = np.einsum("ij,ij->j", yc, yc) - np.einsum("ij,ij->j", rotated, rotated)
    s2 = basis.s**2
    shrink = alphas[:, None] / (s2[None, :] + alphas[:, None])  # alphas x rank
    rss = np.maximum(outside[None, :], 0) + (shrink**2) @ (rotated**2)
    df = 1.0 + (s2[None, :] / (s2[None, :] + alphas[:, None])).sum(axis=1)  # + 1: the intercept
    residual_df = n - df
    # a penalty that leaves less than one residual degree of freedom interpolates the training rows (more
    # features than rows): GCV's ratio of two vanishing numbers is no estimate of error there, so it is not
    # a candidate
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(residual_df[:, None] >= 1.0, n * rss / residual_df[:, None] ** 2, np.inf)


def gcv_alphas(basis: RidgeBasis, y: np.ndarray, alphas) -> tuple[np.ndarray, np.ndarray]:
    """The GCV-best penalty of each output column and the (alphas x outputs) GCV table."""
    alphas = np.asarray(alphas, dtype=float)
    yc, _, rotated = _rotated(basis, y)
    gcv = _gcv_table(basis, yc, rotated, alphas)
    return alphas[np.argmin(gcv, axis=0)], gcv


def _predict_rotated(basis: RidgeBasis, rotated, y_mean, projected, alpha_per_output) -> np.ndarray:
    out = np.empty((projected.shape[0], rotated.shape[1]))
    for alpha in np.unique(alpha_per_output):  # a handful of distinct penalties
        cols = np.flatnonzero(alpha_per_output == alpha)
        factor = basis.s / (basis.s**2 + alpha)
        out[:, cols] = (projected * factor) @ rotated[:, cols]
    return out + y_mean


def ridge_gcv_predict(basis: RidgeBasis, y: np.ndarray, projected: np.ndarray, alphas):
    """Each output's GCV penalty and the predictions at the projected new inputs, from one rotation of y.

    ``projected``: ``basis.project(x_new)``; y is rotated once for the penalties and the predictions.
    """
    alphas = np.asarray(alphas, dtype=float)
    yc, y_mean, rotated = _rotated(basis, y)
    best = alphas[np.argmin(_gcv_table(basis, yc, rotated, alphas), axis=0)]
    return best, _predict_rotated(basis, rotated, y_mean, projected, best)


@dataclass(frozen=True)
class InnerSplits:
    """Grouped inner folds of one training set: each inner basis and its held-out rows in that basis
    (x is fixed, so these serve every output set and every permutation of the outputs)."""

    splits: list  # (inner train rows, inner test rows) as positions within the training set
    bases: list
    projected: list

    @classmethod
    def fit(cls, x: np.ndarray, splits) -> "InnerSplits":
        bases = [RidgeBasis.fit(x[train]) for train, _ in splits]
        return cls(list(splits), bases, [b.project(x[test]) for b, (_, test) in zip(bases, splits)])


def grouped_cv_alphas(inner: InnerSplits, y: np.ndarray, alphas) -> np.ndarray:
    """Each output column's penalty with the least held-out squared error over the grouped inner folds
    (the groups of the outer folds kept whole inside as well)."""
    alphas = np.asarray(alphas, dtype=float)
    error = np.zeros((len(alphas), y.shape[1]))
    for basis, projected, (train, test) in zip(inner.bases, inner.projected, inner.splits):
        _, y_mean, rotated = _rotated(basis, y[train])
        target = y[test] - y_mean
        for a, alpha in enumerate(alphas):
            predicted = (projected * (basis.s / (basis.s ** 2 + alpha))) @ rotated
            error[a] += ((predicted - target) ** 2).sum(axis=0)
    return alphas[np.argmin(error, axis=0)]


def ridge_predict(basis: RidgeBasis, y: np.ndarray, projected: np.ndarray, alpha_per_output) -> np.ndarray:
    """Ridge predictions at the projected new inputs with a given penalty per output column."""
    _, y_mean, rotated = _rotated(basis, y)
    return _predict_rotated(basis, rotated, y_mean, projected, np.asarray(alpha_per_output, dtype=float))


def r2_columns(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Coefficient of determination of every column (as sklearn's r2_score per output); NaN where the
    true column is constant (up to rounding), for which R^2 is undefined."""
    residual = ((y_true - y_pred) ** 2).sum(axis=0)
    centred = y_true - y_true.mean(axis=0)
    total = (centred ** 2).sum(axis=0)
    scale = np.abs(y_true).max(axis=0) if len(y_true) else np.zeros(y_true.shape[1:])
    constant = total <= len(y_true) * (1e-10 * scale) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(constant, np.nan, 1.0 - residual / total)


def pearson_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of matching columns of a and b."""
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a * b).sum(axis=0) / np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))


def standardize_columns(x: np.ndarray) -> np.ndarray:
    """Z-score columns (population sd, as sklearn's StandardScaler); constant columns give 0."""
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
