"""Every benchmark script starts: its imports resolve and its options parse (``make bench`` runs them all)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

SCRIPTS = sorted((REPO / "benchmarks").glob("bench_*.py")) + [REPO / "benchmarks" / "run_all.py"]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_the_benchmark_script_starts(script):
    """``--help`` runs every top-level import and stops at argument parsing, before any measurement.

    A helper moved under tests/helpers once left bench_scale.py importing a
    module that no longer existed; only a full ``make bench`` found it.
    """
    done = subprocess.run([sys.executable, str(script), "--help"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage:")
