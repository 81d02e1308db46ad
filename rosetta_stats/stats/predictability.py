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
from tqdm.auto import tqdm

from ..common.presets import PRESETS
from ..common.validation import check_choice
from ..data.feature_categories import feature_categories
from ..data.gene_symbols import gene_symbols
from ..data.profiles import Profiles
from ..data.registry import get_dataset
from ..results.base import ResultShape
from .kernels.regression import DEFAULT_ALPHAS, pearson_columns, standardize_columns
from .kernels.sampling import group_means, group_permutation, has_groups
from .multiple_testing import bh_qvalues
from .paired_inputs import PairedMatrices, paired_matrices
from .parallel import map_blocks
from .prediction_models import Fitter, grouped_folds, pcr_f_test, permuted_r2

MODELS = ("ridge", "lasso", "lasso_cv", "mlp_grid", "pcr", "mlp")
FOLD_SCORES = ("mean", "median")
PAPER_MODELS = ("lasso_cv", "mlp_grid")  # scored by the median of fold R^2, as the paper did


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


def _predictability(x, y, out_names, groups, direction, model, n_splits, n_permutations, seed,
                    alphas, lasso_alpha, n_components, progress, notes, client=None, fold_score=None,
                    n_jobs=None, shuffle_once=False) -> PredictabilityResult:
    check_choice(model, MODELS, "model")
    fold_score = fold_score or ("median" if model in PAPER_MODELS else "mean")
    check_choice(fold_score, FOLD_SCORES, "fold_score")
    if int(n_permutations) < 0:
        raise ValueError(f"n_permutations must be 0 or more; got {n_permutations}")
    aggregate = np.median if fold_score == "median" else np.mean
    constant = [n for n, sd in zip(out_names, y.std(axis=0)) if not sd > 0]
    if constant:
        raise ValueError(f"constant output column(s), R^2 undefined: {', '.join(constant[:10])}")
    x, y = standardize_columns(x), standardize_columns(y)
    folds = grouped_folds(groups, n_splits)
    fitter = Fitter(x, folds, model, seed, alphas, lasso_alpha, n_components, n_jobs)
    predictions, fold_r2, chosen = fitter.predict(y)
    r2 = aggregate(fold_r2, axis=0)
    rng = np.random.default_rng(seed)
    permutations = [group_permutation(groups, rng) for _ in range(n_permutations)]
    null = np.empty((n_permutations, y.shape[1]))
    if client is None:
        for b in tqdm(range(n_permutations), desc=f"permutations ({model})", disable=not progress):
            null[b] = aggregate(fitter.predict(y[permutations[b]])[1], axis=0)
    elif n_permutations:
        chunks = [permutations[i:i + 10] for i in range(0, n_permutations, 10)]
        null[:] = np.vstack(map_blocks(permuted_r2, chunks, {"fitter": fitter, "y": y, "fold_score": fold_score},
                                       client))
    p_values = ((1.0 + (null >= r2).sum(axis=0)) / (1.0 + n_permutations)
                if n_permutations else np.full(len(r2), np.nan))
    name = "gene" if direction == "cp->ge" else "feature"
    table = pd.DataFrame({
        name: out_names, "r2": r2, "r2_sd": fold_r2.std(axis=0, ddof=1) if n_splits > 1 else np.nan,
        "pearson_r": pearson_columns(y, predictions),
        "r2_null_mean": null.mean(axis=0) if n_permutations else np.nan,
        "p_value": p_values, "q_value": bh_qvalues(p_values),
    })
    if shuffle_once:  # the paper's null: the same cross-validation once more, outputs shuffled
        shuffled = aggregate(fitter.predict(y[group_permutation(groups, rng)])[1], axis=0)
        threshold = float(np.percentile(shuffled, 99)) + 0.2
        table["r2_shuffled"] = shuffled
        table["highly_predictable"] = r2 > threshold
        notes = notes + (f"highly predictable (the paper's rule): R^2 > 99th percentile of shuffled R^2 + 0.2 "
                         f"= {threshold:.3f}; {int((r2 > threshold).sum())} of {len(r2)}",)
    if name == "gene":
        table["symbol"] = gene_symbols(out_names).to_numpy()  # current HGNC symbol of each probe
    parameters = {"fold_score": fold_score}
    if model == "lasso_cv":
        from .lasso_cv import PAPER_LASSO_ALPHAS
        parameters["lasso_cv_alphas"] = [float(a) for a in PAPER_LASSO_ALPHAS]
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


def _default_splits(cp, n_splits):
    """The paper's fold count when the pairing knows its dataset, else 5."""
    if n_splits is not None:
        return int(n_splits)
    dataset = getattr(cp, "dataset", None)
    return get_dataset(dataset).cv_folds if dataset else 5


def _preset(preset, model, fold_score, n_permutations, shuffle_once):
    """The paper's choices for the arguments left at their defaults."""
    check_choice(preset or "default", PRESETS, "preset")
    if preset != "paper":
        return model, fold_score, n_permutations, shuffle_once
    return ("lasso_cv" if model == "ridge" else model, fold_score or "median",
            0 if n_permutations == 100 else n_permutations, True)


def gene_predictability(cp, ge=None, key: str | None = None, model: str = "ridge", n_splits: int | None = None,
                        groups=None, n_permutations: int = 100, seed: int | None = 0,
                        alphas=DEFAULT_ALPHAS, lasso_alpha: float = 0.1, n_components: int = 50,
                        drop_controls: bool = True, progress: bool = False, client=None,
                        fold_score: str | None = None, n_jobs: int | None = None, shuffle_once: bool = False,
                        preset: str | None = None) -> PredictabilityResult:
    """Cross-validated R^2 of each L1000 gene predicted from Cell Painting features.

    ``cp`` and ``ge`` are treatment-level Profiles or DataFrames sharing ``key``
    (or ``cp`` is a :class:`PairedProfiles`). ``model``: "ridge" (default),
    "lasso", "lasso_cv" (the paper's), "pcr" or "mlp". ``n_splits``: the
    dataset's paper value when the pairing came from ``load_paired``, else 5.
    ``fold_score``: how fold R^2 become a gene's score, "mean" or "median"
    (the default for "lasso_cv", as the paper). ``shuffle_once`` adds the
    paper's one-shuffle null (``r2_shuffled``, ``highly_predictable``).
    ``preset="paper"`` takes the paper's choices for every argument left at
    its default (lasso_cv, median, no permutations, one shuffle). Returns a
    table with one row per gene: gene, r2, r2_sd, pearson_r, r2_null_mean,
    p_value, q_value (and symbol). With a ``dask.distributed.Client`` the
    permutations run on its workers (same numbers); ``n_jobs`` parallelises
    "lasso_cv" over genes.
    """
    model, fold_score, n_permutations, shuffle_once = _preset(preset, model, fold_score, n_permutations,
                                                              shuffle_once)
    m = paired_matrices(cp, ge, key, groups, drop_controls)
    return _predictability(m.cp, m.ge, m.ge_names, m.groups, "cp->ge", model, _default_splits(cp, n_splits),
                           n_permutations, seed, alphas, lasso_alpha, n_components, progress, _notes(m), client,
                           fold_score, n_jobs, shuffle_once)


def feature_predictability(cp, ge=None, key: str | None = None, model: str = "ridge", n_splits: int | None = None,
                           groups=None, n_permutations: int = 100, seed: int | None = 0,
                           alphas=DEFAULT_ALPHAS, lasso_alpha: float = 0.1, n_components: int = 50,
                           drop_controls: bool = True, progress: bool = False, client=None,
                           fold_score: str | None = None, n_jobs: int | None = None, shuffle_once: bool = False,
                           preset: str | None = None) -> PredictabilityResult:
    """The reverse direction: each Cell Painting feature predicted from the L1000 genes (same options)."""
    model, fold_score, n_permutations, shuffle_once = _preset(preset, model, fold_score, n_permutations,
                                                              shuffle_once)
    m = paired_matrices(cp, ge, key, groups, drop_controls)
    return _predictability(m.ge, m.cp, m.cp_names, m.groups, "ge->cp", model, _default_splits(cp, n_splits),
                           n_permutations, seed, alphas, lasso_alpha, n_components, progress, _notes(m), client,
                           fold_score, n_jobs, shuffle_once)


def gene_predictability_by_category(cp, ge=None, key: str | None = None, by: str = "category",
                                    min_features: int = 3, groups=None, drop_controls: bool = True,
                                    **options) -> pd.DataFrame:
    """Each gene predicted from one feature category at a time (the paper's Fig 2d maps).

    Categories come from :func:`rosetta_stats.feature_categories` (``by``:
    "category" = channel-group, or "compartment", "group", "channel");
    categories with fewer than ``min_features`` features are skipped. Other
    options pass to :func:`gene_predictability` (default: no permutations).
    Returns gene, symbol, category, n_features, r2 in long form.
    """
    options.setdefault("n_permutations", 0)
    options.setdefault("n_splits", _default_splits(cp, None))
    m = paired_matrices(cp, ge, key, groups, drop_controls)
    keys = pd.Index(m.keys).astype(str)
    ge_side = Profiles(pd.DataFrame(m.ge, columns=m.ge_names).assign(rosetta_key_=keys), tuple(m.ge_names), "ge",
                       perturbation="rosetta_key_")
    same_groups = pd.Series([f"{g:09d}" for g in m.groups], index=keys)  # the paired rows' groups, in their order
    frames = []
    for category, members in feature_categories(m.cp_names).groupby(by, dropna=True, sort=True):
        if len(members) < min_features:
            continue
        names = [m.cp_names[i] for i in members.index]
        cp_side = Profiles(pd.DataFrame(m.cp[:, members.index.to_numpy()], columns=names).assign(rosetta_key_=keys),
                           tuple(names), "cp", perturbation="rosetta_key_")
        result = gene_predictability(cp_side, ge_side, key="rosetta_key_", groups=same_groups,
                                     drop_controls=False, **options)
        frames.append(result.table[["gene", "symbol", "r2"]].assign(category=category, n_features=len(names)))
    if not frames:
        raise ValueError(f"no {by} has {min_features} or more features")
    return pd.concat(frames, ignore_index=True)[["gene", "symbol", "category", "n_features", "r2"]]


def _notes(m: PairedMatrices) -> tuple[str, ...]:
    dropped = (f"{m.n_controls_dropped} negative-control row(s) left out",) if m.n_controls_dropped else ()
    return dropped + m.notes
