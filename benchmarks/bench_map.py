"""mAP of replicate retrieval against all other perturbations: ours vs copairs, each in a fresh process.

copairs (github.com/cytomining/copairs) is run from its source when it can be
imported (point ``COPAIRS_SRC`` at its ``src`` folder; releases that need the
duckdb Python package cannot be imported on a machine without it, in which
case that comparison is skipped with a message; commit b65bf1d is the last
without duckdb, 400 s here against our 2.2 s). Both get the same wells
(row-centred, so copairs' cosine equals our Pearson similarity), 1,000 null
draws, and their per-perturbation mAP are compared. Targets: >= 150x copairs
at 10,000 wells; under 60 s at 50,000 wells (ours alone).

    .venv/bin/python benchmarks/bench_map.py [--wells 10000] [--large 50000]
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

import numpy as np
import pandas as pd

from harness import absolute_target, child, measure, target

FEATURES, REPLICATES = 500, 5


def build(wells: int):
    rng = np.random.default_rng(0)
    n = wells // REPLICATES
    codes = np.repeat(np.arange(n), REPLICATES)
    values = rng.standard_normal((n * REPLICATES, FEATURES))
    values += np.repeat(rng.standard_normal((n, FEATURES)) * (rng.random(n) < 0.3)[:, None], REPLICATES, axis=0)
    values -= values.mean(axis=1, keepdims=True)
    frame = pd.DataFrame(values, columns=[f"Cells_f{i}" for i in range(FEATURES)], copy=False)
    frame.insert(0, "pert", np.char.add("p", np.char.zfill(codes.astype(str), 6)))
    return frame


def _ours(wells):
    import rosetta_stats as rs

    def run(frame):
        result = rs.mean_average_precision(frame, "pert", list(frame.columns[1:]), negatives="others",
                                           n_null=1000, seed=0)
        return result.table["mean_average_precision"].tolist()
    return (lambda: build(int(wells))), run


def _copairs(wells):
    sys.path.insert(0, os.environ.get("COPAIRS_SRC", ""))
    from copairs.map import average_precision, mean_average_precision

    def run(frame):
        meta = frame[["pert"]]
        ap = average_precision(meta, frame.iloc[:, 1:].to_numpy(), pos_sameby=["pert"], pos_diffby=[],
                               neg_sameby=[], neg_diffby=["pert"])
        scores = mean_average_precision(ap, ["pert"], null_size=1000, threshold=0.05, seed=0)
        return scores.sort_values("pert")["mean_average_precision"].tolist()
    return (lambda: build(int(wells))), run


def copairs_importable() -> bool:
    sys.path.insert(0, os.environ.get("COPAIRS_SRC", ""))
    try:
        importlib.import_module("copairs.map")
    except Exception as exc:  # ImportError, or a missing dependency such as duckdb
        print(f"copairs comparison skipped: copairs cannot be imported here ({exc}); "
              "set COPAIRS_SRC to the src folder of a copairs checkout (Debian has no duckdb: the last "
              "copairs without it is commit b65bf1d, the parent of 'Implement matching using duckdb')")
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wells", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=50_000)
    args = parser.parse_args()
    ours = measure(__file__, "ours", args.wells)
    print(f"ours at {args.wells:,} wells x {FEATURES} features: {ours['seconds']:.1f} s, peak {ours['peak_gb']:.2f} GB")
    if copairs_importable():
        theirs = measure(__file__, "copairs", args.wells)
        gap = np.nanmax(np.abs(np.array(ours["value"]) - np.array(theirs["value"])))
        print(f"copairs: {theirs['seconds']:.1f} s, peak {theirs['peak_gb']:.2f} GB; max |mAP difference| {gap:.2e}")
        target(f"mAP against others, {args.wells:,} wells, vs copairs", ours, theirs, most=1 / 150)
    large = measure(__file__, "ours", args.large)
    absolute_target(f"mAP against others, {args.large:,} wells", large["seconds"], 60,
                    detail=f"peak {large['peak_gb']:.2f} GB")


if __name__ == "__main__":
    if not child({"ours": _ours, "copairs": _copairs}):
        main()
