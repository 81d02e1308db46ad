"""Replicate reproducibility (the paper's null) against a bare numpy floor, each in a fresh process.

The floor is what a careful numpy programmer would write with no checks:
rows centred and scaled once, within-perturbation means from group sums of
the sorted rows, one row per perturbation, the upper triangle of their
correlations from row-block products into one array, and a partition for
the 90th percentile. Both run on the same data (float64 and float32) and
pick the same rows, so their thresholds agree. Targets (issue: fast at real
scale): ours <= 1.5x the floor's time and peak memory; float32 <= 0.7x float64.

    .venv/bin/python benchmarks/bench_replicates_floor.py [--sizes 15000x5 30000x5 153000rows]
"""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from harness import child, measure, target

FEATURES = 1565


def build(spec: str, dtype: str):
    """(values, codes, frame) for '15000x5' (perturbations x replicates) or '153000rows' (4 to 8 each)."""
    rng = np.random.default_rng(0)
    if spec.endswith("rows"):
        rows = int(spec[:-4])
        counts = rng.integers(4, 9, rows // 6 + 1)
        counts = counts[:np.searchsorted(np.cumsum(counts), rows) + 1]
    else:
        n, r = map(int, spec.split("x"))
        counts = np.full(n, r)
    codes = np.repeat(np.arange(len(counts)), counts)
    values = rng.standard_normal((len(codes), FEATURES), dtype=np.dtype(dtype))
    signal = rng.standard_normal((len(counts), FEATURES), dtype=np.dtype(dtype))
    signal[rng.random(len(counts)) >= 0.3] = 0  # 30% of perturbations replicate
    for start in range(0, len(codes), 8192):  # in blocks: no full-size temporary
        values[start:start + 8192] += signal[codes[start:start + 8192]]
    del signal
    frame = pd.DataFrame(values, columns=[f"Cells_f{i}" for i in range(FEATURES)], copy=False)
    frame.insert(0, "pert", np.char.add("p", np.char.zfill(codes.astype(str), 7)))  # sorts as the codes do
    return values, codes, frame


def floor(values: np.ndarray, codes: np.ndarray, percentile: float = 90, seed: int = 0) -> float:
    units = values - values.mean(axis=1, keepdims=True)
    units /= np.sqrt(np.einsum("ij,ij->i", units, units))[:, None]
    counts = np.bincount(codes)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    sums = np.add.reduceat(units, starts, axis=0)
    _ = (np.einsum("ij,ij->i", sums, sums) - counts) / (counts * (counts - 1.0))
    picks = units[starts + (np.random.default_rng(seed).random(len(counts)) * counts).astype(int)]
    del units
    m = len(picks)
    pairs = np.empty(m * (m - 1) // 2, dtype=picks.dtype)
    at = 0
    for start in range(0, m, 2048):
        block = picks[start:start + 2048] @ picks[start:].T
        for i in range(block.shape[0]):
            row = block[i, i + 1:]
            pairs[at:at + len(row)] = row
            at += len(row)
    position = (len(pairs) - 1) * percentile / 100
    low, high = int(np.floor(position)), int(np.ceil(position))
    pairs.partition([low, high])
    return float(pairs[low] + (pairs[high] - pairs[low]) * (position - low))


def _ours(spec, dtype):
    import rosetta_stats as rs

    def run(data):
        frame = data[2]
        result = rs.replicate_reproducibility(frame, "pert", list(frame.columns[1:]), null="paper",
                                              n_null=1000, seed=0)
        return result.threshold
    return (lambda: build(spec, dtype)), run


def _floor(spec, dtype):
    return (lambda: build(spec, dtype)), (lambda data: floor(data[0], data[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", nargs="*", default=["15000x5", "30000x5", "153000rows"])
    args = parser.parse_args()
    for spec in args.sizes:
        runs = {}
        for dtype in ("float64", "float32"):
            ours, base = measure(__file__, "ours", spec, dtype), measure(__file__, "floor", spec, dtype)
            runs[dtype] = ours
            print(f"{spec} {dtype}: thresholds ours {ours['value']:.6f}, floor {base['value']:.6f} "
                  f"(input alone peaks at {ours['input_peak_gb']:.2f} GB)")
            target(f"replicates {spec} x {FEATURES} {dtype} vs numpy floor", ours, base, most=1.5,
                   memory_most=1.5)
        target(f"replicates {spec} float32 vs float64", runs["float32"], runs["float64"], most=0.7)


if __name__ == "__main__":
    if not child({"ours": _ours, "floor": _floor}):
        main()
