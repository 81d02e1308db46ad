"""numpy kernels for average precision: ranks of positives among negatives, arrays in and out.

Ties are ranked as sklearn's ``average_precision_score`` ranks them: a
positive's precision counts every candidate scoring at least as high as it
(positives and negatives alike), so a tie never favours the positive.
Similarities within ``TIE_TOLERANCE`` of each other are ties: two copies of
one well give similarities that differ in the last bit when they come from
different matrix routines, and they must still tie. Unit rows kept in float32
(profiles loaded with ``dtype="float32"``) are multiplied in float32 and every
product within the float32 error bound of a threshold is recomputed in
float64 from the same rows (``float32_margin``): the counts are those of the
float64 products of the float32 rows, ties included.
"""
from __future__ import annotations

import numpy as np

try:
    from . import _ranking
except ImportError:  # installed without a C compiler: numpy counts in chunks of rows
    _ranking = None


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
CACHE_ROWS = 128  # rows counted together (64: 36 ms, 128: 36 ms, 256: 40 ms, all 1,020: 107 ms)


def float32_margin(n_features: int) -> float:
    """A bound on |float32 product - float64 product| of two float32 rows of length <= 1 (the dot product's
    rounding bound n u |x|'|y| with u = 2^-24), with room for the threshold's own rounding to float32."""
    return (n_features + 4) * 2.0 ** -24 + 1e-6


def average_precision_of_groups(units, starts, counts, negatives, excluded=None, block_rows=1024, index=None):
    """AP of every row retrieving its group's other rows among them plus ``negatives``.

    ``units``: unit rows sorted by group, groups at ``starts`` of size ``counts``
    (or, with ``index``, ``units[index]`` is: the rows are read block by block,
    never copied whole);
    ``negatives``: unit rows that are never positives; ``excluded(rows)`` may
    return (positions in ``rows``, columns of ``negatives``) to leave out
    (used when the negatives are all other perturbations' rows).
    Returns (ap per row, number of negatives per row); rows of groups of < 2 are NaN.
    Each positive is counted against the negatives at least as similar by
    direct comparison (k - 1 passes per query row, no sort). float32 ``units``
    and ``negatives`` are multiplied in float32, products near a threshold
    again in float64 (``count_at_least_float32``).
    """
    n = len(units) if index is None else len(index)
    ap = np.full(n, np.nan)
    n_negatives = np.full(n, np.nan)
    single = units.dtype == np.float32 and negatives.dtype == np.float32
    if single and excluded is not None:
        raise ValueError("float32 rows are ranked against a fixed set of negatives only")
    for k, block in _group_blocks(starts, counts, block_rows):
        members = units[block] if index is None else units[index[block]]
        exact = members.astype(np.float64) if single else members
        thresholds, positives_above = _positive_thresholds(exact, k)
        flat_rows = block.ravel()
        against = members.reshape(len(flat_rows), -1) @ negatives.T
        usable = np.full(len(flat_rows), against.shape[1])
        if excluded is not None:
            where, columns = excluded(flat_rows)
            against[where, columns] = EXCLUDED
            usable -= np.bincount(where, minlength=len(flat_rows))
        if single:
            negatives_above = count_at_least_float32(against, thresholds, exact.reshape(len(flat_rows), -1),
                                                     negatives)
        else:
            negatives_above = count_at_least(against, thresholds)
        ap[flat_rows] = (positives_above / (positives_above + negatives_above)).mean(axis=1)
        n_negatives[flat_rows] = usable
    return ap, n_negatives


def _group_blocks(starts, counts, block_rows):
    """(k, rows of a block of groups of size k: groups x k), for every size k >= 2, about block_rows rows each."""
    for k in np.unique(counts[counts >= 2]):
        groups = np.flatnonzero(counts == k)
        rows = starts[groups][:, None] + np.arange(k)
        per_block = max(1, block_rows // k)
        for b in range(0, len(groups), per_block):
            yield int(k), rows[b:b + per_block]


def _positive_thresholds(members, k):
    """For members (groups x k x features) of unit rows: each row's similarities to its k - 1 group mates
    less the tie tolerance ((groups k) x (k - 1)), and how many of its positives reach each of them."""
    off_diagonal = ~np.eye(k, dtype=bool)
    positives = np.einsum("gif,gjf->gij", members, members)[:, off_diagonal].reshape(-1, k - 1)
    thresholds = positives - TIE_TOLERANCE
    return thresholds, (positives[:, None, :] >= thresholds[:, :, None]).sum(axis=2)


def average_precision_among_all(units, codes, starts, counts, block_rows: int = 2048):
    """AP of every row retrieving its group's other rows, all rows of other groups being negatives.

    The same numbers as ``average_precision_of_groups(units, ..., negatives=units)``
    with each row's own group left out, for half the matrix products: the
    similarity matrix is symmetric, so each block above the diagonal is
    computed once and counted for its rows and for its columns. ``codes``:
    group of each row (rows sorted by group, as ``starts``/``counts`` say).
    Returns (ap per row, number of negatives per row); rows of groups of < 2 are NaN.
    """
    n = len(units)
    size = counts[codes]
    thresholds, positives_above = _group_thresholds(units, starts, counts, block_rows)
    negatives_above = np.zeros_like(thresholds)
    edges = list(range(0, n, block_rows)) + [n]
    for i, (a, a_end) in enumerate(zip(edges[:-1], edges[1:])):
        rows_a = slice(a, a_end)
        for b, b_end in zip(edges[i:-1], edges[i + 1:]):
            rows_b = slice(b, b_end)
            similarity = units[rows_a] @ units[rows_b].T
            _exclude_own_group(similarity, a, b, b_end, codes, starts, counts)
            negatives_above[rows_a] += count_at_least(similarity, thresholds[rows_a])
            if b != a:
                negatives_above[rows_b] += count_at_least(similarity.T, thresholds[rows_b])
    with np.errstate(invalid="ignore"):
        precision = positives_above / (positives_above + negatives_above)
    ap = np.full(n, np.nan)
    for k in np.unique(size[size >= 2]):
        rows = size == k
        ap[rows] = precision[rows, :k - 1].mean(axis=1)
    return ap, np.where(size >= 2, n - size, np.nan).astype(float)


def _group_thresholds(units, starts, counts, block_rows):
    """Per row (padded to the largest group): its positives' similarities less the tie tolerance
    (+inf where a row has fewer positives), and how many positives reach each of them."""
    n = len(units)
    width = max(int(counts.max()) - 1, 1) if len(counts) else 1
    thresholds = np.full((n, width), np.inf)
    positives_above = np.zeros((n, width))
    for k, block in _group_blocks(starts, counts, block_rows):
        flat = block.ravel()
        thresholds[flat, :k - 1], positives_above[flat, :k - 1] = _positive_thresholds(units[block], k)
    return thresholds, positives_above


def _exclude_own_group(similarity, a, b, b_end, codes, starts, counts) -> None:
    """Mark the pairs of one group in the block (rows from a, columns b to b_end) as non-candidates."""
    block_codes = codes[a:a + similarity.shape[0]]
    if starts[block_codes[-1]] + counts[block_codes[-1]] <= b:
        return  # groups are contiguous: none reaches the column block
    rows, columns = group_columns(block_codes[:, None], starts, counts)
    inside = (columns >= b) & (columns < b_end)
    similarity[rows[inside], columns[inside] - b] = EXCLUDED


def count_at_least(similarity, thresholds) -> np.ndarray:
    """For each row, how many entries reach each of its thresholds (rows x thresholds).

    Rows go ``CACHE_ROWS`` at a time, so a chunk of products stays in cache
    while every threshold is counted against it.
    """
    out = np.zeros(thresholds.shape)
    for first in range(0, len(similarity), CACHE_ROWS):
        rows = slice(first, first + CACHE_ROWS)
        _count_rows(similarity[rows], thresholds[rows], out[rows])
    return out


def _count_rows(similarity, thresholds, out) -> None:
    for j in range(thresholds.shape[1]):
        live = np.isfinite(thresholds[:, j])
        if live.all():
            out[:, j] = np.count_nonzero(similarity >= thresholds[:, j:j + 1], axis=1)
        elif live.any():
            out[live, j] = np.count_nonzero(similarity[live] >= thresholds[live, j:j + 1], axis=1)


def count_at_least_float32(against, thresholds, members, negatives) -> np.ndarray:
    """``count_at_least`` of the float64 products ``members @ negatives.T`` of float32 rows, from their float32
    products ``against``: decided in float32 beyond ``float32_margin`` of each threshold, recomputed in
    float64 within it (a few products per row). Dead (+inf) thresholds stay dead at both edges.

    The compiled ``_ranking.count_between`` reads each row once per threshold
    (1,020 x 1,608 products, 4 thresholds: 107 ms with numpy over the whole
    block, 36 ms in chunks of ``CACHE_ROWS`` rows, 10 ms compiled); numpy
    takes its place where it was not built.
    """
    margin = float32_margin(members.shape[1])
    high, low = (thresholds + margin).astype(np.float32), (thresholds - margin).astype(np.float32)
    if _ranking is not None and against.dtype == np.float32:
        out = np.empty(thresholds.shape)
        rows, columns, which = _ranking.count_between(np.ascontiguousarray(against), high, low, out)
        _add_exact(out, rows, columns, which, thresholds, members, negatives)
        return out
    out = np.zeros(thresholds.shape)
    for first in range(0, len(against), CACHE_ROWS):
        rows = slice(first, first + CACHE_ROWS)
        part, counts = against[rows], out[rows]
        _count_rows(part, high[rows], counts)
        for j in range(thresholds.shape[1]):
            hit, columns = np.nonzero((part >= low[rows, j:j + 1]) & (part < high[rows, j:j + 1]))
            _add_exact(out, hit + first, columns, np.full(hit.size, j), thresholds, members, negatives)
    return out


def _add_exact(out, rows, columns, which, thresholds, members, negatives) -> None:
    """Count the products near a threshold (``rows`` x ``columns``, threshold ``which``) that reach it in float64."""
    for first in range(0, rows.size, CACHE_ROWS):  # gathered rows stay in cache
        r, c, w = rows[first:first + CACHE_ROWS], columns[first:first + CACHE_ROWS], which[first:first + CACHE_ROWS]
        exact = np.einsum("ij,ij->i", members[r], negatives[c].astype(np.float64))
        np.add.at(out, (r, w), exact >= thresholds[r, w])
