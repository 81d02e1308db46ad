# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Counting float32 similarities against per-row thresholds in one pass (mAP's ranks without a sort).

``count_at_least_float32`` in ``ranking.py`` needs, for every row and each of
its thresholds, how many float32 products reach the threshold's upper edge,
and which products fall between its edges (those are recomputed in
float64). With numpy that is five or six passes over the products per
threshold; here each row is read once per threshold while it sits in the
first-level cache, and the products between the edges are collected in a
second pass over the rows that have any.
"""
import numpy as np

from libc.stdint cimport int64_t


def count_between(const float[:, ::1] against, const float[:, ::1] high, const float[:, ::1] low,
                  double[:, ::1] out):
    """``out[i, j]`` = how many ``against[i]`` are >= ``high[i, j]``; returns (row, column, threshold) arrays of the
    entries in ``[low[i, j], high[i, j])``. Releases the GIL."""
    cdef Py_ssize_t n = against.shape[0], m = against.shape[1], k = high.shape[1]
    cdef Py_ssize_t i, c, j, t = 0
    cdef int64_t total = 0, above, inside
    cdef float h, lo, v
    band_np = np.zeros((n, k), dtype=np.int64)
    cdef int64_t[:, ::1] band = band_np
    with nogil:
        for i in range(n):
            for j in range(k):
                h = high[i, j]
                lo = low[i, j]
                above = 0
                inside = 0
                for c in range(m):
                    v = against[i, c]
                    above += v >= h
                    inside += (v >= lo) & (v < h)
                out[i, j] = above
                band[i, j] = inside
                total += inside
    rows_np = np.empty(total, dtype=np.int64)
    columns_np = np.empty(total, dtype=np.int64)
    which_np = np.empty(total, dtype=np.int64)
    cdef int64_t[::1] rows = rows_np, columns = columns_np, which = which_np
    with nogil:
        for i in range(n):
            for j in range(k):
                if band[i, j] == 0:
                    continue
                h = high[i, j]
                lo = low[i, j]
                for c in range(m):
                    v = against[i, c]
                    if v >= lo and v < h:
                        rows[t] = i
                        columns[t] = c
                        which[t] = j
                        t += 1
    return rows_np, columns_np, which_np
