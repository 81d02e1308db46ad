"""Loaders, cleaning and pairing on the shared real files and on simulated data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs
from rosetta_stats import cleaning
from rosetta_stats.registry import get_dataset


def test_taorf_l1000_file(taorf_l1k_path):
    ds = get_dataset("taorf")
    ge = rs.read_profiles(taorf_l1k_path, "ge", ds.ge_match, ds.ge_plate, ds.ge_controls)
    assert len(ge.features) == 978
    assert ge.data["pert_id"].nunique() == 328
    assert ge.data["det_plate"].nunique() == 3
    raw = pd.read_csv(taorf_l1k_path)
    assert ge.controls.sum() == raw["pert_type"].isin(["ctl_vector", "ctl_untrt"]).sum() == 158
    treated = rs.treatment_level(ge)
    assert len(treated.data) == 328
    assert treated.data["n_replicates"].median() == 3


def test_lincs_cell_painting_plate(lincs_plate_path):
    cp = rs.read_profiles(lincs_plate_path, "cp", "Metadata_broad_sample", "Metadata_Plate",
                          get_dataset("lincs").cp_controls)
    assert len(cp.features) <= 454 and len(cp.data) == 384
    assert cp.controls.sum() == 24  # the DMSO wells
    assert np.isfinite(cp.values()).all()


def test_cleaning_steps_do_what_they_say():
    ok = np.arange(40, dtype=float)
    ok[7], ok[20] = np.nan, np.inf  # 2 of 40 = 5% missing after inf -> NaN: kept
    sparse = np.arange(40, dtype=float)
    sparse[:3] = np.nan  # 7.5% missing: dropped
    frame = pd.DataFrame({"pert": np.repeat(list("abcdefghij"), 4), "plate": list("xy") * 20,
                          "Cells_ok": ok, "Cells_sparse": sparse, "Cells_flat": 2.0})
    p = rs.Profiles.from_frame(frame, "cp", "pert", "plate")
    cleaned = rs.clean_profiles(p)
    assert cleaned.features == ("Cells_ok",)
    np.testing.assert_allclose(cleaned.data["Cells_ok"], np.arange(40))  # linear interpolation
    assert any("Cells_sparse" in n for n in cleaned.notes) and any("Cells_flat" in n for n in cleaned.notes)
    assert np.isinf(frame["Cells_ok"]).sum() == 1  # the caller's frame is untouched
    per_plate = cleaning.standardize_per_plate(cleaned)
    grouped = per_plate.data.groupby("plate")["Cells_ok"]
    np.testing.assert_allclose(grouped.mean(), 0, atol=1e-12)
    np.testing.assert_allclose(grouped.std(), 1)
    with pytest.raises(ValueError, match="every feature was dropped"):
        cleaning.drop_flat_features(rs.Profiles.from_frame(frame[["pert", "Cells_flat"]], "cp", "pert"))


def test_file_without_features_is_named(tmp_path):
    path = tmp_path / "meta_only.csv"
    pd.DataFrame({"pert_id": ["a"], "det_plate": ["p"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="meta_only.csv: no feature columns found"):
        rs.read_profiles(path, "ge", "pert_id", "det_plate")


def test_missing_match_column_is_named(taorf_l1k_path):
    with pytest.raises(ValueError, match="pert_idd.*did you mean 'pert_id'"):
        rs.read_profiles(taorf_l1k_path, "ge", "pert_idd", "det_plate")


def test_load_profiles_says_how_to_download(tmp_path):
    with pytest.raises(ValueError, match="datasets download taorf --files cp-normalized"):
        rs.load_profiles("taorf", "cp", root=tmp_path)
    with pytest.raises(ValueError, match="choose one of: augmented"):
        rs.load_profiles("taorf", "cp", level="raw", root=tmp_path)


def test_load_profiles_reads_the_bucket_layout(tmp_path):
    sim = rs.simulate_paired(n_perturbations=20, n_genes=10, n_cp_features=8, style="lincs", seed=2)
    remote = get_dataset("lincs").file("l1k")
    (tmp_path / remote.relative_path).parent.mkdir(parents=True)
    sim.ge.to_csv(tmp_path / remote.relative_path, index=False)
    ge = rs.load_profiles("lincs", "ge", root=tmp_path)
    assert ge.perturbation == "pert_id_dose" and ge.plate == "det_plate"
    assert ge.controls.sum() == (sim.ge["pert_type"] == "ctl_vehicle").sum() > 0


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
    assert len(paired.cp) == len(paired.ge) == 29  # 28 treatments + DMSO
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


def test_simulator_planted_reproducibility_is_visible():
    sim = rs.simulate_paired(n_perturbations=80, n_replicates=3, seed=11)
    cp = rs.Profiles.from_frame(sim.cp, "cp", "Metadata_broad_sample", "Metadata_Plate")
    values = cp.values()
    keys = cp.data["Metadata_broad_sample"].to_numpy()
    mean_corr = {}
    for pert in sim.truth.perturbations:  # plain loop: an independent check
        rows = values[keys == pert]
        c = np.corrcoef(rows)
        mean_corr[pert] = c[np.triu_indices(len(rows), 1)].mean()
    planted = [mean_corr[p] for p in sim.truth.perturbations if p in sim.truth.reproducible_cp]
    other = [mean_corr[p] for p in sim.truth.perturbations if p not in sim.truth.reproducible_cp]
    assert np.mean(planted) > 0.3 > 0.1 > abs(np.mean(other))
    assert min(planted) > np.median(other)


def test_simulator_is_deterministic_and_checks_arguments():
    a = rs.simulate_paired(n_perturbations=10, seed=3)
    b = rs.simulate_paired(n_perturbations=10, seed=3)
    pd.testing.assert_frame_equal(a.cp, b.cp)
    assert not a.ge.equals(rs.simulate_paired(n_perturbations=10, seed=4).ge)
    with pytest.raises(ValueError, match="linear_genes"):
        rs.simulate_paired(linear_genes=0.8, nonlinear_genes=0.5)
    with pytest.raises(ValueError, match="unknown dataset"):
        rs.simulate_paired(style="jump")
