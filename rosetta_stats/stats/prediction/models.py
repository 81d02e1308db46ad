"""The models behind predictability: out-of-fold predictions of many outputs, reusable across permutations.

* ``ridge``: one SVD per fold, each output's penalty by GCV (kernels.regression);
* ``lasso``: sklearn ``Lasso(alpha=0.1)`` (the model of the paper's null);
* ``lasso_cv``: the paper's model: ``LassoCV`` inside every outer fold,
  alphas ``linspace(0, 0.2, 20)`` and ``linspace(0.2, 0.5, 10)[1:]``, inner
  5-fold, ``max_iter=1000``, ``selection="random"``, ``random_state=0``;
  equal to fitting it output by output, computed for all outputs at once
  (``lasso_cv``);
* ``mlp_grid``: the paper's MLP: ``GridSearchCV`` (4-fold) over its grid of
  iterations, layer sizes, activations and penalties, inside every outer
  fold, one output at a time (480 settings: very slow at full scale);
* ``pcr``: least squares on the training fold's top principal components;
* ``mlp``: sklearn ``MLPRegressor``.
"""
from __future__ import annotations

import warnings

import numpy as np
from tqdm.auto import tqdm
from joblib import Parallel, delayed
from scipy import stats
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso
from sklearn.neural_network import MLPRegressor

from .lasso_cv import lasso_cv_predict
from ..core.folds import grouped_folds
from ..core.resampling import permutation_p_values
from ..kernels.regression import (InnerSplits, RidgeBasis, grouped_cv_alphas, r2_columns, ridge_gcv_predict,
                                  ridge_predict)

PAPER_MLP_GRID = {
    "max_iter": [10, 100, 300, 500],
    "hidden_layer_sizes": [(32, 64), (64, 32), (50, 10), (50, 10, 10), (20, 10), ()],
    "activation": ["logistic", "tanh"],
    "alpha": [0.0005, 0.01, 0.3, 1, 2, 3, 4, 5, 6, 7],
}


def paper_mlp_grid(grid: dict | None = None):
    """The paper's MLP model selection, exactly as it configured it."""
    from sklearn.model_selection import GridSearchCV

    base = MLPRegressor(random_state=0, early_stopping=True, n_iter_no_change=4, learning_rate="adaptive")
    return GridSearchCV(base, grid or PAPER_MLP_GRID, cv=4)


def _mlp_grid_column(x_train, y_column, x_test, grid) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return paper_mlp_grid(grid).fit(x_train, y_column).best_estimator_.predict(x_test)


def mlp_grid_fold_predictions(x, y, folds, n_jobs: int | None = None, grid: dict | None = None) -> list:
    """Held-out predictions of the grid-searched MLP in every fold: one task per (fold, output), all in parallel."""
    tasks = [(i, j) for i in range(len(folds)) for j in range(y.shape[1])]
    columns = Parallel(n_jobs=n_jobs)(
        delayed(_mlp_grid_column)(x[folds[i][0]], y[folds[i][0], j], x[folds[i][1]], grid) for i, j in tasks)
    out = [np.empty((len(test), y.shape[1])) for _, test in folds]
    for (i, j), column in zip(tasks, columns):
        out[i][:, j] = column
    return out


def default_mlp(seed) -> MLPRegressor:
    """The default MLP: one small hidden layer, a strong L2 penalty and early stopping on a tenth of the
    training rows, so that with few perturbations and many outputs it shrinks towards the mean instead of
    fitting noise (the unregularised (100,) network gave a median R^2 of -2 on real consensus profiles)."""
    return MLPRegressor(hidden_layer_sizes=(32,), alpha=10.0, early_stopping=True, validation_fraction=0.15,
                        n_iter_no_change=20, max_iter=500, random_state=seed or 0)


class Fitter:
    """Cross-validated predictions of every output column; reusable across permutations."""

    def __init__(self, x: np.ndarray, folds, model: str, seed, alphas, lasso_alpha, n_components,
                 n_jobs: int | None = None, lasso_max_iter: int = 10_000, inner_groups=None):
        self.x, self.folds, self.model, self.n_jobs = x, folds, model, n_jobs
        self.lasso_max_iter = lasso_max_iter
        self.grid = None  # mlp_grid: the paper's grid unless a smaller one is set
        self.seed, self.alphas, self.lasso_alpha = seed, alphas, lasso_alpha
        self.bases = [RidgeBasis.fit(x[train]) for train, _ in folds] if model == "ridge" else None
        # the held-out rows in each fold's basis: the same for every permutation
        self.projected = [b.project(x[test]) for b, (_, test) in zip(self.bases, folds)] if self.bases else None
        # ridge with grouped rows: each training fold's penalty comes from inner folds that keep groups whole
        self.inner = None
        if model == "ridge" and inner_groups is not None:
            self.inner = [InnerSplits.fit(x[train], grouped_folds(inner_groups[train],
                                                                  min(5, len(np.unique(inner_groups[train])))))
                          for train, _ in folds]
        self.components = None
        if model == "pcr":
            self.components = []
            for train, test in folds:
                k = min(n_components, len(train) - 2, x.shape[1])
                pca = PCA(n_components=k, random_state=0).fit(x[train])
                self.components.append((pca.transform(x[train]), pca.transform(x[test])))

    def predict(self, y: np.ndarray, label: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Out-of-fold predictions, R^2 per fold (folds x outputs), ridge penalties chosen.

        ``label``: show a progress bar over the folds (with its time estimate) under that name."""
        predictions = np.empty_like(y)
        fold_r2 = np.empty((len(self.folds), y.shape[1]))
        chosen = np.empty((len(self.folds), y.shape[1])) if self.model == "ridge" else None
        held_out = None  # the grid-searched MLP runs its folds and outputs as one pool of tasks
        if self.model == "mlp_grid":
            held_out = mlp_grid_fold_predictions(self.x, y, self.folds, self.n_jobs, self.grid)
        folds = tqdm(self.folds, desc=label, disable=label is None, leave=False)
        for i, (train, test) in enumerate(folds):
            predictions[test] = held_out[i] if held_out is not None else self._fold(i, train, test, y, chosen)
            fold_r2[i] = r2_columns(y[test], predictions[test])
        return predictions, fold_r2, chosen

    def _fold(self, i, train, test, y, chosen):
        if self.model == "ridge" and self.inner is not None:
            chosen[i] = grouped_cv_alphas(self.inner[i], y[train], self.alphas)
            return ridge_predict(self.bases[i], y[train], self.projected[i], chosen[i])
        if self.model == "ridge":
            chosen[i], predicted = ridge_gcv_predict(self.bases[i], y[train], self.projected[i], self.alphas)
            return predicted
        if self.model == "pcr":
            scores_train, scores_test = self.components[i]
            design = np.column_stack([np.ones(len(train)), scores_train])
            coef, *_ = np.linalg.lstsq(design, y[train], rcond=None)
            return np.column_stack([np.ones(len(test)), scores_test]) @ coef
        if self.model == "lasso_cv":
            return lasso_cv_predict(self.x[train], y[train], self.x[test], self.n_jobs)
        if self.model == "lasso":
            with warnings.catch_warnings():  # the paper's null runs 1,000 iterations and warns, as it did then
                warnings.simplefilter("ignore", ConvergenceWarning)
                fit = Lasso(alpha=self.lasso_alpha, max_iter=self.lasso_max_iter).fit(self.x[train], y[train])
        else:
            fit = default_mlp(self.seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                fit.fit(self.x[train], y[train])
        return fit.predict(self.x[test]).reshape(len(test), -1)


def fold_aggregate(fold_score: str):
    """How fold R^2 become one score: the mean or median over the folds where R^2 is defined (a gene
    constant in a test fold has no R^2 there); NaN when it is defined in none."""
    function = np.nanmedian if fold_score == "median" else np.nanmean

    def aggregate(values, axis=0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: NaN, said in the notes
            return function(values, axis=axis)
    return aggregate


def permuted_r2(permutations, fitter: "Fitter", y: np.ndarray, fold_score: str = "mean") -> np.ndarray:
    """Fold R^2 of every output (mean or median over folds) for each permutation of the rows of y."""
    aggregate = fold_aggregate(fold_score)
    return np.array([aggregate(fitter.predict(y[p])[1], axis=0) for p in permutations])



def pcr_f_test(x: np.ndarray, y: np.ndarray, n_components: int, permutations=None) -> np.ndarray:
    """F-test p-value of each output regressed on the top principal components of x (all rows).

    With ``permutations`` (row orders of y), the p-value is (k + 1) / (n + 1) over them instead of the F
    distribution's (the in-sample R^2 is monotone in F, and the design stays fixed: one projection)."""
    k = min(n_components, x.shape[0] - 2, x.shape[1])
    if k < 1:
        return np.full(y.shape[1], np.nan)
    scores = PCA(n_components=k, random_state=0).fit_transform(x)
    basis, _ = np.linalg.qr(scores - scores.mean(axis=0))  # the centred design, orthonormal
    centred = y - y.mean(axis=0)
    total = (centred ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = ((basis.T @ centred) ** 2).sum(axis=0) / total
        if permutations is not None:
            null = np.array([((basis.T @ centred[order]) ** 2).sum(axis=0) / total for order in permutations])
            return np.where(total > 0, permutation_p_values(null, r2), np.nan)
        dof = len(x) - k - 1
        f = (r2 / k) / ((1 - r2) / dof)
    return stats.f.sf(f, k, dof)
