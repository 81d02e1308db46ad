"""Run every benchmark (``make bench``), then say which targets hold.

Each ``bench_*.py`` prints its own lines; the ``target |`` lines are
collected here and repeated at the end with a one-line verdict.

    .venv/bin/python benchmarks/run_all.py [--only replicates_floor ...]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from harness import TARGET_PREFIX

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", default=None, help="script names without bench_ and .py")
    args = parser.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.only]
    targets, failed = [], []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                                   cwd=HERE.parent)
        for line in process.stdout:
            print(line, end="", flush=True)
            if line.startswith(TARGET_PREFIX):
                targets.append(line.strip())
        if process.wait() != 0:
            failed.append(script.name)
    print("\n== targets")
    for line in targets:
        print(line)
    held = [t for t in targets if t.endswith("| holds")]
    missed = [t.split("|")[1].strip() for t in targets if not t.endswith("| holds")]
    verdict = f"targets: {len(held)} of {len(targets)} hold"
    verdict += f"; missed: {', '.join(missed)}" if missed else ""
    verdict += f"; benchmarks that failed to run: {', '.join(failed)}" if failed else ""
    print(verdict)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
