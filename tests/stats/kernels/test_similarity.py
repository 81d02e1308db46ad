"""Similarity kernels against numpy and plain loops."""
from __future__ import annotations


import numpy as np
import pytest

from rosetta_stats.stats.kernels.pairwise import pairwise_quantile
from rosetta_stats.stats.kernels.similarity import unit_rows


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


def test_pairwise_quantile_is_exact_when_the_window_misses_or_the_rows_are_float32():
    rng = np.random.default_rng(3)
    units = unit_rows(rng.normal(size=(250, 12)))
    everything = (units @ units.T)[np.triu_indices(250, 1)]
    expected = np.percentile(everything, 90)
    for window in [(0.9, 0.95), (-1.0, -0.9), (0.0, 0.0)]:  # wrong windows: the histogram passes answer
        assert pairwise_quantile(units, 0.9, block=40, max_pairs_in_memory=0, window=window) == \
            pytest.approx(expected, abs=1e-12)
    assert pairwise_quantile(units, 0.9, block=40, max_pairs_in_memory=0) == pytest.approx(expected, abs=1e-12)
    single = units.astype(np.float32)
    everything32 = (single @ single.T)[np.triu_indices(250, 1)]
    assert pairwise_quantile(single, 0.9, block=40, max_pairs_in_memory=0) == \
        pytest.approx(float(np.percentile(everything32, 90)), abs=1e-6)


def test_pairwise_quantile_with_many_ties():
    """Repeated rows make runs of equal correlations (exactly 1) that straddle the window."""
    rng = np.random.default_rng(8)
    base = rng.normal(size=(20, 9))
    units = unit_rows(base[rng.integers(0, 20, 300)])
    everything = np.clip((units @ units.T)[np.triu_indices(300, 1)], -1, 1)
    for q in (0.5, 0.95, 0.99):
        assert pairwise_quantile(units, q, block=64, max_pairs_in_memory=0) == \
            pytest.approx(np.percentile(everything, 100 * q), abs=1e-12)


def test_group_sums_added_block_by_block_give_corrcoef_with_rows_in_any_order():
    from rosetta_stats.stats.kernels.similarity import add_group_sums, mean_correlation_from_sums

    rng = np.random.default_rng(6)
    values = rng.normal(size=(60, 7))
    codes = rng.integers(0, 9, 60)
    keep = rng.random(60) > 0.2
    units = unit_rows(values)
    sums = np.zeros((10, 7))
    for start in range(0, 60, 13):  # blocks, as replicates reads them
        rows = np.arange(start, min(start + 13, 60))
        rows = rows[keep[rows]]
        add_group_sums(sums, units[rows], codes[rows])
    counts = np.bincount(codes[keep], minlength=10)
    mean_corr = mean_correlation_from_sums(sums, counts)
    for g in range(10):
        rows = values[(codes == g) & keep]
        if len(rows) < 2:
            assert np.isnan(mean_corr[g])
        else:
            corr = np.corrcoef(rows)
            assert mean_corr[g] == pytest.approx(corr[np.triu_indices(len(rows), 1)].mean(), abs=1e-12)


def test_first_occurrences_when_fingerprints_collide():
    """Quantised values share row maxima, minima and sampled columns; only exact copies are repeats."""
    from rosetta_stats.stats.kernels.similarity import first_occurrences

    rng = np.random.default_rng(9)
    values = rng.integers(0, 2, size=(400, 8)).astype(float)
    values[:, [0, 2, 5, 7]] = 1.0  # the columns the fingerprint samples: all alike
    values[::50, 3] = np.nan
    codes = rng.integers(0, 3, 400)
    seen, expected = set(), []
    for code, row in zip(codes, values):
        key = (code, row.tobytes())
        expected.append(np.isnan(row).any() or key not in seen)
        seen.add(key)
    np.testing.assert_array_equal(first_occurrences(values, codes), expected)


def test_unit_rows_rescales_extreme_rows_without_changing_them():
    rng = np.random.default_rng(10)
    values = rng.normal(size=(5, 30))
    scaled = values * np.array([1.0, 1e300, 1e-300, 1e-160, 1e160])[:, None]
    np.testing.assert_allclose(unit_rows(scaled), unit_rows(values), atol=1e-14)
    constant = unit_rows(np.array([[2.0, 2.0, 2.0], [1.0, np.inf, 0.0]]))
    assert np.isnan(constant).all()
