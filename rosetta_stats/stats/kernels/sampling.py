"""Random draws for the nulls: rows of distinct indices, reproducible from one generator."""
from __future__ import annotations

import numpy as np


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


def group_rows(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows sorted by group, start of each group in that order, size of each group) for integer codes."""
    order = np.argsort(groups, kind="stable")
    counts = np.bincount(groups)
    counts = counts[counts > 0]
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    return order, starts, counts


def group_permutation(groups: np.ndarray, rng) -> np.ndarray:
    """A row permutation that moves whole groups onto other groups of the same size.

    ``y[group_permutation(groups, rng)]`` gives every group the rows of another
    group of its size, in their original order, so rows that belong together
    (doses of one compound) stay together under the null. With every group a
    single row this is ``rng.permutation(n)``.
    """
    groups = np.asarray(groups)
    n = len(groups)
    _, codes = np.unique(groups, return_inverse=True)
    order, starts, counts = group_rows(codes)
    if counts.max(initial=0) <= 1:
        return rng.permutation(n)
    perm = np.empty(n, dtype=np.int64)
    for size in np.unique(counts):
        members = np.flatnonzero(counts == size)
        rows = order[starts[members][:, None] + np.arange(size)]  # (groups of this size, size)
        perm[rows] = rows[rng.permutation(len(members))]
    return perm


def has_groups(groups: np.ndarray) -> bool:
    """True when some group holds more than one row."""
    _, counts = np.unique(np.asarray(groups), return_counts=True)
    return bool((counts > 1).any())


def group_means(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Mean row of each group (groups in sorted order of their codes)."""
    _, codes = np.unique(np.asarray(groups), return_inverse=True)
    order, starts, counts = group_rows(codes)
    return np.add.reduceat(values[order], starts, axis=0) / counts[:, None]
