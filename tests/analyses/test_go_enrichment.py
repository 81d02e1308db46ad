"""GO enrichment: the hypergeometric tail against a scipy twin on the same gene-term table, calibration on random
gene sets, a planted term found, and the annotations read from org.Hs.eg.db."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import rosetta_stats as rs


def toy_annotations(seed=0, n_genes=200, n_terms=40):
    """A gene-term table of its own: each term holds a random 10-40 genes."""
    rng = np.random.default_rng(seed)
    probes = [f"{300000 + i}_at" for i in range(n_genes)]
    rows = []
    for t in range(n_terms):
        for g in rng.choice(n_genes, int(rng.integers(10, 41)), replace=False):
            rows.append((probes[g], f"S{g}", f"GO:{t:07d}", "BP", f"term {t} of the nucleus" if t == 0 else f"term {t}"))
    return pd.DataFrame(rows, columns=["probe_id", "symbol", "go_id", "ontology", "term"])


def test_p_values_equal_a_scipy_hypergeometric_twin():
    table = toy_annotations()
    universe = sorted(set(table["probe_id"]))
    selected = universe[:30]
    result = rs.go_enrichment(selected, universe=universe, annotations=table, keywords="paper")
    for _, row in result.table.iterrows():
        genes = set(table.loc[table["go_id"] == row["go_id"], "probe_id"])
        k, n = len(genes & set(selected)), len(genes)
        assert row["n_selected_in_term"] == k and row["n_term"] == n
        assert row["p_value"] == pytest.approx(stats.hypergeom.sf(k - 1, len(universe), n, len(selected)), rel=1e-12)
    assert result.table.set_index("go_id").loc["GO:0000000", "compartment"] == "nucleus"


def test_random_gene_sets_are_calibrated_and_a_planted_term_is_found():
    table = toy_annotations(seed=1)
    universe = sorted(set(table["probe_id"]))
    rng = np.random.default_rng(2)
    p = []
    for run in range(300):  # one term per run: independent p-values
        chosen = list(rng.choice(universe, 40, replace=False))
        result = rs.go_enrichment(chosen, universe=universe, annotations=table).table.set_index("go_id")
        p.append(result.loc[f"GO:{run % 40:07d}", "p_value"])
    rate = np.mean(np.array(p) <= 0.05)
    assert rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / len(p))  # discrete: at or below the level
    term = set(table.loc[table["go_id"] == "GO:0000005", "probe_id"])
    planted = sorted(term)[:15] + list(rng.choice(sorted(set(universe) - term), 15, replace=False))
    found = rs.go_enrichment(planted, universe=universe, annotations=table).table
    assert found.iloc[0]["go_id"] == "GO:0000005" and found.iloc[0]["q_value"] < 0.05


def test_a_predictability_result_selects_its_genes_against_its_own_universe():
    table = toy_annotations()
    genes = sorted(set(table["probe_id"]))
    predictability = rs.Result(pd.DataFrame({"gene": genes, "q_value": [0.01] * 20 + [0.5] * (len(genes) - 20)}))
    result = rs.go_enrichment(predictability, annotations=table)
    assert result.estimates["n_selected"] == 20 and result.estimates["n_universe"] == len(genes)


@pytest.mark.usefixtures("r_session")
@pytest.mark.slow
def test_landmark_annotations_from_org_hs_eg_db():
    table = rs.go_annotations()
    assert {"probe_id", "symbol", "go_id", "ontology", "term"} <= set(table.columns)
    assert table["probe_id"].nunique() > 900  # nearly every landmark has GO terms
    ribosome = table[(table["symbol"] == "RPS5") & (table["ontology"] == "CC")]
    assert ribosome["term"].str.contains("ribosom").any()
    result = rs.go_enrichment(table.loc[table["term"] == "mitochondrial matrix", "probe_id"].unique()[:15],
                              ontology="CC")
    assert result.table.iloc[0]["q_value"] < 0.05
