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
``kernels.unpenalised_sweep``). Where scikit-learn would not
use a Gram matrix (a fold with no more rows than features), the outputs are
fitted one by one with ``LassoCV``.
"""
from __future__ import annotations

import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LassoCV
from sklearn.model_selection import KFold

from .kernels.lasso_path import lasso_fits, lasso_path_columns, path_seeds
from .kernels.unpenalised_sweep import unpenalised_descent

PAPER_LASSO_ALPHAS = tuple(np.concatenate([np.linspace(0, 0.2, 20), np.linspace(0.2, 0.5, 10)[1:]]))
MAX_ITER, TOL, INNER_FOLDS = 1000, 1e-4, 5


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
    folds = list(KFold(INNER_FOLDS).split(x_train))
    if any(len(train) <= x_train.shape[1] for train, _ in folds):
        return lasso_cv_loop(x_train, y_train, x_test, n_jobs)
    alphas = np.sort(np.asarray(PAPER_LASSO_ALPHAS))[::-1]
    mse = np.zeros((len(alphas), y_train.shape[1]))
    with warnings.catch_warnings():  # quiet, as the per-gene loop is (a constant gene warns at every alpha)
        warnings.simplefilter("ignore", ConvergenceWarning)
        for train, test in folds:
            mse += _fold_mse(x_train, y_train, train, test, alphas, n_jobs)
        mse /= len(folds)
        best = alphas[np.argmin(mse, axis=0)]
        coef, x_offset, y_offset = _refit(x_train, y_train, best, n_jobs)
    return x_test @ coef + (y_offset - x_offset @ coef)


def _centred(x, y):
    x_offset, y_offset = np.average(x, axis=0), np.average(y, axis=0)
    return x - x_offset, y - y_offset, x_offset, y_offset


def _fold_mse(x, y, train, test, alphas, threads) -> np.ndarray:
    """Held-out mean squared error of every alpha (rows) for every output (columns) in one inner fold."""
    xt, yt, x_offset, y_offset = _centred(x[train], y[train])
    coefs = lasso_path_columns(np.dot(xt.T, xt), np.dot(xt.T, yt), yt, alphas, MAX_ITER, TOL, threads=threads)
    out = np.empty((len(alphas), y.shape[1]))
    x_test, y_test = x[test], y[test]  # gathered once for every alpha
    zero_fit = ((y_offset - y_test) ** 2).mean(axis=0)  # what the lines below give for a zero column
    for i, coef in enumerate(coefs):
        fitted = np.flatnonzero(coef.any(axis=0))
        out[i] = zero_fit
        if fitted.size:
            coef = coef[:, fitted]
            residues = x_test @ coef - y_test[:, fitted]
            residues += y_offset[fitted] - x_offset @ coef
            out[i, fitted] = (residues ** 2).mean(axis=0)
    return out


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
                                        MAX_ITER, TOL, threads=threads)
    unpenalised = np.flatnonzero(best == 0)
    if unpenalised.size:
        q = xy[:, unpenalised]
        coef[:, unpenalised] = unpenalised_descent(gram, q, np.zeros_like(q),
                                                   np.einsum("ij,ij->j", yc[:, unpenalised], yc[:, unpenalised]),
                                                   path_seeds(1)[0], MAX_ITER, TOL)
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
