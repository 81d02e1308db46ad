"""numpy kernels for replicate correlation: arrays in, arrays out, no pandas.

Rows are centred and scaled to unit length once, so the Pearson correlation
of two rows is a dot product, and the mean over all pairs of k rows with sum
``s`` is ``(s.s - k) / (k (k - 1))``: no pair is ever formed explicitly.
"""
from __future__ import annotations

import numpy as np


def unit_rows(values: np.ndarray) -> np.ndarray:
    """Centre each row and scale it to length 1 (a constant row becomes NaN)."""
    centred = values - values.mean(axis=1, keepdims=True)
    norms = np.sqrt(np.einsum("ij,ij->i", centred, centred))
    with np.errstate(invalid="ignore", divide="ignore"):
        return centred / np.where(norms > 0, norms, np.nan)[:, None]


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


def pairwise_quantile(units: np.ndarray, q: float, block: int = 2048, bins: int = 4096,
                      max_pairs_in_memory: int = 50_000_000) -> float:
    """The ``q`` quantile (numpy's linear rule) of the correlations of all row pairs i < j.

    Exact, in two passes over row blocks, so the m (m - 1) / 2 pairs are never
    held at once: a histogram finds the bins of the two order statistics the
    quantile needs, and only the values inside those bins are kept.
    """
    m = units.shape[0]
    n_pairs = m * (m - 1) // 2
    if n_pairs == 0:
        raise ValueError("need at least two rows for pairwise correlations")
    edges = np.linspace(-1.0 - 1e-9, 1.0 + 1e-9, bins + 1)

    def upper_blocks():
        for start in range(0, m, block):
            stop = min(start + block, m)
            corr = units[start:stop] @ units[start:].T
            i, j = np.triu_indices(stop - start, 1, corr.shape[1])
            yield corr[i, j]

    if n_pairs <= max_pairs_in_memory:  # one pass when the pairs fit
        return float(np.percentile(np.clip(np.concatenate(list(upper_blocks())), -1, 1), 100 * q))
    counts = np.zeros(bins, dtype=np.int64)
    for values in upper_blocks():
        counts += np.histogram(np.clip(values, -1, 1), edges)[0]
    position = (n_pairs - 1) * q
    lo_rank, hi_rank = int(np.floor(position)), int(np.ceil(position))
    cumulative = np.cumsum(counts)
    lo_bin, hi_bin = np.searchsorted(cumulative, [lo_rank + 1, hi_rank + 1])
    lo_edge, hi_edge = edges[lo_bin], edges[hi_bin + 1]
    kept = [v[(v >= lo_edge) & (v < hi_edge)] for v in
            (np.clip(b, -1, 1) for b in upper_blocks())]
    kept = np.sort(np.concatenate(kept))
    before = cumulative[lo_bin - 1] if lo_bin > 0 else 0
    lo_value, hi_value = kept[lo_rank - before], kept[hi_rank - before]
    return float(lo_value + (hi_value - lo_value) * (position - lo_rank))
