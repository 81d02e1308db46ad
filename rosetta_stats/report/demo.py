"""The single-cell part of the demo: simulated cells -> wells (in SQLite) -> normalised profiles.

``run_cytominer_demo`` exercises the R joint (cytominer through rpy2) and
returns a short text for the demo report.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ..bridge import cytominer
from ..simulate.cells import simulate_single_cells
from ..bridge.database_tables import SQLiteTable


def run_cytominer_demo(seed: int = 0, progress: bool = True) -> str:
    """Simulate cells, aggregate per well in SQLite, normalise per plate to DMSO, select features."""
    with tempfile.TemporaryDirectory() as tmp:
        truth = simulate_single_cells(Path(tmp) / "cells.sqlite", plates=2, wells=96, cells_per_well=40,
                                      features=24, seed=seed, progress=progress)
        table = SQLiteTable(truth.path, truth.table)
        strata = truth.strata + ["Metadata_pert_type", "Metadata_broad_sample"]
        wells = cytominer.aggregate(table, truth.features, strata).table
    merged = wells.merge(truth.well_means, on=strata, suffixes=("", "_truth"))
    error = np.abs(merged[truth.features].to_numpy()
                   - merged[[f + "_truth" for f in truth.features]].to_numpy())
    normalized = cytominer.normalize(wells, truth.features, "Metadata_Plate", {"Metadata_pert_type": "negcon"})
    selected = cytominer.select_features(normalized, truth.features, operation="correlation_threshold",
                                         cutoff=0.9)
    return (f"Single cells through cytominer (R, via rpy2): {truth.n_cells:,} simulated cells were "
            f"aggregated inside SQLite into {len(wells)} wells (largest deviation from the planted well "
            f"means {error.max():.2f}), normalised to the DMSO wells of each plate, and "
            f"{len(selected.dropped_features)} of {len(truth.features)} features were dropped "
            "as highly correlated.")
