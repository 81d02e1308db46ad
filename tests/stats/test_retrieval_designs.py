"""Declared positives and negatives against a brute-force pair list written here, query by query.

The twin lists every (query, candidate) pair, decides positive / negative /
neither from the rules as they are stated in words, and scores each query
with sklearn's ``average_precision_score`` on Pearson correlations.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

import rosetta_stats as rs

FEATURES = [f"Cells_f{i}" for i in range(6)]


def design(seed=0, n_perts=6, reps=4, n_plates=2, n_controls=6):
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_perts):
        for r in range(reps):
            rows.append((f"p{p}", f"P{r % n_plates}", "trt", ["a", "b", "a|b", "c", "b|c", "a"][p % 6]))
    for c in range(n_controls):
        rows.append(("DMSO", f"P{c % n_plates}", "control", None))
    frame = pd.DataFrame(rows, columns=["pert", "plate", "type", "moa"])
    centres = {f"p{p}": rng.normal(size=len(FEATURES)) * 0.8 for p in range(n_perts)}
    values = np.array([centres.get(p, np.zeros(len(FEATURES))) for p in frame["pert"]])
    frame[FEATURES] = values + rng.normal(size=values.shape)
    return frame


def brute_force(frame, is_positive, is_negative, query_ok):
    corr = np.corrcoef(frame[FEATURES].to_numpy())
    out = {}
    for q in range(len(frame)):
        if not query_ok(q):
            continue
        pos = [c for c in range(len(frame)) if c != q and is_positive(q, c)]
        neg = [c for c in range(len(frame)) if c != q and not is_positive(q, c) and is_negative(q, c)]
        if pos and neg:
            labels = [1] * len(pos) + [0] * len(neg)
            out[q] = (average_precision_score(labels, corr[q, pos + neg]), len(pos), len(neg))
    return out


def expected_ap(n_pos, n_candidates):
    """The mean AP over every ranking (enumerated)."""
    values = [np.mean([(i + 1) / (r + 1) for i, r in enumerate(c)])
              for c in itertools.combinations(range(n_candidates), n_pos)]
    return float(np.mean(values))


def check(result, frame, twin, group_of):
    queries = result.extras["queries"]
    assert len(queries) == len(twin)
    for row in queries.itertuples():
        ap, n_pos, n_neg = twin[row.row]
        assert row.ap == pytest.approx(ap, abs=1e-12)
        assert (row.n_positives, row.n_negatives) == (n_pos, n_neg)
        mu0 = expected_ap(n_pos, n_pos + n_neg)
        assert row.normalized_ap == pytest.approx((ap - mu0) / (1 - mu0), abs=1e-12)
    by_group = pd.DataFrame([(group_of(q), ap) for q, (ap, _, _) in twin.items()], columns=["g", "ap"])
    expected = by_group.groupby("g")["ap"].mean()
    table = result.table.set_index(result.table.columns[0])
    np.testing.assert_allclose(table.loc[expected.index, "map"], expected.to_numpy(), atol=1e-12)


def test_replicates_on_other_plates_against_controls_on_the_same_plate():
    frame = design(1)
    result = rs.mean_average_precision(frame, "pert", FEATURES, controls={"type": "control"},
                                       positives=dict(same=["pert"], different=["plate"]),
                                       negatives=dict(same=["plate"]), reference={"type": "control"},
                                       n_null=50)
    control = frame["type"].eq("control").to_numpy()
    twin = brute_force(
        frame,
        lambda q, c: frame.pert[q] == frame.pert[c] and frame.plate[q] != frame.plate[c] and not control[c],
        lambda q, c: control[c] and frame.plate[q] == frame.plate[c],
        lambda q: not control[q])
    check(result, frame, twin, lambda q: frame.pert[q])


def test_distinctiveness_against_other_perturbations_on_other_plates():
    frame = design(2)
    result = rs.mean_average_precision(frame, "pert", FEATURES, controls={"type": "control"},
                                       negatives=dict(different=["pert", "plate"]), n_null=50)
    control = frame["type"].eq("control").to_numpy()
    twin = brute_force(
        frame,
        lambda q, c: frame.pert[q] == frame.pert[c] and not control[c],
        lambda q, c: frame.pert[q] != frame.pert[c] and frame.plate[q] != frame.plate[c],
        lambda q: not control[q])
    check(result, frame, twin, lambda q: frame.pert[q])


def test_multilabel_moa_retrieval_equals_the_per_label_brute_force():
    frame = design(3)
    treatments = frame[frame["type"] == "trt"].reset_index(drop=True)
    result = rs.mean_average_precision(treatments, None, FEATURES, positives=dict(same=["moa"]),
                                       negatives="others", multilabel="moa", n_null=50)
    labels = [set(str(m).split("|")) for m in treatments["moa"]]
    queries = result.extras["queries"]
    names = result.table["moa"].to_numpy()
    corr = np.corrcoef(treatments[FEATURES].to_numpy())
    for row in queries.itertuples():
        label = names[row.group]
        q = row.row
        pos = [c for c in range(len(treatments)) if c != q and label in labels[c]]
        neg = [c for c in range(len(treatments)) if not labels[c] & labels[q]]
        ap = average_precision_score([1] * len(pos) + [0] * len(neg), corr[q, pos + neg])
        assert row.ap == pytest.approx(ap, abs=1e-12)
        assert (row.n_positives, row.n_negatives) == (len(pos), len(neg))
    assert set(names) == {"a", "b", "c"}  # a|b counts for a and for b


def test_classic_designs_equal_the_general_path():
    frame = design(4, n_perts=10, reps=3)
    for negatives in ("negcon", "others"):
        fast = rs.mean_average_precision(frame, "pert", FEATURES, controls={"type": "control"},
                                         negatives=negatives, n_null=50)
        general = rs.mean_average_precision(frame, "pert", FEATURES, controls={"type": "control"},
                                            negatives=negatives, n_null=50, k=3)  # k sends it the general way
        pd.testing.assert_frame_equal(fast.table, general.table.drop(columns=["precision_at_3", "recall_at_3"]))


def test_precision_and_recall_at_k_by_hand():
    frame = design(5)
    result = rs.mean_average_precision(frame, "pert", FEATURES, controls={"type": "control"}, k=[1, 3],
                                       n_null=50)
    control = frame["type"].eq("control").to_numpy()
    corr = np.corrcoef(frame[FEATURES].to_numpy())
    rows = []
    for q in np.flatnonzero(~control):
        pos = [c for c in range(len(frame)) if c != q and frame.pert[c] == frame.pert[q]]
        candidates = pos + list(np.flatnonzero(control))
        order = sorted(candidates, key=lambda c: -corr[q, c])
        rows.append((frame.pert[q], *[sum(c in pos for c in order[:k]) / k for k in (1, 3)],
                     *[sum(c in pos for c in order[:k]) / len(pos) for k in (1, 3)]))
    expected = pd.DataFrame(rows, columns=["pert", "p1", "p3", "r1", "r3"]).groupby("pert").mean()
    table = result.table.set_index("perturbation")
    np.testing.assert_allclose(table[["precision_at_1", "precision_at_3", "recall_at_1", "recall_at_3"]],
                               expected.loc[table.index].to_numpy(), atol=1e-12)


def test_exact_and_sampled_p_values_of_the_rank_null():
    frame = design(6, n_controls=4)
    exact = rs.mean_average_precision(frame, "pert", FEATURES, controls={"type": "control"}, n_null=1000)
    n_candidates = 3 + 4
    assert math.comb(n_candidates, 3) <= 1000 and exact.table["p_exact"].all()
    every = np.array([np.mean([(i + 1) / (r + 1) for i, r in enumerate(c)])
                      for c in itertools.combinations(range(n_candidates), 3)])
    for row in exact.table.itertuples():
        assert row.p_value == pytest.approx(np.mean(every >= row.map - 1e-12), abs=1e-12)
    sampled = rs.mean_average_precision(frame, "pert", FEATURES, controls={"type": "control"}, n_null=20000,
                                        p_value="sampled", seed=3)
    assert not sampled.table["p_exact"].any()
    np.testing.assert_allclose(sampled.table["p_value"], exact.table["p_value"], atol=0.01)
