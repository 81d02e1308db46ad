"""numpy kernels for average precision: ranks of positives among negatives, arrays in and out.

Ties are ranked as sklearn's ``average_precision_score`` ranks them: a
positive's precision counts every candidate scoring at least as high as it
(positives and negatives alike), so a tie never favours the positive.
Similarities within ``TIE_TOLERANCE`` of each other are ties: two copies of
one well give similarities that differ in the last bit when they come from
different matrix routines, and they must still tie.
"""
from __future__ import annotations

import numpy as np

from .sampling import distinct_draws


def average_precision_from_ranks(ranks: np.ndarray) -> np.ndarray:
    """AP per row from the 1-based ranks of its positives (distinct ranks, any order within the row)."""
    ranks = np.sort(ranks, axis=1)
    hits = np.arange(1, ranks.shape[1] + 1)
    return (hits / ranks).mean(axis=1)


def random_average_precision(n_positives: int, n_negatives: int, n_draws: int, rng) -> np.ndarray:
    """AP of ``n_draws`` random rankings of n_positives among n_positives + n_negatives."""
    positions = distinct_draws(n_positives + n_negatives, n_positives, n_draws, rng)
    return average_precision_from_ranks(positions + 1.0)


def group_columns(codes: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every reference row whose group is one of ``codes[row]`` (codes: rows x m).

    The reference rows are sorted by group: group g occupies ``starts[g]`` to
    ``starts[g] + counts[g]``. Used to leave a query's own perturbation(s)
    out of its negatives without an n x n mask.
    """
    flat = codes.ravel()
    owner = np.repeat(np.arange(codes.shape[0]), codes.shape[1])
    reps = counts[flat]
    rows = np.repeat(owner, reps)
    offsets = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
    return rows, np.repeat(starts[flat], reps) + offsets


TIE_TOLERANCE = 1e-12
EXCLUDED = -3.0  # similarity given to candidates that are not negatives of a query


def average_precision_of_groups(units, starts, counts, negatives, excluded=None, block_rows=1024):
    """AP of every row retrieving its group's other rows among them plus ``negatives``.

    ``units``: unit rows sorted by group, groups at ``starts`` of size ``counts``;
    ``negatives``: unit rows that are never positives; ``excluded(rows)`` may
    return (positions in ``rows``, columns of ``negatives``) to leave out
    (used when the negatives are all other perturbations' rows).
    Returns (ap per row, number of negatives per row); rows of groups of < 2 are NaN.
    Each positive is counted against the negatives at least as similar by
    direct comparison (k - 1 passes per query row, no sort).
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
            block = rows[b:b + per_block]
            members = units[block]  # (g, k, F)
            within = np.einsum("gif,gjf->gij", members, members)
            positives = within[:, off_diagonal].reshape(-1, k - 1)  # (g k, k - 1)
            flat_rows = block.ravel()
            against = units[flat_rows] @ negatives.T
            usable = np.full(len(flat_rows), against.shape[1])
            if excluded is not None:
                where, columns = excluded(flat_rows)
                against[where, columns] = EXCLUDED
                usable -= np.bincount(where, minlength=len(flat_rows))
            thresholds = positives - TIE_TOLERANCE
            negatives_above = np.empty(positives.shape)
            for j in range(k - 1):
                negatives_above[:, j] = np.count_nonzero(against >= thresholds[:, j:j + 1], axis=1)
            positives_above = (positives[:, None, :] >= thresholds[:, :, None]).sum(axis=2)
            ap[flat_rows] = (positives_above / (positives_above + negatives_above)).mean(axis=1)
            n_negatives[flat_rows] = usable
    return ap, n_negatives


# the name earlier versions used
replicate_average_precision = average_precision_of_groups
