"""`rosetta-stats report` end to end on LINCS-size Rosetta-like files: time and peak memory.

The files are written by ``rs.write_rosetta_like`` in the download layout
(default 9,000 treatments x 4 replicates: about 36,000 wells per modality,
1,670 Cell Painting features, 978 genes; LINCS has 52,223 CP and 27,837
L1000 wells). The report then runs as a user would run it, in its own
process. Targets: under 10 minutes and 8 GB.

    .venv/bin/python benchmarks/bench_end_to_end.py [--treatments 9000] [--replicates 4]
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import REPO, absolute_target

import rosetta_stats as rs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--treatments", type=int, default=9000)
    parser.add_argument("--replicates", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        rs.write_rosetta_like(tmp, datasets="lincs", n_perturbations=args.treatments, n_replicates=args.replicates,
                              n_cp_features=1670, n_plates=max(3, args.treatments * args.replicates // 380))
        print(f"wrote LINCS-like files ({args.treatments:,} treatments x {args.replicates} replicates) "
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


if __name__ == "__main__":
    main()
