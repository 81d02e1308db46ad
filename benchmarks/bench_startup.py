"""Start-up of the command line: --version, --help and an argument error against `python -c pass`.

Each command runs 20 times in a fresh interpreter; the median wall time is
compared with the median of a bare `python -c pass`. Target: each within
10x the bare interpreter (the heavy stack is imported only by a command
that needs it).

    .venv/bin/python benchmarks/bench_startup.py [--repeats 20]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from harness import REPO, target

COMMANDS = {
    "--version": ["-m", "rosetta_stats.cli", "--version"],
    "--help": ["-m", "rosetta_stats.cli", "--help"],
    "argument error": ["-m", "rosetta_stats.cli", "replicates", "missing.csv"],
}


def median_seconds(arguments: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, *arguments], capture_output=True, cwd=REPO)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    bare = {"seconds": median_seconds(["-c", "pass"], args.repeats)}
    for name, arguments in COMMANDS.items():
        ours = {"seconds": median_seconds(arguments, args.repeats)}
        target(f"start-up {name}", ours, bare, most=10)


if __name__ == "__main__":
    main()
