"""From a CellProfiler plate database to the Rosetta release's three Cell Painting levels.

    .venv/bin/python vignettes/plate_profiles.py [OUTPUT_FOLDER]

cytominer ships a small CellProfiler database (``fixture_htqc.sqlite``: an
``image`` table and ``Cells``, ``Cytoplasm`` and ``Nuclei`` tables of 40
cells in 4 wells). The joined single-cell view is built in the database,
each well's cells are aggregated there (median), the wells are normalised
to the control wells of their plate (robustize) and the variables selected
(variance, then correlation threshold): the release's ``augmented``,
``normalized`` and ``normalized_variable_selected`` levels, written as a
results folder R can read.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import rosetta_stats as rs

out = Path(sys.argv[1] if len(sys.argv) > 1 else "plate_profiles")
fixture = subprocess.run(["Rscript", "-e", 'cat(system.file("extdata", "fixture_htqc.sqlite", package = "cytominer"))'],
                         capture_output=True, text=True, check=True).stdout
database = rs.cellprofiler_database(fixture)
print(f"{len(database.features)} features in {', '.join(database.compartments)}; image metadata: "
      f"{', '.join(m for m in database.metadata if m.startswith('Metadata_'))}")
profiles = rs.profile_plate(database, strata=("Metadata_Barcode", "Metadata_Well"),
                            controls={"Metadata_Well": ["A01", "A02"]})
print(profiles.summary())
for name, level in profiles.levels().items():
    print(f"  {name}: {level.shape[0]} wells x {level.shape[1]} columns")
print(profiles.dropped_features["reason"].value_counts().to_string())
rs.write_results({**profiles.levels(), "normalization_parameters": profiles.normalization_parameters,
                  "dropped_features": profiles.dropped_features}, out)
print(f"written to {out}; in R: rosettabridge::read_results('{out}')")
