"""Cross-modal retrieval: does a perturbation's Cell Painting profile find its own L1000 profile?

Definition. The paired perturbations are split into folds that never split
a group (a compound: all its doses are held out together). In each fold a
map between the modalities is learned on the training perturbations only,
and the held-out perturbations are placed in a shared space:

* ``space="cca"``: both sides reduced to ``n_pcs`` whitened principal
  components of the training rows, then to the top ``n_components``
  canonical pairs of the training cross-covariance; similarity is the cosine
  of the canonical scores;
* ``space="pls"``: partial least squares (the top ``n_components`` singular
  pairs of the training cross-covariance of the standardised sides);
* ``space="ridge"``: a ridge regression from the query side to the other
  (each output's penalty by GCV on the training rows); similarity is the
  Pearson correlation of a predicted profile with each observed one.

Each held-out query ranks every held-out profile of the other modality; its
true partner's rank r (1 = first) gives the reciprocal rank 1/r (also its
average precision, having one positive), and recall@k = [r <= k]. With m
held-out perturbations in its fold, a random assignment of partners puts
the partner at a uniformly random rank, so ``p = r / m`` is the exact
permutation p-value of that perturbation (partners shuffled within the
fold); q-values are Benjamini-Hochberg. The dataset's mean reciprocal rank
(MRR) is compared with ``n_null`` shuffles of the partners within each fold
(the similarities stay; only who is whose partner moves). Chance levels:
recall@k = k / m and MRR = H_m / m per fold, averaged over perturbations.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...common.result import Result
from ...common.validation import check_choice
from ..core.multiple_testing import bh_qvalues
from ..core.folds import grouped_folds
from ..core.paired import paired_matrices
from ..core.resampling import permutation_p_values
from ..kernels.canonical import whitened_pcs
from ..kernels.regression import RidgeBasis, DEFAULT_ALPHAS, ridge_gcv_predict

SPACES = ("cca", "pls", "ridge")
DIRECTIONS = ("cp_to_ge", "ge_to_cp", "both")
RECALL_AT = (1, 5, 10)


class CrossModalResult(Result):
    """Per perturbation and direction: partner rank, reciprocal rank, recall@k, p and q (``table``)."""

    title = "Cross-modal retrieval"

    def headline(self) -> list[str]:
        lines = []
        for direction, e in self.estimates.get("by_direction", {}).items():
            lines.append(f"{direction}: MRR {e['mrr']:.3f} (chance {e['mrr_chance']:.3f}, p = {e['mrr_p_value']:.3g}); "
                         f"recall@1 {e['recall_at_1']:.3f} (chance {e['recall_at_1_chance']:.3f})")
        return lines


def _standardized(train, test):
    mean, sd = train.mean(axis=0), train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return (train - mean) / sd, (test - mean) / sd


def _unit(rows):
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)


def _centred_unit(rows):
    return _unit(rows - rows.mean(axis=1, keepdims=True))


def fold_similarity(query_train, other_train, query_test, other_test, space, n_components, n_pcs):
    """Similarity of each held-out query (rows) with each held-out profile of the other side (columns)."""
    if space == "ridge":
        x_train, x_test = _standardized(query_train, query_test)
        y_train, y_test = _standardized(other_train, other_test)
        basis = RidgeBasis.fit(x_train)
        _, predicted = ridge_gcv_predict(basis, y_train, basis.project(x_test), DEFAULT_ALPHAS)
        return _centred_unit(predicted) @ _centred_unit(y_test).T
    if space == "cca":
        a_train, a_test = whitened_pcs(query_train, query_test, n_pcs)
        b_train, b_test = whitened_pcs(other_train, other_test, n_pcs)
    else:  # pls on the standardised sides
        a_train, a_test = _standardized(query_train, query_test)
        b_train, b_test = _standardized(other_train, other_test)
    cross = a_train.T @ b_train / (len(a_train) - 1)
    u, _, vt = np.linalg.svd(cross, full_matrices=False)
    k = min(n_components, u.shape[1])
    return _unit(a_test @ u[:, :k]) @ _unit(b_test @ vt[:k].T).T


def partner_ranks(similarity: np.ndarray) -> np.ndarray:
    """Rank (1 = most similar) of each row's partner (the same index), ties counted against the partner."""
    partner = np.diag(similarity)[:, None]
    return (similarity >= partner - 1e-12).sum(axis=1)


def rank_matrix(similarity: np.ndarray) -> np.ndarray:
    """rank[i, j]: the rank profile j would have in row i if it were i's partner (ties against it)."""
    ordered = np.sort(similarity, axis=1)
    m = similarity.shape[1]
    return np.stack([m - np.searchsorted(row, values - 1e-12, side="left")
                     for row, values in zip(ordered, similarity)])


def cross_modal_retrieval(cp, ge=None, key: str | None = None, space: str = "cca", n_components: int = 10,
                          n_pcs: int = 50, groups=None, n_splits: int = 5, direction: str = "both",
                          n_null: int = 1000, seed: int | None = 0,
                          include_controls: bool = False) -> CrossModalResult:
    """Cross-modal retrieval of each perturbation's partner profile in a space learned without it.

    ``cp`` is a :class:`PairedProfiles` (or CP and GE treatment-level profiles
    with ``key``); ``groups`` the column that folds keep whole (default: ``compound`` when the profiles have
    it, else each perturbation alone).
    Returns one row per perturbation and direction: perturbation, direction,
    fold, n_candidates, rank, reciprocal_rank, recall_at_1/5/10, p_value,
    q_value; ``estimates["by_direction"]`` holds the mean reciprocal rank with
    its permutation p-value and the chance levels (see the module).
    """
    check_choice(space, SPACES, "space")
    check_choice(direction, DIRECTIONS, "direction")
    if int(n_components) < 1 or int(n_pcs) < 1 or int(n_null) < 0:
        raise ValueError("n_components and n_pcs must be at least 1 and n_null at least 0")
    m = paired_matrices(cp, ge, key, groups, include_controls)
    folds = grouped_folds(m.groups, n_splits)
    directions = ("cp_to_ge", "ge_to_cp") if direction == "both" else (direction,)
    rng = np.random.default_rng(seed)
    frames, estimates = [], {}
    for way in directions:
        query, other = (m.cp, m.ge) if way == "cp_to_ge" else (m.ge, m.cp)
        ranks_per_fold, rows = [], []
        for f, (train, test) in enumerate(folds):
            similarity = fold_similarity(query[train], other[train], query[test], other[test], space,
                                         n_components, n_pcs)
            ranks = partner_ranks(similarity)
            ranks_per_fold.append(rank_matrix(similarity))
            rows.append(pd.DataFrame({"perturbation": m.keys[test], "direction": way, "fold": f,
                                      "n_candidates": len(test), "rank": ranks}))
        table = pd.concat(rows, ignore_index=True)
        table["reciprocal_rank"] = 1.0 / table["rank"]
        for k in RECALL_AT:
            table[f"recall_at_{k}"] = (table["rank"] <= k).astype(float)
        table["p_value"] = table["rank"] / table["n_candidates"]
        table["q_value"] = bh_qvalues(table["p_value"].to_numpy())
        mrr = float(table["reciprocal_rank"].mean())
        null = _null_mrr(ranks_per_fold, int(n_null), rng)
        sizes = table["n_candidates"].to_numpy()
        estimates[way] = {
            "mrr": mrr, "mrr_chance": float(np.mean([np.sum(1.0 / np.arange(1, s + 1)) / s for s in sizes])),
            "mrr_p_value": float(permutation_p_values(null, mrr)) if len(null) else np.nan,
            **{f"recall_at_{k}": float(table[f"recall_at_{k}"].mean()) for k in RECALL_AT},
            **{f"recall_at_{k}_chance": float(np.mean(np.minimum(k, sizes) / sizes)) for k in RECALL_AT},
            "n_significant_q_0.05": int((table["q_value"] < 0.05).sum()),
        }
        frames.append(table)
    table = pd.concat(frames, ignore_index=True)
    settings = {"space": space, "n_components": n_components, "n_pcs": n_pcs, "n_splits": n_splits,
                "direction": direction, "n_null": n_null, "seed": seed, "groups": groups}
    n_groups = len(np.unique(m.groups))
    notes = m.notes + (f"folds keep every row of a group together ({n_groups} groups); maps are fitted on the "
                       "training perturbations only", "per-perturbation p = rank / held-out perturbations "
                       "(exact under shuffled partners)")
    return CrossModalResult(table, settings, {"by_direction": estimates, "n_perturbations": len(m.keys)}, notes,
                            m.inputs, extras={"folds": folds, "groups": m.groups})


def _null_mrr(rank_matrices: list[np.ndarray], n_null: int, rng) -> np.ndarray:
    """MRR with partners shuffled within each fold, ``n_null`` times."""
    if not n_null:
        return np.empty(0)
    total = sum(len(r) for r in rank_matrices)
    sums = np.zeros(n_null)
    for ranks in rank_matrices:
        size = len(ranks)
        inverse = 1.0 / ranks
        permutations = np.argsort(rng.random((n_null, size)), axis=1)
        sums += inverse[np.arange(size)[None, :], permutations].sum(axis=1)
    return sums / total
