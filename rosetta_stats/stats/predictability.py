"""How well morphology predicts each gene (and genes each morphology feature).

For every output column (an L1000 gene, or a Cell Painting feature in the
reverse direction) the cross-validated R^2 of a model fitted on the other
modality, with folds that never split a group (perturbation, or compound when
doses are rows). Inputs and outputs are z-scored over all rows first, as the
paper fed them. Models:

* ``ridge`` (default, fast): all outputs at once from one SVD per fold; each
  output's penalty is chosen on a grid by generalised cross-validation inside
  the training fold;
* ``lasso``: the paper's setting, sklearn ``Lasso(alpha=0.1)``;
* ``pcr``: least squares on the top principal components of the training
  fold; also an analytic F-test per output on all rows;
* ``mlp``: sklearn ``MLPRegressor`` (slow; off in demos and tests).

The permutation null shuffles the rows of the output side (one permutation
for all outputs, so their joint structure is kept; whole groups move
together, onto groups of the same size, so doses of one compound stay
together), refits, and gives
``p = (1 + #{null R^2 >= observed}) / (1 + n_permutations)``; q-values are
Benjamini-Hochberg over outputs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.decomposition import PCA
from sklearn.linear_model import Lasso
from sklearn.model_selection import GroupKFold
from sklearn.neural_network import MLPRegressor
from tqdm.auto import tqdm

from .paired_inputs import PairedMatrices, paired_matrices
from .parallel import map_blocks
from .kernels.sampling import group_means, group_permutation, has_groups
from .kernels.regression import (
    DEFAULT_ALPHAS,
    RidgeBasis,
    gcv_alphas,
    pearson_columns,
    r2_columns,
    ridge_predict,
    standardize_columns,
)
from .multiple_testing import bh_qvalues
from ..common.validation import check_choice
from ..data.gene_symbols import gene_symbols
from ..results.base import ResultShape

MODELS = ("ridge", "lasso", "pcr", "mlp")


@dataclass(frozen=True)
class PredictabilityResult(ResultShape):
    """Per-output predictability (``table``) and the settings that made it."""

    table: pd.DataFrame
    direction: str
    model: str
    n_splits: int
    n_permutations: int
    seed: int | None
    n_samples: int
    model_parameters: dict = field(default_factory=dict)  # the model's own settings (penalty grid, ...)
    notes: tuple[str, ...] = field(default=())

    def summary_dict(self) -> dict:
        t = self.table
        return {
            "direction": self.direction, "model": self.model, "n_splits": self.n_splits,
            "n_permutations": self.n_permutations, "seed": self.seed, "n_samples": self.n_samples,
            "n_outputs": int(len(t)), "median_r2": float(t["r2"].median()),
            "n_q_below_0.05": int((t["q_value"] < 0.05).sum()), **self.model_parameters,
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        s = self.summary_dict()
        top = self.table.nlargest(5, "r2")
        name = self.table.columns[0]
        lines = [
            f"Predictability ({self.direction}, {self.model}, {self.n_splits}-fold grouped CV, "
            f"{self.n_samples} perturbations)",
            f"  outputs: {s['n_outputs']}; median R^2 {s['median_r2']:.3f}; "
            f"q < 0.05: {s['n_q_below_0.05']} ({self.n_permutations} permutations, seed={self.seed})",
            "  best: " + ", ".join(f"{g} ({r:.2f})" for g, r in zip(top[name], top["r2"])),
        ]
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


class _Fitter:
    """Cross-validated predictions of every output column; reusable across permutations."""

    def __init__(self, x: np.ndarray, folds, model: str, seed, alphas, lasso_alpha, n_components):
        self.x, self.folds, self.model = x, folds, model
        self.seed, self.alphas, self.lasso_alpha = seed, alphas, lasso_alpha
        self.bases = [RidgeBasis.fit(x[train]) for train, _ in folds] if model == "ridge" else None
        self.components = None
        if model == "pcr":
            self.components = []
            for train, test in folds:
                k = min(n_components, len(train) - 2, x.shape[1])
                pca = PCA(n_components=k, random_state=0).fit(x[train])
                self.components.append((pca.transform(x[train]), pca.transform(x[test])))

    def predict(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Out-of-fold predictions, R^2 per fold (folds x outputs), ridge penalties chosen."""
        predictions = np.empty_like(y)
        fold_r2 = np.empty((len(self.folds), y.shape[1]))
        chosen = np.empty((len(self.folds), y.shape[1])) if self.model == "ridge" else None
        for i, (train, test) in enumerate(self.folds):
            predictions[test] = self._fold(i, train, test, y, chosen)
            fold_r2[i] = r2_columns(y[test], predictions[test])
        return predictions, fold_r2, chosen

    def _fold(self, i, train, test, y, chosen):
        if self.model == "ridge":
            best, _ = gcv_alphas(self.bases[i], y[train], self.alphas)
            chosen[i] = best
            return ridge_predict(self.bases[i], y[train], self.x[test], best)
        if self.model == "pcr":
            scores_train, scores_test = self.components[i]
            design = np.column_stack([np.ones(len(train)), scores_train])
            coef, *_ = np.linalg.lstsq(design, y[train], rcond=None)
            return np.column_stack([np.ones(len(test)), scores_test]) @ coef
        if self.model == "lasso":
            fit = Lasso(alpha=self.lasso_alpha, max_iter=10_000).fit(self.x[train], y[train])
        else:
            fit = MLPRegressor(hidden_layer_sizes=(100,), max_iter=500, random_state=self.seed or 0)
            fit.fit(self.x[train], y[train])
        return fit.predict(self.x[test]).reshape(len(test), -1)


def _permuted_r2(permutations, fitter: "_Fitter", y: np.ndarray) -> np.ndarray:
    """Mean fold R^2 of every output for each permutation of the rows of y."""
    return np.array([fitter.predict(y[p])[1].mean(axis=0) for p in permutations])


def _grouped_folds(groups: np.ndarray, n_splits: int):
    n_groups = len(np.unique(groups))
    if n_groups < n_splits:
        raise ValueError(f"fewer groups ({n_groups}) than folds (n_splits={n_splits})")
    return list(GroupKFold(n_splits=n_splits).split(np.zeros(len(groups)), groups=groups))


def pcr_f_test(x: np.ndarray, y: np.ndarray, n_components: int) -> np.ndarray:
    """F-test p-value of each output regressed on the top principal components of x (all rows)."""
    k = min(n_components, x.shape[0] - 2, x.shape[1])
    if k < 1:
        return np.full(y.shape[1], np.nan)
    scores = PCA(n_components=k, random_state=0).fit_transform(x)
    design = np.column_stack([np.ones(len(x)), scores])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    r2 = r2_columns(y, design @ coef)
    dof = len(x) - k - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (r2 / k) / ((1 - r2) / dof)
    return stats.f.sf(f, k, dof)


def _predictability(x, y, out_names, groups, direction, model, n_splits, n_permutations, seed,
                    alphas, lasso_alpha, n_components, progress, notes, client=None) -> PredictabilityResult:
    check_choice(model, MODELS, "model")
    constant = [n for n, sd in zip(out_names, y.std(axis=0)) if not sd > 0]
    if constant:
        raise ValueError(f"constant output column(s), R^2 undefined: {', '.join(constant[:10])}")
    x, y = standardize_columns(x), standardize_columns(y)
    folds = _grouped_folds(groups, n_splits)
    fitter = _Fitter(x, folds, model, seed, alphas, lasso_alpha, n_components)
    predictions, fold_r2, chosen = fitter.predict(y)
    r2 = fold_r2.mean(axis=0)
    rng = np.random.default_rng(seed)
    permutations = [group_permutation(groups, rng) for _ in range(n_permutations)]
    null = np.empty((n_permutations, y.shape[1]))
    if client is None:
        for b in tqdm(range(n_permutations), desc=f"permutations ({model})", disable=not progress):
            null[b] = fitter.predict(y[permutations[b]])[1].mean(axis=0)
    elif n_permutations:
        chunks = [permutations[i:i + 10] for i in range(0, n_permutations, 10)]
        null[:] = np.vstack(map_blocks(_permuted_r2, chunks, {"fitter": fitter, "y": y}, client))
    p_values = ((1.0 + (null >= r2).sum(axis=0)) / (1.0 + n_permutations)
                if n_permutations else np.full(len(r2), np.nan))
    name = "gene" if direction == "cp->ge" else "feature"
    table = pd.DataFrame({
        name: out_names, "r2": r2, "r2_sd": fold_r2.std(axis=0, ddof=1) if n_splits > 1 else np.nan,
        "pearson_r": pearson_columns(y, predictions),
        "r2_null_mean": null.mean(axis=0) if n_permutations else np.nan,
        "p_value": p_values, "q_value": bh_qvalues(p_values),
    })
    if name == "gene":
        table["symbol"] = gene_symbols(out_names).to_numpy()  # current HGNC symbol of each probe
    parameters = {}
    if model == "ridge":
        table["alpha"] = np.exp(np.log(chosen).mean(axis=0))
        parameters["alpha_grid"] = [float(a) for a in alphas]
    if model == "pcr":
        grouped = has_groups(groups)
        table["f_test_p_value"] = pcr_f_test(group_means(x, groups) if grouped else x,
                                             group_means(y, groups) if grouped else y, n_components)
        if grouped:
            notes = notes + ("the PCR F-test is computed on group means (rows of one group are not independent)",)
        parameters["n_components"] = n_components
    if model == "lasso":
        parameters["lasso_alpha"] = lasso_alpha
    if n_permutations:
        notes = notes + (f"smallest attainable p-value is {1 / (1 + n_permutations):.2g}",)
    return PredictabilityResult(table, direction, model, n_splits, n_permutations, seed, len(y),
                                parameters, notes)


def gene_predictability(cp, ge=None, key: str | None = None, model: str = "ridge", n_splits: int = 5,
                        groups=None, n_permutations: int = 100, seed: int | None = 0,
                        alphas=DEFAULT_ALPHAS, lasso_alpha: float = 0.1, n_components: int = 50,
                        drop_controls: bool = True, progress: bool = False, client=None) -> PredictabilityResult:
    """Cross-validated R^2 of each L1000 gene predicted from Cell Painting features.

    ``cp`` and ``ge`` are treatment-level Profiles or DataFrames sharing ``key``
    (or ``cp`` is a :class:`PairedProfiles`). Returns a table with one row per
    gene: gene, r2, r2_sd, pearson_r, r2_null_mean, p_value, q_value. With a
    ``dask.distributed.Client`` the permutations run on its workers (same numbers).
    """
    m = paired_matrices(cp, ge, key, groups, drop_controls)
    return _predictability(m.cp, m.ge, m.ge_names, m.groups, "cp->ge", model, n_splits, n_permutations,
                           seed, alphas, lasso_alpha, n_components, progress, _notes(m), client)


def feature_predictability(cp, ge=None, key: str | None = None, model: str = "ridge", n_splits: int = 5,
                           groups=None, n_permutations: int = 100, seed: int | None = 0,
                           alphas=DEFAULT_ALPHAS, lasso_alpha: float = 0.1, n_components: int = 50,
                           drop_controls: bool = True, progress: bool = False, client=None) -> PredictabilityResult:
    """The reverse direction: each Cell Painting feature predicted from the L1000 genes."""
    m = paired_matrices(cp, ge, key, groups, drop_controls)
    return _predictability(m.ge, m.cp, m.cp_names, m.groups, "ge->cp", model, n_splits, n_permutations,
                           seed, alphas, lasso_alpha, n_components, progress, _notes(m), client)


def _notes(m: PairedMatrices) -> tuple[str, ...]:
    dropped = (f"{m.n_controls_dropped} negative-control row(s) left out",) if m.n_controls_dropped else ()
    return dropped + m.notes
