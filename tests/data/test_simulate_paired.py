"""The paired simulator: planted truth visible, deterministic, checked arguments."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs


def test_simulator_planted_reproducibility_is_visible():
    sim = rs.simulate_paired(n_perturbations=80, n_replicates=3, seed=11)
    cp = rs.Profiles.from_frame(sim.cp, "cp", "Metadata_broad_sample", "Metadata_Plate")
    values = cp.values()
    keys = cp.data["Metadata_broad_sample"].to_numpy()
    mean_corr = {}
    for pert in sim.truth.perturbations:  # plain loop: an independent check
        rows = values[keys == pert]
        c = np.corrcoef(rows)
        mean_corr[pert] = c[np.triu_indices(len(rows), 1)].mean()
    planted = [mean_corr[p] for p in sim.truth.perturbations if p in sim.truth.reproducible_cp]
    other = [mean_corr[p] for p in sim.truth.perturbations if p not in sim.truth.reproducible_cp]
    assert np.mean(planted) > 0.3 > 0.1 > abs(np.mean(other))
    assert min(planted) > np.median(other)


def test_simulator_is_deterministic_and_checks_arguments():
    a = rs.simulate_paired(n_perturbations=10, seed=3)
    b = rs.simulate_paired(n_perturbations=10, seed=3)
    pd.testing.assert_frame_equal(a.cp, b.cp)
    assert not a.ge.equals(rs.simulate_paired(n_perturbations=10, seed=4).ge)
    with pytest.raises(ValueError, match="linear_genes"):
        rs.simulate_paired(linear_genes=0.8, nonlinear_genes=0.5)
    with pytest.raises(ValueError, match="unknown dataset"):
        rs.simulate_paired(style="jump")


def test_plate_effects_do_not_make_noise_genes_predictable():
    """Each modality gets its own plate offsets and layout, so plates carry no shared signature."""
    sim = rs.simulate_paired(n_perturbations=150, n_replicates=2, n_cp_features=30, n_genes=60,
                             linear_genes=0.2, nonlinear_genes=0.0, plate_effect=1.0, effect_size=2.0,
                             reproducible_cp=0.9, reproducible_ge=0.9, seed=11)
    cp, ge = sim.to_profiles()
    paired = rs.pair(rs.treatment_level(cp), rs.treatment_level(ge))
    table = rs.gene_predictability(paired, n_permutations=60, seed=0).table.set_index("gene")
    noise = table.loc[list(sim.truth.noise_genes), "p_value"]
    # under the null p <= 0.05 happens with probability 0.05 (+ the 1/61 floor); allow 3 binomial sd
    bound = 0.05 + 1 / 61 + 3 * (0.05 * 0.95 / len(noise)) ** 0.5
    assert (noise <= 0.05).mean() <= bound
    assert (table.loc[list(sim.truth.linear_genes), "p_value"] <= 0.05).mean() >= 0.5
