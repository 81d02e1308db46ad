"""numpy kernels for replicate correlation: arrays in, arrays out, no pandas.

Rows are centred and scaled to unit length once, so the Pearson correlation
of two rows is a dot product, and the mean over all pairs of k rows with sum
``s`` is ``(s.s - k) / (k (k - 1))``: no pair is ever formed explicitly.
Every kernel works in the input's dtype (float32 stays float32) and, where it
can, in place: at CDRP scale each extra copy of the matrix costs a gigabyte.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse


def row_range(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(largest, smallest) value of each row; NaN in a row makes both NaN."""
    if values.shape[1] == 0:
        nan = np.full(len(values), np.nan)
        return nan, nan
    return values.max(axis=1), values.min(axis=1)


def degenerate_rows(values: np.ndarray, ranges=None) -> tuple[np.ndarray, np.ndarray]:
    """(rows holding NaN or +-inf, finite rows that are constant): neither has a correlation.

    ``ranges`` is :func:`row_range` of ``values`` when the caller already has it.
    """
    top, bottom = ranges if ranges is not None else row_range(values)
    non_finite = ~(np.isfinite(top) & np.isfinite(bottom))
    constant = ~non_finite & (top == bottom)
    return non_finite, constant


def unit_rows(values: np.ndarray, inplace: bool = False, ranges=None) -> np.ndarray:
    """Centre each row and scale it to length 1 (a constant or non-finite row becomes NaN).

    Rows whose values are near the float limit (1e308) or tiny are first
    divided by their largest absolute value, so they neither overflow nor
    lose precision. With ``inplace`` the input is overwritten (its dtype
    kept) instead of copied to float64. ``ranges``: :func:`row_range` of the input.
    """
    units = values if inplace else values.astype(float, copy=True)
    top, bottom = ranges if ranges is not None else row_range(units)
    info = np.finfo(units.dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        peak = np.maximum(np.abs(top), np.abs(bottom))
        usable = np.isfinite(peak) & (top != bottom)
        extreme = usable & ((peak > np.sqrt(info.max / (4.0 * max(units.shape[1], 1))))
                            | (peak < np.sqrt(info.tiny) * 2.0 ** 20))
    if extreme.any():
        units[extreme] /= peak[extreme, None].astype(units.dtype)
    if not usable.all():
        units[~usable] = np.nan
    units -= units.mean(axis=1, keepdims=True)
    norms = np.sqrt(np.einsum("ij,ij->i", units, units))
    with np.errstate(invalid="ignore", divide="ignore"):
        units /= np.where(norms > 0, norms, np.nan)[:, None].astype(units.dtype)
    return units


class _ArrayRows:
    """The row access :func:`first_occurrences` needs, over a plain 2-D array."""

    def __init__(self, values: np.ndarray):
        self.values, self.width = values, values.shape[1]

    def __len__(self) -> int:
        return len(self.values)

    def column(self, j: int) -> np.ndarray:
        return self.values[:, j]

    def take(self, rows) -> np.ndarray:
        return self.values[rows]


def first_occurrences(values, codes: np.ndarray, ranges=None) -> np.ndarray:
    """Mask of rows that are not an exact repeat of an earlier row with the same code.

    ``values``: a 2-D array, or rows read on demand (``len``, ``width``,
    ``column(j)``, ``take(rows)``, as :class:`~rosetta_stats.common.feature_matrix.FeatureRows`).
    Rows are first fingerprinted by exact values only (code, row maximum and
    minimum, a few columns): equal rows always share a fingerprint, so only
    rows whose fingerprint repeats are compared, value by value. Rows holding
    NaN never count as repeats.
    """
    rows = _ArrayRows(values) if isinstance(values, np.ndarray) else values
    n, width = len(rows), rows.width
    mask = np.ones(n, dtype=bool)
    if n < 2:
        return mask
    if ranges is None:
        ranges = row_range(rows.take(slice(None)))
    keys = {"code": np.asarray(codes), "top": ranges[0], "bottom": ranges[1]}
    for j in sorted({0, width // 3, 2 * width // 3, width - 1} if width else set()):
        keys[f"column_{j}"] = rows.column(j)
    fingerprint = pd.DataFrame(keys)
    candidates = np.flatnonzero(fingerprint.duplicated().to_numpy())
    if not len(candidates):
        return mask
    group = fingerprint.groupby(list(keys), sort=False, dropna=False).ngroup().to_numpy()
    _, first_of_group = np.unique(group, return_index=True)
    unresolved = []
    for chunk in np.array_split(candidates, max(1, len(candidates) // 4096)):
        same = (rows.take(chunk) == rows.take(first_of_group[group[chunk]])).all(axis=1)
        mask[chunk[same]] = False
        unresolved.extend(chunk[~same])
    for g in np.unique(group[unresolved]):  # a fingerprint shared by rows that differ: compare them all
        seen = set()
        members = np.flatnonzero(group == g)
        for row, row_values in zip(members, rows.take(members)):
            if np.isnan(row_values).any():
                continue
            key = (row_values + 0.0).tobytes()  # + 0.0 makes -0.0 equal 0.0, as == does
            mask[row] = key not in seen
            seen.add(key)
    return mask


def add_group_sums(sums: np.ndarray, units: np.ndarray, codes: np.ndarray) -> None:
    """``sums[g] +=`` the sum of the rows of ``units`` whose code is g (rows in any order; one sparse product)."""
    if not len(codes):
        return
    present, local = np.unique(codes, return_inverse=True)
    indicator = sparse.csr_matrix((np.ones(len(local), dtype=units.dtype), (local, np.arange(len(local)))),
                                  shape=(len(present), len(local)))
    sums[present] += np.asarray(indicator @ units)


def mean_correlation_from_sums(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Mean pairwise correlation of each group from the sum of its unit rows (NaN for < 2 rows)."""
    squared = np.einsum("ij,ij->i", sums, sums).astype(float)
    counts = counts.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (squared - counts) / (counts * (counts - 1.0))
    out[counts < 2] = np.nan
    return out


def draws_mean_correlation(units: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Mean pairwise correlation of each draw: ``rows`` is (n_draws, k) row indices."""
    k = rows.shape[1]
    sums = units[rows].sum(axis=1, dtype=float)
    return (np.einsum("ij,ij->i", sums, sums) - k) / (k * (k - 1.0))


SIMILARITIES = ("pearson", "cosine", "spearman")


def similarity_rows(values: np.ndarray, similarity: str = "pearson", ranges=None,
                    inplace: bool = False) -> np.ndarray:
    """Rows prepared so that dot products are the chosen similarity (a degenerate row becomes NaN).

    "pearson": centred and scaled to length 1 (:func:`unit_rows`); "cosine":
    scaled to length 1, not centred; "spearman": ranks within the row (ties
    averaged), then as Pearson. With ``inplace`` a float input may be
    overwritten, its dtype kept (the caller's own copy: one matrix less at CDRP scale).
    """
    if similarity == "pearson":
        return unit_rows(values, inplace=inplace and values.dtype in (np.float32, np.float64), ranges=ranges)
    if similarity == "spearman":
        from scipy.stats import rankdata

        ranked = rankdata(values, axis=1).astype(float)
        ranked[~np.isfinite(values).all(axis=1)] = np.nan
        return unit_rows(ranked)
    if similarity == "cosine":
        out = values if inplace and values.dtype in (np.float32, np.float64) else values.astype(float, copy=True)
        peak = np.abs(out).max(axis=1, initial=0.0) if out.shape[1] else np.zeros(len(out))
        with np.errstate(invalid="ignore", divide="ignore"):
            out /= np.where(peak > 0, peak, np.nan)[:, None]
            out /= np.sqrt(np.einsum("ij,ij->i", out, out))[:, None]
        return out
    raise ValueError(f"unknown similarity {similarity!r}; choose one of: {', '.join(SIMILARITIES)}")
