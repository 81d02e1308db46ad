"""The command line calls the API and writes what it returns."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs
import rosetta_stats.data.registry
import rosetta_stats.results.folders
from rosetta_stats.cli import main

pytestmark = pytest.mark.usefixtures("r_session")


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "cells.sqlite"
    return rs.simulate_single_cells(path, plates=2, wells=16, cells_per_well=10, features=6, seed=3)


def test_aggregate_then_normalize_on_the_command_line(cells, tmp_path, capsys):
    wells_csv = tmp_path / "wells.csv"
    assert main(["aggregate", "--sqlite", str(cells.path), "--table", "single_cells",
                 "--strata", "Metadata_Plate,Metadata_Well,Metadata_pert_type",
                 "--out", str(wells_csv)]) == 0
    wells = pd.read_csv(wells_csv)
    api = rs.aggregate(rs.SQLiteTable(cells.path, "single_cells"), cells.features,
                       ["Metadata_Plate", "Metadata_Well", "Metadata_pert_type"])
    np.testing.assert_allclose(wells[cells.features].to_numpy(), api.table[cells.features].to_numpy(), atol=1e-9)
    normalized_csv = tmp_path / "normalized.csv"
    assert main(["normalize", "--input", str(wells_csv), "--strata", "Metadata_Plate",
                 "--control", "Metadata_pert_type=negcon", "--out", str(normalized_csv)]) == 0
    normalized = pd.read_csv(normalized_csv)
    controls = normalized[normalized["Metadata_pert_type"] == "negcon"]
    np.testing.assert_allclose(controls.groupby("Metadata_Plate")[cells.features].mean(), 0, atol=1e-9)
    assert "normalised 6 features" in capsys.readouterr().out


def test_misspelled_column_exits_2_and_writes_nothing(cells, tmp_path, capsys):
    out = tmp_path / "wells.csv"
    code = main(["aggregate", "--sqlite", str(cells.path), "--table", "single_cells",
                 "--strata", "Metadata_Plat", "--out", str(out)])
    assert code == 2
    assert "Metadata_Plat" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_report_demo_on_the_command_line(tmp_path, capsys):
    assert main(["--quiet", "report", "--demo", "--out", str(tmp_path / "demo")]) == 0
    assert f"report written to {tmp_path / 'demo'}/report.md" in capsys.readouterr().out
    tables, manifest = rs.read_results(tmp_path / "demo")
    assert manifest["tables"]["replicate_reproducibility_ge"]["rows"] == len(tables["replicate_reproducibility_ge"])
    assert main(["report", "--cp", "x.csv", "--out", str(tmp_path / "nope")]) == 2
    assert not (tmp_path / "nope").exists()


def test_cytominer_demo_text_matches_its_numbers():
    from rosetta_stats.report.demo import run_cytominer_demo

    text = run_cytominer_demo(seed=0, progress=False)
    assert "into 192 wells" in text and "7,750 simulated cells" in text


def test_replicates_command_on_the_taorf_file(taorf_l1k_path, tmp_path, capsys):
    import json

    out = tmp_path / "rep"
    assert main(["replicates", str(taorf_l1k_path), "--perturbation", "pert_id", "--modality", "ge",
                 "--n-null", "200", "--seed", "3", "--map", "--control", "pert_type=ctl_vector,ctl_untrt",
                 "--out", str(out)]) == 0
    table = pd.read_csv(out / "replicate_reproducibility.csv")
    assert list(table.columns) == ["perturbation", "n_replicates", "replicate_correlation",
                                   "p_value", "q_value", "above_threshold"]
    frame = pd.read_csv(taorf_l1k_path)
    is_control = frame["pert_type"].isin(["ctl_vector", "ctl_untrt"])
    assert len(table) == frame.loc[~is_control, "pert_id"].nunique() == 324  # controls are not scored
    summary = json.loads((out / "summary.json").read_text())
    api = rs.replicate_reproducibility(frame[~is_control], "pert_id", rs.infer_features(frame.columns, "ge"),
                                       n_null=200, seed=3)
    assert summary["threshold"] == pytest.approx(api.threshold)
    assert summary["percent_replicating"] == pytest.approx(api.percent_replicating)
    assert (out / "mean_average_precision.csv").exists()
    tables, manifest = rs.read_results(out)  # every command hands off an R-readable folder
    assert "left out 158 negative-control row(s)" in " ".join(
        manifest["tables"]["replicate_reproducibility"]["notes"])
    assert "percent replicating" in capsys.readouterr().out
    assert main(["replicates", str(taorf_l1k_path), "--perturbation", "pert", "--out", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()


def test_predict_genes_and_correlate_commands(tmp_path, capsys):
    import json

    sim = rs.simulate_paired(n_perturbations=120, n_replicates=2, n_cp_features=20, n_genes=15, seed=7)
    sim.cp.to_csv(tmp_path / "cp.csv.gz", index=False)
    sim.ge.to_csv(tmp_path / "ge.csv.gz", index=False)
    common = ["--cp", str(tmp_path / "cp.csv.gz"), "--ge", str(tmp_path / "ge.csv.gz"),
              "--cp-key", "Metadata_broad_sample", "--ge-key", "pert_id",
              "--cp-control", "pert_type=control", "--ge-control", "control_type=negcon",
              "--permutations", "20", "--seed", "1"]
    assert main(["--quiet", "predict-genes", *common, "--out", str(tmp_path / "pred")]) == 0
    table = pd.read_csv(tmp_path / "pred" / "single_gene_predictability.csv")
    assert list(table.columns[:7]) == ["gene", "r2", "r2_sd", "pearson_r", "r2_null_mean", "p_value", "q_value"]
    paired = rs.read_paired(tmp_path / "cp.csv.gz", tmp_path / "ge.csv.gz", "Metadata_broad_sample", "pert_id",
                            cp_controls=rs.ControlSpec("pert_type", ("control",)),
                            ge_controls=rs.ControlSpec("control_type", ("negcon",)))
    api = rs.gene_predictability(paired, n_permutations=20, seed=1).table
    np.testing.assert_allclose(table["r2"], api["r2"], atol=1e-9)
    assert json.loads((tmp_path / "pred" / "summary.json").read_text())["n_samples"] == 120
    assert main(["--quiet", "correlate", *common, "--out", str(tmp_path / "cor")]) == 0
    correlations = pd.read_csv(tmp_path / "cor" / "feature_gene_correlation.csv")
    assert (correlations.groupby("gene").size() == 10).all()
    concordance = json.loads((tmp_path / "cor" / "concordance.json").read_text())
    assert set(concordance) == {"mantel", "canonical"}
    assert "Similarity concordance" in capsys.readouterr().out
