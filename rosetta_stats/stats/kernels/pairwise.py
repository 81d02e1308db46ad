"""The quantile of all pairwise correlations of a set of unit rows, exactly, in bounded memory.

The paper's threshold is the 90th percentile of the correlations of every
pair of ``m`` rows: m(m-1)/2 values (450 million at 30,000 perturbations).
They are computed in row blocks by one matrix product each and never all
kept. A sample of random pairs first brackets the quantile in a narrow
window; the pass over the blocks then counts the values below the window
and keeps only those inside it, from which the two order statistics the
quantile needs are read exactly. If the window missed (it is placed eight
standard errors wide, so in practice it does not), a histogram pass finds
the right bins and a last pass keeps their values.
"""
from __future__ import annotations

import numpy as np

WINDOW_PAIRS = 20_000  # random pairs that place the window
WINDOW_WIDTH = 8.0  # its half-width in standard errors of the sampled quantile


def _local_map(function, blocks, shared):
    return [function(b, **shared) for b in blocks]


def _block_products(start: int, units: np.ndarray, block: int) -> tuple[np.ndarray, int]:
    """Products of rows start..stop with rows start.. (a (stop-start, m-start) array) and stop - start.

    Entry (i, j) is a pair of the upper triangle when j > i; the square on the
    left holds the diagonal and the lower triangle, which callers leave out.
    """
    stop = min(start + block, units.shape[0])
    return units[start:stop] @ units[start:].T, stop - start


def _upper_values(start: int, units: np.ndarray, block: int) -> np.ndarray:
    products, b = _block_products(start, units, block)
    return np.concatenate([products[:, :b][np.triu_indices(b, 1)], products[:, b:].ravel()])


def _block_window(start: int, units: np.ndarray, block: int, low: float, high: float):
    """(pairs below ``low``, the pair values in [low, high]) of one row block."""
    products, b = _block_products(start, units, block)
    lower = np.tril_indices(b)  # diagonal and lower triangle of the square: not pairs i < j
    square = products[:, :b]
    below = int(np.count_nonzero(products < low)) - int(np.count_nonzero(square[lower] < low))
    inside = (products >= low) & (products <= high)
    inside[:, :b][lower] = False
    return below, products[inside]


def _block_histogram(start: int, units: np.ndarray, block: int, edges: np.ndarray) -> np.ndarray:
    return np.histogram(_upper_values(start, units, block), edges)[0]


def _block_between(start: int, units: np.ndarray, block: int, low: float, high: float) -> np.ndarray:
    values = _upper_values(start, units, block)
    return values[(values >= low) & (values < high)]


def quantile_positions(n: int, q: float) -> tuple[int, int, float]:
    """(lower rank, upper rank, weight of the upper) of numpy's linear quantile of n values."""
    virtual = n * q + (1 + q * (1 - 1 - 1)) - 1  # numpy's rule (alpha = beta = 1), term for term
    lower = int(np.clip(np.floor(virtual), 0, n - 1))
    upper = min(lower + 1, n - 1)
    return lower, upper, float(virtual - np.floor(virtual)) if virtual < n - 1 else 0.0


def interpolate(low_value, high_value, weight: float, dtype) -> float:
    """numpy's linear interpolation between two order statistics (its rounding too)."""
    a, b = np.asarray(low_value, dtype=dtype), np.asarray(high_value, dtype=dtype)
    t = np.asarray(weight, dtype=dtype)
    diff = b - a
    return float(b - diff * (1 - t)) if t >= 0.5 else float(a + diff * t)


def _sample_window(units: np.ndarray, q: float) -> tuple[float, float]:
    rng = np.random.default_rng(20220301)  # only places the window: the result does not depend on it
    m = len(units)
    first = rng.integers(0, m, WINDOW_PAIRS)
    second = rng.integers(0, m - 1, WINDOW_PAIRS)
    second += second >= first
    sample = np.concatenate([np.einsum("ij,ij->i", units[first[s:s + 2000]], units[second[s:s + 2000]])
                             for s in range(0, WINDOW_PAIRS, 2000)])
    spread = WINDOW_WIDTH * np.sqrt(q * (1 - q) / WINDOW_PAIRS) + 2.0 / WINDOW_PAIRS
    low, high = np.quantile(sample, [max(q - spread, 0.0), min(q + spread, 1.0)])
    return float(low), float(high)


def pairwise_quantile(units: np.ndarray, q: float, block: int = 1024, bins: int = 4096,
                      max_pairs_in_memory: int = 4 * WINDOW_PAIRS, mapper=None, window=None) -> float:
    """The ``q`` quantile (numpy's linear rule) of the correlations of all row pairs i < j.

    Exact, in the rows' dtype; correlations are clipped to [-1, 1]. Up to
    ``max_pairs_in_memory`` pairs are kept whole; beyond that only the window
    (``window=(low, high)`` or one placed from a sample) is. ``mapper(function,
    blocks, shared)`` runs the row blocks (default: here;
    :func:`rosetta_stats.stats.core.parallel.map_blocks` puts them on a cluster).
    """
    m = units.shape[0]
    n_pairs = m * (m - 1) // 2
    if n_pairs == 0:
        raise ValueError("need at least two rows for pairwise correlations")
    mapper = mapper or _local_map
    starts = list(range(0, m, block))
    shared = {"units": units, "block": block}
    lower, upper, weight = quantile_positions(n_pairs, q)
    if n_pairs <= max_pairs_in_memory:
        kept, below = np.concatenate(mapper(_upper_values, starts, shared)), 0
    else:
        low, high = window if window is not None else _sample_window(units, q)
        parts = mapper(_block_window, starts, {**shared, "low": low, "high": high})
        below = sum(count for count, _ in parts)
        kept = np.concatenate([values for _, values in parts])
        if not below <= lower <= upper < below + len(kept):  # the window missed: histogram passes
            kept, below = _between_bins(mapper, starts, shared, bins, n_pairs, lower, upper)
    kept.partition(sorted({lower - below, upper - below}))
    ends = np.clip(kept[[lower - below, upper - below]], -1.0, 1.0)
    return interpolate(ends[0], ends[1], weight, units.dtype)


def _between_bins(mapper, starts, shared, bins, n_pairs, lower, upper):
    """(values of the bins holding the two order statistics, pairs below them) from a histogram pass."""
    edges = np.linspace(-1.0 - 1e-6, 1.0 + 1e-6, bins + 1)
    counts = np.sum(mapper(_block_histogram, starts, {**shared, "edges": edges}), axis=0)
    cumulative = np.cumsum(counts)
    if cumulative[-1] != n_pairs:
        raise ValueError("some pair correlations are not finite numbers in [-1, 1]")
    lo_bin, hi_bin = np.searchsorted(cumulative, [lower + 1, upper + 1])
    kept = np.concatenate(mapper(_block_between, starts,
                                 {**shared, "low": edges[lo_bin], "high": edges[hi_bin + 1]}))
    return kept, int(cumulative[lo_bin - 1]) if lo_bin > 0 else 0
