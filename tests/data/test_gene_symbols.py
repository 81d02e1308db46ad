"""Probe ids and gene symbols: the packaged table against independent sources, and both directions."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs
from rosetta_stats.data.gene_symbols import gene_table, landmark_probes

from tests.conftest import shared_file

# Entrez id -> symbol and alias -> Entrez ids, straight from Bioconductor's org.Hs.eg.db
_R_LOOKUP = r"""
suppressMessages(library(org.Hs.eg.db))
args <- jsonlite::fromJSON(file("stdin"))
sym <- AnnotationDbi::toTable(org.Hs.egSYMBOL)
ali <- AnnotationDbi::toTable(org.Hs.egALIAS2EG)
resolve <- function(x) { e <- sym$gene_id[sym$symbol == x]; if (!length(e)) e <- ali$gene_id[ali$alias_symbol == x]; unique(e) }
out <- list(symbol_of = as.list(setNames(sym$symbol[match(args$entrez, sym$gene_id)], args$entrez)),
            ids_of = setNames(lapply(args$names, resolve), args$names))
cat(jsonlite::toJSON(out, auto_unbox = FALSE))
"""


def _org_hs(entrez, names):
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not installed")
    probe = subprocess.run(["Rscript", "-e", "quit(status = !requireNamespace('org.Hs.eg.db', quietly = TRUE))"])
    if probe.returncode:
        if os.environ.get("CI"):
            pytest.fail("org.Hs.eg.db is missing (make setup installs r-bioc-org.hs.eg.db)")
        pytest.skip("the R package org.Hs.eg.db is not installed")
    out = subprocess.run(["Rscript", "-e", _R_LOOKUP], input=json.dumps({"entrez": entrez, "names": names}),
                         capture_output=True, text=True, check=True)
    found = json.loads(out.stdout)
    return ({k: (v[0] if v else None) for k, v in found["symbol_of"].items()},
            {k: set(v) for k, v in found["ids_of"].items()})


@pytest.mark.slow
def test_every_landmark_symbol_agrees_with_org_hs_eg_db_and_the_lincs_names():
    """Independent truth: each landmark's Entrez id gives its symbol in org.Hs.eg.db, and the LINCS landmark names
    (the CMEA file's columns, written by others) resolve to exactly our 978 genes."""
    table = gene_table()
    landmarks = table[table["landmark"]]
    assert len(landmarks) == 978 and landmarks["entrez"].notna().all() and landmarks["entrez"].is_unique
    cmea = pd.read_csv(shared_file("data/real/cdrp_cmea_l1000_consensus.csv.gz"), nrows=0).columns[1:]
    lincs_names = [c.replace(".", "-") for c in cmea]
    symbol_of, ids_of = _org_hs(landmarks["entrez"].tolist(), lincs_names)
    wrong = [(p, s, symbol_of[e]) for p, s, e in zip(landmarks["probe_id"], landmarks["symbol"], landmarks["entrez"])
             if symbol_of[e] != s]
    assert not wrong, wrong
    ours = set(landmarks["entrez"])
    unplaced = [n for n in lincs_names if not ids_of[n] & ours]
    assert not unplaced, unplaced  # every LINCS landmark is one of ours
    unambiguous = {n: ids for n, ids in ids_of.items() if len(ids) == 1}
    assert {next(iter(ids)) for ids in unambiguous.values()} <= ours
    assert len(unambiguous) >= 970


def test_the_seven_alias_mistakes_of_the_paper_table_are_corrected():
    fixed = {"201695_s_at": "PNP", "203213_at": "CDK1", "205130_at": "MOK", "207993_s_at": "CHP1",
             "203188_at": "B4GAT1", "202910_s_at": "ADGRE5", "212115_at": "JPT2"}
    assert rs.gene_symbols(list(fixed)).tolist() == list(fixed.values())
    old = {"201695_s_at": "NP", "203213_at": "CDC2", "205130_at": "RAGE", "207993_s_at": "CHP"}
    assert rs.gene_symbols(list(old), which="paper").tolist() == list(old.values())  # published tables still join


def test_the_rest_of_the_table_equals_the_paper_reference():
    reference = pd.read_csv(shared_file("reference/l1000_probe_to_gene.csv"), dtype=str).set_index("probe_id")
    ours = gene_table().set_index("probe_id")
    assert set(ours.index) == set(reference.index)
    assert (ours.loc[reference.index, "paper_gene"] == reference["gene"]).all()
    differs = ours.loc[reference.index, "symbol"] != reference["symbol"]
    assert sorted(differs[differs].index) == sorted(
        ["200622_x_at", "201695_s_at", "202910_s_at", "203188_at", "203213_at", "205130_at", "207993_s_at",
         "212115_at"])


def test_symbols_back_to_probes_tolerate_r_names_and_old_names():
    probes = rs.gene_probes(["HLA.DMA", "HLA-DMA", "pnp", "NP", "CDK1", "AARS", "AARS1", "not_a_gene"])
    assert probes.tolist()[:7] == ["217478_s_at"] * 2 + ["201695_s_at"] * 2 + ["203213_at", "201000_at",
                                                                                  "201000_at"]
    assert pd.isna(probes.iloc[-1])
    with pytest.raises(ValueError, match="not L1000 landmarks: not_a_gene"):
        rs.gene_probes(["AARS1", "not_a_gene"], strict=True)
    symbols = rs.gene_symbols(landmark_probes())
    assert (rs.gene_probes(symbols.tolist()).to_numpy() == np.array(landmark_probes())).all()  # a round trip


def test_an_l1000_file_named_by_symbol_reads_as_probes():
    path = shared_file("data/real/cdrp_cmea_l1000_consensus.csv.gz")
    ge = rs.read_profiles(path, "ge", perturbation="pert_id")
    assert len(ge.features) == 978 and all(f.endswith("_at") for f in ge.features)
    assert any("named by symbol were renamed" in n for n in ge.notes)
    raw = pd.read_csv(path)
    np.testing.assert_array_equal(ge.data["217478_s_at"].to_numpy(), raw["HLA.DMA"].to_numpy())
    np.testing.assert_array_equal(ge.data["201695_s_at"].to_numpy(), raw["PNP"].to_numpy())


def test_landmark_probes_map_to_the_symbols_the_paper_uses():
    paper = pd.read_csv(shared_file("reference/paper_single_gene_predictability.csv"), index_col=0)
    assert rs.gene_symbols(["201000_at"], which="current").iloc[0] == "AARS1"
    assert rs.gene_symbols(["201000_at"], which="paper").iloc[0] == "AARS"
    probes = gene_table()["probe_id"]
    paper_names = rs.gene_symbols(probes, which="paper")
    in_paper = paper_names.isin(set(paper.index))
    assert in_paper.sum() >= 970
    assert rs.gene_symbols(["AARS1", "999999_at"]).tolist()[0] == "AARS1"  # symbols pass through
    assert pd.isna(rs.gene_symbols(["999999_at"]).iloc[0])


def test_tables_carry_symbols():
    paired = rs.pair(*[rs.treatment_level(p) for p in
                       rs.simulate_paired(n_perturbations=30, n_genes=6, n_cp_features=5, seed=1).to_profiles()])
    table = rs.gene_predictability(paired, n_permutations=0).table
    assert "symbol" in table.columns and table.columns[:7].tolist() == [
        "gene", "r2", "r2_sd", "pearson_r", "r2_null_mean", "p_value", "q_value"]
    assert "symbol" in rs.feature_gene_correlation(paired).table.columns
