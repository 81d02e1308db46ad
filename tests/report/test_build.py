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
    no_moa = {"moa_prediction", "moa_per_class_f1", "moa_comparisons", "moa_clustering", "moa_clustering_by_run"}
    assert set(tables) == set(TABLES) - no_moa  # the simulated profiles carry no MoAs
    assert "Skipped: no MoA column" in report.text
    for name in tables:
        assert (folder / f"{name}.csv").exists() and (folder / f"{name}.rds").exists()
    for figure in set(FIGURES) - {"moa_f1", "moa_jaccard"}:
        image = mpimg.imread(folder / f"{figure}.png")
        assert image.shape[0] > 200 and image.shape[1] > 300
        assert image[..., :3].std() > 0.01  # not a single colour
        assert f"{figure}.png" in report.text and f"{figure}.png" in manifest["files"]
        assert (folder / f"{figure}.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    text = (folder / "report.md").read_text()
    # every count in the prose is recomputed here from the CSV it summarises
    for key in ("cp", "ge"):
        rep = tables[f"replicate_reproducibility_{key}"]
        scored = int(rep["replicate_correlation"].notna().sum())
        above = int(rep["above_threshold"].sum())
        assert f"{100 * above / scored:.1f}% ({above} of {scored})" in text
        assert f"| {int((rep['q_value'] < 0.05).sum())} |" in text
    definitions = tables["replicating_definitions"].set_index(["modality", "definition"])["percent_replicating"]
    for label, key in (("Cell Painting", "cp"), ("L1000", "ge")):
        rep = tables[f"replicate_reproducibility_{key}"]
        rep = rep[rep["n_replicates"] >= 2]
        paper = definitions[(label, "paper: mean Pearson above the null's 90th percentile")]
        assert paper == pytest.approx(100 * rep["above_threshold"].mean())
        assert f"| {label} | ours: size-matched null, q < 0.05 | {100 * (rep['q_value'] < 0.05).mean():.1f} |" in text
        assert any(d.startswith("Way et al. 2022") for m, d in definitions.index if m == label)
    go = tables["go_enrichment"]
    assert f"{int((go['q_value'] < 0.05).sum())} of {len(go)} with q < 0.05" in text
    assert f"GO terms enriched among the {int((genes_q := tables['single_gene_predictability']['q_value'] < 0.05).sum())}" in text
    overlap = tables["reproducible_overlap"]
    counts = overlap["category"].value_counts()
    assert (f"both {counts.get('both', 0)}; only Cell Painting {counts.get('only_cp', 0)}; only L1000 "
            f"{counts.get('only_ge', 0)}; neither {counts.get('neither', 0)}") in text
    genes = tables["single_gene_predictability"]
    assert f"{int((genes['q_value'] < 0.05).sum())} of {len(genes)} genes predictable at q < 0.05" in text
    features = tables["single_feature_predictability"]
    assert f"{int((features['q_value'] < 0.05).sum())} of {len(features)} features predictable" in text
    top = genes.nlargest(1, "r2").iloc[0]
    assert f"| {top['symbol']} | {top['gene']} |" in text  # genes by symbol, probe beside
    assert manifest["tables"]["single_gene_predictability"]["parameters"]["n_permutations"] == 100


def test_consensus_profiles_get_a_report_without_replicate_sections(tmp_path):
    """CMEA (one row per compound in each assay): the replicate sections are skipped, saying why."""
    from tests.conftest import shared_file

    cp = rosetta_stats.read_profiles(shared_file("data/real/cdrp_cmea_cp_consensus.csv.gz"), "cp", "Metadata_broad_id")
    ge = rosetta_stats.read_profiles(shared_file("data/real/cdrp_cmea_l1000_consensus.csv.gz"), "ge", "pert_id")
    ge = ge.with_data(ge.data.rename(columns={"pert_id": "Metadata_broad_id"}), perturbation="Metadata_broad_id")
    report = rosetta_stats.report.build.build_report(cp, ge, tmp_path / "r", n_permutations=10, progress=False)
    assert set(report.skipped) >= {"replicates_cp", "replicates_ge", "overlap"}
    assert "consensus profiles" in report.text
    tables, _ = handoff.read_results(report.out_dir)
    assert "replicate_reproducibility_cp" not in tables and len(tables["single_gene_predictability"]) == 978


def test_paper_mode_report_says_so_and_counts_the_paper_s_calls(tmp_path):
    report = rosetta_stats.report.build.demo_report(tmp_path / "paper", progress=False, preset="paper")
    assert report.text.count("**Preset 'paper'.**") == 1
    assert "| model of the shuffled run | Lasso(alpha=0.1)" in report.text  # the differences, from the preset
    tables, manifest = handoff.read_results(report.out_dir)
    genes = tables["single_gene_predictability"]
    assert f"{int(genes['highly_predictable'].sum())} of {len(genes)} genes highly predictable" in report.text
    assert "no p-values (threshold only)" in report.text  # no "0 at q < 0.05" where nothing was tested
    assert manifest["tables"]["single_gene_predictability"]["settings"]["model"] == "lasso_cv"
