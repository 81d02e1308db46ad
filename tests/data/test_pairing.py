"""Pairing Cell Painting and L1000 on their perturbation keys."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs


def test_pair_counts_losses_and_warns_on_disagreement():
    sim = rs.simulate_paired(n_perturbations=30, n_genes=12, n_cp_features=9, seed=4)
    cp = rs.Profiles.from_frame(sim.cp, "cp", "Metadata_broad_sample", "Metadata_Plate")
    ge = rs.Profiles.from_frame(sim.ge, "ge", "pert_id", "det_plate")
    cp_t = rs.treatment_level(cp)
    ge_t = rs.treatment_level(ge)
    ge_t = ge_t.with_data(ge_t.data[~ge_t.data["pert_id"].isin(["BRD-00000", "BRD-00001"])])
    cp_t = cp_t.with_data(cp_t.data.assign(dose=1.0))
    ge_t = ge_t.with_data(ge_t.data.assign(dose=np.where(ge_t.data["pert_id"] == "BRD-00005", 2.0, 1.0)))
    with pytest.warns(UserWarning, match="1 paired perturbation"):
        paired = rs.pair(cp_t, ge_t, compare=[("dose", "dose")])
    assert paired.lost_cp == ("BRD-00000", "BRD-00001") and paired.lost_ge == ()
    assert len(paired.cp) == len(paired.ge) == 29  # 28 treatments + negcon
    assert (paired.cp.data["perturbation"] == paired.ge.data["perturbation"]).all()
    assert paired.disagreements["perturbation"].tolist() == ["BRD-00005"]
    # rows stay aligned with their own values: the treatment means come along
    row = paired.cp.data.set_index("perturbation").loc["BRD-00003", list(cp.features)]
    expected = sim.cp[sim.cp["Metadata_broad_sample"] == "BRD-00003"][list(cp.features)].mean()
    np.testing.assert_allclose(row.to_numpy(float), expected.to_numpy(float))


def test_pair_without_overlap_and_with_replicates():
    sim = rs.simulate_paired(n_perturbations=10, n_genes=5, n_cp_features=5, seed=5)
    cp = rs.treatment_level(rs.Profiles.from_frame(sim.cp, "cp", "Metadata_broad_sample", "Metadata_Plate"))
    ge_frame = sim.ge.assign(pert_id="X" + sim.ge["pert_id"])
    ge = rs.treatment_level(rs.Profiles.from_frame(ge_frame, "ge", "pert_id", "det_plate"))
    with pytest.raises(ValueError, match="no perturbation is in both modalities"):
        rs.pair(cp, ge)
    replicate_level = rs.Profiles.from_frame(sim.cp, "cp", "Metadata_broad_sample")
    with pytest.raises(ValueError, match="treatment-level"):
        rs.pair(replicate_level, ge)


def test_modz_consensus_equals_an_independent_computation():
    """MODZ as L1000 defines it: weights = mean Spearman with the other replicates (floor 0.01), normalised."""
    from scipy.stats import spearmanr

    rng = np.random.default_rng(4)
    base = rng.normal(size=30)
    reps = np.vstack([base + 0.3 * rng.normal(size=30), base + 0.3 * rng.normal(size=30),
                      base + 0.3 * rng.normal(size=30), -base + rng.normal(size=30)])  # one replicate disagrees
    frame = pd.DataFrame(np.vstack([reps, rng.normal(size=(2, 30)), rng.normal(size=(1, 30))]),
                         columns=[f"{200000 + i}_at" for i in range(30)])
    frame["pert"] = ["a"] * 4 + ["b"] * 2 + ["c"]
    out = rs.treatment_level(rs.Profiles.from_frame(frame, "ge", "pert"), method="modz").data.set_index("pert")
    rho = spearmanr(reps.T).correlation
    np.fill_diagonal(rho, np.nan)
    weights = np.maximum(np.nanmean(rho, axis=1), 0.01)
    weights /= weights.sum()
    assert weights[3] < 0.01  # the disagreeing replicate sits at the floor before normalising
    np.testing.assert_allclose(out.loc["a", frame.columns[:30]].to_numpy(float), weights @ reps, atol=1e-12)
    np.testing.assert_allclose(out.loc["b", frame.columns[:30]].to_numpy(float),
                               frame.iloc[4:6, :30].mean().to_numpy(), atol=1e-12)  # two replicates: equal weights
    np.testing.assert_allclose(out.loc["c", frame.columns[:30]].to_numpy(float), frame.iloc[6, :30].to_numpy(float))
    assert out.loc["a", "n_replicates"] == 4
    median = rs.treatment_level(rs.Profiles.from_frame(frame, "ge", "pert"), method="median").data.set_index("pert")
    np.testing.assert_allclose(median.loc["a", frame.columns[:30]].to_numpy(float), np.median(reps, axis=0))
