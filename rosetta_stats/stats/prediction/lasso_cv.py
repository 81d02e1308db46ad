"""The paper's LassoCV for all genes at once, equal to fitting ``LassoCV`` gene by gene.

scikit-learn's ``LassoCV(alphas=..., cv=5, max_iter=1000, selection="random",
random_state=0)`` on one output does, in order: a 5-fold ``KFold`` (no
shuffle) of the training rows; in each fold, centre the fold's training rows,
form the Gram matrix and run the lasso path (alphas decreasing, warm starts);
score every alpha by the mean squared error on the held-out rows; average the
five curves and take the first minimum; refit ``Lasso`` at that alpha on all
training rows from zero, without a Gram matrix; predict. Here the centring,
the Gram matrices, the scoring and the predictions are shared by all outputs
and the path and the refit run in ``kernels.lasso_path`` (the same coordinate
order as scikit-learn, blocks of outputs in lockstep in a compiled kernel, the
unpenalised step solved for all outputs at once through
``kernels.unpenalised_sweep``). Where scikit-learn would not use a Gram
matrix (a fold with no more rows than features, as in consensus profiles)
the kernels carry the fitted values on the rows instead of the Gram
products, skipping by a bound the visits that leave a zero coefficient at zero,
and the alpha = 0 sweeps run once on a basis of the residuals for all genes:
their steps are scikit-learn's in exact arithmetic, and the predictions agree
with the per-gene loop to rounding (tested on real consensus profiles,
162 x 812).
"""
from __future__ import annotations

import warnings

import numpy as np
from joblib import Parallel, delayed
from scipy.linalg import solve_triangular
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LassoCV
from sklearn.model_selection import KFold

from ..kernels.lasso_path import lasso_fits, lasso_path_columns, path_seeds
from ..kernels.unpenalised_sweep import cholesky_or_none, unpenalised_descent

PAPER_LASSO_ALPHAS = tuple(np.concatenate([np.linspace(0, 0.2, 20), np.linspace(0.2, 0.5, 10)[1:]]))
MAX_ITER, TOL, INNER_FOLDS = 1000, 1e-4, 5
SCREEN_BUDGET = 1e-3  # alpha = 0 screened with sweeps this close (times ||y||), then exact where it could win


def paper_lasso_cv() -> LassoCV:
    """The paper's inner model, exactly as it configured it."""
    return LassoCV(alphas=PAPER_LASSO_ALPHAS, cv=INNER_FOLDS, max_iter=MAX_ITER, selection="random", random_state=0)


def lasso_cv_predict(x_train, y_train, x_test, n_jobs: int | None = None) -> np.ndarray:
    """Predictions at ``x_test`` of the paper's LassoCV fitted to each column of ``y_train``.

    Equal to ``paper_lasso_cv().fit(x_train, y_train[:, j]).predict(x_test)``
    for every j, computed for all columns together: to rounding, except that
    the unpenalised sweeps may move fitted values by up to 1e-12 of ||y||
    (``unpenalised_sweep.ERROR_BUDGET``).
    """
    x_train, y_train, x_test = (np.asarray(a, dtype=np.float64) for a in (x_train, y_train, x_test))
    if y_train.shape[1] == 0:
        return np.empty((len(x_test), 0))
    splits = list(KFold(INNER_FOLDS).split(x_train))
    alphas = np.sort(np.asarray(PAPER_LASSO_ALPHAS))[::-1]
    with warnings.catch_warnings():  # quiet, as the per-gene loop is (a constant gene warns at every alpha)
        warnings.simplefilter("ignore", ConvergenceWarning)
        folds = [InnerFold(x_train, y_train, train, test) for train, test in splits]
        mse = cross_validated_mse(folds, alphas, n_jobs)
        best = alphas[np.argmin(mse, axis=0)]
        coef, x_offset, y_offset = _refit(x_train, y_train, best, n_jobs)
    return x_test @ coef + (y_offset - x_offset @ coef)


def cross_validated_mse(folds, alphas, threads=None) -> np.ndarray:
    """The held-out mean squared error averaged over ``folds`` (alphas x outputs), as LassoCV's ``mse_path_``.

    Exact at every penalised alpha. At alpha = 0 (last on the path) the
    sweeps are first carried to within ``SCREEN_BUDGET`` of ||y||, which
    bounds each output's error from below; wherever that bound leaves alpha
    = 0 a chance of being the first minimum, the sweeps are run again to the
    full precision for those outputs. Elsewhere the entry is the screened
    value, which cannot be the minimum: the alpha chosen is LassoCV's either way.
    """
    alphas = np.asarray(alphas, dtype=float)
    n_positive = int(np.count_nonzero(alphas > 0))
    seed = path_seeds(len(alphas))[-1]
    mse = np.zeros((len(alphas), folds[0].y_test.shape[1]))
    low = np.zeros(mse.shape[1])
    for fold in folds:
        mse[:n_positive] += fold.penalised_mse(alphas[:n_positive], threads)
        if n_positive < len(alphas):
            estimate, lower, _ = fold.unpenalised_interval(seed)
            mse[-1] += estimate
            low += lower
    mse /= len(folds)
    if n_positive < len(alphas):
        rivals = mse[:-1].min(axis=0, initial=np.inf)
        open_ = np.flatnonzero(low / len(folds) <= rivals * (1 + 1e-9))
        if open_.size:
            mse[-1, open_] = sum(fold.unpenalised_mse(open_, seed) for fold in folds) / len(folds)
    return mse


def _centred(x, y):
    x_offset, y_offset = np.average(x, axis=0), np.average(y, axis=0)
    return x - x_offset, y - y_offset, x_offset, y_offset


class InnerFold:
    """One inner fold of LassoCV: its centred training rows as a Gram matrix, and its held-out rows."""

    def __init__(self, x, y, train, test):
        xt, self.y_train, self.x_offset, self.y_offset = _centred(x[train], y[train])
        self.gram, self.xy = np.dot(xt.T, xt), np.dot(xt.T, self.y_train)
        self.x_train = xt  # the kernels work on the rows when they are fewer than the features
        self.y_norm2 = np.einsum("ij,ij->j", self.y_train, self.y_train)
        self.x_test, self.y_test = x[test], y[test]  # gathered once for every alpha
        self.start = np.zeros_like(self.xy)  # where alpha = 0 starts: the path's last penalised coefficients

    def penalised_mse(self, alphas, threads) -> np.ndarray:
        """Held-out mean squared error along the penalised path (alphas x outputs)."""
        out = np.empty((len(alphas), self.xy.shape[1]))
        if len(alphas):
            coefs = lasso_path_columns(self.gram, self.xy, self.y_train, alphas, MAX_ITER, TOL, threads=threads,
                                       x=self.x_train)
            self.start = np.array(coefs[-1])
            for i, coef in enumerate(coefs):
                out[i] = self.mse(coef)
        return out

    def mse(self, coef, cols=slice(None)) -> np.ndarray:
        """Held-out mean squared error of coefficients ``coef`` (features x outputs ``cols``)."""
        y_test, y_offset = self.y_test[:, cols], self.y_offset[cols]
        out = ((y_offset - y_test) ** 2).mean(axis=0)  # what the lines below give for a zero column
        fitted = np.flatnonzero(coef.any(axis=0))
        if fitted.size:
            coef = coef[:, fitted]
            residues = self.x_test @ coef - y_test[:, fitted]
            residues += y_offset[fitted] - self.x_offset @ coef
            out[fitted] = (residues ** 2).mean(axis=0)
        return out

    def unpenalised_interval(self, seed):
        """Screened held-out error at alpha = 0 and bounds on the exact one: (estimate, low, high) per output.

        The sweeps move fitted values on the training rows by at most
        ``bound``; on the held-out rows that is at most ``gain * bound``
        (``held_out_gain``), so the root of each output's held-out sum of
        squares is known within that.
        """
        w, bound = unpenalised_descent(self.gram, self.xy, self.start, self.y_norm2, seed, MAX_ITER, TOL,
                                       budget=SCREEN_BUDGET, return_bound=True, x=self.x_train)
        estimate = self.mse(w)
        radius = np.zeros_like(bound)
        if bound.any():
            radius = self.held_out_gain() * bound
        n = len(self.y_test)
        root = np.sqrt(estimate * n)
        return estimate, np.maximum(root - radius, 0) ** 2 / n, (root + radius) ** 2 / n

    def unpenalised_mse(self, cols, seed) -> np.ndarray:
        """Held-out error at alpha = 0 for outputs ``cols``, the sweeps at full precision."""
        w = unpenalised_descent(self.gram, self.xy[:, cols], self.start[:, cols], self.y_norm2[cols], seed,
                                MAX_ITER, TOL, x=self.x_train)
        return self.mse(w, cols)

    def held_out_gain(self) -> float:
        """An upper bound on ||X_test v|| / ||X_train v|| over all v (inf when X_train'X_train is singular
        or badly conditioned: then the sweeps were replayed exactly and no bound is needed).

        With X_train'X_train = U'U it is the largest singular value of
        X_test U^-1 (held-out rows centred as the predictions centre them),
        widened by 1% for rounding.
        """
        factor = cholesky_or_none(self.gram)
        if factor is None:
            return np.inf
        scaled = solve_triangular(factor[0], (self.x_test - self.x_offset).T, trans="T", check_finite=False)
        return 1.01 * float(np.linalg.norm(scaled, 2)) + 1e-300


def _refit(x, y, best, threads):
    """``Lasso(alpha=best[j])`` on all training rows, from zero (as LassoCV refits).

    scikit-learn refits on the rows themselves; the Gram route here takes the
    same steps in exact arithmetic (``kernels.lasso_path.lasso_fits``).
    """
    xc, yc, x_offset, y_offset = _centred(x, y)
    gram, xy = xc.T @ xc, xc.T @ yc
    coef = np.zeros((x.shape[1], y.shape[1]))
    penalised = np.flatnonzero(best > 0)
    if penalised.size:
        coef[:, penalised] = lasso_fits(gram, xy[:, penalised], yc[:, penalised], best[penalised] * len(xc),
                                        MAX_ITER, TOL, threads=threads, x=xc)
    unpenalised = np.flatnonzero(best == 0)
    if unpenalised.size:
        q = xy[:, unpenalised]
        coef[:, unpenalised] = unpenalised_descent(gram, q, np.zeros_like(q),
                                                   np.einsum("ij,ij->j", yc[:, unpenalised], yc[:, unpenalised]),
                                                   path_seeds(1)[0], MAX_ITER, TOL, x=xc)
    return coef, x_offset, y_offset


def _lasso_cv_column(x_train, y_column, x_test) -> np.ndarray:
    with warnings.catch_warnings():  # alpha = 0 and max_iter = 1000 warn, as they did for the paper
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        return paper_lasso_cv().fit(x_train, y_column).predict(x_test)


def lasso_cv_loop(x_train, y_train, x_test, n_jobs: int | None = None) -> np.ndarray:
    """The paper's loop: ``LassoCV`` fitted column by column (columns in parallel)."""
    columns = Parallel(n_jobs=n_jobs)(
        delayed(_lasso_cv_column)(x_train, y_train[:, j], x_test) for j in range(y_train.shape[1]))
    return np.column_stack(columns) if columns else np.empty((len(x_test), 0))
