"""How the two modalities relate: feature x gene correlations, held-out CCA, Mantel test.

* ``feature_gene_correlation``: Pearson r of every Cell Painting feature with
  every gene (one matrix product), two-sided t-test p-values and
  Benjamini-Hochberg q-values over all pairs;
* ``canonical_correlation``: canonical correlations estimated on training
  folds and measured on the held-out fold (in-sample CCA on ~1,000 features
  is close to 1 whatever the data), with permutation p-values;
* ``similarity_concordance``: a Mantel test of whether perturbations that look
  alike in morphology also look alike in expression.
"""
from __future__ import annotations

import warnings
import numpy as np
import pandas as pd
from scipy import stats

from .core.folds import grouped_folds
from .core.inputs import heavy_tails
from .core.paired import paired_matrices
from ..common.deprecation import renamed_arguments
from ..common.validation import check_choice
from ..common.result import Result, TableResult
from .kernels.canonical import cross_products, fold_sides, heldout_canonical, permuted_canonical
from .kernels.mantel import mantel_statistics, standardized_similarity
from .kernels.regression import standardize_columns
from .core.resampling import group_means, group_permutations, has_groups, permutation_p_values, smallest_p_note
from .core.multiple_testing import bh_qvalues
from .core.parallel import map_blocks


CORRELATION_METHODS = ("auto", "t", "permutation")


def _column_correlations(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of every column of x with every column of y; NaN where a column is constant."""
    zx, zy = standardize_columns(x), standardize_columns(y)
    r = np.clip(zx.T @ zy / len(x), -1.0, 1.0)
    r[~(x.std(axis=0) > 0), :] = np.nan
    r[:, ~(y.std(axis=0) > 0)] = np.nan
    return r


def _count_as_extreme(permutations, zx, y, observed) -> np.ndarray:
    """How often |r| under each permutation of y's rows reaches the observed |r| (features x genes)."""
    count = np.zeros(observed.shape)
    for perm in permutations:
        zy = standardize_columns(y[perm])
        count += np.abs(zx.T @ zy / len(zx)) >= np.abs(observed) - 1e-12
    return count


@renamed_arguments(drop_controls=("include_controls", lambda drop: not drop))
def feature_gene_correlation(cp, ge=None, key: str | None = None, top_k: int | None = None,
                             groups=None, include_controls: bool = False, method: str = "auto",
                             n_permutations: int = 1000, seed: int | None = 0, progress: bool = False,
                             client=None) -> "CorrelationResult":
    """Long table (feature, gene, r, p_value, q_value), strongest |r| first.

    ``method="t"``: the two-sided t-test of a Pearson correlation; with
    ``groups`` (rows that belong together, such as the doses of one compound)
    the test is made on the group means, whose rows are independent.
    ``method="permutation"``: GE rows permuted in whole groups,
    ``p = (1 + #{|r*| >= |r|}) / (1 + n_permutations)``, robust to heavy tails.
    ``method="auto"`` (default): the t-test, unless the columns' median excess
    kurtosis says the tails are heavy (then the t-test's small p-values are
    several times too small): the permutation test, with a note.
    A constant column has r = NaN and p = NaN. q-values are computed over all
    feature x gene pairs; ``top_k`` then keeps the k strongest features of each gene.
    """
    check_choice(method, CORRELATION_METHODS, "method")
    m = paired_matrices(cp, ge, key, groups, include_controls)
    notes = m.notes
    n = len(m.cp)
    if n < 4:
        raise ValueError(f"need at least 4 paired perturbations for correlation p-values; got {n}")
    r = _column_correlations(m.cp, m.ge)  # features x genes
    if method == "auto":
        kurtosis = heavy_tails(m.cp, m.ge)
        method = "t" if kurtosis is None else "permutation"
        if kurtosis is not None:
            notes = notes + (f"heavy tails (median excess kurtosis {kurtosis:.1f}): permutation p-values instead of "
                             "the t-test's",)
    if method == "t":
        grouped = has_groups(m.groups)
        x, y = (group_means(m.cp, m.groups), group_means(m.ge, m.groups)) if grouped else (m.cp, m.ge)
        n_test = len(x)
        if n_test < 4:
            raise ValueError(f"need at least 4 groups for correlation p-values; got {n_test}")
        r_test = _column_correlations(x, y) if grouped else r
        with np.errstate(divide="ignore", invalid="ignore"):
            t = r_test * np.sqrt((n_test - 2) / np.maximum(1 - r_test**2, 1e-300))
        p = 2 * stats.t.sf(np.abs(t), n_test - 2)
    else:
        if int(n_permutations) < 1:
            raise ValueError(f"method='permutation' needs n_permutations >= 1; got {n_permutations}")
        rng = np.random.default_rng(seed)
        permutations, exact = group_permutations(m.groups, int(n_permutations), rng)
        chunks = [permutations[i:i + 20] for i in range(0, len(permutations), 20)]
        shared = {"zx": standardize_columns(m.cp), "y": m.ge, "observed": r}
        counts = map_blocks(_count_as_extreme, chunks, shared, client, progress=progress,
                            desc="permutations (correlation)")
        at_least = np.sum(counts, axis=0)
        p = at_least / len(permutations) if exact else (1.0 + at_least) / (1.0 + len(permutations))
        notes = notes + (smallest_p_note(len(permutations), exact, "n_permutations"),)
    p = np.where(np.isnan(r), np.nan, p)
    q = bh_qvalues(p.ravel()).reshape(p.shape)
    table = pd.DataFrame({
        "feature": np.repeat(m.cp_names, len(m.ge_names)),
        "gene": np.tile(m.ge_names, len(m.cp_names)),
        "r": r.ravel(), "p_value": p.ravel(), "q_value": q.ravel(),
        "symbol": np.tile(m.ge_annotations["symbol"].reindex(m.ge_names).to_numpy(), len(m.cp_names)),
    })
    strength = np.nan_to_num(np.abs(table["r"].to_numpy()), nan=-1.0)
    table = table.iloc[np.argsort(-strength, kind="stable")]
    if top_k is not None:
        if int(top_k) < 1:
            raise ValueError(f"top_k must be at least 1; got {top_k}")
        table = table.groupby("gene", sort=False).head(int(top_k))
    settings = {"method": method, "top_k": top_k, "n_permutations": int(n_permutations) if method == "permutation"
                else 0, "seed": seed, "include_controls": include_controls}
    estimates = {"n_perturbations": int(n), "n_pairs_tested": int(np.isfinite(r).sum()),
                 "n_q_below_0.05": int(np.nansum(q < 0.05)), "max_abs_r": float(np.nanmax(np.abs(r)))}
    return CorrelationResult(table.reset_index(drop=True), settings, estimates, notes, m.inputs)


class CorrelationResult(TableResult):
    """Feature x gene correlations, strongest first (``table``)."""

    title = "Feature x gene correlation"


class CanonicalResult(Result):
    """Held-out canonical correlations per component (``table``)."""

    title = "Held-out canonical correlations"

    def headline(self) -> list[str]:
        lines = [f"{self.settings['n_splits']}-fold, inputs reduced to {self.settings['n_pcs']} principal "
                 f"components per modality, {self.settings['n_permutations']} permutations"]
        for row in self.table.itertuples():
            lines.append(f"component {row.component}: {row.heldout_correlation:.3f} "
                         f"(null mean {row.null_mean:.3f}, p = {row.p_value:.3g})")
        return lines


@renamed_arguments(drop_controls=("include_controls", lambda drop: not drop))
def canonical_correlation(cp, ge=None, key: str | None = None, n_components: int = 5, n_splits: int = 5,
                          n_permutations: int = 100, n_pcs: int = 20, groups=None, seed: int | None = 0,
                          include_controls: bool = False, progress: bool = False, client=None) -> CanonicalResult:
    """Canonical correlations fitted on training folds, measured on held-out folds.

    Each modality is first reduced to its top ``n_pcs`` principal components
    (fitted on the training fold), which regularises the CCA. The permutation
    null shuffles the rows of the GE side; with a ``dask.distributed.Client`` the
    permutations run on its workers (drawn here, so the same seed gives the same numbers).
    """
    if int(n_components) < 1 or int(n_pcs) < 1:
        raise ValueError(f"n_components and n_pcs must be at least 1; got {n_components} and {n_pcs}")
    m = paired_matrices(cp, ge, key, groups, include_controls)
    folds = grouped_folds(m.groups, n_splits)
    x_sides = fold_sides(m.cp, folds, n_pcs)  # the Cell Painting side never moves
    y = m.ge - m.ge.mean(axis=0)  # centred: a shift changes no component, and the fold products subtract cleanly
    observed = heldout_canonical(x_sides, y, folds, n_components, n_pcs)
    rng = np.random.default_rng(seed)
    permutations, exact = group_permutations(m.groups, n_permutations, rng) if n_permutations else ([], False)
    n_permutations = len(permutations)
    chunks = [permutations[i:i + 10] for i in range(0, n_permutations, 10)]
    shared = {"x_sides": x_sides, "y": y, "folds": folds, "n_components": n_components, "n_pcs": n_pcs,
              "products": cross_products(y) if n_permutations else None}
    blocks = map_blocks(permuted_canonical, chunks, shared, client, progress=progress, desc="permutations (CCA)")
    null = np.vstack(blocks) if blocks else np.empty((0, n_components))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: components beyond the rank
        mean = np.nanmean(observed, axis=0)
        sd = np.nanstd(observed, axis=0, ddof=1)
        null_mean = np.nanmean(null, axis=0) if n_permutations else np.full(n_components, np.nan)
    p = permutation_p_values(null, mean, exact=exact) if n_permutations else np.full(n_components, np.nan)
    notes = m.notes
    missing = int(np.isnan(mean).sum())
    if missing:
        notes += (f"{missing} component(s) beyond the rank the folds allow (n_pcs={n_pcs}) are NaN",)
    if np.nanmin(mean, initial=np.inf) < 0:
        notes += ("a negative held-out canonical correlation means the direction found on the training folds "
                  "does not carry over to held-out perturbations: no shared signal there",)
    table = pd.DataFrame({
        "component": np.arange(1, n_components + 1), "heldout_correlation": mean,
        "heldout_sd": sd, "null_mean": null_mean, "p_value": p,
    })
    settings = {"n_components": n_components, "n_pcs": n_pcs, "n_splits": n_splits,
                "n_permutations": n_permutations, "seed": seed}
    estimates = {"first_heldout_correlation": float(mean[0]), "first_p_value": float(p[0]),
                 "n_perturbations": int(len(m.cp))}
    return CanonicalResult(table, settings, estimates, notes, m.inputs)


class ConcordanceResult(Result):
    """The Mantel test: one row (statistic, p_value, n_perturbations)."""

    title = "Similarity concordance (Mantel)"

    def headline(self) -> list[str]:
        return [f"r = {self.statistic:.3f}, p = {self.p_value:.3g} over {self.n_perturbations} perturbations "
                f"({self.settings['method']}, {self.settings['n_permutations']} permutations, "
                f"seed={self.settings['seed']})"]

    def as_dict(self) -> dict:
        return {**self.settings, **self.estimates, "notes": list(self.notes)}


@renamed_arguments(drop_controls=("include_controls", lambda drop: not drop))
def similarity_concordance(cp, ge=None, key: str | None = None, method: str = "pearson",
                           n_permutations: int = 999, seed: int | None = 0, groups=None,
                           include_controls: bool = False, progress: bool = False, client=None) -> ConcordanceResult:
    """Mantel test between the perturbation x perturbation similarity matrices of CP and GE.

    Similarity is the Pearson correlation of two perturbations' profiles; the
    statistic correlates the two matrices' upper triangles (``method`` pearson
    or spearman); the null permutes perturbation labels of the GE matrix (on the
    workers of ``client`` when given; permutations are drawn here, same seed, same numbers).
    A permutation moves indices only: memory stays at the two matrices (float32
    from 2,000 perturbations on) and each permutation is one pass over them,
    on every core.
    """
    if method not in ("pearson", "spearman"):
        raise ValueError(f"unknown method {method!r}; choose one of: pearson, spearman")
    m = paired_matrices(cp, ge, key, groups, include_controls)
    flat = ~(m.cp.std(axis=1) > 0) | ~(m.ge.std(axis=1) > 0)
    if (~flat).sum() < 3:
        raise ValueError("fewer than 3 perturbations with a non-constant profile in both modalities")
    dtype = np.float32 if (~flat).sum() >= 2000 else np.float64  # halves memory and time at LINCS size
    a = standardized_similarity(np.corrcoef(m.cp[~flat]), method, dtype, inplace=True)
    b = standardized_similarity(np.corrcoef(m.ge[~flat]), method, dtype, inplace=True)
    groups_kept = m.groups[~flat]
    n = len(a)
    observed = mantel_statistics([np.arange(n)], a, b)[0]
    rng = np.random.default_rng(seed)
    permutations, exact = group_permutations(groups_kept, n_permutations, rng)
    n_permutations = len(permutations)
    chunks = [permutations[i:i + 25] for i in range(0, n_permutations, 25)]
    blocks = map_blocks(mantel_statistics, chunks, {"a": a, "b": b}, client, progress=progress,
                        desc="permutations (Mantel)", threads=n >= 1000)
    null = np.concatenate(blocks) if blocks else np.empty(0)
    p = float(permutation_p_values(null, [observed], exact=exact)[0])
    notes = m.notes + ((f"left out {int(flat.sum())} perturbation(s) with a constant profile",) if flat.any() else ())
    table = pd.DataFrame({"statistic": [float(observed)], "p_value": [p], "n_perturbations": [n]})
    settings = {"method": method, "n_permutations": n_permutations, "seed": seed}
    estimates = {"statistic": float(observed), "p_value": p, "n_perturbations": int(n)}
    return ConcordanceResult(table, settings, estimates, notes, m.inputs)
