"""numpy kernels for average precision: ranks of positives among negatives, arrays in and out."""
from __future__ import annotations

import numpy as np

from .sampling import distinct_draws


def average_precision_from_ranks(ranks: np.ndarray) -> np.ndarray:
    """AP per row from the 1-based ranks of its positives (any order within the row)."""
    ranks = np.sort(ranks, axis=1)
    hits = np.arange(1, ranks.shape[1] + 1)
    return (hits / ranks).mean(axis=1)


def random_average_precision(n_positives: int, n_negatives: int, n_draws: int, rng) -> np.ndarray:
    """AP of ``n_draws`` random rankings of n_positives among n_positives + n_negatives."""
    positions = distinct_draws(n_positives + n_negatives, n_positives, n_draws, rng)
    return average_precision_from_ranks(positions + 1.0)


def _count_greater(sorted_rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each row r and each value v of values[r], how many of sorted_rows[r] exceed v.

    All entries lie in [-2, 1]; shifting row r by 4 r makes the rows one sorted
    vector, so a single searchsorted answers every row at once.
    """
    n_rows, width = sorted_rows.shape
    shift = 4.0 * np.arange(n_rows)[:, None]
    flat = (sorted_rows + shift).ravel()
    position = np.searchsorted(flat, (values + shift).ravel(), side="right").reshape(values.shape)
    return (np.arange(1, n_rows + 1)[:, None] * width) - position


def replicate_average_precision(units, starts, counts, negatives, same_group=None, block_rows=1024):
    """AP of every row retrieving its group's other rows among them plus ``negatives``.

    ``units``: unit rows sorted by group, groups at ``starts`` of size ``counts``;
    ``negatives``: unit rows that are never positives; ``same_group(rows)`` may
    return a boolean (len(rows), len(negatives)) mask of negatives to leave out
    (used when the negatives are all other perturbations' rows).
    Returns (ap per row, number of negatives per row); rows of groups of < 2 are NaN.
    """
    n = len(units)
    ap = np.full(n, np.nan)
    n_negatives = np.full(n, np.nan)
    for k in np.unique(counts[counts >= 2]):
        groups = np.flatnonzero(counts == k)
        rows = starts[groups][:, None] + np.arange(k)
        off_diagonal = ~np.eye(k, dtype=bool)
        per_block = max(1, block_rows // k)
        for b in range(0, len(groups), per_block):
            block_rows_idx = rows[b:b + per_block]
            members = units[block_rows_idx]  # (g, k, F)
            within = np.einsum("gif,gjf->gij", members, members)
            positives = within[:, off_diagonal].reshape(-1, k - 1)  # (g k, k - 1)
            flat_rows = block_rows_idx.ravel()
            against = units[flat_rows] @ negatives.T
            if same_group is not None:
                against[same_group(flat_rows)] = -2.0
            usable = (against > -2.0).sum(axis=1)
            against.sort(axis=1)
            greater = _count_greater(against, positives)
            ranks_among_positives = np.argsort(np.argsort(-positives, axis=1), axis=1) + 1
            ranks = ranks_among_positives + greater
            ap[flat_rows] = ((np.sort(ranks_among_positives, axis=1)) /
                             np.sort(ranks, axis=1)).mean(axis=1)
            n_negatives[flat_rows] = usable
    return ap, n_negatives
