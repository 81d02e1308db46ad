"""Pairing Cell Painting and L1000 on their perturbation keys."""
from __future__ import annotations

import numpy as np
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
