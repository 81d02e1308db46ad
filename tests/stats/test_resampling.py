"""Distinct draws for the nulls."""
from __future__ import annotations


import numpy as np
import pytest



def test_distinct_draws_are_distinct_in_both_regimes():
    from rosetta_stats.stats.core.resampling import distinct_draws

    rng = np.random.default_rng(0)
    for n, k in ((1000, 5), (100, 86), (10, 10)):
        draws = distinct_draws(n, k, 300, rng)
        assert draws.shape == (300, k) and draws.min() >= 0 and draws.max() < n
        assert all(len(set(row)) == k for row in draws.tolist())
    counts = np.bincount(distinct_draws(20, 15, 4000, rng).ravel(), minlength=20)
    assert counts.min() > 0.8 * counts.mean()  # roughly uniform over values


def test_permutation_p_values_by_hand():
    from rosetta_stats.stats.core.resampling import permutation_p_values

    null = np.array([0.1, 0.2, 0.3])
    # sampled: (1 + #{null >= observed}) / (1 + n); a tie counts; NaN stays NaN
    np.testing.assert_array_equal(permutation_p_values(null, [0.25, 0.3, 0.5, np.nan]), [0.5, 0.5, 0.25, np.nan])
    # exact (the null holds every arrangement, the observed one included): #{null >= observed} / n
    np.testing.assert_array_equal(permutation_p_values(null, [0.25, 0.1], exact=True), [1 / 3, 1.0])
    per_column = permutation_p_values(np.array([[0.0, 5.0], [1.0, 6.0]]), [0.5, 7.0])
    np.testing.assert_array_equal(per_column, [2 / 3, 1 / 3])


def test_group_permutations_keep_groups_together_and_move_unequal_ones_as_blocks():
    import itertools

    from rosetta_stats.stats.core.resampling import group_permutation, group_permutations

    rng = np.random.default_rng(3)
    groups = np.array(["a", "a", "b", "b", "c", "c", "d", "d", "d", "e", "e", "e", "e", "f"])
    for _ in range(50):
        perm = group_permutation(groups, rng)
        assert sorted(perm) == list(range(len(groups)))
        for g in ("a", "b", "c"):  # size-2 groups land on one size-2 group, in order
            rows = np.flatnonzero(groups == g)
            assert len(set(groups[perm[rows]])) == 1 and (np.diff(perm[rows]) == 1).all()
    moved = {tuple(group_permutation(groups, rng)[9:14]) for _ in range(200)}
    assert len(moved) > 1  # groups of unique size (d, e, f) move too, as blocks: no p = 1 wall
    everything, exact = group_permutations(np.repeat([0, 1, 2], 2), 100, rng)
    assert exact and len(everything) == 6  # 3! arrangements of three pairs, enumerated
    assert {tuple(p) for p in everything} == {tuple(np.concatenate([[2 * g, 2 * g + 1] for g in order]))
                                              for order in itertools.permutations(range(3))}
    sampled, exact = group_permutations(np.arange(10), 100, rng)
    assert not exact and len(sampled) == 100


def test_rank_null_of_average_precision_by_enumeration():
    import itertools

    from rosetta_stats.stats.core.resampling import average_precision_null, expected_average_precision

    rng = np.random.default_rng(0)
    null = average_precision_null(2, 6, 100, rng)
    assert null.exact and len(null.values) == 15
    by_hand = sorted(np.mean([(i + 1) / (r + 1) for i, r in enumerate(sorted(c))])
                     for c in itertools.combinations(range(6), 2))
    np.testing.assert_allclose(null.values, by_hand, atol=1e-15)
    assert expected_average_precision(2, 6) == pytest.approx(np.mean(by_hand), abs=1e-14)
    assert null.p_values([1.0])[0] == pytest.approx(1 / 15)
    big = average_precision_null(3, 40, 200, rng)  # C(40, 3) = 9,880 rankings: sampled
    assert not big.exact and big.p_values([1.0])[0] == pytest.approx(1 / 9880)  # a perfect score: exact anyway
