"""Per-gene R^2 on a simulation shaped like TA-ORF, next to the paper's published R^2.

    .venv/bin/python vignettes/predictability_vs_paper.py [../shared]

The shared data hold no paired Cell Painting + L1000 profiles of the same
perturbations, so this is a described comparison, not a check: we simulate
about 320 treatments (TA-ORF's size) with 63 Cell Painting features (its
variable-selected set) and 978 genes, fit the paper's Lasso and our ridge,
and print the quantiles of the per-gene R^2 (in %, as the paper reports it)
beside the paper's TA-ORF Lasso column. How many genes are predictable in
the simulation is a choice of the simulation, so only the shape of the
distribution (most genes near zero, a tail of predictable ones) is
comparable.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import rosetta_stats as rs

shared = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared")
paper = pd.read_csv(shared / "reference" / "paper_single_gene_predictability.csv", index_col=0)

sim = rs.simulate_paired(n_perturbations=320, n_replicates=3, n_cp_features=63, n_genes=978,
                         latent_dim=10, linear_genes=0.2, nonlinear_genes=0.05, effect_size=1.2, seed=0)
cp, ge = sim.to_profiles()
paired = rs.pair(rs.treatment_level(cp), rs.treatment_level(ge))
lasso = rs.gene_predictability(paired, model="lasso", n_permutations=0)
ridge = rs.gene_predictability(paired, model="ridge", n_permutations=20, seed=0)

quantiles = [0.1, 0.25, 0.5, 0.75, 0.9, 0.99]
table = pd.DataFrame({
    "quantile": quantiles,
    "paper TA-ORF Lasso (%)": paper["TAORF-Lasso"].quantile(quantiles).to_numpy(),
    "simulated, Lasso (%)": 100 * lasso.table["r2"].quantile(quantiles).to_numpy(),
    "simulated, ridge (%)": 100 * ridge.table["r2"].quantile(quantiles).to_numpy(),
})
print(f"{len(paired.cp)} simulated treatments; {len(sim.truth.linear_genes)} genes planted as linearly predictable")
print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
print(f"genes with R^2 > 10%: paper {int((paper['TAORF-Lasso'] > 10).sum())}, "
      f"simulated Lasso {int((lasso.table['r2'] > 0.1).sum())}")
