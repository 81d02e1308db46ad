"""The demo: simulated single cells -> wells (in the database) -> normalised profiles.

Run it with ``make demo`` or ``rosetta-stats demo --out DIR``.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import cytominer
from ._atomic import write_csv_atomic
from .simulate_cells import simulate_single_cells


@dataclass(frozen=True)
class DemoResult:
    out_dir: Path
    n_cells: int
    wells: pd.DataFrame
    normalized: pd.DataFrame
    selected: pd.DataFrame
    max_error_vs_truth: float

    def summary(self) -> str:
        dropped = self.selected.attrs.get("dropped_features", pd.DataFrame())
        return "\n".join([
            "rosetta_stats demo",
            f"  single cells simulated      : {self.n_cells:,}",
            f"  wells after aggregation     : {len(self.wells):,} (in SQLite, by cytominer)",
            f"  max |well mean - truth|     : {self.max_error_vs_truth:.3f}",
            f"  features normalised to DMSO : {self.normalized.shape[1] - 4}",
            f"  features kept by selection  : {self.selected.shape[1] - 4} "
            f"({len(dropped)} dropped as correlated)",
            f"  written to                  : {self.out_dir}",
        ])


def run_demo(out_dir, seed: int = 0, progress: bool = True) -> DemoResult:
    """Simulate cells, aggregate per well in SQLite, normalise per plate, select features."""
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        truth = simulate_single_cells(
            Path(tmp) / "cells.sqlite", plates=2, wells=96, cells_per_well=40, features=24,
            seed=seed, progress=progress,
        )
        table = cytominer.SQLiteTable(truth.path, truth.table)
        strata = truth.strata + ["Metadata_pert_type", "Metadata_broad_sample"]
        wells = cytominer.aggregate(table, truth.features, strata)
    merged = wells.merge(truth.well_means, on=strata, suffixes=("", "_truth"))
    error = np.abs(
        merged[truth.features].to_numpy() - merged[[f + "_truth" for f in truth.features]].to_numpy()
    )
    normalized = cytominer.normalize(wells, truth.features, "Metadata_Plate",
                                     {"Metadata_pert_type": "negcon"})
    selected = cytominer.select_features(normalized, truth.features,
                                         operation="correlation_threshold", cutoff=0.9)
    write_csv_atomic(wells, out_dir / "well_profiles.csv")
    write_csv_atomic(normalized, out_dir / "normalized_profiles.csv")
    write_csv_atomic(selected, out_dir / "selected_profiles.csv")
    return DemoResult(out_dir, truth.n_cells, wells, normalized, selected, float(error.max()))
