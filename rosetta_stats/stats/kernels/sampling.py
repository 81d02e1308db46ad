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
