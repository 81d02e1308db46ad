"""numpy kernels for the Mantel test: permutations move indices, never matrices.

Both similarity matrices are turned once into the standardised values of
their upper triangles (ranked first for Spearman), stored symmetric with a
zero diagonal. Relabelling the second matrix by a permutation ``p`` leaves
the multiset of its off-diagonal values unchanged, so their mean and
standard deviation, and hence the standardisation, hold under every
permutation: the statistic is ``sum_{i<j} a_ij b_{p(i)p(j)} / n_pairs`` and a
permutation costs one pass over row blocks (gather a block of rows of ``b``
in the order ``p``, then its columns, multiply by ``a``), with memory of one
block whatever the number of perturbations.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

BLOCK_ROWS = 256


def standardized_similarity(similarity: np.ndarray, method: str, dtype=np.float64,
                            inplace: bool = False) -> np.ndarray:
    """The matrix with its upper triangle standardised (ranked first for "spearman"), mirrored, diagonal 0.

    A constant triangle has no standardisation: every entry becomes NaN.
    ``inplace`` works in the (float64) input instead of a copy.
    """
    n = len(similarity)
    out = similarity if inplace and similarity.dtype == np.float64 else np.array(similarity, dtype=np.float64)
    if method == "spearman":
        rows, cols = np.triu_indices(n, 1)
        out[rows, cols] = stats.rankdata(out[rows, cols])
        out[cols, rows] = out[rows, cols]
        del rows, cols
    n_pairs = n * (n - 1) / 2
    mean = _upper_sum(out, lambda v: v) / n_pairs
    sd = np.sqrt(max(_upper_sum(out, np.square) / n_pairs - mean ** 2, 0.0))
    out -= mean
    out /= sd if sd > 0 else np.nan
    np.fill_diagonal(out, 0.0)
    return out.astype(dtype, copy=False)


def _upper_sum(matrix: np.ndarray, transform) -> float:
    """Sum of ``transform`` over the strict upper triangle, by row blocks (no n x n temporary)."""
    total = 0.0
    for start in range(0, len(matrix), BLOCK_ROWS):
        block = transform(matrix[start:start + BLOCK_ROWS])
        total += float(np.triu(block, start + 1).sum())
    return total


def mantel_statistics(permutations, a: np.ndarray, b: np.ndarray, block: int = BLOCK_ROWS) -> np.ndarray:
    """Pearson correlation of a's and b's upper triangles with b relabelled by each permutation.

    ``a``, ``b``: outputs of :func:`standardized_similarity`.
    """
    n = len(a)
    n_pairs = n * (n - 1) / 2
    out = np.empty(len(permutations))
    for k, p in enumerate(permutations):
        total = 0.0
        for start in range(0, n, block):
            rows = np.take(b, p[start:start + block], axis=0)  # rows p(i) of b, for i in the block
            relabelled = np.take(rows, p, axis=1)  # b[p(i), p(j)]
            total += float(np.einsum("ij,ij->i", a[start:start + block], relabelled).sum(dtype=np.float64))
        out[k] = total / 2.0 / n_pairs  # the full matrices count every pair twice
    return out
