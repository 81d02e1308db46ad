"""numpy kernels for replicate correlation: arrays in, arrays out, no pandas.

Rows are centred and scaled to unit length once, so the Pearson correlation
of two rows is a dot product, and the mean over all pairs of k rows with sum
``s`` is ``(s.s - k) / (k (k - 1))``: no pair is ever formed explicitly.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def unit_rows(values: np.ndarray, inplace: bool = False) -> np.ndarray:
    """Centre each row and scale it to length 1 (a constant or non-finite row becomes NaN).

    Rows are first divided by their largest absolute value, so values near the
    float limit (1e308) neither overflow nor lose the row. With ``inplace`` the
    float64 input is overwritten instead of copied.
    """
    centred = values if inplace else values.astype(float, copy=True)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        peak = np.abs(centred).max(axis=1, keepdims=True) if centred.shape[1] else np.ones((len(centred), 1))
        centred /= np.where((peak > 0) & np.isfinite(peak), peak, np.nan)
    centred -= centred.mean(axis=1, keepdims=True)
    norms = np.sqrt(np.einsum("ij,ij->i", centred, centred))
    with np.errstate(invalid="ignore", divide="ignore"):
        centred /= np.where(norms > 0, norms, np.nan)[:, None]
    return centred


def degenerate_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows holding NaN or +-inf, finite rows that are constant): neither has a correlation."""
    non_finite = ~np.isfinite(values).all(axis=1)
    with np.errstate(invalid="ignore"):
        constant = ~non_finite & (np.nanmax(values, axis=1, initial=-np.inf) ==
                                  np.nanmin(values, axis=1, initial=np.inf))
    return non_finite, constant


def first_occurrences(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Mask of rows that are not an exact repeat of an earlier row with the same code.

    Rows are hashed from their exact bit patterns, one column at a time
    (memory O(rows); no floating-point arithmetic, so equal rows always hash
    alike); rows whose (code, hash) repeats are then compared exactly with the first.
    """
    hashes = pd.util.hash_pandas_object(pd.DataFrame(values, copy=False), index=False).to_numpy()
    fingerprint = pd.DataFrame({"code": codes, "print": hashes})
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
    """Correlations of rows start..start+block with every later row (pairs i < j), in the rows' dtype.

    The square part on the diagonal is cut to its upper triangle; the
    rectangle to its right is taken whole (no index arrays over it).
    """
    stop = min(start + block, units.shape[0])
    rows = units[start:stop]
    square = rows @ rows.T
    i, j = np.triu_indices(stop - start, 1)
    parts = [square[i, j]]
    if stop < units.shape[0]:
        parts.append((rows @ units[stop:].T).ravel())
    values = np.concatenate(parts)
    return np.clip(values, -1.0, 1.0, out=values)


def _block_histogram(start: int, units: np.ndarray, block: int, edges: np.ndarray) -> np.ndarray:
    return np.histogram(_upper_block(start, units, block), edges)[0]


def _block_values_between(start: int, units: np.ndarray, block: int, low: float, high: float) -> np.ndarray:
    values = _upper_block(start, units, block)
    return values[(values >= low) & (values < high)]


def _local_map(function, blocks, shared):
    return [function(b, **shared) for b in blocks]


def pairwise_quantile(units: np.ndarray, q: float, block: int = 2048, bins: int = 4096,
                      max_pairs_in_memory: int | None = None, mapper=None) -> float:
    """The ``q`` quantile (numpy's linear rule) of the correlations of all row pairs i < j.

    Exact. When the pairs fit in memory they are computed at once; otherwise
    in two passes over row blocks: a histogram finds the bins of the two order
    statistics the quantile needs, and only the values inside those bins are
    kept. ``mapper(function, blocks, shared)`` runs the blocks (default: here;
    :func:`rosetta_stats.stats.parallel.map_blocks` puts them on a cluster).
    """
    m = units.shape[0]
    n_pairs = m * (m - 1) // 2
    if n_pairs == 0:
        raise ValueError("need at least two rows for pairwise correlations")
    if max_pairs_in_memory is None:  # one pass while the pairs take at most ~1 GB
        max_pairs_in_memory = (1 << 30) // units.dtype.itemsize
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

