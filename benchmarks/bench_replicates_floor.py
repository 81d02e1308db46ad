"""Replicate reproducibility (the paper's null) against a bare numpy floor measured in the same run.

The floor: rows centred and scaled once, the within-perturbation mean
correlation from group sums, and the null's percentile from one GEMM over a
row per perturbation plus a partition. Both in float64 and float32; prints
times, the ratio to the floor, and that the thresholds agree.

    .venv/bin/python benchmarks/bench_replicates_floor.py [--perturbations 15000] [--replicates 5] [--features 1565]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import rosetta_stats as rs


def floor(values: np.ndarray, codes: np.ndarray, seed: int = 0) -> float:
    units = values - values.mean(axis=1, keepdims=True)
    units /= np.linalg.norm(units, axis=1, keepdims=True)
    counts = np.bincount(codes)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    sums = np.add.reduceat(units, starts, axis=0)
    _ = (np.einsum("ij,ij->i", sums, sums) - counts) / (counts * (counts - 1.0))
    rng = np.random.default_rng(seed)
    picks = units[starts + (rng.random(len(counts)) * counts).astype(int)]
    corr = picks @ picks.T
    upper = corr[np.triu_indices(len(picks), 1)]
    return float(np.percentile(upper, 90))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--perturbations", type=int, default=15_000)
    parser.add_argument("--replicates", type=int, default=5)
    parser.add_argument("--features", type=int, default=1565)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.perturbations * args.replicates
    codes = np.repeat(np.arange(args.perturbations), args.replicates)
    for dtype in (np.float64, np.float32):
        values = rng.normal(size=(n, args.features)).astype(dtype)
        frame = pd.DataFrame(values, columns=[f"Cells_{i}" for i in range(args.features)], copy=False)
        frame.insert(0, "pert", codes.astype(str))
        features = list(frame.columns[1:])
        start = time.perf_counter()
        ours = rs.replicate_reproducibility(frame, "pert", features, null="paper", seed=0)
        ours_time = time.perf_counter() - start
        start = time.perf_counter()
        floor_threshold = floor(values.astype(dtype), codes)
        floor_time = time.perf_counter() - start
        print(f"{np.dtype(dtype).name}: ours {ours_time:.1f} s, floor {floor_time:.1f} s, "
              f"ratio {ours_time / floor_time:.2f}; thresholds {ours.threshold:.5f} / {floor_threshold:.5f}")


if __name__ == "__main__":
    main()
