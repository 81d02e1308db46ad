"""One question, one answer: a concept gives the same answer wherever it is asked.

* a control dict marks the same rows in the reader, the statistics and cytominer's normalize;
* every command line gives the table its API call gives on the same file;
* a results folder written for a named dataset carries settings and inputs (sha256) for every table;
* an explicit argument beats the preset.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs
from rosetta_stats.cli import main


@pytest.fixture
def tricky(tmp_path):
    """Wells whose control labels need the matcher's rules: blanks around text, numbers written as text."""
    rng = np.random.default_rng(5)
    perts = np.r_[np.repeat([f"p{i}" for i in range(8)], 3), ["DMSO", " DMSO", "DMSO ", "DMSO"]]
    frame = pd.DataFrame(rng.normal(size=(len(perts), 6)), columns=[f"Cells_f{i}" for i in range(6)])
    frame.insert(0, "pert", perts)
    frame.insert(1, "dose", np.r_[np.full(24, 1.0), [-666, -666, -666, -666.0]])
    frame.insert(2, "plate", np.tile(["A", "B"], len(perts) // 2))
    path = tmp_path / "tricky.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("controls", [{"pert": "DMSO"}, {"dose": "-666"}, {"dose": -666}, "pert=DMSO",
                                      {"pert": "DMSO", "dose": -666}])
def test_a_control_dict_marks_the_same_rows_everywhere(tricky, controls, r_session):
    frame = pd.read_csv(tricky)
    expected = frame["pert"].str.strip().eq("DMSO").to_numpy()
    profiles = rs.read_profiles(tricky, "cp", "pert", controls=controls, clean=False)
    assert (profiles.controls == expected).all()
    reps = rs.replicate_reproducibility(frame, "pert", profiles.features, controls=controls, n_null=20)
    assert any(f"left out {expected.sum()} negative-control row(s)" in n for n in reps.notes)
    assert "DMSO" not in set(reps.table["perturbation"].str.strip())
    ap = rs.mean_average_precision(frame, "pert", profiles.features, controls=controls, n_null=20)
    assert (ap.table["n_negatives"] == expected.sum()).all()
    normalized = rs.normalize(frame, profiles.features, "plate", controls)
    location = normalized.normalization_parameters.set_index(["plate", "feature"])["location"]
    for plate in ("A", "B"):
        rows = expected & (frame["plate"] == plate).to_numpy()
        features = list(profiles.features)
        np.testing.assert_allclose(location.loc[plate].loc[features].to_numpy(),
                                   frame.loc[rows, features].mean().to_numpy(), atol=1e-12)


def test_a_rule_naming_a_missing_column_or_no_row_is_the_same_error_everywhere(tricky, r_session):
    frame = pd.read_csv(tricky)
    features = [c for c in frame if c.startswith("Cells_")]
    for call in (lambda c: rs.read_profiles(tricky, "cp", "pert", controls=c),
                 lambda c: rs.replicate_reproducibility(frame, "pert", features, controls=c),
                 lambda c: rs.mean_average_precision(frame, "pert", features, controls=c),
                 lambda c: rs.normalize(frame, features, "plate", c)):
        with pytest.raises(ValueError, match="did you mean 'pert'"):
            call({"prt": "DMSO"})
        with pytest.raises(ValueError, match="no negative-control rows"):
            call({"pert": "dmso-x"})


def _csv_table(path):
    return pd.read_csv(path)


def _same(a: pd.DataFrame, b: pd.DataFrame):
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    for column in a.columns:
        if pd.api.types.is_numeric_dtype(a[column]) and pd.api.types.is_numeric_dtype(b[column]):
            np.testing.assert_allclose(a[column].to_numpy(float), b[column].to_numpy(float), atol=1e-9,
                                       equal_nan=True, err_msg=column)
        else:
            assert a[column].astype(str).tolist() == b[column].astype(str).tolist(), column


def test_replicates_command_equals_the_api_on_the_same_file(tricky, tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["--quiet", "replicates", str(tricky), "--perturbation", "pert", "--control", "pert=DMSO",
                 "--plate", "plate", "--map", "--n-null", "100", "--seed", "4", "--out", str(out)]) == 0
    profiles = rs.read_profiles(tricky, "cp", "pert", controls="pert=DMSO")
    api = rs.replicate_reproducibility(profiles, plate="plate", n_null=100, seed=4)
    _same(_csv_table(out / "replicate_reproducibility.csv"), api.table)
    api_map = rs.mean_average_precision(profiles, plate="plate", n_null=100, seed=4)
    _same(_csv_table(out / "mean_average_precision.csv"), api_map.table)
    # --plate reaches mAP: without it the numbers differ
    without = rs.mean_average_precision(profiles, n_null=100, seed=4).table
    assert not np.allclose(without["mean_average_precision"], api_map.table["mean_average_precision"])


def test_paired_commands_equal_the_api(tmp_path, capsys):
    sim = rs.simulate_paired(n_perturbations=60, n_replicates=2, n_cp_features=10, n_genes=8, seed=3)
    sim.cp.to_csv(tmp_path / "cp.csv", index=False)
    sim.ge.to_csv(tmp_path / "ge.csv", index=False)
    common = ["--cp", str(tmp_path / "cp.csv"), "--ge", str(tmp_path / "ge.csv"), "--cp-key",
              "Metadata_broad_sample", "--ge-key", "pert_id", "--permutations", "10", "--seed", "2"]
    assert main(["--quiet", "predict-genes", *common, "--out", str(tmp_path / "pred")]) == 0
    assert main(["--quiet", "correlate", *common, "--out", str(tmp_path / "cor")]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        paired = rs.read_paired(tmp_path / "cp.csv", tmp_path / "ge.csv", "Metadata_broad_sample", "pert_id")
    _same(_csv_table(tmp_path / "pred" / "single_gene_predictability.csv"),
          rs.gene_predictability(paired, n_permutations=10, seed=2).table)
    _same(_csv_table(tmp_path / "cor" / "feature_gene_correlation.csv"),
          rs.feature_gene_correlation(paired, top_k=10).table)
    _same(_csv_table(tmp_path / "cor" / "canonical_correlation.csv"),
          rs.canonical_correlation(paired, n_permutations=10, seed=2).table)


def test_cytominer_commands_equal_the_api(tricky, tmp_path, capsys, r_session):
    out = tmp_path / "norm"
    assert main(["--quiet", "normalize", "--input", str(tricky), "--strata", "plate", "--control", "pert=DMSO",
                 "--out", str(out)]) == 0
    profiles = rs.read_profiles(tricky, "cp")
    api = rs.normalize(profiles, profiles.features, "plate", "pert=DMSO")
    _same(_csv_table(out / "normalized.csv"), api.table)
    assert main(["--quiet", "aggregate", "--input", str(tricky), "--strata", "pert", "--out",
                 str(tmp_path / "agg.csv")]) == 0
    _same(_csv_table(tmp_path / "agg.csv"), rs.aggregate(profiles, profiles.features, "pert").table)


def test_results_for_a_named_dataset_carry_settings_and_inputs(tmp_path, capsys):
    rs.write_rosetta_like(tmp_path / "data", datasets=["taorf"], seed=0)
    out = tmp_path / "rep"
    assert main(["--quiet", "replicates", "--dataset", "taorf", "--modality", "cp", "--root", str(tmp_path / "data"),
                 "--map", "--n-null", "50", "--out", str(out)]) == 0
    _, manifest = rs.read_results(out)
    assert manifest["inputs"] and all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    for name, entry in manifest["tables"].items():
        assert entry["settings"], name
        assert entry["inputs"] and all(len(i["sha256"]) == 64 and not i["path"].startswith("/")
                                       for i in entry["inputs"]), name


def test_an_explicit_argument_beats_the_preset():
    sim = rs.simulate_paired(n_perturbations=40, n_replicates=2, n_cp_features=6, n_genes=4, seed=1)
    cp, ge = sim.to_profiles()
    paired = rs.pair(rs.treatment_level(cp), rs.treatment_level(ge))
    kept = rs.gene_predictability(paired, preset="paper", model="ridge", n_permutations=100)
    assert kept.settings["n_permutations"] == 100 and kept.settings["model"] == "ridge"
    assert kept.table["p_value"].notna().all()
    reps = rs.replicate_reproducibility(cp, preset="paper", null="size_matched", n_null=30)
    assert reps.settings["null"] == "size_matched" and reps.table["p_value"].notna().any()
    assert reps.settings["include_controls"] is True  # what was not given comes from the preset


def test_exact_map_p_values_equal_a_brute_force_enumeration():
    """Few controls: every ranking of a query's positives is enumerated, by hand here."""
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(11)
    perts = np.r_[np.repeat(["a", "b", "c"], 3), ["DMSO"] * 5]
    frame = pd.DataFrame(rng.normal(size=(len(perts), 7)), columns=[f"Cells_{i}" for i in range(7)])
    frame["pert"] = perts
    frame.loc[frame["pert"] == "a", frame.columns[:7]] += 2.0 * rng.normal(size=7)
    result = rs.mean_average_precision(frame, "pert", list(frame.columns[:7]), controls={"pert": "DMSO"},
                                       n_null=1000)
    n_candidates = 2 + 5
    every = [average_precision_score([1 if i in pos else 0 for i in range(n_candidates)],
                                     -np.arange(n_candidates, dtype=float))
             for pos in itertools.combinations(range(n_candidates), 2)]
    for row in result.table.itertuples():
        assert row.p_exact
        assert row.p_value == pytest.approx(np.mean(np.asarray(every) >= row.mean_average_precision - 1e-12),
                                            abs=1e-12)
