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

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.model_selection import GroupKFold

from .paired_inputs import paired_matrices
from .kernels.regression import pearson_columns, standardize_columns
from .multiple_testing import bh_qvalues
from .parallel import map_blocks


def feature_gene_correlation(cp, ge=None, key: str | None = None, top_k: int | None = None,
                             groups=None, drop_controls: bool = True) -> pd.DataFrame:
    """Long table (feature, gene, r, p_value, q_value), strongest |r| first.

    q-values are computed over all feature x gene pairs; ``top_k`` then keeps
    the k strongest features of each gene.
    """
    m = paired_matrices(cp, ge, key, groups, drop_controls)
    n = len(m.cp)
    if n < 4:
        raise ValueError(f"need at least 4 paired perturbations for correlation p-values; got {n}")
    zx, zy = standardize_columns(m.cp), standardize_columns(m.ge)
    r = np.clip(zx.T @ zy / n, -1.0, 1.0)  # features x genes
    with np.errstate(divide="ignore"):
        t = r * np.sqrt((n - 2) / np.maximum(1 - r**2, 1e-300))
    p = 2 * stats.t.sf(np.abs(t), n - 2)
    q = bh_qvalues(p.ravel()).reshape(p.shape)
    table = pd.DataFrame({
        "feature": np.repeat(m.cp_names, len(m.ge_names)),
        "gene": np.tile(m.ge_names, len(m.cp_names)),
        "r": r.ravel(), "p_value": p.ravel(), "q_value": q.ravel(),
    })
    table = table.iloc[np.argsort(-np.abs(table["r"].to_numpy()), kind="stable")]
    if top_k is not None:
        table = table.groupby("gene", sort=False).head(int(top_k))
    return table.reset_index(drop=True)


@dataclass(frozen=True)
class CanonicalResult:
    table: pd.DataFrame  # component, heldout_correlation, heldout_sd, null_mean, p_value
    n_pcs: int
    n_splits: int
    n_permutations: int
    seed: int | None
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        lines = [f"Held-out canonical correlations ({self.n_splits}-fold, inputs reduced to "
                 f"{self.n_pcs} principal components per modality, {self.n_permutations} permutations)"]
        for row in self.table.itertuples():
            lines.append(f"  component {row.component}: {row.heldout_correlation:.3f} "
                         f"(null mean {row.null_mean:.3f}, p = {row.p_value:.3g})")
        return "\n".join(lines)


def _whitened_pcs(train: np.ndarray, test: np.ndarray, k: int):
    mean = train.mean(axis=0)
    _, s, vt = np.linalg.svd(train - mean, full_matrices=False)
    k = min(k, int((s > s[0] * 1e-10).sum()))
    scale = s[:k] / np.sqrt(len(train) - 1)
    return (train - mean) @ vt[:k].T / scale, (test - mean) @ vt[:k].T / scale


def _heldout_canonical(x, y, folds, n_components, n_pcs) -> np.ndarray:
    """Held-out correlation of each canonical pair, per fold (folds x components)."""
    out = np.full((len(folds), n_components), np.nan)
    for i, (train, test) in enumerate(folds):
        x_train, x_test = _whitened_pcs(x[train], x[test], n_pcs)
        y_train, y_test = _whitened_pcs(y[train], y[test], n_pcs)
        cross = x_train.T @ y_train / (len(train) - 1)
        a, _, bt = np.linalg.svd(cross, full_matrices=False)
        k = min(n_components, a.shape[1])
        out[i, :k] = pearson_columns(x_test @ a[:, :k], y_test @ bt[:k].T)
    return out


def _permuted_canonical(permutations, x, y, folds, n_components, n_pcs) -> np.ndarray:
    """Mean held-out canonical correlations for each permutation of the rows of y."""
    return np.array([np.nanmean(_heldout_canonical(x, y[p], folds, n_components, n_pcs), axis=0)
                     for p in permutations]).reshape(len(permutations), n_components)


def canonical_correlation(cp, ge=None, key: str | None = None, n_components: int = 5, n_splits: int = 5,
                          n_permutations: int = 100, n_pcs: int = 20, groups=None, seed: int | None = 0,
                          drop_controls: bool = True, progress: bool = False, client=None) -> CanonicalResult:
    """Canonical correlations fitted on training folds, measured on held-out folds.

    Each modality is first reduced to its top ``n_pcs`` principal components
    (fitted on the training fold), which regularises the CCA. The permutation
    null shuffles the rows of the GE side; with a ``dask.distributed.Client`` the
    permutations run on its workers (drawn here, so the same seed gives the same numbers).
    """
    m = paired_matrices(cp, ge, key, groups, drop_controls)
    n_groups = len(np.unique(m.groups))
    if n_groups < n_splits:
        raise ValueError(f"fewer groups ({n_groups}) than folds (n_splits={n_splits})")
    folds = list(GroupKFold(n_splits=n_splits).split(m.cp, groups=m.groups))
    observed = _heldout_canonical(m.cp, m.ge, folds, n_components, n_pcs)
    rng = np.random.default_rng(seed)
    permutations = [rng.permutation(len(m.ge)) for _ in range(n_permutations)]
    chunks = [permutations[i:i + 10] for i in range(0, n_permutations, 10)]
    shared = {"x": m.cp, "y": m.ge, "folds": folds, "n_components": n_components, "n_pcs": n_pcs}
    blocks = map_blocks(_permuted_canonical, chunks, shared, client, progress=progress, desc="permutations (CCA)")
    null = np.vstack(blocks) if blocks else np.empty((0, n_components))
    mean = np.nanmean(observed, axis=0)
    p = (1.0 + (null >= mean).sum(axis=0)) / (1.0 + n_permutations) if n_permutations else np.nan
    table = pd.DataFrame({
        "component": np.arange(1, n_components + 1), "heldout_correlation": mean,
        "heldout_sd": np.nanstd(observed, axis=0, ddof=1),
        "null_mean": null.mean(axis=0) if n_permutations else np.nan, "p_value": p,
    })
    return CanonicalResult(table, n_pcs, n_splits, n_permutations, seed)


@dataclass(frozen=True)
class ConcordanceResult:
    statistic: float  # correlation between the two similarity matrices' upper triangles
    p_value: float
    n_perturbations: int
    n_permutations: int
    method: str
    seed: int | None

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    def summary(self) -> str:
        return (f"Similarity concordance (Mantel, {self.method}): r = {self.statistic:.3f}, "
                f"p = {self.p_value:.3g} over {self.n_perturbations} perturbations "
                f"({self.n_permutations} permutations, seed={self.seed})")


def _standardized_triangle(values: np.ndarray, method: str) -> np.ndarray:
    if method == "spearman":
        values = stats.rankdata(values)
    return (values - values.mean()) / values.std()


def _mantel_statistics(permutations, a, sim_ge, rows, cols, method) -> np.ndarray:
    """Correlation of ``a`` with the GE triangle under each relabelling (indices permuted, no matrix copy)."""
    return np.array([float(np.mean(a * _standardized_triangle(sim_ge[p[rows], p[cols]], method)))
                     for p in permutations])


def similarity_concordance(cp, ge=None, key: str | None = None, method: str = "pearson",
                           n_permutations: int = 999, seed: int | None = 0, groups=None,
                           drop_controls: bool = True, progress: bool = False, client=None) -> ConcordanceResult:
    """Mantel test between the perturbation x perturbation similarity matrices of CP and GE.

    Similarity is the Pearson correlation of two perturbations' profiles; the
    statistic correlates the two matrices' upper triangles (``method`` pearson
    or spearman); the null permutes perturbation labels of the GE matrix (on the
    workers of ``client`` when given; permutations are drawn here, same seed, same numbers).
    """
    if method not in ("pearson", "spearman"):
        raise ValueError(f"unknown method {method!r}; choose one of: pearson, spearman")
    m = paired_matrices(cp, ge, key, groups, drop_controls)
    sim_cp, sim_ge = np.corrcoef(m.cp), np.corrcoef(m.ge)
    n = len(sim_cp)
    rows, cols = np.triu_indices(n, 1)
    a = _standardized_triangle(sim_cp[rows, cols], method)
    observed = _mantel_statistics([np.arange(n)], a, sim_ge, rows, cols, method)[0]
    rng = np.random.default_rng(seed)
    permutations = [rng.permutation(n) for _ in range(n_permutations)]
    chunks = [permutations[i:i + 50] for i in range(0, n_permutations, 50)]
    shared = {"a": a, "sim_ge": sim_ge, "rows": rows, "cols": cols, "method": method}
    blocks = map_blocks(_mantel_statistics, chunks, shared, client, progress=progress, desc="permutations (Mantel)")
    null = np.concatenate(blocks) if blocks else np.empty(0)
    p = (1.0 + (null >= observed).sum()) / (1.0 + n_permutations)
    return ConcordanceResult(float(observed), float(p), n, n_permutations, method, seed)
