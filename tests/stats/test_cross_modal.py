"""Cross-modal retrieval: at chance on independent modalities, finds planted shared structure, never fits on
a held-out compound, and its ranks equal an independent computation with sklearn."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cross_decomposition import PLSSVD
from sklearn.decomposition import PCA

import rosetta_stats as rs
from rosetta_stats.cli import main


def paired_frames(seed=0, n_compounds=40, doses=3, shared=True, n_cp=30, n_ge=20):
    rng = np.random.default_rng(seed)
    n = n_compounds * doses
    compounds = np.repeat([f"BRD-K{c:08d}" for c in range(n_compounds)], doses)
    keys = [f"{c}_{d}" for c, d in zip(compounds, np.tile(np.arange(doses), n_compounds))]
    z = rng.normal(size=(n, 4))
    x = z @ rng.normal(size=(4, n_cp)) + rng.normal(size=(n, n_cp))
    y = (z if shared else rng.normal(size=(n, 4))) @ rng.normal(size=(4, n_ge)) + rng.normal(size=(n, n_ge))
    cp = pd.DataFrame(x, columns=[f"Cells_f{i}" for i in range(n_cp)]).assign(key=keys, compound=compounds)
    ge = pd.DataFrame(y, columns=[f"{200000 + i}_at" for i in range(n_ge)]).assign(key=keys)
    return cp, ge


def test_planted_shared_structure_is_found_in_every_space():
    cp, ge = paired_frames(shared=True)
    for space in ("cca", "pls", "ridge"):
        result = rs.cross_modal_retrieval(cp, ge, key="key", groups="compound", space=space, n_pcs=10,
                                          n_components=4, n_null=200)
        for direction, e in result.estimates["by_direction"].items():
            assert e["mrr"] > 3 * e["mrr_chance"] and e["mrr_p_value"] < 0.01, (space, direction)
            assert e["recall_at_1"] > 5 * e["recall_at_1_chance"]


def test_independent_modalities_stay_at_chance_with_uniform_p_values():
    recall, p, mrr_p = [], [], []
    for seed in range(40):
        cp, ge = paired_frames(seed=seed, n_compounds=30, doses=2, shared=False)
        result = rs.cross_modal_retrieval(cp, ge, key="key", groups="compound", n_pcs=8, n_components=3,
                                          n_null=100, seed=seed, direction="cp_to_ge")
        recall.append(result.table["recall_at_1"].mean())
        p.extend(result.table["p_value"])
        mrr_p.append(result.estimates["by_direction"]["cp_to_ge"]["mrr_p_value"])
    assert np.mean(recall) == pytest.approx(1 / 12, abs=0.02)  # 60 perturbations, 5 folds of 12
    p = np.asarray(p)
    # discrete uniform on {1/12, ..., 1}: P(p <= 0.25) = 3/12 exactly
    assert np.mean(p <= 0.25) == pytest.approx(0.25, abs=3 * np.sqrt(0.25 * 0.75 / 40 / 12 * 12))
    assert np.mean(np.asarray(mrr_p) <= 0.05) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 40)


def test_no_compound_is_seen_in_training_when_it_is_held_out():
    cp, ge = paired_frames(seed=3)
    result = rs.cross_modal_retrieval(cp, ge, key="key", groups="compound", n_pcs=10, n_components=4, n_null=10)
    groups = result.extras["groups"]
    for train, test in result.extras["folds"]:
        assert not set(groups[train]) & set(groups[test])
    table = result.table[result.table["direction"] == "cp_to_ge"]
    assert len(table) == 120 and table.groupby("fold")["n_candidates"].first().sum() == 120


def test_ranks_equal_an_independent_computation():
    """PLS through sklearn's PLSSVD on each fold's standardised sides, cosine in the shared space."""
    cp, ge = paired_frames(seed=5)
    result = rs.cross_modal_retrieval(cp, ge, key="key", groups="compound", space="pls", n_components=3,
                                      n_null=10, direction="cp_to_ge")
    paired = rs.pair(rs.Profiles.from_frame(cp, "cp", "key"), rs.Profiles.from_frame(ge, "ge", "key"))
    x = paired.cp.data[list(paired.cp.features)].to_numpy(float)
    y = paired.ge.data[list(paired.ge.features)].to_numpy(float)
    keys = paired.cp.data["key"].to_numpy()
    table = result.table.set_index("perturbation")
    for train, test in result.extras["folds"]:
        mean_x, sd_x, mean_y, sd_y = x[train].mean(0), x[train].std(0), y[train].mean(0), y[train].std(0)
        pls = PLSSVD(n_components=3, scale=False).fit((x[train] - mean_x) / sd_x, (y[train] - mean_y) / sd_y)
        a, b = pls.transform((x[test] - mean_x) / sd_x, (y[test] - mean_y) / sd_y)
        a, b = a / np.linalg.norm(a, axis=1, keepdims=True), b / np.linalg.norm(b, axis=1, keepdims=True)
        similarity = a @ b.T
        for i, key in enumerate(keys[test]):
            expected = int((similarity[i] >= similarity[i, i] - 1e-9).sum())
            assert table.loc[key, "rank"] == expected
            assert table.loc[key, "p_value"] == pytest.approx(expected / len(test))


def test_cca_space_uses_whitened_components_of_the_training_rows_only():
    cp, ge = paired_frames(seed=6)
    result = rs.cross_modal_retrieval(cp, ge, key="key", groups="compound", space="cca", n_pcs=6,
                                      n_components=2, n_null=10, direction="ge_to_cp")
    paired = rs.pair(rs.Profiles.from_frame(cp, "cp", "key"), rs.Profiles.from_frame(ge, "ge", "key"))
    x = paired.cp.data[list(paired.cp.features)].to_numpy(float)
    y = paired.ge.data[list(paired.ge.features)].to_numpy(float)
    keys = paired.cp.data["key"].to_numpy()
    train, test = result.extras["folds"][0]
    px = PCA(6, whiten=True).fit(x[train])
    py = PCA(6, whiten=True).fit(y[train])
    a_train, b_train = py.transform(y[train]), px.transform(x[train])  # the query side is GE here
    u, _, vt = np.linalg.svd(a_train.T @ b_train, full_matrices=False)
    a = py.transform(y[test]) @ u[:, :2]
    b = px.transform(x[test]) @ vt[:2].T
    a, b = a / np.linalg.norm(a, axis=1, keepdims=True), b / np.linalg.norm(b, axis=1, keepdims=True)
    similarity = a @ b.T
    table = result.table.set_index("perturbation")
    for i, key in enumerate(keys[test]):
        assert table.loc[key, "rank"] == int((similarity[i] >= similarity[i, i] - 1e-9).sum())


def test_cross_modal_and_retrieval_commands_write_results(tmp_path, capsys):
    cp, ge = paired_frames(seed=7)
    cp.to_csv(tmp_path / "cp.csv", index=False)
    ge.to_csv(tmp_path / "ge.csv", index=False)
    assert main(["--quiet", "cross-modal", "--cp", str(tmp_path / "cp.csv"), "--ge", str(tmp_path / "ge.csv"),
                 "--key", "key", "--groups", "compound", "--pcs", "8", "--components", "3", "--permutations",
                 "50", "--out", str(tmp_path / "cm")]) == 0
    tables, manifest = rs.read_results(tmp_path / "cm")
    api = rs.cross_modal_retrieval(rs.read_paired(tmp_path / "cp.csv", tmp_path / "ge.csv", "key", "key"),
                                   groups="compound", n_pcs=8, n_components=3, n_null=50)
    np.testing.assert_array_equal(tables["cross_modal_retrieval"]["rank"], api.table["rank"])
    assert "rank_histogram.png" in manifest["files"] and "rank_histogram.svg" in manifest["files"]
    wells = cp.assign(pert=cp["compound"]).drop(columns=["key"])
    wells.to_csv(tmp_path / "wells.csv", index=False)
    assert main(["--quiet", "retrieval", str(tmp_path / "wells.csv"), "--perturbation", "pert", "--kind",
                 "distinctiveness", "--k", "1,3", "--out", str(tmp_path / "map")]) == 0
    tables, manifest = rs.read_results(tmp_path / "map")
    assert {"map", "normalized_map", "p_exact", "precision_at_3", "recall_at_1"} <= set(
        tables["mean_average_precision"].columns)
    assert "map_vs_p.png" in manifest["files"]
