"""MoA prediction with fusion: on data where each modality sees half the MoAs, fusion beats both."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs
from rosetta_stats.stats.prediction.moa import harmonize_moa_labels


def complementary(seed=0, n_moas=6, compounds_per_moa=8, doses=2, n_features=12):
    """CP separates MoAs 0..2 (3..5 look alike), GE separates 3..5 (0..2 look alike)."""
    rng = np.random.default_rng(seed)
    centers_cp = rng.normal(size=(n_moas, n_features)) * 1.6
    centers_ge = rng.normal(size=(n_moas, n_features)) * 1.6
    centers_cp[n_moas // 2:] = centers_cp[n_moas // 2]
    centers_ge[: n_moas // 2] = centers_ge[0]
    rows = []
    for moa in range(n_moas):
        for c in range(compounds_per_moa):
            compound = f"BRD-K{moa:02d}{c:06d}"
            for d in range(doses):
                rows.append((moa, compound, f"{compound}_{d}"))
    moas, compounds, keys = map(np.array, zip(*rows))
    x = centers_cp[moas] + rng.normal(size=(len(keys), n_features))
    y = centers_ge[moas] + rng.normal(size=(len(keys), n_features))
    labels = np.array([f"MoA {i}" for i in range(n_moas)])[moas]
    cp = pd.DataFrame(x, columns=[f"Cells_f{i}" for i in range(n_features)]).assign(
        pert=keys, compound=compounds, Metadata_moa=labels)
    ge = pd.DataFrame(y, columns=[f"{200000 + i}_at" for i in range(n_features)]).assign(pert=keys)
    return cp, ge


@pytest.fixture(scope="module")
def result():
    cp, ge = complementary()
    return rs.moa_prediction(cp, ge, key="pert", moa="Metadata_moa", groups="compound", models=("logistic",),
                             n_splits=4, seed=0)


@pytest.mark.slow
def test_fusion_beats_each_modality_and_everything_beats_chance(result):
    means = result.mean_f1().set_index(["model", "modality"])["mean"]
    cp, ge = means[("logistic", "cp")], means[("logistic", "ge")]
    for fused in ("early_fusion", "late_fusion"):
        assert means[("logistic", fused)] > max(cp, ge) + 0.1
    assert min(cp, ge) > result.chance + 0.1
    assert set(result.table["modality"]) == {"cp", "ge", "early_fusion", "late_fusion", "chance"}
    assert result.table["fold"].nunique() == 4
    assert len(result.classes) == 6


def test_per_class_scores_show_which_modality_sees_which_moa(result):
    per = result.per_class.pivot_table(index="moa", columns="modality", values="f1")
    seen_by_cp = [f"moa {i}" for i in range(3)]
    seen_by_ge = [f"moa {i}" for i in range(3, 6)]
    assert per.loc[seen_by_cp, "cp"].mean() > per.loc[seen_by_cp, "ge"].mean()
    assert per.loc[seen_by_ge, "ge"].mean() > per.loc[seen_by_ge, "cp"].mean()
    row = result.comparisons.set_index(["modality_a", "modality_b"]).loc[("early_fusion", "cp")]
    assert row["mean_difference"] > 0 and row["p_value"] < 0.05


def test_label_harmonisation():
    labels = pd.Series(["HDAC inhibitor", "hdac inhibitor ", "a|b", "rare", None] + ["x"] * 5)
    compounds = pd.Series(["c1", "c2", "c3", "c4", "c5", "d1", "d2", "d3", "d4", "d5"])
    out, notes = harmonize_moa_labels(labels, compounds, min_compounds=2)
    assert out.iloc[0] == out.iloc[1] == "hdac inhibitor"  # case and blanks harmonised
    assert out.iloc[2:5].isna().all()  # multi-label, rare (one compound) and missing
    assert (out.iloc[5:] == "x").all()
    assert any("several MoAs" in n for n in notes) and any("fewer than 2 compounds" in n for n in notes)


def test_too_few_compounds_per_moa_is_named():
    cp, ge = complementary(compounds_per_moa=3)
    with pytest.raises(ValueError, match="no MoA has 5 or more compounds|needs at least n_splits"):
        rs.moa_prediction(cp, ge, key="pert", moa="Metadata_moa", models="logistic", n_splits=4)


@pytest.mark.slow
def test_moa_command_writes_a_results_folder_with_the_figure(tmp_path, capsys):
    from rosetta_stats.cli import main

    cp, ge = complementary(seed=2)
    cp.to_csv(tmp_path / "cp.csv", index=False)
    ge.to_csv(tmp_path / "ge.csv", index=False)
    assert main([str(a) for a in ["moa", "--cp", tmp_path / "cp.csv", "--ge", tmp_path / "ge.csv", "--key", "pert",
                 "--models", "logistic", "--splits", "4", "--permutations", "0", "--out", tmp_path / "moa",
                 "--quiet"]]) == 0
    tables, manifest = rs.read_results(tmp_path / "moa")
    assert set(tables) == {"moa_prediction", "moa_per_class_f1", "moa_comparisons"}
    assert (tmp_path / "moa" / "moa_f1.png").stat().st_size > 1000
    assert "early_fusion" in set(tables["moa_prediction"]["modality"])


def test_no_compound_is_split_across_folds():
    cp, _ = complementary(seed=2, doses=3)
    profiles = rs.Profiles.from_frame(cp, "cp", perturbation="pert")
    result = rs.moa_prediction(profiles, moa="Metadata_moa", groups="compound", modalities=("cp",),
                               models=("logistic",), n_splits=4, n_permutations=10)
    compounds = result.extras["groups"]
    assert len(set(compounds)) == 48
    for train, test in result.extras["folds"]:
        assert not set(compounds[train]) & set(compounds[test])  # every dose of a compound in one fold
    assert result.estimates["mean_macro_f1_logistic_cp"] > result.chance
