"""Leave-dataset-out transfer (the paper's Extended Data 1): fit on one dataset, score every gene on another.

The model is fitted once on every paired perturbation of the training
dataset (Cell Painting features -> all L1000 genes) and predicts the test
dataset's genes from its features; a gene's score is the R^2 on the test
dataset. Only the features and genes both datasets measure are used
(``features="intersect"``), and each dataset is standardised on its own
(``standardize="per dataset"``: plates, batches and cell lines differ, so a
shared scale would score the offset, not the link). The null keeps the
predictions and shuffles the test dataset's rows (whole groups when rows
are doses of a compound): ``p = (1 + #{R^2* >= R^2}) / (1 + n_permutations)``,
BH q-values per direction. The paper's call is ``R^2 > 0.2``; with
``shuffle_once`` (the paper's preset) a model trained on shuffled genes is
scored too (``r2_shuffled``). ``direction="both"`` runs A->B and B->A.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

from ...common.presets import resolve_preset
from ...common.result import Result, merged_inputs
from ...common.validation import check_choice
from ..core.multiple_testing import bh_qvalues
from ..core.paired import paired_matrices
from ..core.resampling import group_permutation, group_permutations, permutation_p_values
from ..kernels.regression import (DEFAULT_ALPHAS, RidgeBasis, pearson_columns, r2_columns, ridge_gcv_predict,
                                  standardize_columns)
from .lasso_cv import lasso_cv_predict
from .models import default_mlp

TRANSFER_MODELS = ("ridge", "lasso", "lasso_cv", "mlp")
STANDARDIZE = ("per dataset", "train", "none")
DIRECTIONS = ("both", "forward")
PAPER_THRESHOLD = 0.2


class TransferResult(Result):
    """One row per (direction, gene): test R^2, p/q-values, the paper's call."""

    title = "Leave-dataset-out transfer"

    def headline(self) -> list[str]:
        return [f"{way}: {v['n_r2_above_threshold']} of {v['n_genes']} genes R^2 > {self.settings['threshold']:g}, "
                f"{v['n_q_below_0.05']} with q < 0.05" for way, v in self.estimates["by_direction"].items()]


def fit_predict(model: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, seed,
                alphas=DEFAULT_ALPHAS, lasso_alpha: float = 0.1) -> np.ndarray:
    """Predictions at ``x_test`` of ``model`` fitted once to every column of ``y_train``."""
    if model == "ridge":
        basis = RidgeBasis.fit(x_train)
        return ridge_gcv_predict(basis, y_train, basis.project(x_test), alphas)[1]
    if model == "lasso_cv":
        return lasso_cv_predict(x_train, y_train, x_test)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = Lasso(alpha=lasso_alpha, max_iter=10_000) if model == "lasso" else default_mlp(seed)
        fit.fit(x_train, y_train)
    return fit.predict(x_test).reshape(len(x_test), -1)


def _shared(train, test, what: str) -> list[str]:
    shared = [n for n in train if n in set(test)]
    if not shared:
        raise ValueError(f"the two datasets share no {what}")
    return shared


def _scale(x_a, x_b, how: str):
    if how == "per dataset":
        return standardize_columns(x_a), standardize_columns(x_b)
    if how == "train":
        mean, sd = x_a.mean(axis=0), x_a.std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        return (x_a - mean) / sd, (x_b - mean) / sd
    return x_a, x_b


def transfer_predictability(train, test, model: str | None = None, features: str = "intersect",
                            standardize: str = "per dataset", n_permutations: int | None = None,
                            seed: int | None = 0, direction: str = "both", threshold: float = PAPER_THRESHOLD,
                            shuffle_once: bool | None = None, alphas=DEFAULT_ALPHAS, lasso_alpha: float = 0.1,
                            include_controls: bool = False, preset=None, names: tuple[str, str] | None = None
                            ) -> TransferResult:
    """Genes of one dataset predicted by a model fitted on another (and back, with ``direction="both"``).

    ``train``, ``test``: treatment-level :class:`PairedProfiles` (from
    ``load_paired`` or ``pair``). ``model``: "ridge" (default), "lasso",
    "lasso_cv" (the paper's) or "mlp". ``features``: "intersect" (the
    features and genes both measure; anything else must be the same lists).
    ``standardize``: "per dataset", "train" or "none". ``n_permutations``:
    shuffled-test null size (default 100; 0 for none). ``names``: labels of
    the two datasets (default their dataset names). Returns direction,
    train, test, gene, symbol, r2, pearson_r, r2_null_mean, p_value, q_value,
    above_threshold (and r2_shuffled).
    """
    preset = resolve_preset(preset)
    model = preset.pick(model, "model") if preset.name != "default" else (model or "ridge")
    shuffle_once = bool(preset.pick(shuffle_once, "shuffle_once"))
    n_permutations = 100 if n_permutations is None and preset.name == "default" else \
        int(preset.pick(n_permutations, "n_permutations"))
    check_choice(model, TRANSFER_MODELS, "model")
    check_choice(standardize, STANDARDIZE, "standardize")
    check_choice(direction, DIRECTIONS, "direction")
    if features != "intersect":
        raise ValueError(f"features must be 'intersect'; got {features!r}")
    if int(n_permutations) < 0:
        raise ValueError(f"n_permutations must be 0 or more; got {n_permutations}")
    m_a = paired_matrices(train, include_controls=include_controls)
    m_b = paired_matrices(test, include_controls=include_controls)
    labels = names or (getattr(m_a.paired, "dataset", None) or "train", getattr(m_b.paired, "dataset", None) or "test")
    if labels[0] == labels[1]:
        labels = (f"{labels[0]} (train)", f"{labels[1]} (test)")
    cp_names = _shared(m_a.cp_names, m_b.cp_names, "Cell Painting features")
    ge_names = _shared(m_a.ge_names, m_b.ge_names, "L1000 genes")
    sides = []
    for m in (m_a, m_b):
        x = m.cp[:, [m.cp_names.index(n) for n in cp_names]]
        y = m.ge[:, [m.ge_names.index(n) for n in ge_names]]
        sides.append((x, y, m.groups))
    rng = np.random.default_rng(seed)
    ways = [(0, 1)] if direction == "forward" else [(0, 1), (1, 0)]
    frames, by_direction = [], {}
    annotations = m_a.ge_annotations
    for a, b in ways:
        (x_a, y_a, _), (x_b, y_b, groups_b) = sides[a], sides[b]
        x_a, x_b = _scale(x_a, x_b, standardize)
        y_a, y_b = _scale(y_a, y_b, standardize)
        predicted = fit_predict(model, x_a, y_a, x_b, seed, alphas, lasso_alpha)
        r2 = r2_columns(y_b, predicted)
        permutations, exact = group_permutations(groups_b, n_permutations, rng) if n_permutations else ([], False)
        null = np.array([r2_columns(y_b[p], predicted) for p in permutations]) if len(permutations) else None
        p_values = permutation_p_values(null, r2, exact=exact) if null is not None else np.full(len(r2), np.nan)
        way = f"{labels[a]} -> {labels[b]}"
        table = pd.DataFrame({
            "direction": way, "train": labels[a], "test": labels[b], "gene": ge_names,
            "r2": r2, "pearson_r": pearson_columns(y_b, predicted),
            "r2_null_mean": null.mean(axis=0) if null is not None else np.nan,
            "p_value": p_values, "q_value": bh_qvalues(p_values), "above_threshold": r2 > threshold,
        })
        if annotations is not None and "symbol" in annotations.columns:
            table.insert(4, "symbol", annotations["symbol"].reindex(ge_names).to_numpy())
        if shuffle_once:  # the paper's shuffled model: trained on genes moved by one permutation of its rows
            shuffled = fit_predict(model, x_a, y_a[group_permutation(sides[a][2], rng)], x_b, seed, alphas,
                                   lasso_alpha)
            table["r2_shuffled"] = r2_columns(y_b, shuffled)
        frames.append(table)
        by_direction[way] = {"n_genes": len(ge_names), "n_r2_above_threshold": int((r2 > threshold).sum()),
                             "n_q_below_0.05": int((table["q_value"] < 0.05).sum()),
                             "median_r2": float(np.nanmedian(r2)),
                             **({"n_shuffled_above_threshold": int((table["r2_shuffled"] > threshold).sum())}
                                if shuffle_once else {})}
    settings = {"model": model, "features": features, "standardize": standardize,
                "n_permutations": int(n_permutations), "seed": seed, "direction": direction,
                "threshold": threshold, "shuffle_once": shuffle_once, "preset": preset.name}
    notes = (f"{len(cp_names)} Cell Painting features and {len(ge_names)} genes measured in both datasets "
             f"(of {len(m_a.cp_names)}/{len(m_b.cp_names)} and {len(m_a.ge_names)}/{len(m_b.ge_names)})",
             "null: the test dataset's rows shuffled against fixed predictions"
             + (" in whole groups" if len(np.unique(sides[1][2])) < len(sides[1][2]) else ""))
    return TransferResult(pd.concat(frames, ignore_index=True), settings,
                          {"by_direction": by_direction, "n_features": len(cp_names), "n_genes": len(ge_names)},
                          notes, merged_inputs(m_a, m_b))


class TransferCounts(Result):
    """Genes above the R^2 threshold per model and direction."""

    title = "Transfer counts"


def transfer_counts(scores, threshold: float = PAPER_THRESHOLD) -> TransferCounts:
    """Genes with R^2 above ``threshold`` per model and direction (the numbers of Extended Data 1), from a
    :func:`transfer_predictability` result or a per-gene table (the published one has Model, kind and
    model_direction columns)."""
    table = scores.table if hasattr(scores, "table") else pd.DataFrame(scores)
    if "r2" not in table.columns:
        raise ValueError("the scores need an r2 column")
    keys = [c for c in ("kind", "Model", "model", "model_direction", "direction") if c in table.columns]
    above = table.assign(n_above=table["r2"] > threshold, n_genes=1)
    column = f"n_r2_above_{threshold:g}"
    if not keys:
        counts = pd.DataFrame({"n_genes": [len(above)], column: [int(above["n_above"].sum())]})
    else:
        counts = above.groupby(keys, sort=True)[["n_genes", "n_above"]].sum().reset_index()
        counts = counts.rename(columns={"n_above": column})
    return TransferCounts(counts, {"threshold": threshold, "by": keys})
