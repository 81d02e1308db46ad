"""`rosetta-stats report` end to end on LINCS-size Rosetta-like files: time and peak memory.

The files are written by ``rs.write_rosetta_like`` in the download layout
with LINCS's shape: 8,704 treatments x 6 replicates = 52,224 Cell Painting
wells x 1,670 features, and the L1000 file thinned at random to 27,837 wells x
978 genes (LINCS has 52,223 and 27,837). The report then runs as a user would
run it, in its own process. Targets: under 10 minutes and 8 GB.

    .venv/bin/python benchmarks/bench_end_to_end.py [--treatments 8704] [--replicates 6] [--ge-wells 27837]
"""
from __future__ import annotations

import argparse
import glob
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from harness import REPO, absolute_target

import rosetta_stats as rs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--treatments", type=int, default=8704)
    parser.add_argument("--replicates", type=int, default=6)
    parser.add_argument("--ge-wells", type=int, default=27837, help="L1000 wells kept (0: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        rs.write_rosetta_like(tmp, datasets="lincs", n_perturbations=args.treatments, n_replicates=args.replicates,
                              n_cp_features=1670, n_plates=max(3, args.treatments * args.replicates // 380))
        ge_wells = _thin_l1000(tmp, args.ge_wells)
        print(f"wrote LINCS-like files ({args.treatments:,} treatments x {args.replicates} replicates; "
              f"{args.treatments * args.replicates:,} CP wells, {ge_wells:,} L1000 wells) "
              f"in {time.perf_counter() - start:.0f} s")
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "rosetta_stats.cli", "report", "--dataset", "lincs",
                               "--root", tmp, "--out", str(Path(tmp) / "report"), "--quiet"],
                              cwd=REPO, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6
        if done.returncode != 0:
            print(done.stdout[-2000:], done.stderr[-2000:])
            raise SystemExit(f"the report failed (exit {done.returncode})")
        print(f"report: {seconds:.0f} s, peak {peak:.2f} GB")
        absolute_target("end-to-end LINCS-size report time", seconds / 60, 10, unit="min")
        absolute_target("end-to-end LINCS-size report peak memory", peak, 8, unit="GB")


def _thin_l1000(root: str, keep: int) -> int:
    """Keep ``keep`` L1000 wells drawn at random (LINCS has about half as many L1000 as CP wells)."""
    path, = glob.glob(f"{root}/**/L1000/*.csv.gz", recursive=True)
    frame = pd.read_csv(path, low_memory=False)
    if 0 < keep < len(frame):
        rows = np.sort(np.random.default_rng(0).choice(len(frame), keep, replace=False))
        frame.iloc[rows].to_csv(path, index=False, compression={"method": "gzip", "compresslevel": 1})
        return keep
    return len(frame)


if __name__ == "__main__":
    main()
