"""mAP against sklearn's average_precision_score per query, and on planted truth."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

import rosetta_stats as rs
from rosetta_stats.stats.retrieval.map import mean_average_precision


@pytest.fixture()
def wells():
    rng = np.random.default_rng(3)
    perts = np.r_[np.repeat([f"p{i}" for i in range(25)], rng.integers(2, 5, 25)), ["solo"], ["DMSO"] * 12]
    signal = {p: rng.normal(size=15) * rng.uniform(0, 1.5) for p in set(perts)}
    values = np.array([signal[p] + rng.normal(size=15) for p in perts])
    values[perts == "DMSO"] = rng.normal(size=(12, 15))
    frame = pd.DataFrame(values, columns=[f"Cells_f{i}" for i in range(15)])
    frame.insert(0, "type", np.where(perts == "DMSO", "control", "trt"))
    frame.insert(0, "pert", perts)
    return frame.sample(frac=1, random_state=2).reset_index(drop=True)


def brute_force_map(frame, features, negatives):
    x = frame[features].to_numpy()
    corr = np.corrcoef(x)
    perts = frame["pert"].to_numpy()
    control = (frame["type"] == "control").to_numpy()
    out = {}
    for pert in np.unique(perts[~control]):
        rows = np.flatnonzero(perts == pert)
        if len(rows) < 2:
            continue
        aps = []
        for q in rows:
            pos = [r for r in rows if r != q]
            neg = np.flatnonzero(control) if negatives == "negcon" else np.flatnonzero(~control & (perts != pert))
            cand = np.r_[pos, neg]
            labels = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
            aps.append(average_precision_score(labels, corr[q, cand]))
        out[pert] = np.mean(aps)
    return pd.Series(out)


@pytest.mark.parametrize("negatives", ["negcon", "others"])
def test_equals_sklearn_per_query(wells, negatives):
    features = [c for c in wells.columns if c.startswith("Cells_")]
    result = mean_average_precision(wells, "pert", features, negatives=negatives,
                                    controls={"type": "control"}, n_null=200)
    ours = result.table.set_index("perturbation")["mean_average_precision"]
    expected = brute_force_map(wells, features, negatives)
    np.testing.assert_allclose(ours.loc[expected.index].to_numpy(), expected.to_numpy(), atol=1e-10)
    assert np.isnan(ours["solo"]) and "DMSO" not in ours.index
    expected_negatives = 12 if negatives == "negcon" else None
    if expected_negatives:
        assert (result.table.dropna()["n_negatives"] == 12).all()


def test_planted_replicates_are_retrieved_and_null_is_calibrated():
    sim = rs.simulate_paired(n_perturbations=150, n_replicates=4, reproducible_cp=0.5, seed=21,
                             negcon_per_plate=16)
    cp = rs.Profiles.from_frame(sim.cp.assign(control_type=np.where(
        sim.cp["pert_type"] == "control", "negcon", "trt")), "cp", "Metadata_broad_sample")
    table = mean_average_precision(cp, n_null=1000, seed=2).table.set_index("perturbation")
    planted = sorted(sim.truth.reproducible_cp)
    null = sorted(set(sim.truth.perturbations) - sim.truth.reproducible_cp)
    assert (table.loc[planted, "q_value"] < 0.1).mean() >= 0.9
    assert (table.loc[null, "p_value"] < 0.05).mean() < 0.12
    assert table.loc[planted, "mean_average_precision"].mean() > table.loc[null, "mean_average_precision"].mean()


def test_rows_without_a_similarity_are_left_out_and_counted(wells):
    features = [c for c in wells.columns if c.startswith("Cells_")]
    broken = wells.copy()
    broken.loc[[0, 3], features[2]] = np.nan
    broken.loc[5, features] = 1.0  # a constant row: no correlation with anything
    result = mean_average_precision(broken, "pert", features, controls={"type": "control"}, n_null=100)
    assert "left out 3 row(s) without a similarity (2 with NaN or infinite values, 1 constant)" in result.notes
    kept = broken.drop(index=[0, 3, 5])
    again = mean_average_precision(kept, "pert", features, controls={"type": "control"}, n_null=100)
    pd.testing.assert_series_equal(result.table["mean_average_precision"], again.table["mean_average_precision"])
    assert (result.table["mean_average_precision"].dropna().between(0, 1)).all()


def test_negcon_needs_controls(wells):
    features = [c for c in wells.columns if c.startswith("Cells_")]
    with pytest.raises(ValueError, match="negative-control rows"):
        mean_average_precision(wells, "pert", features)
    same = mean_average_precision(wells, "pert", features, negatives="others", seed=5, n_null=50)
    again = mean_average_precision(wells, "pert", features, negatives="others", seed=5, n_null=50)
    pd.testing.assert_frame_equal(same.table, again.table)


def test_few_replicates_and_controls_are_said_to_limit_p_values():
    rng = np.random.default_rng(1)
    perts = np.r_[np.repeat([f"p{i}" for i in range(10)], 2), ["DMSO"] * 3]
    frame = pd.DataFrame(rng.normal(size=(len(perts), 8)), columns=[f"Cells_{i}" for i in range(8)])
    frame["pert"] = perts
    frame.loc[frame["pert"] == "p0", frame.columns[:8]] = 5.0 * rng.normal(size=8)  # identical replicates
    result = mean_average_precision(frame, "pert", list(frame.columns[:8]), controls={"pert": "DMSO"},
                                    n_null=2000, seed=0)
    assert any("10 perturbation(s) with 2 replicates cannot reach p < 0.05" in n for n in result.notes)
    p0 = result.table.set_index("perturbation").loc["p0"]
    assert p0["mean_average_precision"] == 1.0
    # the rank null: one positive among 4 candidates, 4 rankings, a perfect one has p = 1/4 exactly
    assert p0["p_value"] == 0.25 and p0["p_exact"]
    result = mean_average_precision(frame, "pert", list(frame.columns[:8]), controls={"pert": "DMSO"},
                                    n_null=2000, seed=0, null="random_sets")
    p0 = result.table.set_index("perturbation").loc["p0"]
    # independent twin of the null: every pair of wells from two different perturbations, scored by sklearn
    wells = frame[frame["pert"] != "DMSO"].reset_index(drop=True)
    values = wells[frame.columns[:8]].to_numpy()
    controls = frame.loc[frame["pert"] == "DMSO", frame.columns[:8]].to_numpy()
    corr = np.corrcoef(np.vstack([values, controls]))
    perfect = []
    for i, j in itertools.combinations(range(len(wells)), 2):
        if wells["pert"][i] == wells["pert"][j]:
            continue
        aps = [average_precision_score([1, 0, 0, 0], corr[q, [o, *range(len(values), len(values) + 3)]])
               for q, o in ((i, j), (j, i))]
        perfect.append(np.mean(aps) >= 1 - 1e-12)
    expected = (1 + 2000 * np.mean(perfect)) / 2001
    assert p0["p_value"] == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / 2000))
    # the old per_query null (two independent rankings, (1/4)^2) is gone: its name gives the rank null
    with pytest.warns(DeprecationWarning, match="per_query"):
        per_query = mean_average_precision(frame, "pert", list(frame.columns[:8]), controls={"pert": "DMSO"},
                                           n_null=2000, seed=0, null="per_query")
    assert per_query.table.set_index("perturbation").loc["p0", "p_value"] == 0.25


def test_ties_are_ranked_as_sklearn_ranks_them():
    """A positive tied with negatives gets no benefit of the doubt (identical wells make exact ties)."""
    rng = np.random.default_rng(7)
    controls = rng.normal(size=(6, 10))
    controls = np.vstack([controls, controls[:3]])  # repeated control wells: tied negatives
    a = rng.normal(size=10)
    rows = np.vstack([a, controls[0], a + 0.01 * rng.normal(size=10), controls[1]])  # positives equal to negatives
    perts = ["x", "x", "y", "y"]
    frame = pd.DataFrame(np.vstack([rows, controls]), columns=[f"Cells_{i}" for i in range(10)])
    frame["pert"] = perts + ["DMSO"] * len(controls)
    features = [c for c in frame.columns if c.startswith("Cells_")]
    result = mean_average_precision(frame, "pert", features, controls={"pert": "DMSO"}, n_null=50)
    corr = np.corrcoef(frame[features].to_numpy())
    negatives = list(range(4, len(frame)))
    expected = {}
    for pert, (q1, q2) in (("x", (0, 1)), ("y", (2, 3))):
        aps = [average_precision_score([1] + [0] * len(negatives), corr[q, [o, *negatives]]) for q, o in ((q1, q2), (q2, q1))]
        expected[pert] = np.mean(aps)
    ours = result.table.set_index("perturbation")["mean_average_precision"]
    assert ours["x"] == pytest.approx(expected["x"], abs=1e-12)
    assert ours["y"] == pytest.approx(expected["y"], abs=1e-12)
    assert expected["x"] < 1.0  # the tie really costs something


def test_a_null_set_is_scored_as_a_real_group_against_other_perturbations():
    """Brute force with sklearn: each member retrieves the others; every member's perturbation is left out."""
    from rosetta_stats.stats.retrieval.map import _null_block
    from rosetta_stats.stats.kernels.similarity import unit_rows

    rng = np.random.default_rng(12)
    counts = np.array([3, 2, 4, 3, 2])
    codes = np.repeat(np.arange(5), counts)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    units = unit_rows(rng.normal(size=(len(codes), 9)))
    draws = np.array([[0, 4, 9], [3, 8, 13], [5, 6, 12]])  # rows from three different perturbations
    ours = _null_block(draws, units, units, codes, starts, counts, others=True)
    similarity = units @ units.T
    for drawn, value in zip(draws, ours):
        left_out = np.isin(codes, codes[drawn])
        aps = []
        for query in drawn:
            positives = [r for r in drawn if r != query]
            candidates = positives + list(np.flatnonzero(~left_out))
            labels = [1] * len(positives) + [0] * (len(candidates) - len(positives))
            aps.append(average_precision_score(labels, similarity[query, candidates]))
        assert value == pytest.approx(np.mean(aps), abs=1e-12)
