"""Probe ids as gene symbols: the packaged table against the paper's reference and its tables."""
from __future__ import annotations

import pandas as pd

import rosetta_stats as rs
from rosetta_stats.data.gene_symbols import gene_table

from tests.conftest import shared_file


def test_packaged_table_equals_the_reference():
    reference = pd.read_csv(shared_file("reference/l1000_probe_to_gene.csv"), dtype=str)
    ours = gene_table().set_index("probe_id")
    ref = reference.set_index("probe_id")
    assert set(ours.index) == set(ref.index)
    assert (ours.loc[ref.index, "symbol"] == ref["symbol"]).all()
    assert (ours.loc[ref.index, "paper_gene"] == ref["gene"]).all()


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
    assert "symbol" in rs.feature_gene_correlation(paired).columns
