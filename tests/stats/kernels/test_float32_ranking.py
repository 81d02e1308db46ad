"""float32 unit rows ranked in float32, products near a threshold redone in float64: the counts of float64."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from rosetta_stats.stats.core.inputs import feature_matrix
from rosetta_stats.stats.kernels.ranking import (average_precision_of_groups, count_at_least, count_at_least_float32,
                                                 float32_margin)
from rosetta_stats.stats.kernels.similarity import unit_rows
from rosetta_stats.stats.retrieval.map import mean_average_precision


def _units32(n, p, seed):
    return unit_rows(np.random.default_rng(seed).normal(size=(n, p)).astype(np.float32), inplace=True)


@pytest.fixture(params=["compiled", "numpy"])
def route(request, monkeypatch):
    """Both ways of counting: the compiled ``_ranking`` kernel, and numpy in chunks of rows where it is absent."""
    from rosetta_stats.stats.kernels import ranking

    if request.param == "compiled":
        assert ranking._ranking is not None, "make setup builds the compiled ranking kernel"
    else:
        monkeypatch.setattr(ranking, "_ranking", None)
    return request.param


@pytest.mark.parametrize("p", [7, 300])
def test_counts_equal_the_float64_products_of_the_same_rows_even_at_ties(p, route):
    members, negatives = _units32(40, p, 0), _units32(90, p, 1)
    negatives[:10] = members[:10]  # exact copies: similarity 1 ties with a threshold of 1
    exact = members.astype(np.float64) @ negatives.astype(np.float64).T
    # thresholds on the products themselves (ties), a hair above and below them, and dead (+inf) slots
    thresholds = np.column_stack([exact[:, 3] - 1e-12, exact[:, 50] + 1e-9, exact[:, 60] - 1e-9,
                                  np.where(np.arange(40) % 3 == 0, np.inf, 0.1)])
    ours = count_at_least_float32(members @ negatives.T, thresholds, members.astype(np.float64), negatives)
    np.testing.assert_array_equal(ours, count_at_least(exact, thresholds))
    # the float32 products alone would have been wrong somewhere on these thresholds
    assert (count_at_least((members @ negatives.T).astype(np.float64), thresholds) != ours).any()


def test_the_margin_bounds_the_float32_error():
    members, negatives = _units32(200, 1565, 2), _units32(300, 1565, 3)
    error = np.abs((members @ negatives.T) - members.astype(np.float64) @ negatives.astype(np.float64).T)
    assert error.max() < float32_margin(1565) / 10


def test_average_precision_of_float32_groups_equals_sklearn_on_the_float64_products():
    rng = np.random.default_rng(4)
    units = _units32(60, 50, 5)
    units[1] = units[0]  # a replicate identical to its mate
    negatives = _units32(25, 50, 6)
    negatives[0] = units[0]  # a control identical to a query: ties with the positive at 1
    starts, counts = np.arange(0, 60, 4), np.full(15, 4)
    ap, n_neg = average_precision_of_groups(units, starts, counts, negatives)
    u64, n64 = units.astype(np.float64), negatives.astype(np.float64)
    for q in np.r_[0, 1, 2, 3, rng.choice(np.arange(4, 60), 16, replace=False)]:
        g = q // 4
        mates = [r for r in range(4 * g, 4 * g + 4) if r != q]
        scores = np.round(np.r_[u64[mates] @ u64[q], n64 @ u64[q]], 10)  # last-bit differences are ties
        labels = np.r_[np.ones(3), np.zeros(25)]
        assert ap[q] == pytest.approx(average_precision_score(labels, scores), abs=1e-12)
    assert (n_neg == 25).all()


def test_map_of_float32_profiles_equals_map_of_the_same_values_in_float64():
    rng = np.random.default_rng(7)
    perts = np.r_[np.repeat([f"p{i}" for i in range(40)], 3), ["DMSO"] * 30]
    values = rng.normal(size=(len(perts), 120)) + np.array([rng.normal(size=120) * 0.5 if p != "DMSO" else
                                                            np.zeros(120) for p in perts])
    values[1] = values[0]  # duplicate wells tie exactly
    values[-1] = values[3]
    frame = pd.DataFrame(values.astype(np.float32), columns=[f"Cells_f{i}" for i in range(120)])
    frame.insert(0, "pert", perts)
    features = list(frame.columns[1:])
    wide = frame.astype({c: np.float64 for c in features})
    kwargs = dict(perturbation="pert", features=features, controls={"pert": "DMSO"}, n_null=500, seed=1)
    single, double = mean_average_precision(frame, **kwargs).table, mean_average_precision(wide, **kwargs).table
    for column in ("mean_average_precision", "p_value", "n_negatives"):
        np.testing.assert_allclose(single[column], double[column], atol=1e-12, equal_nan=True)


def test_feature_matrix_is_a_new_c_ordered_copy_in_the_asked_precision():
    frame = pd.DataFrame({"a": np.arange(3, dtype=np.float32), "b": np.ones(3, dtype=np.float32), "k": list("xyz")})
    for keep, dtype in ((False, np.float64), (True, np.float32)):
        out = feature_matrix(frame, ["a", "b"], keep_float32=keep)
        assert out.dtype == dtype and out.flags.c_contiguous
        out[:] = -1
        assert frame["a"].tolist() == [0, 1, 2]  # the frame is untouched
    mixed = frame.assign(b=np.ones(3))
    assert feature_matrix(mixed, ["a", "b"], keep_float32=True).dtype == np.float64


def test_signed_zeros_and_many_thresholds_per_row_are_counted_as_float64_counts_them(route):
    rng = np.random.default_rng(8)
    members, negatives = _units32(30, 40, 9), _units32(200, 40, 10)
    members[0, 20:] = 0.0
    negatives[:5, :20] = -0.0  # orthogonal to the first member: products exactly zero (signed zeros inside)
    against = members @ negatives.T
    assert (against[0, :5] == 0).all()
    exact = members.astype(np.float64) @ negatives.astype(np.float64).T
    thresholds = np.sort(rng.uniform(-0.5, 0.5, (30, 9)), axis=1)
    thresholds[0, 0] = 0.0  # a threshold at exactly zero: the zero products reach it
    ours = count_at_least_float32(against, thresholds, members.astype(np.float64), negatives)
    np.testing.assert_array_equal(ours, count_at_least(exact, thresholds))


def test_blocks_longer_than_a_chunk_count_the_same_in_both_routes(monkeypatch):
    """300 rows (three chunks of CACHE_ROWS and a remainder), ties planted in every chunk, dead thresholds."""
    from rosetta_stats.stats.kernels import ranking

    members, negatives = _units32(300, 50, 11), _units32(400, 50, 12)
    negatives[::40] = members[::30][:10]
    exact = members.astype(np.float64) @ negatives.astype(np.float64).T
    thresholds = np.column_stack([exact[:, 0] - 1e-12, np.quantile(exact, 0.9, axis=1),
                                  np.where(np.arange(300) % 7 == 0, np.inf, exact[:, 40] - 1e-12)])
    against = members @ negatives.T
    # a threshold whose upper float32 edge is a product itself: that product is decided at the edge
    at_edge = against[:, 7].astype(np.float64) - ranking.float32_margin(50)
    thresholds = np.column_stack([thresholds, at_edge])
    assert ((at_edge + ranking.float32_margin(50)).astype(np.float32) == against[:, 7]).mean() > 0.5
    compiled = count_at_least_float32(against, thresholds, members.astype(np.float64), negatives)
    monkeypatch.setattr(ranking, "_ranking", None)
    plain = count_at_least_float32(members @ negatives.T, thresholds, members.astype(np.float64), negatives)
    np.testing.assert_array_equal(compiled, count_at_least(exact, thresholds))
    np.testing.assert_array_equal(plain, compiled)
