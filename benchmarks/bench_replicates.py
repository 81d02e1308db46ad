"""Replicate reproducibility at CDRP-like scale: vectorised vs the paper's pandas loop.

9,000 perturbations x 5 replicates x 1,000 features. The naive baseline is
the paper's approach, measured in this run: per perturbation
``df[df[col] == p]`` then ``.T.corr()``, and for the null ``.T.corr()`` over one
row per perturbation. It is timed on a subset and scaled (linearly for the
loop, quadratically for the all-pairs null), as printed.

    .venv/bin/python benchmarks/bench_replicates.py
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from rosetta_stats.stats.replicates import replicate_reproducibility

from harness import target


def paper_loop(frame: pd.DataFrame, features: list[str], perturbations) -> dict:
    out = {}
    for p in perturbations:
        group = frame[frame["pert"] == p][features].drop_duplicates()
        corr = group.T.corr().to_numpy()
        out[p] = corr[np.triu_indices(len(group), 1)].mean()
    return out


def paper_null(frame: pd.DataFrame, features: list[str], n_rows: int, rng) -> float:
    picks = frame.groupby("pert").sample(1, random_state=int(rng.integers(2**31))).head(n_rows)
    corr = picks[features].T.corr().to_numpy()
    return float(np.percentile(corr[np.triu_indices(len(picks), 1)], 90))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--perturbations", type=int, default=9000)
    parser.add_argument("--replicates", type=int, default=5)
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--loop-subset", type=int, default=300)
    parser.add_argument("--null-subset", type=int, default=1500)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n, r, f = args.perturbations, args.replicates, args.features
    signal = rng.normal(size=(n, f)) * (rng.random(n) < 0.5)[:, None]
    values = np.repeat(signal, r, axis=0) + rng.normal(size=(n * r, f))
    features = [f"Cells_f{i}" for i in range(f)]
    frame = pd.DataFrame(values, columns=features)
    frame.insert(0, "pert", np.repeat([f"p{i}" for i in range(n)], r))
    print(f"{n:,} perturbations x {r} replicates x {f:,} features")

    t0 = time.perf_counter()
    result = replicate_reproducibility(frame, "pert", features, null="paper", seed=0)
    ours = time.perf_counter() - t0
    print(f"rosetta_stats, paper statistic + null threshold: {ours:.1f} s "
          f"(threshold {result.threshold:.4f}, {result.percent_replicating:.1f}% replicating)")

    subset = [f"p{i}" for i in range(args.loop_subset)]
    t0 = time.perf_counter()
    loop = paper_loop(frame, features, subset)
    loop_scaled = (time.perf_counter() - t0) * n / len(subset)
    ours_subset = result.table.set_index("perturbation").loc[subset, "replicate_correlation"]
    assert np.allclose(ours_subset.to_numpy(), [loop[p] for p in subset], atol=1e-10)
    t0 = time.perf_counter()
    paper_null(frame, features, args.null_subset, rng)
    null_scaled = (time.perf_counter() - t0) * (n / args.null_subset) ** 2
    naive = loop_scaled + null_scaled
    print(f"paper's pandas loop: {loop_scaled:.1f} s (timed on {len(subset)} perturbations, scaled "
          f"linearly) + null .T.corr(): {null_scaled:.1f} s (timed on {args.null_subset} rows, "
          f"scaled quadratically) = {naive:.1f} s")
    print(f"ratio naive / ours: {naive / ours:.0f}x")
    target(f"replicates at {n:,} x {r} x {f:,} vs the paper's pandas loop", {"seconds": ours},
           {"seconds": naive}, most=1 / 100)

    t0 = time.perf_counter()
    replicate_reproducibility(frame, "pert", features, null="size_matched", n_null=1000, seed=0)
    print(f"size-matched null (n_null=1000) with p- and q-values: {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
