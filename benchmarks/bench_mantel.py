"""The Mantel test (similarity_concordance) at LINCS size: index permutations vs copying the matrix.

6,000 paired treatments (about LINCS's compound-dose count) x 1,670 Cell
Painting features / 978 genes, 999 permutations. The baseline is the
textbook test measured in this run: for each permutation, the relabelled
matrix's upper triangle is gathered and correlated with the other's
(timed on 10 permutations and scaled). Target: ours <= 1/5 of it.

    .venv/bin/python benchmarks/bench_mantel.py [--treatments 6000]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from harness import child, measure, target


def build(n: int):
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((n, 20))
    cp = latent @ rng.standard_normal((20, 1670)) + 3 * rng.standard_normal((n, 1670))
    ge = latent @ rng.standard_normal((20, 978)) + 3 * rng.standard_normal((n, 978))
    keys = [f"t{i:05d}" for i in range(n)]
    cp_frame = pd.DataFrame(cp, columns=[f"Cells_f{i}" for i in range(1670)]).assign(key=keys)
    ge_frame = pd.DataFrame(ge, columns=[f"{200000 + i}_at" for i in range(978)]).assign(key=keys)
    return cp_frame, ge_frame


def _ours(n):
    import rosetta_stats as rs

    def run(frames):
        return rs.similarity_concordance(frames[0], frames[1], key="key", n_permutations=999, seed=0).statistic
    return (lambda: build(int(n))), run


def _textbook(n):
    def run(frames):
        a, b = np.corrcoef(frames[0].iloc[:, :-1].to_numpy()), np.corrcoef(frames[1].iloc[:, :-1].to_numpy())
        rows, cols = np.triu_indices(len(a), 1)
        first = a[rows, cols]
        rng = np.random.default_rng(0)
        start = time.perf_counter()
        for _ in range(10):
            p = rng.permutation(len(a))
            np.corrcoef(first, b[p][:, p][rows, cols])
        per_permutation = (time.perf_counter() - start) / 10
        return per_permutation
    return (lambda: build(int(n))), run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--treatments", type=int, default=6000)
    args = parser.parse_args()
    ours = measure(__file__, "ours", args.treatments)
    textbook = measure(__file__, "textbook", args.treatments)
    scaled = {"seconds": textbook["seconds"] + textbook["value"] * 989, "peak_gb": textbook["peak_gb"]}
    print(f"{args.treatments:,} treatments, 999 permutations: ours {ours['seconds']:.1f} s (peak "
          f"{ours['peak_gb']:.2f} GB); textbook {scaled['seconds']:.0f} s (peak {textbook['peak_gb']:.2f} GB)")
    target(f"Mantel at {args.treatments:,} treatments vs the textbook permutation loop", ours, scaled,
           most=1 / 5, memory_most=1.0)


if __name__ == "__main__":
    if not child({"ours": _ours, "textbook": _textbook}):
        main()
