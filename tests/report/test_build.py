"""The end-to-end demo report folder."""
from __future__ import annotations


import matplotlib.image as mpimg
import pytest

import rosetta_stats.report.build
from rosetta_stats.results import folders as handoff
from rosetta_stats.report.build import FIGURES, TABLES

pytestmark = pytest.mark.usefixtures("r_session")


@pytest.mark.slow
def test_demo_report_folder(tmp_path):
    report = rosetta_stats.report.build.demo_report(tmp_path / "report", progress=False)
    folder = report.out_dir
    tables, manifest = handoff.read_results(folder)
    assert set(tables) == set(TABLES)
    for name in TABLES:
        assert (folder / f"{name}.csv").exists() and (folder / f"{name}.rds").exists()
    for figure in FIGURES:
        image = mpimg.imread(folder / figure)
        assert image.shape[0] > 200 and image.shape[1] > 300
        assert image[..., :3].std() > 0.01  # not a single colour
        assert figure in report.text and figure in manifest["files"]
    text = (folder / "report.md").read_text()
    rep = tables["replicate_reproducibility_cp"]
    percent = 100 * rep.loc[rep["n_replicates"] >= 2, "above_threshold"].mean()
    assert f"{percent:.1f}%" in text
    genes = tables["single_gene_predictability"]
    assert f"{int((genes['q_value'] < 0.05).sum())} of {len(genes)} genes" in text
    assert manifest["tables"]["single_gene_predictability"]["parameters"]["n_permutations"] == 100
