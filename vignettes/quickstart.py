"""Quickstart: from single cells to a results folder R can read.

    .venv/bin/python vignettes/quickstart.py [OUTPUT_FOLDER]

1. single cells (simulated, in SQLite) -> wells, aggregated by cytominer inside
   the database, normalised to the DMSO wells of each plate, feature-selected;
2. paired replicate-level Cell Painting and L1000 profiles (simulated with
   planted truth; with downloaded data use ``rs.load_profiles("taorf", "cp")``);
3. replicate reproducibility of each modality, with the paper's threshold,
   p-values and mAP;
4. single-gene predictability from morphology;
5. every table written as CSV + RDS + manifest (``rosettabridge::read_results``).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import rosetta_stats as rs

out = Path(sys.argv[1] if len(sys.argv) > 1 else "quickstart_results")

# 1. Single cells -> wells with cytominer, in the database.
with tempfile.TemporaryDirectory() as tmp:
    cells = rs.simulate_single_cells(Path(tmp) / "cells.sqlite", plates=2, wells=48, cells_per_well=30,
                                     features=12, seed=1)
    wells = rs.aggregate(rs.SQLiteTable(cells.path, cells.table), cells.features,
                         ["Metadata_Plate", "Metadata_Well", "Metadata_pert_type"])
normalized = rs.normalize(wells, cells.features, "Metadata_Plate", {"Metadata_pert_type": "negcon"})
selected = rs.select_features(normalized, cells.features, operation="variance_threshold")
print(f"{cells.n_cells} cells -> {len(wells.table)} wells; {selected.estimates['n_kept']} features kept")
print(normalized.normalization_parameters.head(3).to_string(index=False))

# 2. Paired profiles (replicate level) and their treatment-level pairing.
sim = rs.simulate_paired(n_perturbations=150, n_replicates=3, n_cp_features=40, n_genes=60, seed=2)
cp, ge = sim.to_profiles()
print(cp.summary())

# 3. Replicate reproducibility (paper threshold, size-matched p-values) and mAP.
rep_cp = rs.replicate_reproducibility(cp, n_null=500, seed=0)
rep_ge = rs.replicate_reproducibility(ge, n_null=500, seed=0)
print(rep_cp.summary())
print(rs.reproducible_sets(rep_cp, rep_ge).summary())
map_cp = rs.mean_average_precision(cp, n_null=500, seed=0)
print(map_cp.summary())

# 4. Which genes does morphology predict?
paired = rs.pair(rs.treatment_level(cp), rs.treatment_level(ge))
genes = rs.gene_predictability(paired, model="ridge", n_permutations=200, seed=0)
print(genes.summary())

# 5. Hand every table to R.
rs.write_results({"wells": selected, "replicates_cp": rep_cp, "replicates_ge": rep_ge,
                  "map_cp": map_cp, "genes": genes}, out)
print(f"results written to {out}; in R: rosettabridge::read_results('{out}')")
