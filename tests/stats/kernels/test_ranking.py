"""AP among all rows (each similarity block counted for its rows and its columns) against sklearn."""
import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from rosetta_stats.stats.kernels.ranking import average_precision_among_all, average_precision_of_groups, \
    group_columns
from rosetta_stats.stats.kernels.similarity import unit_rows


def _groups(seed):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 6, 30)  # sizes 1 to 5: singletons are negatives only
    codes = np.repeat(np.arange(len(counts)), counts)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    centres = rng.normal(size=(len(counts), 8)) * rng.uniform(0, 1.5, (len(counts), 1))
    values = centres[codes] + rng.normal(size=(len(codes), 8))
    values[5] = values[40]  # identical wells in two groups: exact ties across the block edges
    values[6] = values[41]
    return unit_rows(values), codes, starts, counts


@pytest.mark.parametrize("block_rows", [7, 16, 4096])
def test_equals_sklearn_for_every_query(block_rows):
    units, codes, starts, counts = _groups(4)
    ap, n_negatives = average_precision_among_all(units, codes, starts, counts, block_rows=block_rows)
    similarity = units @ units.T
    for q in range(len(units)):
        own = np.flatnonzero(codes == codes[q])
        if len(own) < 2:
            assert np.isnan(ap[q]) and np.isnan(n_negatives[q])
            continue
        positives = [r for r in own if r != q]
        negatives = np.flatnonzero(codes != codes[q])
        labels = np.r_[np.ones(len(positives)), np.zeros(len(negatives))]
        expected = average_precision_score(labels, similarity[q, np.r_[positives, negatives]])
        assert ap[q] == pytest.approx(expected, abs=1e-12)
        assert n_negatives[q] == len(negatives)


def test_equals_the_one_sided_kernel():
    units, codes, starts, counts = _groups(9)

    def excluded(rows):
        return group_columns(codes[rows][:, None], starts, counts)
    one_sided = average_precision_of_groups(units, starts, counts, units, excluded)
    both = average_precision_among_all(units, codes, starts, counts, block_rows=11)
    np.testing.assert_allclose(both[0], one_sided[0], atol=1e-12)
    np.testing.assert_array_equal(both[1], one_sided[1])
