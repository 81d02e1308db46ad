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

import warnings

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ...common.deprecation import renamed_arguments
from ...common.presets import resolve_preset
from ...common.validation import check_choice
from ...common.result import Result, TableResult
from ..kernels.regression import DEFAULT_ALPHAS, pearson_columns, standardize_columns
from ..core.resampling import (group_means, group_permutation, group_permutations, has_groups,
                               permutation_p_values, smallest_p_note)
from ..core.multiple_testing import bh_qvalues
from ..core.inputs import heavy_tails
from ..core.paired import PairedMatrices, paired_matrices
from ..core.parallel import map_blocks
from ..core.folds import grouped_folds
from .models import Fitter, fold_aggregate, pcr_f_test, permuted_r2

MODELS = ("ridge", "lasso", "lasso_cv", "mlp_grid", "pcr", "mlp")
FOLD_SCORES = ("mean", "median")
INNER_CV = ("auto", "gcv", "grouped")  # how ridge chooses its penalty inside each training fold
F_TEST_PERMUTATIONS = 999  # the PCR F-test's permutations when the tails are heavy
PAPER_MODELS = ("lasso_cv", "mlp_grid")  # scored by the median of fold R^2, as the paper did


class PredictabilityResult(Result):
    """Per-output predictability (``table``) and the settings that made it."""

    title = "Predictability"

    def headline(self) -> list[str]:
        s, e = self.settings, self.estimates
        top = self.table.nlargest(5, "r2")
        label = "symbol" if "symbol" in self.table.columns else self.table.columns[0]
        return [f"{s['direction']}, {s['model']}, {s['n_splits']}-fold grouped CV, {e['n_samples']} perturbations: "
                f"median R^2 {e['median_r2']:.3f}; q < 0.05: {e['n_q_below_0.05']} of {e['n_outputs']} "
                f"({s['n_permutations']} permutations, seed={s['seed']})",
                "best: " + ", ".join(f"{g} ({r:.2f})" for g, r in zip(top[label], top["r2"]))]


def _predictability(x, y, out_names, groups, direction, model, n_splits, n_permutations, seed,
                    alphas, lasso_alpha, n_components, progress, notes, client=None, fold_score=None,
                    n_jobs=None, shuffle_once=False, shuffled_model=None, annotations=None, inputs=(),
                    preset_name="default", inner_cv="auto") -> PredictabilityResult:
    check_choice(model, MODELS, "model")
    check_choice(inner_cv, INNER_CV, "inner_cv")
    fold_score = fold_score or ("median" if model in PAPER_MODELS else "mean")
    check_choice(fold_score, FOLD_SCORES, "fold_score")
    if int(n_permutations) < 0:
        raise ValueError(f"n_permutations must be 0 or more; got {n_permutations}")
    aggregate = fold_aggregate(fold_score)
    constant = [n for n, sd in zip(out_names, y.std(axis=0)) if not sd > 0]
    if constant:
        raise ValueError(f"constant output column(s), R^2 undefined: {', '.join(constant[:10])}")
    x, y = standardize_columns(x), standardize_columns(y)
    folds = grouped_folds(groups, n_splits)
    if inner_cv == "auto":
        inner_cv = "gcv"
        if model == "ridge" and has_groups(groups):  # said, not silently costed: grouped folds take ~7x the time
            notes = notes + ("ridge penalties by GCV, which leaves out single rows: rows of one group (doses of a "
                             "compound) inform each other there, so R^2 leans low; inner_cv='grouped' chooses them "
                             "by grouped inner folds (about 7 times the time)",)
    fitter = Fitter(x, folds, model, seed, alphas, lasso_alpha, n_components, n_jobs,
                    inner_groups=groups if inner_cv == "grouped" else None)
    if model == "ridge" and inner_cv == "grouped":
        notes = notes + ("ridge penalties chosen by grouped inner cross-validation (groups kept whole, as in the "
                         "outer folds)",)
    predictions, fold_r2, chosen = fitter.predict(y, f"cross-validation ({model}), folds" if progress else None)
    r2 = aggregate(fold_r2, axis=0)
    undefined = np.isnan(fold_r2).any(axis=0)
    if undefined.any():
        notes = notes + (f"{int(undefined.sum())} output(s) constant in some test fold: R^2 is undefined there and "
                         f"scored over the other folds ({int(np.isnan(r2).sum())} undefined in every fold: NaN)",)
    rng = np.random.default_rng(seed)
    permutations, exact = group_permutations(groups, n_permutations, rng) if n_permutations else ([], False)
    n_permutations = len(permutations)
    null = np.empty((n_permutations, y.shape[1]))
    if client is None:
        for b in tqdm(range(n_permutations), desc=f"permutations ({model})", disable=not progress):
            null[b] = aggregate(fitter.predict(y[permutations[b]])[1], axis=0)
    elif n_permutations:
        chunks = [permutations[i:i + 10] for i in range(0, n_permutations, 10)]
        null[:] = np.vstack(map_blocks(permuted_r2, chunks, {"fitter": fitter, "y": y, "fold_score": fold_score},
                                       client))
    p_values = permutation_p_values(null, r2, exact=exact) if n_permutations else np.full(len(r2), np.nan)
    name = "gene" if direction == "cp->ge" else "feature"
    table = pd.DataFrame({
        name: out_names, "r2": r2, "r2_sd": _fold_sd(fold_r2) if n_splits > 1 else np.nan,
        "pearson_r": pearson_columns(y, predictions),
        "r2_null_mean": null.mean(axis=0) if n_permutations else np.nan,
        "p_value": p_values, "q_value": bh_qvalues(p_values),
        "r2_null_q95": np.quantile(null, 0.95, axis=0) if n_permutations else np.nan,
    })
    if shuffle_once:  # the paper's null: the same cross-validation once more, outputs shuffled
        shuffled = _shuffled_scores(x, y, folds, fitter, groups, rng, aggregate, shuffled_model, seed, n_jobs,
                                     progress)
        threshold = float(np.percentile(shuffled, 99)) + 0.2
        table["r2_shuffled"] = shuffled
        table["highly_predictable"] = r2 > threshold
        notes = notes + (f"highly predictable (the paper's rule): R^2 > 99th percentile of shuffled R^2 + 0.2 "
                         f"= {threshold:.3f}; {int((r2 > threshold).sum())} of {len(r2)}",)
    if annotations is not None and "symbol" in annotations.columns:  # carried by the paired profiles
        table["symbol"] = annotations["symbol"].reindex(out_names).to_numpy()
    parameters = {"fold_score": fold_score}
    if model == "lasso_cv":
        from .lasso_cv import PAPER_LASSO_ALPHAS
        parameters["lasso_cv_alphas"] = [float(a) for a in PAPER_LASSO_ALPHAS]
    if model == "ridge":
        table["alpha"] = np.exp(np.log(chosen).mean(axis=0))
        parameters["alpha_grid"] = [float(a) for a in alphas]
        parameters["inner_cv"] = inner_cv
        notes = notes + _edge_notes(chosen, np.asarray(alphas, dtype=float), name)
    if model == "pcr":
        grouped = has_groups(groups)
        x_test, y_test = (group_means(x, groups), group_means(y, groups)) if grouped else (x, y)
        kurtosis = heavy_tails(x_test, y_test)
        orders = None
        if kurtosis is not None:  # the F distribution's tail is wrong: permute the (independent) rows instead
            orders, _ = group_permutations(np.arange(len(y_test)), F_TEST_PERMUTATIONS,
                                           np.random.default_rng(None if seed is None else seed + 1))
            notes = notes + (f"heavy tails (median excess kurtosis {kurtosis:.1f}): the PCR F-test's p-values come "
                             f"from {len(orders)} permutations of the rows",)
        table["f_test_p_value"] = pcr_f_test(x_test, y_test, n_components, orders)
        if grouped:
            notes = notes + ("the PCR F-test is computed on group means (rows of one group are not independent)",)
        parameters["n_components"] = n_components
    if model == "lasso":
        parameters["lasso_alpha"] = lasso_alpha
    if n_permutations:
        notes = notes + (smallest_p_note(n_permutations, exact, "n_permutations"),)
    settings = {"direction": direction, "model": model, "n_splits": n_splits, "n_permutations": n_permutations,
                "seed": seed, "shuffle_once": bool(shuffle_once), "preset": preset_name, **parameters}
    if shuffle_once:
        settings["shuffled_model"] = shuffled_model or model
    estimates = {"n_samples": int(len(y)), "n_outputs": int(len(table)), "median_r2": float(np.median(r2)),
                 "n_q_below_0.05": int((table["q_value"] < 0.05).sum())}
    if shuffle_once:
        estimates["n_highly_predictable"] = int(table["highly_predictable"].sum())
    # the predicted features' values and permutation scores travel along: category_enrichment() tests categories
    # against permutations that moved every feature together (their correlations kept)
    extras = {"output_matrix": y, "null_r2": null} if direction != "cp->ge" else {}
    return PredictabilityResult(table, settings, estimates, notes, inputs, extras=extras)


def _fold_sd(fold_r2: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # fewer than two defined folds: NaN
        return np.nanstd(fold_r2, axis=0, ddof=1)


def _edge_notes(chosen: np.ndarray, alphas: np.ndarray, name: str) -> tuple[str, ...]:
    """Say when GCV sat on an edge of the penalty grid (folds x outputs of chosen penalties)."""
    notes = []
    low = int((chosen <= alphas.min() * (1 + 1e-9)).any(axis=0).sum())
    high = int((chosen >= alphas.max() * (1 - 1e-9)).all(axis=0).sum())
    if low:
        notes.append(f"{low} {name}(s) took the smallest ridge penalty ({alphas.min():g}) in some fold: GCV wanted "
                     "less shrinkage than the grid offers; pass a wider alphas=")
    if high:
        notes.append(f"{high} {name}(s) took the largest ridge penalty ({alphas.max():g}) in every fold: their "
                     "predictions are the training mean (no signal found)")
    return tuple(notes)


def _default_splits(cp, n_splits):
    """The paper's fold count when the pairing knows its dataset, else 5."""
    if n_splits is not None:
        return int(n_splits)
    return getattr(cp, "cv_folds", None) or 5


def _choices(preset, model, fold_score, n_permutations, shuffle_once):
    """Explicit arguments win; the preset fills in the rest."""
    preset = resolve_preset(preset)
    return (preset, preset.pick(model, "model"), preset.pick(fold_score, "fold_score"),
            int(preset.pick(n_permutations, "n_permutations")), bool(preset.pick(shuffle_once, "shuffle_once")))


def _shuffled_scores(x, y, folds, fitter, groups, rng, aggregate, shuffled_model, seed, n_jobs, progress=False):
    """The one-shuffle scores: the model itself on outputs moved by one group permutation, or the paper's
    null (``shuffled_model="lasso"``: Lasso(alpha=0.1, max_iter=1000), every output shuffled on its own)."""
    if shuffled_model in (None, fitter.model):
        label = f"one shuffle ({fitter.model}), folds" if progress else None
        return aggregate(fitter.predict(y[group_permutation(groups, rng)], label)[1], axis=0)
    shuffled = np.column_stack([y[rng.permutation(len(y)), j] for j in range(y.shape[1])])
    null_fitter = Fitter(x, folds, shuffled_model, seed, None, 0.1, 0, n_jobs, lasso_max_iter=1000)
    return aggregate(null_fitter.predict(shuffled, f"one shuffle ({shuffled_model}), folds" if progress else None)[1],
                     axis=0)


@renamed_arguments(drop_controls=("include_controls", lambda drop: not drop))
def gene_predictability(cp, ge=None, key: str | None = None, model: str | None = None, n_splits: int | None = None,
                        groups=None, n_permutations: int | None = None, seed: int | None = 0,
                        alphas=DEFAULT_ALPHAS, lasso_alpha: float = 0.1, n_components: int = 50,
                        include_controls: bool = False, progress: bool = False, client=None,
                        fold_score: str | None = None, n_jobs: int | None = None, shuffle_once: bool | None = None,
                        preset=None, inner_cv: str = "auto") -> PredictabilityResult:
    """Cross-validated R^2 of each L1000 gene predicted from Cell Painting features.

    ``cp`` and ``ge`` are treatment-level Profiles or DataFrames sharing ``key``
    (or ``cp`` is a :class:`PairedProfiles`). ``model``: "ridge" (default),
    "lasso", "lasso_cv" (the paper's), "pcr" or "mlp". ``n_splits``: the
    dataset's paper value when the pairing came from ``load_paired``, else 5.
    ``fold_score``: how fold R^2 become a gene's score, "mean" or "median"
    (the default for "lasso_cv", as the paper). ``shuffle_once`` adds the
    paper's one-shuffle null (``r2_shuffled``, ``highly_predictable``).
    ``preset="paper"`` takes the paper's choices for every argument left at
    its default (lasso_cv, median, no permutations, one shuffle). ``inner_cv``:
    how ridge chooses each gene's penalty inside a training fold, "gcv"
    (generalised cross-validation, leaving out rows) or "grouped" (inner
    folds that keep groups whole, like the outer ones; about 7 times the
    time at CDRP's shape); "auto" takes "gcv" and says so in the notes when
    some group has several rows. Returns a
    table with one row per gene: gene, r2, r2_sd, pearson_r, r2_null_mean,
    p_value, q_value (and symbol). With a ``dask.distributed.Client`` the
    permutations run on its workers (same numbers); ``n_jobs`` parallelises
    "lasso_cv" over genes.
    """
    preset, model, fold_score, n_permutations, shuffle_once = _choices(preset, model, fold_score, n_permutations,
                                                                       shuffle_once)
    m = paired_matrices(cp, ge, key, groups, include_controls)
    return _predictability(m.cp, m.ge, m.ge_names, m.groups, "cp->ge", model, _default_splits(cp, n_splits),
                           n_permutations, seed, alphas, lasso_alpha, n_components, progress, _notes(m), client,
                           fold_score, n_jobs, shuffle_once, preset.shuffled_model if model == "lasso_cv" else None,
                           m.ge_annotations, m.inputs, preset.name, inner_cv)


@renamed_arguments(drop_controls=("include_controls", lambda drop: not drop))
def feature_predictability(cp, ge=None, key: str | None = None, model: str | None = None,
                           n_splits: int | None = None, groups=None, n_permutations: int | None = None,
                           seed: int | None = 0, alphas=DEFAULT_ALPHAS, lasso_alpha: float = 0.1,
                           n_components: int = 50, include_controls: bool = False, progress: bool = False,
                           client=None, fold_score: str | None = None, n_jobs: int | None = None,
                           shuffle_once: bool | None = None, preset=None, inner_cv: str = "auto"
                           ) -> PredictabilityResult:
    """The reverse direction: each Cell Painting feature predicted from the L1000 genes (same options)."""
    preset, model, fold_score, n_permutations, shuffle_once = _choices(preset, model, fold_score, n_permutations,
                                                                       shuffle_once)
    m = paired_matrices(cp, ge, key, groups, include_controls)
    return _predictability(m.ge, m.cp, m.cp_names, m.groups, "ge->cp", model, _default_splits(cp, n_splits),
                           n_permutations, seed, alphas, lasso_alpha, n_components, progress, _notes(m), client,
                           fold_score, n_jobs, shuffle_once, preset.shuffled_model if model == "lasso_cv" else None,
                           m.cp_annotations, m.inputs, preset.name, inner_cv)


@renamed_arguments(drop_controls=("include_controls", lambda drop: not drop))
def gene_predictability_by_category(cp, ge=None, key: str | None = None, by: str = "category",
                                    min_features: int = 3, groups=None, include_controls: bool = False,
                                    **options) -> Result:
    """Each gene predicted from one feature category at a time (the paper's Fig 2d maps).

    Categories come from :func:`rosetta_stats.feature_categories` (``by``:
    "category" = channel-group, or "compartment", "group", "channel");
    categories with fewer than ``min_features`` features are skipped. Other
    options pass to :func:`gene_predictability` (default: no permutations).
    Returns gene, symbol, category, n_features, r2 in long form.
    """
    n_permutations = int(options.pop("n_permutations", 0))
    n_splits = _default_splits(cp, options.pop("n_splits", None))
    preset, model, fold_score, n_permutations, shuffle_once = _choices(
        options.pop("preset", None), options.pop("model", None), options.pop("fold_score", None), n_permutations,
        options.pop("shuffle_once", None))
    seed = options.pop("seed", 0)
    unknown = set(options) - {"alphas", "lasso_alpha", "n_components", "progress", "client", "n_jobs"}
    if unknown:
        raise TypeError(f"gene_predictability_by_category() got unexpected argument(s): {', '.join(sorted(unknown))}")
    m = paired_matrices(cp, ge, key, groups, include_controls)
    categories = m.cp_annotations.reset_index()
    frames = []
    for category, members in categories.groupby(by, dropna=True, sort=True):
        if len(members) < min_features:
            continue
        columns = members.index.to_numpy()
        result = _predictability(m.cp[:, columns], m.ge, m.ge_names, m.groups, "cp->ge", model, n_splits,
                                 n_permutations, seed, options.get("alphas", DEFAULT_ALPHAS),
                                 options.get("lasso_alpha", 0.1), options.get("n_components", 50),
                                 options.get("progress", False), (), options.get("client"), fold_score,
                                 options.get("n_jobs"), False, None, m.ge_annotations)
        frames.append(result.table[["gene", "symbol", "r2"]].assign(category=category, n_features=len(columns)))
    if not frames:
        raise ValueError(f"no {by} has {min_features} or more features")
    table = pd.concat(frames, ignore_index=True)[["gene", "symbol", "category", "n_features", "r2"]]
    settings = {"by": by, "min_features": min_features, "model": model, "n_splits": n_splits, "seed": seed,
                "preset": preset.name}
    estimates = {"n_categories": int(table["category"].nunique()), "n_genes": int(table["gene"].nunique())}
    return CategoryPredictabilityResult(table, settings, estimates, _notes(m), m.inputs)


def cell_count_baseline(cp, ge=None, key: str | None = None, count: str = "Metadata_Object_Count",
                        model: str = "ridge", n_splits: int | None = None, groups=None, n_permutations: int = 100,
                        seed: int | None = 0, include_controls: bool = False) -> PredictabilityResult:
    """Each gene predicted from the cell count alone (log of ``count``), on the folds gene_predictability uses.

    A baseline for morphology: a gene that the cell count predicts as well as
    the Cell Painting features says more about proliferation than about
    morphology. ``count`` is a column of the Cell Painting side (treatment
    level: the mean over a perturbation's wells).
    """
    m = paired_matrices(cp, ge, key, groups, include_controls)
    data = m.paired.cp.data
    if count not in data.columns:
        raise ValueError(f"the cell count column {count!r} is not on the Cell Painting side (aggregate with "
                         "object_count=... keeps it)")
    keep = np.ones(len(data), bool) if include_controls else ~(m.paired.cp.controls | m.paired.ge.controls)
    counts = pd.to_numeric(data.loc[keep, count], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(counts).all() or (counts < 0).any():
        raise ValueError(f"{count} has missing or negative values")
    x = np.log1p(counts)[:, None]
    result = _predictability(x, m.ge, m.ge_names, m.groups, "cp->ge", model, _default_splits(cp, n_splits),
                             n_permutations, seed, DEFAULT_ALPHAS, 0.1, 1, False,
                             _notes(m) + (f"baseline: predicted from log(1 + {count}) alone",), None, None,
                             None, False, None, m.ge_annotations, m.inputs)
    return result


class CategoryPredictabilityResult(TableResult):
    """Each gene's R^2 from each feature category alone (long form)."""

    title = "Predictability by feature category"


def _notes(m: PairedMatrices) -> tuple[str, ...]:
    dropped = (f"{m.n_controls_dropped} negative-control row(s) left out",) if m.n_controls_dropped else ()
    return dropped + m.notes
