"""Crossing the reproducible sets of two modalities."""
from __future__ import annotations


import pytest

import rosetta_stats as rs
import rosetta_stats.data.cleaning
from rosetta_stats.stats.replicates import replicate_reproducibility


def test_modality_comparison_against_planted_sets():
    from rosetta_stats.stats.reproducible_sets import compare_modalities, reproducible_sets

    sim = rs.simulate_paired(n_perturbations=160, n_replicates=4, reproducible_cp=0.5,
                             reproducible_ge=0.5, effect_size=1.5, seed=12)
    cp = rs.Profiles.from_frame(sim.cp, "cp", "Metadata_broad_sample", "Metadata_Plate")
    ge = rs.Profiles.from_frame(sim.ge, "ge", "pert_id", "det_plate")
    comparison = reproducible_sets(replicate_reproducibility(cp, seed=1), replicate_reproducibility(ge, seed=1),
                                   criterion="q_value", alpha=0.1)
    truth_both = sim.truth.reproducible_cp & sim.truth.reproducible_ge
    found_both = set(comparison.perturbations("both"))
    assert len(found_both & truth_both) >= 0.9 * len(truth_both)
    assert len(found_both - truth_both) <= 0.1 * max(1, len(found_both))
    counts = comparison.counts
    assert sum(counts.values()) == int(comparison.table["category"].notna().sum()) == 160
    assert counts["both"] == len(found_both)
    assert "negcon" not in comparison.table["perturbation"].tolist()  # controls are not perturbations
    with pytest.raises(ValueError, match="no perturbation has replicates in both"):
        renamed = replicate_reproducibility(ge.with_data(ge.data.assign(pert_id="x" + ge.data["pert_id"])), seed=1)
        with pytest.warns(DeprecationWarning, match="compare_modalities"):  # the old name still works
            compare_modalities(replicate_reproducibility(cp, seed=1), renamed)
