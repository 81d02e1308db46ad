"""Do perturbations of one mechanism cluster together? Each assay alone, both side by side, joint factors.

The paper's Fig 4a: the perturbations (treatment level, paired) are
embedded by each method, clustered by k-means into as many clusters as
there are MoAs, and each MoA's Jaccard index is that of its best-matching
cluster, ``max_C |A & C| / |A | C|``; a method's score is the median over
MoAs, over ``n_runs`` k-means restarts (seeds). Methods:

* ``"cp"``, ``"ge"``: one assay's standardised profiles, reduced to
  ``n_components`` principal components;
* ``"early_fusion"``: both assays' components side by side;
* ``"cca"``, ``"pls"``: joint factors of the two assays (canonical
  correlation; partial least squares, i.e. RGCCA's two-block solution at
  full shrinkage), both sides' scores side by side.

Perturbations whose MoA has fewer than ``min_size`` members are left out.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.cross_decomposition import CCA, PLSCanonical
from sklearn.decomposition import PCA

from ..common.result import Result
from ..common.validation import check_choice
from ..stats.core.paired import paired_matrices
from ..stats.kernels.regression import standardize_columns

METHODS = ("cp", "ge", "early_fusion", "cca", "pls")


class MoaClusteringResult(Result):
    """One row per (run, method, MoA): the Jaccard index of the MoA's best cluster."""

    title = "MoA clustering"

    def headline(self) -> list[str]:
        medians = self.estimates["median_jaccard"]
        return ["median Jaccard: " + ", ".join(f"{m} {v:.3f}" for m, v in medians.items())]


def best_jaccard(labels: np.ndarray, clusters: np.ndarray) -> pd.Series:
    """For each label, the Jaccard index of its best-matching cluster."""
    out = {}
    for label in np.unique(labels):
        members = labels == label
        best = 0.0
        for cluster in np.unique(clusters[members]):
            inside = clusters == cluster
            best = max(best, float((members & inside).sum() / (members | inside).sum()))
        out[label] = best
    return pd.Series(out, name="jaccard")


def _components(values: np.ndarray, n_components: int, seed) -> np.ndarray:
    k = max(1, min(n_components, values.shape[0] - 1, values.shape[1]))
    return PCA(n_components=k, random_state=seed).fit_transform(standardize_columns(values))


def embed(method: str, cp: np.ndarray, ge: np.ndarray, n_components: int, seed) -> np.ndarray:
    """The perturbations' coordinates under ``method`` (rows = perturbations)."""
    if method == "cp":
        return _components(cp, n_components, seed)
    if method == "ge":
        return _components(ge, n_components, seed)
    x, y = _components(cp, n_components, seed), _components(ge, n_components, seed)
    if method == "early_fusion":
        return np.hstack([standardize_columns(x), standardize_columns(y)])
    k = max(1, min(n_components, x.shape[1], y.shape[1], len(x) - 1))
    model = CCA(n_components=k, max_iter=2000) if method == "cca" else PLSCanonical(n_components=k, max_iter=2000)
    scores_x, scores_y = model.fit_transform(standardize_columns(x), standardize_columns(y))
    return np.hstack([scores_x, scores_y])


def moa_clustering(cp, ge=None, key: str | None = None, moa: str = "Metadata_moa", methods=METHODS,
                   n_components: int = 10, n_runs: int = 10, min_size: int = 2, seed: int | None = 0,
                   include_controls: bool = False) -> MoaClusteringResult:
    """Jaccard index of each MoA's best k-means cluster, per method and run (the paper's Fig 4a).

    ``cp``: a PairedProfiles (or ``cp``, ``ge`` and ``key``) at treatment
    level with an MoA column ``moa`` on the Cell Painting side (``|``-joined
    MoAs count as written). Returns run, method, moa, n_members, jaccard;
    ``estimates["median_jaccard"]`` per method, ``tables["by_run"]`` the
    median per run and method (the published table's layout).
    """
    methods = tuple(methods)
    for method in methods:
        check_choice(method, METHODS, "methods")
    m = paired_matrices(cp, ge, key, None, include_controls)
    data = m.paired.cp.data if m.paired is not None else None
    if data is None or moa not in data.columns:
        raise ValueError(f"MoA column {moa!r} not found on the Cell Painting side")
    keep_rows = np.ones(len(data), bool) if include_controls else ~(m.paired.cp.controls | m.paired.ge.controls)
    labels = data[moa][keep_rows].astype(object).to_numpy()
    known = pd.notna(labels) & (pd.Series(labels).astype(str).str.len().to_numpy() > 0)
    counts = pd.Series(labels[known]).value_counts()
    kept = known & np.isin(labels, counts.index[counts >= min_size])
    if len(np.unique(labels[kept])) < 2:
        raise ValueError(f"fewer than 2 MoAs with {min_size} or more perturbations")
    cp_values, ge_values, labels = m.cp[kept], m.ge[kept], labels[kept].astype(str)
    n_clusters = len(np.unique(labels))
    rows = []
    for method in methods:
        coordinates = embed(method, cp_values, ge_values, int(n_components), seed)
        for run in range(int(n_runs)):
            clusters = KMeans(n_clusters, n_init=10, random_state=(seed or 0) + run).fit_predict(coordinates)
            scores = best_jaccard(labels, clusters)
            sizes = pd.Series(labels).value_counts()
            rows += [(run, method, label, int(sizes[label]), value) for label, value in scores.items()]
    table = pd.DataFrame(rows, columns=["run", "method", "moa", "n_members", "jaccard"])
    by_run = table.groupby(["run", "method"], sort=False)["jaccard"].median().unstack("method")[list(methods)]
    settings = {"moa": moa, "methods": list(methods), "n_components": int(n_components), "n_runs": int(n_runs),
                "min_size": int(min_size), "seed": seed, "n_clusters": n_clusters}
    estimates = {"median_jaccard": {k: float(v) for k, v in table.groupby("method", sort=False)["jaccard"]
                                    .median().reindex(list(methods)).items()},
                 "n_perturbations": int(kept.sum()), "n_moas": n_clusters}
    notes = (f"{int((~kept).sum())} perturbation(s) without an MoA of {min_size}+ members left out",) + m.notes
    return MoaClusteringResult(table, settings, estimates, notes, m.inputs,
                               tables={"by_run": by_run.reset_index()})
