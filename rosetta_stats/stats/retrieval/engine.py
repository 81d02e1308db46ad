"""Average precision of every query under declared positives and negatives, block by block.

A query is a row (with multilabel matching: a row and one of its labels).
Its positives are the rows its positive rule selects; its negatives the
rows of the negative pool its negative rule selects, positives and itself
excluded. Candidates are ranked by similarity (dot products of the prepared
unit rows); ties count against the positive, as sklearn's
``average_precision_score`` ranks them. The n x n similarity matrix is never
held: positives are found through the groups they share with their query,
and negatives are counted one block of queries at a time against the pool.

Two designs run on the specialised kernels of :mod:`..kernels.ranking`
(replicates against the negative controls, and against every other
perturbation); every other design on the general path here. Both give the
same numbers (tested against each other and against a brute-force pair list).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels.ranking import TIE_TOLERANCE, count_at_least

MEMBER_CHUNK = 200_000  # (query, positive) pairs whose dot products are formed at once


@dataclass(frozen=True)
class Design:
    """Which candidates each query ranks.

    ``pos_key``: a code per row for the positive rule's ``same`` columns
    (rows that may be positives of each other share it); ``labels``: for
    multilabel matching, a boolean row x label matrix, and ``query_label``
    the label each query stands for; ``pos_different`` / ``neg_same`` /
    ``neg_different``: code matrices (rows x columns) of the rules' other
    columns; ``pool``: the rows negatives are drawn from; ``exclude_group``:
    leave rows of the query's own positive group out of its negatives.
    """

    pos_key: np.ndarray
    pos_different: np.ndarray
    neg_same: np.ndarray
    neg_different: np.ndarray
    pool: np.ndarray
    exclude_group: bool = True
    labels: np.ndarray | None = None  # rows x labels (multilabel)
    positive_ok: np.ndarray | None = None  # rows that may be positives (not controls)


@dataclass(frozen=True)
class QueryScores:
    """Per query: AP, its positives' similarities (sorted, padded with NaN), counts above each positive."""

    ap: np.ndarray
    n_positives: np.ndarray
    n_negatives: np.ndarray
    positive_similarity: np.ndarray  # queries x max positives, descending, NaN-padded
    negatives_above: np.ndarray  # queries x max positives: negatives at least as similar as each positive

    def pairwise_ap(self) -> np.ndarray:
        """Mean over a query's positives of the AP it would have with that positive alone:
        1 / (1 + negatives at least as similar). Its mean over a group equals, in expectation, the mAP of a
        random pair of the group's replicates, whatever the group's size."""
        with np.errstate(invalid="ignore", divide="ignore"):
            single = 1.0 / (1.0 + self.negatives_above)
        single[np.isnan(self.positive_similarity)] = np.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n_positives > 0, np.nansum(single, axis=1) / self.n_positives, np.nan)

    def precision_recall_at(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """precision@k and recall@k of each query (a tie is ranked against the positive)."""
        rank = np.arange(1, self.positive_similarity.shape[1] + 1) + self.negatives_above  # position of j-th
        rank = np.where(np.isnan(self.positive_similarity), np.inf, rank)
        hits = (rank <= k).sum(axis=1).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            recall = np.where(self.n_positives > 0, hits / self.n_positives, np.nan)
        precision = np.where(self.n_positives > 0, hits / float(k), np.nan)
        return precision, recall


def _members_by_key(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.searchsorted(sorted_key, key, side="left")
    stops = np.searchsorted(sorted_key, key, side="right")
    return order, starts, stops


def _differs(codes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.ones(len(a), dtype=bool)
    for j in range(codes.shape[1]):
        out &= codes[a, j] != codes[b, j]
    return out


def _same(codes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.ones(len(a), dtype=bool)
    for j in range(codes.shape[1]):
        out &= codes[a, j] == codes[b, j]
    return out


def positive_pairs(design: Design, query_rows: np.ndarray, query_labels: np.ndarray | None):
    """(query position, positive row) for every positive of every query, through the shared groups."""
    if design.labels is not None:
        members = [np.flatnonzero(design.labels[:, lab]) for lab in range(design.labels.shape[1])]
        group_of = query_labels
        sizes = np.array([len(m) for m in members])[group_of]
        flat_members = np.concatenate(members) if members else np.empty(0, np.int64)
        offsets = np.r_[0, np.cumsum([len(m) for m in members])]
        starts = offsets[group_of]
        order = flat_members
    else:
        order, starts_all, stops_all = _members_by_key(design.pos_key)
        starts = starts_all[query_rows]
        sizes = stops_all[query_rows] - starts
    owner = np.repeat(np.arange(len(query_rows)), sizes)
    within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    candidate = order[np.repeat(starts, sizes) + within]
    query = query_rows[owner]
    keep = candidate != query
    if design.labels is not None:  # further same= columns besides the labels
        keep &= design.pos_key[candidate] == design.pos_key[query]
    if design.positive_ok is not None:
        keep &= design.positive_ok[candidate]
    if design.pos_different.shape[1]:
        keep &= _differs(design.pos_different, query, candidate)
    return owner[keep], candidate[keep]


def score_queries(units: np.ndarray, design: Design, query_rows: np.ndarray, query_labels=None,
                  block_rows: int | None = None, progress=None) -> QueryScores:
    """AP of every query row under ``design`` (general path)."""
    n_q = len(query_rows)
    owner, positive = positive_pairs(design, query_rows, query_labels)
    sims = np.empty(len(owner))
    for s in range(0, len(owner), MEMBER_CHUNK):
        a, b = query_rows[owner[s:s + MEMBER_CHUNK]], positive[s:s + MEMBER_CHUNK]
        sims[s:s + MEMBER_CHUNK] = np.einsum("ij,ij->i", units[a], units[b])
    n_pos = np.bincount(owner, minlength=n_q)
    width = max(int(n_pos.max(initial=0)), 1)
    # descending similarity per query, padded with NaN
    order = np.lexsort((-sims, owner))
    owner_sorted, sims_sorted = owner[order], sims[order]
    slot = np.arange(len(owner)) - np.repeat(np.cumsum(n_pos) - n_pos, n_pos)
    positive_similarity = np.full((n_q, width), np.nan)
    positive_similarity[owner_sorted, slot] = sims_sorted
    thresholds = np.where(np.isnan(positive_similarity), np.inf, positive_similarity - TIE_TOLERANCE)
    positives_above = np.zeros((n_q, width))
    negatives_above = np.zeros((n_q, width))
    n_neg = np.zeros(n_q)
    pool = design.pool
    pool_position = np.full(len(units), -1)
    pool_position[pool] = np.arange(len(pool))
    by_owner = np.argsort(owner, kind="stable")
    owner_starts = np.r_[0, np.cumsum(n_pos)]
    step = block_rows or max(16, min(2048, 20_000_000 // max(len(pool), 1), 20_000_000 // (width * width)))
    for start in range(0, n_q, step):
        rows = np.arange(start, min(start + step, n_q))
        block = positive_similarity[rows]
        positives_above[rows] = (block[:, None, :] >= thresholds[rows][:, :, None]).sum(axis=2)
        q = query_rows[rows]
        similarity = units[q] @ units[pool].T
        usable = _negative_mask(design, q, pool)
        mine = by_owner[owner_starts[rows[0]]:owner_starts[rows[-1] + 1]]  # this block's positive pairs
        at = pool_position[positive[mine]]
        inside = at >= 0
        usable[owner[mine][inside] - start, at[inside]] = False  # a positive is never a negative
        similarity[~usable] = -np.inf
        negatives_above[rows] = count_at_least(similarity, thresholds[rows])
        n_neg[rows] = usable.sum(axis=1)
        if progress is not None:
            progress(len(rows))
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = positives_above / (positives_above + negatives_above)
    precision[np.isnan(positive_similarity)] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        ap = np.nansum(precision, axis=1) / n_pos
    ap = np.where((n_pos > 0) & (n_neg > 0), ap, np.nan)
    return QueryScores(ap, n_pos.astype(float), n_neg, positive_similarity, negatives_above)


def _negative_mask(design: Design, q: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Which pool rows are negatives of each query in ``q`` (before taking out its positives)."""
    mask = pool[None, :] != q[:, None]
    for j in range(design.neg_same.shape[1]):
        mask &= design.neg_same[q, j][:, None] == design.neg_same[pool, j][None, :]
    for j in range(design.neg_different.shape[1]):
        mask &= design.neg_different[q, j][:, None] != design.neg_different[pool, j][None, :]
    if design.exclude_group:
        if design.labels is not None:  # a negative shares no label with the query
            shared = design.labels[q].astype(np.int32) @ design.labels[pool].astype(np.int32).T
            mask &= shared == 0
        else:
            mask &= design.pos_key[q][:, None] != design.pos_key[pool][None, :]
    return mask
