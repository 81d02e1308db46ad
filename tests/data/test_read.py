"""Reading profile files: the shared real files, the bucket layout, named errors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs
from rosetta_stats.data.registry import get_dataset


def test_taorf_l1000_file(taorf_l1k_path):
    ds = get_dataset("taorf")
    ge = rs.read_profiles(taorf_l1k_path, "ge", ds.ge_match, ds.ge_plate, ds.controls("ge"))
    assert len(ge.features) == 978
    assert ge.data["pert_id"].nunique() == 328
    assert ge.data["det_plate"].nunique() == 3
    raw = pd.read_csv(taorf_l1k_path)
    assert ge.controls.sum() == raw["pert_type"].isin(["ctl_vector", "ctl_untrt"]).sum() == 158
    treated = rs.treatment_level(ge)
    assert len(treated.data) == 328
    assert treated.data["n_replicates"].median() == 3
    # the original study's file predates the 2022 relabelling: the old pert_type labels are the fallback
    assert "pert_type in {ctl_vehicle, ctl_vector, ctl_untrt} marked 158 of 1092 rows" in ge.notes[0]
    assert "control_type == negcon (no such column)" in ge.notes[0]


def test_lincs_cell_painting_plate(lincs_plate_path):
    cp = rs.read_profiles(lincs_plate_path, "cp", "Metadata_broad_sample", "Metadata_Plate",
                          get_dataset("lincs").controls("cp"))
    assert len(cp.features) <= 454 and len(cp.data) == 384
    assert cp.controls.sum() == 24  # the DMSO wells
    assert cp.control_rule == rs.ControlSpec("Metadata_pert_type", ("control",))
    assert np.isfinite(cp.values()).all()


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
    assert ge.controls.sum() == (sim.ge["pert_type"] == "control").sum() > 0


def _gz_profiles(tmp_path, rows=2500, text_at=None):
    """A small CP-like CSV.gz (and its plain twin) spanning several parser chunks."""
    import gzip

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((rows, 4)), columns=[f"Cells_AreaShape_F{i}" for i in range(4)])
    frame.insert(0, "Metadata_Plate", np.where(np.arange(rows) < rows // 2, "P1", "P2"))
    frame.insert(1, "Metadata_broad_sample", [f"BRD-{i % 50:04d}" for i in range(rows)])
    text = frame.to_csv(index=False)
    if text_at is not None:
        lines = text.splitlines()
        cells = lines[text_at].split(",")
        cells[-1] = "oops"
        lines[text_at] = ",".join(cells)
        text = "\n".join(lines) + "\n"
    plain, packed = tmp_path / "p.csv", tmp_path / "p.csv.gz"
    plain.write_text(text)
    packed.write_bytes(gzip.compress(text.encode()))
    return plain, packed


def test_gzip_files_read_through_the_pipe_as_plain_files_read(tmp_path):
    plain, packed = _gz_profiles(tmp_path)
    a = rs.read_profiles(plain, "cp", perturbation="Metadata_broad_sample", plate="Metadata_Plate", clean=False)
    b = rs.read_profiles(packed, "cp", perturbation="Metadata_broad_sample", plate="Metadata_Plate", clean=False)
    pd.testing.assert_frame_equal(a.data, b.data)


def test_a_cut_gzip_file_is_named_as_truncated_not_as_a_bad_csv(tmp_path):
    _, packed = _gz_profiles(tmp_path)
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(packed.read_bytes()[: packed.stat().st_size // 2])
    with pytest.raises(ValueError, match="cut.csv.gz is truncated or corrupted"):
        rs.read_profiles(cut, "cp", perturbation="Metadata_broad_sample", plate="Metadata_Plate")


def test_text_among_the_features_of_a_gzip_file_stops_the_pipe_cleanly(tmp_path):
    """The parser stops early and the file is read again whole; the filling thread must not hang."""
    _, packed = _gz_profiles(tmp_path, text_at=2200)
    with pytest.raises(ValueError, match="Cells_AreaShape_F3"):
        rs.read_profiles(packed, "cp", perturbation="Metadata_broad_sample", plate="Metadata_Plate",
                         dtype="float32")
