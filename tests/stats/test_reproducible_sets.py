"""High-rep sets from the paper's own per-perturbation table give the paper's printed counts."""
from __future__ import annotations

import pandas as pd
import pytest

import rosetta_stats as rs

from tests.conftest import shared_file

PUBLISHED = {  # dataset: (CP, GE, both, either), keys as written
    "luad": (364, 275, 197, 442), "taorf": (218, 78, 36, 260),
    "lincs": (4647, 2338, 1140, 5845), "cdrp-bio": (312, 448, 131, 629),
}


@pytest.fixture(scope="module")
def paper_table():
    return pd.read_csv(shared_file("reference/paper_replicate_correlation.csv.gz"))


def _sides(table, dataset):
    rows = table[table["dataset"] == dataset]
    return rows[rows["modality"] == "CellPainting"], rows[rows["modality"] == "L1000"]


@pytest.mark.parametrize("dataset", sorted(PUBLISHED))
def test_published_counts(paper_table, dataset):
    cp, ge = _sides(paper_table, dataset)
    sets = rs.reproducible_sets(cp, ge, match_doses=False)
    n_cp, n_ge, both, either = PUBLISHED[dataset]
    assert (sets.summary_dict()["n_cp"], sets.summary_dict()["n_ge"]) == (n_cp, n_ge)
    assert (len(sets.both), len(sets.either)) == (both, either)
    assert len(sets.only_cp) + len(sets.only_ge) + len(sets.both) == len(sets.either)
    # a plain set computation as the twin
    a = set(cp.loc[cp["RepCor"] > cp["Rand90Perc"], "perturbation"])
    b = set(ge.loc[ge["RepCor"] > ge["Rand90Perc"], "perturbation"])
    assert set(sets.both) == a & b and set(sets.only_ge) == b - a


def test_lincs_with_doses_parsed_and_the_cdrp_key_artefact(paper_table):
    cp, ge = _sides(paper_table, "lincs")
    assert len(rs.reproducible_sets(cp, ge, match_doses=True).both) == 1606
    cp, ge = _sides(paper_table, "cdrp")
    cdrp = rs.reproducible_sets(cp, ge, match_doses=False)
    assert len(cdrp.both) == 3
    assert any("reflects how the keys are written, not biology" in n for n in cdrp.notes)


def test_results_and_thresholds_and_restriction():
    sim = rs.simulate_paired(n_perturbations=60, n_replicates=3, seed=5)
    cp, ge = sim.to_profiles()
    rep_cp, rep_ge = rs.replicate_reproducibility(cp, null="paper"), rs.replicate_reproducibility(ge, null="paper")
    sets = rs.reproducible_sets(rep_cp, rep_ge)
    expected = set(rep_cp.table.loc[rep_cp.table["replicate_correlation"] > rep_cp.threshold, "perturbation"])
    assert set(sets.both) | set(sets.only_cp) == expected
    strict = rs.reproducible_sets(rep_cp, rep_ge, cp_threshold=0.99, ge_threshold=0.99)
    assert strict.both == []
    paired = rs.pair(rs.treatment_level(cp), rs.treatment_level(ge))
    kept = paired.restrict(sets.both)
    assert set(kept.cp.data["perturbation"]) == set(sets.both) | {"negcon"}
    assert "negcon" not in set(paired.restrict(sets.both, include_controls=False).cp.data["perturbation"])
    with pytest.raises(ValueError, match="lacks column"):
        rs.reproducible_sets(pd.DataFrame({"perturbation": ["a"]}), rep_ge)
