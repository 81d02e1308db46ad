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
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.model_selection import GroupKFold

from .paired_inputs import paired_matrices
from ..common.validation import check_choice
from ..data.gene_symbols import gene_symbols
from ..results.base import ResultShape
from .kernels.canonical import cross_products, fold_sides, heldout_canonical, permuted_canonical
from .kernels.mantel import mantel_statistics, standardized_similarity
from .kernels.regression import standardize_columns
from .kernels.sampling import group_means, group_permutation, has_groups
from .multiple_testing import bh_qvalues
from .parallel import map_blocks


CORRELATION_METHODS = ("t", "permutation")


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


def feature_gene_correlation(cp, ge=None, key: str | None = None, top_k: int | None = None,
                             groups=None, drop_controls: bool = True, method: str = "t",
                             n_permutations: int = 1000, seed: int | None = 0, progress: bool = False,
                             client=None) -> pd.DataFrame:
    """Long table (feature, gene, r, p_value, q_value), strongest |r| first.

    ``method="t"``: the two-sided t-test of a Pearson correlation; with
    ``groups`` (rows that belong together, such as the doses of one compound)
    the test is made on the group means, whose rows are independent.
    ``method="permutation"``: GE rows permuted in whole groups,
    ``p = (1 + #{|r*| >= |r|}) / (1 + n_permutations)``, robust to heavy tails.
    A constant column has r = NaN and p = NaN. q-values are computed over all
    feature x gene pairs; ``top_k`` then keeps the k strongest features of each gene.
    """
    check_choice(method, CORRELATION_METHODS, "method")
    m = paired_matrices(cp, ge, key, groups, drop_controls)
    n = len(m.cp)
    if n < 4:
        raise ValueError(f"need at least 4 paired perturbations for correlation p-values; got {n}")
    r = _column_correlations(m.cp, m.ge)  # features x genes
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
        permutations = [group_permutation(m.groups, rng) for _ in range(int(n_permutations))]
        chunks = [permutations[i:i + 20] for i in range(0, len(permutations), 20)]
        shared = {"zx": standardize_columns(m.cp), "y": m.ge, "observed": r}
        counts = map_blocks(_count_as_extreme, chunks, shared, client, progress=progress,
                            desc="permutations (correlation)")
        p = (1.0 + np.sum(counts, axis=0)) / (1.0 + len(permutations))
    p = np.where(np.isnan(r), np.nan, p)
    q = bh_qvalues(p.ravel()).reshape(p.shape)
    table = pd.DataFrame({
        "feature": np.repeat(m.cp_names, len(m.ge_names)),
        "gene": np.tile(m.ge_names, len(m.cp_names)),
        "r": r.ravel(), "p_value": p.ravel(), "q_value": q.ravel(),
        "symbol": np.tile(gene_symbols(m.ge_names).to_numpy(), len(m.cp_names)),
    })
    strength = np.nan_to_num(np.abs(table["r"].to_numpy()), nan=-1.0)
    table = table.iloc[np.argsort(-strength, kind="stable")]
    if top_k is not None:
        if int(top_k) < 1:
            raise ValueError(f"top_k must be at least 1; got {top_k}")
        table = table.groupby("gene", sort=False).head(int(top_k))
    return table.reset_index(drop=True)


@dataclass(frozen=True)
class CanonicalResult(ResultShape):
    table: pd.DataFrame  # component, heldout_correlation, heldout_sd, null_mean, p_value
    n_pcs: int
    n_splits: int
    n_permutations: int
    seed: int | None
    notes: tuple[str, ...] = field(default=())

    def summary_dict(self) -> dict:
        return {"n_pcs": self.n_pcs, "n_splits": self.n_splits, "n_permutations": self.n_permutations,
                "seed": self.seed, "notes": list(self.notes)}

    def summary(self) -> str:
        lines = [f"Held-out canonical correlations ({self.n_splits}-fold, inputs reduced to "
                 f"{self.n_pcs} principal components per modality, {self.n_permutations} permutations)"]
        for row in self.table.itertuples():
            lines.append(f"  component {row.component}: {row.heldout_correlation:.3f} "
                         f"(null mean {row.null_mean:.3f}, p = {row.p_value:.3g})")
        return "\n".join(lines)


def canonical_correlation(cp, ge=None, key: str | None = None, n_components: int = 5, n_splits: int = 5,
                          n_permutations: int = 100, n_pcs: int = 20, groups=None, seed: int | None = 0,
                          drop_controls: bool = True, progress: bool = False, client=None) -> CanonicalResult:
    """Canonical correlations fitted on training folds, measured on held-out folds.

    Each modality is first reduced to its top ``n_pcs`` principal components
    (fitted on the training fold), which regularises the CCA. The permutation
    null shuffles the rows of the GE side; with a ``dask.distributed.Client`` the
    permutations run on its workers (drawn here, so the same seed gives the same numbers).
    """
    if int(n_components) < 1 or int(n_pcs) < 1:
        raise ValueError(f"n_components and n_pcs must be at least 1; got {n_components} and {n_pcs}")
    m = paired_matrices(cp, ge, key, groups, drop_controls)
    n_groups = len(np.unique(m.groups))
    if n_groups < n_splits:
        raise ValueError(f"fewer groups ({n_groups}) than folds (n_splits={n_splits})")
    folds = list(GroupKFold(n_splits=n_splits).split(m.cp, groups=m.groups))
    x_sides = fold_sides(m.cp, folds, n_pcs)  # the Cell Painting side never moves
    y = m.ge - m.ge.mean(axis=0)  # centred: a shift changes no component, and the fold products subtract cleanly
    observed = heldout_canonical(x_sides, y, folds, n_components, n_pcs)
    rng = np.random.default_rng(seed)
    permutations = [group_permutation(m.groups, rng) for _ in range(n_permutations)]
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
    p = (1.0 + (null >= mean).sum(axis=0)) / (1.0 + n_permutations) if n_permutations else np.full(n_components, np.nan)
    p = np.where(np.isnan(mean), np.nan, p)  # a component that was never estimated has no p-value
    notes = ()
    missing = int(np.isnan(mean).sum())
    if missing:
        notes = (f"{missing} component(s) beyond the rank the folds allow (n_pcs={n_pcs}) are NaN",)
    table = pd.DataFrame({
        "component": np.arange(1, n_components + 1), "heldout_correlation": mean,
        "heldout_sd": sd, "null_mean": null_mean, "p_value": p,
    })
    return CanonicalResult(table, n_pcs, n_splits, n_permutations, seed, notes)


@dataclass(frozen=True)
class ConcordanceResult(ResultShape):
    statistic: float  # correlation between the two similarity matrices' upper triangles
    p_value: float
    n_perturbations: int
    n_permutations: int
    method: str
    seed: int | None
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    @property
    def table(self) -> pd.DataFrame:
        """One row: statistic, p_value, n_perturbations."""
        return pd.DataFrame({"statistic": [self.statistic], "p_value": [self.p_value],
                             "n_perturbations": [self.n_perturbations]})

    def summary_dict(self) -> dict:
        return {"method": self.method, "n_permutations": self.n_permutations, "seed": self.seed,
                "statistic": self.statistic, "p_value": self.p_value, "notes": list(self.notes)}

    def summary(self) -> str:
        return (f"Similarity concordance (Mantel, {self.method}): r = {self.statistic:.3f}, "
                f"p = {self.p_value:.3g} over {self.n_perturbations} perturbations "
                f"({self.n_permutations} permutations, seed={self.seed})")


def similarity_concordance(cp, ge=None, key: str | None = None, method: str = "pearson",
                           n_permutations: int = 999, seed: int | None = 0, groups=None,
                           drop_controls: bool = True, progress: bool = False, client=None) -> ConcordanceResult:
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
    m = paired_matrices(cp, ge, key, groups, drop_controls)
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
    permutations = [group_permutation(groups_kept, rng) for _ in range(n_permutations)]
    chunks = [permutations[i:i + 25] for i in range(0, n_permutations, 25)]
    blocks = map_blocks(mantel_statistics, chunks, {"a": a, "b": b}, client, progress=progress,
                        desc="permutations (Mantel)", threads=n >= 1000)
    null = np.concatenate(blocks) if blocks else np.empty(0)
    p = (1.0 + (null >= observed).sum()) / (1.0 + n_permutations) if np.isfinite(observed) else np.nan
    notes = (f"left out {int(flat.sum())} perturbation(s) with a constant profile",) if flat.any() else ()
    return ConcordanceResult(float(observed), float(p), n, n_permutations, method, seed, notes)
