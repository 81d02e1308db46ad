"""The vignettes run end to end, and what they print agrees with independent computations."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs

from tests.conftest import REPO, SHARED, shared_file

pytestmark = [pytest.mark.usefixtures("r_session"), pytest.mark.slow]


def run_vignette(name, *args):
    run = subprocess.run([sys.executable, str(REPO / "vignettes" / name), *map(str, args)],
                         capture_output=True, text=True, cwd=REPO, env={**os.environ, "TQDM_DISABLE": "1"})
    assert run.returncode == 0, run.stderr
    return run.stdout


@pytest.fixture(scope="module")
def quickstart_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("quickstart") / "results"
    return out, run_vignette("quickstart.py", out)


def test_quickstart_writes_a_results_folder(quickstart_results):
    out, printed = quickstart_results
    tables, manifest = rs.read_results(out)
    # a result's further tables (the selection's dropped features) are written beside it
    assert set(tables) == {"wells", "dropped_features", "replicates_cp", "replicates_ge", "map_cp", "genes"}
    assert len(tables["genes"]) == 60 and len(tables["wells"]) == 96
    assert f"-> {len(tables['wells'])} wells" in printed
    assert manifest["tables"]["genes"]["parameters"]["n_permutations"] == 200


def test_r_handoff_vignette_knits(quickstart_results, tmp_path):
    out, _ = quickstart_results
    script = (f'rmarkdown::render("{REPO / "vignettes" / "r_handoff.Rmd"}", output_dir="{tmp_path}", '
              f'intermediates_dir="{tmp_path}", params=list(results_dir="{out}"), quiet=TRUE)')
    run = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True,
                         env={**os.environ, "TZ": "UTC"})
    assert run.returncode == 0, run.stderr
    html = (tmp_path / "r_handoff.html").read_text()
    assert "data:image/png;base64" in html  # the figure was drawn
    assert "ridge" in html  # the manifest's parameters were read
    assert not (REPO / "vignettes" / "r_handoff.html").exists()


def _row(printed: str, label: str) -> list[float]:
    line = next(line for line in printed.splitlines() if line.strip().startswith(label))
    return [float(v) for v in line[len(label) + line.index(label):].split()]


def test_taorf_reproduction_agrees_with_a_plain_loop():
    """Our numbers in the vignette against the paper's definition written as a plain pandas loop."""
    path = shared_file("data/taorf_l1k_replicate_level.csv.gz")
    reference = pd.read_csv(shared_file("reference/paper_replicate_correlation.csv.gz"))
    paper = reference.query("dataset == 'taorf' and modality == 'L1000'")
    printed = run_vignette("taorf_replicates.py", SHARED)
    frame = pd.read_csv(path)
    genes = [c for c in frame.columns if c.endswith("_at")]
    values = frame[genes].interpolate()  # forward only, as the paper
    correlations = {}
    for pert, group in values.groupby(frame["pert_id"]):
        rows = group.drop_duplicates().to_numpy()
        if len(group) >= 2 and len(rows) >= 2:
            c = np.corrcoef(rows)
            correlations[pert] = c[np.triu_indices(len(rows), 1)].mean()
    paper_value, ours, _ = _row(printed, "median replicate correlation")
    assert ours == pytest.approx(np.median(list(correlations.values())), abs=5e-4)
    assert paper_value == pytest.approx(paper["RepCor"].median(), abs=5e-4)
    _, n_ours, _ = _row(printed, "perturbations with >= 2 replicates")
    assert n_ours == (frame["pert_id"].value_counts() >= 2).sum()
    mean = float(re.search(r"threshold over 20 seeds: mean ([0-9.]+)", printed).group(1))
    assert abs(mean - paper["Rand90Perc"].iloc[0]) < 0.02  # the paper's threshold, reproduced


def test_predictability_comparison_agrees_with_a_sklearn_loop():
    """The simulated Lasso column of the vignette, recomputed gene by gene with sklearn."""
    from sklearn.linear_model import Lasso
    from sklearn.model_selection import GroupKFold, cross_val_score

    from rosetta_stats.stats.kernels.regression import standardize_columns
    from rosetta_stats.stats.core.paired import paired_matrices

    shared_file("reference/paper_single_gene_predictability.csv")
    printed = run_vignette("predictability_vs_paper.py", SHARED)
    sim = rs.simulate_paired(n_perturbations=320, n_replicates=3, n_cp_features=63, n_genes=978,
                             latent_dim=10, linear_genes=0.2, nonlinear_genes=0.05, effect_size=1.2, seed=0)
    cp, ge = sim.to_profiles()
    m = paired_matrices(rs.pair(rs.treatment_level(cp), rs.treatment_level(ge)))
    x, y = standardize_columns(m.cp), standardize_columns(m.ge)
    folds = list(GroupKFold(5).split(x, groups=m.groups))
    r2 = np.array([cross_val_score(Lasso(alpha=0.1, max_iter=10_000), x, y[:, j], cv=folds).mean()
                   for j in range(0, y.shape[1], 3)])
    lines = {float(line.split()[0]): [float(v) for v in line.split()[1:]]
             for line in printed.splitlines() if re.match(r"\s*0\.\d+\s", line)}
    # the subsample of every third gene bounds the quantiles loosely; the median must agree closely
    assert lines[0.5][1] == pytest.approx(100 * np.median(r2), abs=0.5)


def test_paper_reproduction_matches_the_published_tables():
    shared_file("reference/paper_replicate_correlation.csv.gz")
    shared_file("data/taorf_l1k_replicate_level.csv.gz")
    printed = run_vignette("paper_reproduction.py", SHARED)
    high_rep = re.findall(r"^\s*(luad|taorf|lincs|cdrp-bio)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", printed, re.M)
    assert len(high_rep) == 4
    for _, paper_both, ours_both, paper_either, ours_either, _parsed in high_rep:
        assert (paper_both, paper_either) == (ours_both, ours_either)
    assert dict((d, int(p)) for d, *_, p in high_rep)["lincs"] == 1606
    fig2b = re.findall(r"^\s*(CDRP-bio|LINCS|LUAD|TAORF)\s+(Lasso|MLP)\s+(\d+)\s+(\d+)$", printed, re.M)
    assert len(fig2b) == 8 and all(paper == ours for *_, paper, ours in fig2b)
    assert "time point: 96 h in both" in printed
    steps = [float(v) for v in re.findall(r"(\d+\.\d)%  threshold", printed)]
    assert len(steps) == 3 and steps[2] > steps[0] + 5  # per-plate scaling closes most of the gap to 25.7
    early = float(re.search(r"early_fusion\s+macro F1 ([0-9.]+)", printed).group(1))
    chance = float(re.search(r"chance \(class-frequency dummy\): macro F1 ([0-9.]+)", printed).group(1))
    assert early > chance + 0.3


def test_plate_profiles_vignette_writes_the_three_levels(tmp_path):
    out = tmp_path / "plate"
    printed = run_vignette("plate_profiles.py", out)
    tables, _ = rs.read_results(out)
    assert len(tables["replicate_level_cp_augmented"]) == 4
    assert "854 features in Cells, Cytoplasm, Nuclei" in printed
    dropped = tables["dropped_features"]
    augmented_features = [c for c in tables["replicate_level_cp_augmented"].columns if c.startswith(("Cells_", "Cytoplasm_", "Nuclei_"))]
    bookkeeping = dropped[~dropped["feature"].isin(augmented_features)]
    assert len(bookkeeping) == 854 - len(augmented_features) > 0  # set aside before aggregation, with the reason
    assert bookkeeping["feature"].str.contains("Location_|Number_Object|Parent_|Center_|Children_|ObjectNumber").all()
    kept = [c for c in tables["replicate_level_cp_normalized_variable_selected"].columns if c in augmented_features]
    assert len(kept) + len(dropped) == 854  # every column kept or dropped with a reason


def test_fair_comparison_vignette_prints_the_three_definitions_beside_the_published_ones(tmp_path):
    printed = run_vignette("fair_comparison.py", tmp_path / "none")
    assert "percent replicating (ours, on these files)" in printed
    assert "Way et al. 2022 Cell Systems" in printed and "Haghighi et al. 2022" in printed
    assert "normalized_map" in printed and "calls:" in printed


def test_the_paper_from_r_vignette_renders_from_r_alone(tmp_path):
    """The R Markdown vignette calls the statistics through rosettabridge only (files simulated inside)."""
    script = (f'rmarkdown::render("{REPO / "vignettes" / "paper_from_r.Rmd"}", output_dir="{tmp_path}", '
              f'intermediates_dir="{tmp_path}", knit_root_dir="{tmp_path}", quiet=TRUE)')
    run = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "TZ": "UTC", "ROSETTA_STATS_PYTHON": sys.executable})
    assert run.returncode == 0, run.stderr[-3000:]
    html = (tmp_path / "paper_from_r.html").read_text()
    assert "percent_replicating" in html and "highly predictable by the paper&#39;s rule" in html
    assert "macro_f1" in html
    assert not (REPO / "vignettes" / "paper_from_r.html").exists()
