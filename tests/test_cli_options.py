"""Every command-line option reaches every statistic it applies to: one run per option, read back from the
manifest (the settings each table was made with)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs
from rosetta_stats.cli import main
from tests.conftest import REPO


@pytest.fixture(scope="module")
def wells(tmp_path_factory):
    rng = np.random.default_rng(3)
    perts = np.r_[np.repeat([f"p{i}" for i in range(12)], 3), ["DMSO"] * 8]
    frame = pd.DataFrame(rng.normal(size=(len(perts), 8)), columns=[f"Cells_f{i}" for i in range(8)])
    frame.insert(0, "pert", perts)
    frame.insert(1, "plate", np.tile(["A", "B"], len(perts) // 2))
    frame.insert(2, "kind", np.where(perts == "DMSO", "control", "trt"))
    path = tmp_path_factory.mktemp("wells") / "wells.csv"
    frame.to_csv(path, index=False)
    return path


REPLICATE_OPTIONS = [
    (["--n-null", "50"], {"replicate_reproducibility": {"n_null": 50}, "mean_average_precision": {"n_null": 50}}),
    (["--seed", "7"], {"replicate_reproducibility": {"seed": 7}, "mean_average_precision": {"seed": 7}}),
    (["--plate", "plate"], {"replicate_reproducibility": {"plate": "plate"},
                            "mean_average_precision": {"plate": "plate"}}),
    (["--percentile", "80"], {"replicate_reproducibility": {"null_percentile": 80.0}}),
    (["--null", "paper"], {"replicate_reproducibility": {"null": "paper", "n_null": 0}}),
    (["--include-controls"], {"replicate_reproducibility": {"include_controls": True}}),
    (["--preset", "paper"], {"replicate_reproducibility": {"preset": "paper", "null": "paper",
                                                           "include_controls": True}}),
]


@pytest.mark.parametrize("option, expected", REPLICATE_OPTIONS, ids=[o[0][0] for o in REPLICATE_OPTIONS])
def test_replicate_options_reach_each_statistic(wells, tmp_path, capsys, option, expected):
    out = tmp_path / "out"
    assert main(["--quiet", "replicates", str(wells), "--perturbation", "pert", "--control", "kind=control",
                 "--map", *option, "--out", str(out)]) == 0
    _, manifest = rs.read_results(out)
    for table, settings in expected.items():
        for key, value in settings.items():
            assert manifest["tables"][table]["settings"][key] == value, (table, key)


def test_features_and_no_clean_reach_the_statistics(wells, tmp_path, capsys):
    out = tmp_path / "f"
    assert main(["--quiet", "replicates", str(wells), "--perturbation", "pert", "--features", "Cells_f1,Cells_f2",
                 "--no-clean", "--out", str(out)]) == 0
    assert rs.read_results(out)[1]["tables"]["replicate_reproducibility"]
    summary = (out / "summary.json").read_text()
    assert '"n_features": 2' in summary


PREDICT_OPTIONS = [
    (["--model", "pcr"], {"model": "pcr"}),
    (["--splits", "4"], {"n_splits": 4}),
    (["--fold-score", "median"], {"fold_score": "median"}),
    (["--permutations", "7"], {"n_permutations": 7}),
    (["--seed", "5"], {"seed": 5}),
    (["--preset", "paper", "--permutations", "3"], {"preset": "paper", "model": "lasso_cv", "n_permutations": 3}),
]


@pytest.fixture(scope="module")
def pair_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pair")
    sim = rs.simulate_paired(n_perturbations=40, n_replicates=2, n_cp_features=8, n_genes=5, seed=4)
    sim.cp.to_csv(folder / "cp.csv", index=False)
    sim.ge.to_csv(folder / "ge.csv", index=False)
    return ["--cp", str(folder / "cp.csv"), "--ge", str(folder / "ge.csv"), "--cp-key", "Metadata_broad_sample",
            "--ge-key", "pert_id"]


@pytest.mark.parametrize("option, expected", PREDICT_OPTIONS, ids=[o[0][0] for o in PREDICT_OPTIONS])
def test_predict_genes_options_reach_the_statistic(pair_files, tmp_path, capsys, option, expected):
    out = tmp_path / "p"
    assert main(["--quiet", "predict-genes", *pair_files, "--permutations", "2", *option, "--out", str(out)]) == 0
    settings = rs.read_results(out)[1]["tables"]["single_gene_predictability"]["settings"]
    for key, value in expected.items():
        assert settings[key] == value, key


@pytest.mark.parametrize("arguments", [["--version"], ["--help"], ["replicates", "missing.csv"]])
def test_startup_imports_no_heavy_stack(arguments):
    """--version, --help and argument errors answer without numpy/pandas/scipy (start-up well under a second)."""
    code = ("import sys, runpy\n"
            f"sys.argv = ['rosetta-stats', *{arguments!r}]\n"
            "try:\n    runpy.run_module('rosetta_stats.cli', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "heavy = sorted(m for m in ('numpy', 'pandas', 'scipy', 'sklearn', 'rpy2') if m in sys.modules)\n"
            "print('HEAVY', heavy)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert "HEAVY []" in done.stdout, done.stdout + done.stderr
