"""The analysis commands end to end on files laid out like the release: results folder, figure, the numbers the
API gives with the same settings."""
from __future__ import annotations

import numpy as np
import pytest

import rosetta_stats as rs
from rosetta_stats.cli import main

pytestmark = [pytest.mark.usefixtures("r_session"), pytest.mark.slow]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    rs.write_rosetta_like(folder, datasets=["lincs", "luad"], seed=0)
    return folder


def run(*argv) -> int:
    return main(["--quiet", *map(str, argv)])


def test_transfer_command_equals_the_api(root, tmp_path, capsys):
    assert run("transfer", "--train", "lincs", "--test", "luad", "--root", root, "--permutations", "10",
               "--out", tmp_path / "t") == 0
    tables, manifest = rs.read_results(tmp_path / "t")
    api = rs.transfer_predictability(rs.load_paired("lincs", root), rs.load_paired("luad", root), n_permutations=10,
                                     names=("lincs", "luad"))
    np.testing.assert_allclose(tables["transfer_predictability"]["r2"], api.table["r2"], rtol=1e-10)
    assert "transfer_scatter.png" in manifest["files"]


def test_effect_sizes_links_and_moa_clustering_commands(root, tmp_path, capsys):
    assert run("effect-sizes", "--dataset", "lincs", "--modality", "cp", "--root", root, "--out", tmp_path / "e") == 0
    effects = rs.read_results(tmp_path / "e")[0]["effect_sizes"]
    assert {"perturbation", "feature", "effect", "t", "p_value", "q_value", "cohens_d"} <= set(effects.columns)
    assert run("links", "--dataset", "lincs", "--root", root, "--subsamples", "5", "--out", tmp_path / "l") == 0
    assert rs.read_results(tmp_path / "l")[1]["tables"]["stable_links"]["settings"]["n_subsamples"] == 5
    assert run("moa-clustering", "--dataset", "lincs", "--root", root, "--runs", "2", "--components", "4",
               "--methods", "cp,ge", "--out", tmp_path / "m") == 0
    clusters = rs.read_results(tmp_path / "m")[0]["moa_clustering"]
    assert set(clusters["method"]) == {"cp", "ge"} and clusters["jaccard"].between(0, 1).all()


def test_go_enrichment_command_reads_a_predictability_folder(root, tmp_path, capsys):
    assert run("predict-genes", "--dataset", "lincs", "--root", root, "--permutations", "20", "--splits", "3",
               "--out", tmp_path / "p") == 0
    assert run("go-enrichment", "--predictability", tmp_path / "p", "--q", "1.01", "--ontology", "CC",
               "--out", tmp_path / "g") == 0
    go = rs.read_results(tmp_path / "g")
    assert go[1]["tables"]["go_enrichment"]["estimates"]["n_selected"] > 0
    assert run("go-enrichment", "--out", tmp_path / "g2") == 2
    assert "one of --predictability FOLDER or --genes LIST" in capsys.readouterr().err
