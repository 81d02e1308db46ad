"""Distinct draws for the nulls."""
from __future__ import annotations


import numpy as np



def test_distinct_draws_are_distinct_in_both_regimes():
    from rosetta_stats.stats.core.resampling import distinct_draws

    rng = np.random.default_rng(0)
    for n, k in ((1000, 5), (100, 86), (10, 10)):
        draws = distinct_draws(n, k, 300, rng)
        assert draws.shape == (300, k) and draws.min() >= 0 and draws.max() < n
        assert all(len(set(row)) == k for row in draws.tolist())
    counts = np.bincount(distinct_draws(20, 15, 4000, rng).ravel(), minlength=20)
    assert counts.min() > 0.8 * counts.mean()  # roughly uniform over values
