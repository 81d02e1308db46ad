"""mAP against sklearn's average_precision_score per query, and on planted truth."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

import rosetta_stats as rs
from rosetta_stats.stats.average_precision import mean_average_precision


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


def test_nan_features_are_refused_with_counts(wells):
    features = [c for c in wells.columns if c.startswith("Cells_")]
    broken = wells.copy()
    broken.loc[[0, 3], features[2]] = np.nan
    with pytest.raises(ValueError, match="2 row\\(s\\) and 1 column\\(s\\) hold NaN"):
        mean_average_precision(broken, "pert", features, controls={"type": "control"})


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
    # each of the 2 queries ranks 1 positive among 4 candidates: a perfect mAP has p = (1/4)^2
    assert any("10 perturbation(s) with 2 replicates among 3 negatives cannot reach p < 0.05" in n
               for n in result.notes)
    p0 = result.table.set_index("perturbation").loc["p0"]
    assert p0["mean_average_precision"] == 1.0
    assert p0["p_value"] == pytest.approx(1 / 16, abs=0.015)
