"""Similarity kernels against numpy and plain loops."""
from __future__ import annotations


import numpy as np
import pytest

from rosetta_stats.stats.kernels.similarity import pairwise_quantile, unit_rows


def test_pairwise_quantile_equals_numpy():
    rng = np.random.default_rng(2)
    units = unit_rows(rng.normal(size=(301, 20)))
    corr = units @ units.T
    everything = corr[np.triu_indices(301, 1)]
    for q in (0.1, 0.5, 0.9, 0.999):
        expected = np.percentile(everything, 100 * q)
        assert pairwise_quantile(units, q, block=37, max_pairs_in_memory=0) == pytest.approx(expected, abs=1e-12)
        assert pairwise_quantile(units, q, block=37) == pytest.approx(expected, abs=1e-12)


def test_first_occurrences_matches_a_plain_loop():
    from rosetta_stats.stats.kernels.similarity import first_occurrences

    rng = np.random.default_rng(4)
    base = rng.normal(size=(30, 6))
    rows = rng.integers(0, 30, 200)
    values = base[rows]
    codes = rng.integers(0, 5, 200)
    seen, expected = set(), []
    for code, row in zip(codes, values):
        key = (code, row.tobytes())
        expected.append(key not in seen)
        seen.add(key)
    np.testing.assert_array_equal(first_occurrences(values, codes), expected)
