"""Is Cell Painting more reproducible than L1000? Three definitions side by side, and a fair comparison.

    .venv/bin/python vignettes/fair_comparison.py [DATA_ROOT]

1. Percent replicating under three definitions, per modality and dose: the
   paper's (mean Pearson above the null's 90th percentile), Way et al.'s
   (median Spearman, well-matched null, p < 0.05; per dose over compounds
   measured at every dose) and ours (size-matched null, q < 0.05), beside
   the published numbers of both papers (package data, with their sources).
2. The same question at equal replicate counts (subsampled, and the
   draw-free normalised pairwise mAP), and each perturbation's call: active
   in both assays, in one, or in neither.

With DATA_ROOT holding the LINCS Rosetta files (``rosetta-stats datasets
download lincs``) it runs on them; otherwise on files laid out like them.
"""
from __future__ import annotations

import sys
import tempfile
import warnings
from importlib import resources
from pathlib import Path

import pandas as pd

import rosetta_stats as rs

warnings.simplefilter("ignore", UserWarning)  # the time points differ (48 h vs 24 h): said in the notes
root = Path(sys.argv[1]) if len(sys.argv) > 1 else None
if root is None or not (root / "preprocessed_data").exists():
    root = Path(tempfile.mkdtemp(prefix="rosetta-like-"))
    rs.write_rosetta_like(root, datasets=["lincs"], seed=0)
    print(f"(Rosetta-like LINCS files written to {root}; pass the real download root to use the real files)")

published = pd.read_csv(resources.files("rosetta_stats").joinpath("data/annotations/published_replicates.csv")
                        .open())
rows = []
for modality, well in (("cp", "Metadata_Well"), ("ge", "det_well")):
    profiles = rs.load_profiles("lincs", modality, root=root)
    dose = "Metadata_dose_recode" if modality == "cp" else "nearest_dose"
    paper = rs.replicate_reproducibility(profiles, preset="paper", seed=0)
    ours = rs.replicate_reproducibility(profiles, n_null=500, seed=0)
    way = rs.replicate_reproducibility(profiles, preset="way2022", well=well, dose=dose, compound="compound",
                                       n_null=500, seed=0)
    share_q = 100 * (ours.table["q_value"] < 0.05).mean()
    starved = [n for n in way.notes if "no well-matched null" in n]
    if starved:  # the well-matched null needs other perturbations at the same well positions
        print(f"{modality}: {starved[0]}")
    rows += [(modality, "paper", "all", paper.estimates["percent_replicating"]),
             (modality, "ours (q < 0.05)", "all", share_q),
             (modality, "way2022", "all", way.estimates["percent_replicating"])]
    rows += [(modality, "way2022", f"{d:g}", v) for d, v in zip(way.tables["by_dose"]["dose"],
                                                               way.tables["by_dose"]["percent_replicating"])]
table = pd.DataFrame(rows, columns=["modality", "definition", "dose_uM", "percent"])
print("\n1. percent replicating (ours, on these files)")
print(table.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
print("\n   published (LINCS)")
print(published[["definition", "modality", "dose_uM", "percent", "source"]].to_string(index=False))

cp = rs.load_profiles("lincs", "cp", root=root)
ge = rs.load_profiles("lincs", "ge", root=root)
print("\n2. at equal replicate counts")
for method in ("subsample", "normalized_map"):
    comparison = rs.compare_reproducibility(cp, ge, equalize=method, n_draws=10, n_null=300, seed=0)
    print(comparison.table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
activity = rs.modality_activity(cp, ge, n_draws=3, n_null=300, seed=0)
print("calls:", activity.counts, f"McNemar p = {activity.estimates['mcnemar_p_value']:.3g}")
