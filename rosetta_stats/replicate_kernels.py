"""numpy kernels for replicate correlation: arrays in, arrays out, no pandas.

Rows are centred and scaled to unit length once, so the Pearson correlation
of two rows is a dot product, and the mean over all pairs of k rows with sum
``s`` is ``(s.s - k) / (k (k - 1))``: no pair is ever formed explicitly.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def unit_rows(values: np.ndarray, inplace: bool = False) -> np.ndarray:
    """Centre each row and scale it to length 1 (a constant row becomes NaN).

    With ``inplace`` the float64 input is overwritten instead of copied.
    """
    centred = values if inplace else values.astype(float, copy=True)
    centred -= centred.mean(axis=1, keepdims=True)
    norms = np.sqrt(np.einsum("ij,ij->i", centred, centred))
    with np.errstate(invalid="ignore", divide="ignore"):
        centred /= np.where(norms > 0, norms, np.nan)[:, None]
    return centred


def first_occurrences(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Mask of rows that are not an exact repeat of an earlier row with the same code.

    Rows are fingerprinted by a fixed random projection (memory O(rows)); rows
    whose (code, fingerprint) repeats are then compared exactly with the first.
    """
    projection = np.random.default_rng(20211).normal(size=values.shape[1])
    fingerprint = pd.DataFrame({"code": codes, "print": values @ projection})
    mask = np.ones(len(values), dtype=bool)
    repeated = np.flatnonzero(fingerprint.duplicated().to_numpy())
    if len(repeated):
        first = fingerprint.groupby(["code", "print"], sort=False).cumcount().to_numpy() == 0
        first_row = dict(zip(map(tuple, fingerprint[first].to_numpy()), np.flatnonzero(first)))
        for row in repeated:
            original = first_row[tuple(fingerprint.iloc[row].to_numpy())]
            mask[row] = not np.array_equal(values[row], values[original])
    return mask


def group_mean_correlation(units: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Mean pairwise correlation within consecutive row groups (NaN for groups of < 2)."""
    sums = np.add.reduceat(units, starts, axis=0) if len(starts) else np.empty((0, units.shape[1]))
    squared = np.einsum("ij,ij->i", sums, sums)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (squared - counts) / (counts * (counts - 1.0))
    out[counts < 2] = np.nan
    return out


def draws_mean_correlation(units: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Mean pairwise correlation of each draw: ``rows`` is (n_draws, k) row indices."""
    k = rows.shape[1]
    sums = units[rows].sum(axis=1)
    return (np.einsum("ij,ij->i", sums, sums) - k) / (k * (k - 1.0))


def _upper_block(start: int, units: np.ndarray, block: int) -> np.ndarray:
    """Correlations of rows start..start+block with every later row (pairs i < j)."""
    stop = min(start + block, units.shape[0])
    corr = units[start:stop] @ units[start:].T
    i, j = np.triu_indices(stop - start, 1, corr.shape[1])
    return np.clip(corr[i, j], -1.0, 1.0)


def _block_histogram(start: int, units: np.ndarray, block: int, edges: np.ndarray) -> np.ndarray:
    return np.histogram(_upper_block(start, units, block), edges)[0]


def _block_values_between(start: int, units: np.ndarray, block: int, low: float, high: float) -> np.ndarray:
    values = _upper_block(start, units, block)
    return values[(values >= low) & (values < high)]


def _local_map(function, blocks, shared):
    return [function(b, **shared) for b in blocks]


def pairwise_quantile(units: np.ndarray, q: float, block: int = 2048, bins: int = 4096,
                      max_pairs_in_memory: int = 50_000_000, mapper=None) -> float:
    """The ``q`` quantile (numpy's linear rule) of the correlations of all row pairs i < j.

    Exact. When the pairs fit in memory they are computed at once; otherwise
    in two passes over row blocks: a histogram finds the bins of the two order
    statistics the quantile needs, and only the values inside those bins are
    kept. ``mapper(function, blocks, shared)`` runs the blocks (default: here;
    :func:`rosetta_stats.parallel.map_blocks` puts them on a cluster).
    """
    m = units.shape[0]
    n_pairs = m * (m - 1) // 2
    if n_pairs == 0:
        raise ValueError("need at least two rows for pairwise correlations")
    mapper = mapper or _local_map
    starts = list(range(0, m, block))
    shared = {"units": units, "block": block}
    if n_pairs <= max_pairs_in_memory:  # one pass when the pairs fit
        return float(np.percentile(np.concatenate(mapper(_upper_block, starts, shared)), 100 * q))
    edges = np.linspace(-1.0 - 1e-9, 1.0 + 1e-9, bins + 1)
    counts = np.sum(mapper(_block_histogram, starts, {**shared, "edges": edges}), axis=0)
    position = (n_pairs - 1) * q
    lo_rank, hi_rank = int(np.floor(position)), int(np.ceil(position))
    cumulative = np.cumsum(counts)
    lo_bin, hi_bin = np.searchsorted(cumulative, [lo_rank + 1, hi_rank + 1])
    kept = mapper(_block_values_between, starts,
                  {**shared, "low": edges[lo_bin], "high": edges[hi_bin + 1]})
    kept = np.sort(np.concatenate(kept))
    before = cumulative[lo_bin - 1] if lo_bin > 0 else 0
    lo_value, hi_value = kept[lo_rank - before], kept[hi_rank - before]
    return float(lo_value + (hi_value - lo_value) * (position - lo_rank))

def distinct_draws(n: int, k: int, n_draws: int, rng, chunk_cells: int = 5_000_000) -> np.ndarray:
    """``n_draws`` rows of k distinct integers below n.

    Few expected repeats (k^2 small next to n): draw and redraw the rows with
    repeats. Otherwise: the k smallest of n random keys per row, in chunks.
    """
    if k > n:
        raise ValueError(f"cannot draw {k} distinct values below {n}")
    if k * (k - 1) < n:
        draws = rng.integers(0, n, size=(n_draws, k))
        while True:
            ordered = np.sort(draws, axis=1)
            repeats = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
            if not repeats.any():
                return draws
            draws[repeats] = rng.integers(0, n, size=(int(repeats.sum()), k))
    out = np.empty((n_draws, k), dtype=np.int64)
    step = max(1, chunk_cells // n)
    for start in range(0, n_draws, step):
        stop = min(start + step, n_draws)
        keys = rng.random((stop - start, n))
        out[start:stop] = np.argpartition(keys, k - 1, axis=1)[:, :k] if k < n else np.argsort(keys, axis=1)
    return out


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
