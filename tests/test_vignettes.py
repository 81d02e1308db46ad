"""The vignettes run end to end, and what they print agrees with independent computations."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pandas as pd
import pytest

import rosetta_stats as rs

from tests.conftest import REPO, SHARED, shared_file

pytestmark = pytest.mark.usefixtures("r_session")


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
    assert set(tables) == {"wells", "replicates_cp", "replicates_ge", "map_cp", "genes"}
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


def test_taorf_reproduction_prints_the_paper_and_our_threshold():
    shared_file("data/taorf_l1k_replicate_level.csv.gz")
    reference = pd.read_csv(shared_file("reference/paper_replicate_correlation.csv.gz"))
    paper = reference.query("dataset == 'taorf' and modality == 'L1000'")
    printed = run_vignette("taorf_replicates.py", SHARED)
    paper_percent = 100 * (paper["RepCor"] > paper["Rand90Perc"]).sum() / paper["RepCor"].notna().sum()
    assert re.search(rf"percent replicating\s+{paper_percent:.3f}", printed)
    mean = float(re.search(r"threshold over 20 seeds: mean ([0-9.]+)", printed).group(1))
    assert abs(mean - paper["Rand90Perc"].iloc[0]) < 0.02


def test_predictability_comparison_prints_the_paper_quantiles():
    reference = pd.read_csv(shared_file("reference/paper_single_gene_predictability.csv"), index_col=0)
    printed = run_vignette("predictability_vs_paper.py", SHARED)
    median = reference["TAORF-Lasso"].quantile(0.5)
    assert re.search(rf"0\.50\s+{median:.2f}\s", printed)
    assert f"paper {int((reference['TAORF-Lasso'] > 10).sum())}," in printed
