"""Every Python and R block of the README runs as written, alone: each is saved as a script and run in a
fresh interpreter, in an empty folder of its own (a block that leans on an earlier one fails here)."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

import rosetta_stats as rs

from tests.conftest import REPO

pytestmark = [pytest.mark.usefixtures("r_session"), pytest.mark.slow]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", (REPO / "README.md").read_text(), re.S)


def run_alone(code: str, folder, suffix: str = ".py") -> subprocess.CompletedProcess:
    folder.mkdir()
    script = folder.parent / f"{folder.name}{suffix}"
    script.write_text(code)
    command = [sys.executable, str(script)] if suffix == ".py" else ["Rscript", str(script)]
    return subprocess.run(command, capture_output=True, text=True, cwd=folder, timeout=900,
                          env={**os.environ, "TZ": "UTC", "PYTHONPATH": str(REPO)})


# what each Python block must print (in README order), and the files it leaves in its folder
EXPECTED = [
    (["percent replicating", "q_value", "symbol"], ["cells.sqlite", "results"]),
    (["48 h vs 24 h", "only_cp"], []),
    (["Replicate reproducibility"], []),
    (["highly_predictable", "compartment"], []),
    (["Mean average precision", "normalized_map", "Cross-modal retrieval", "MRR"], []),
    (["well-matched", "subsample", "cp_only"], []),
    (["Leave-dataset-out transfer", "perturbation", "symbol", "early_fusion"], []),
    (["(352, 30)"], ["processed", "profiles.gct"]),
    (["the same numbers on the cluster"], []),
]


def test_the_readme_has_the_blocks_this_test_knows():
    assert len(blocks("python")) == len(EXPECTED)
    assert len(blocks("r")) == 1


@pytest.mark.parametrize("index", range(len(EXPECTED)))
def test_each_python_block_runs_alone_as_a_script(index, tmp_path):
    code = blocks("python")[index]
    folder = tmp_path / f"block{index + 1}"
    done = run_alone(code, folder)
    assert done.returncode == 0, done.stderr[-3000:]
    needles, files = EXPECTED[index]
    for needle in needles:
        assert needle in done.stdout, (needle, done.stdout[-3000:])
    assert sorted(p.name for p in folder.iterdir()) == files
    if index == 0:  # the quick start's results folder holds every table, checked against its manifest
        tables, _ = rs.read_results(folder / "results")
        assert set(tables) == {"wells", "normalization_parameters", "dropped_features", "replicates", "genes"}
        assert len(tables["wells"]) == 48  # 2 plates x 24 wells
        assert tables["genes"]["symbol"].notna().all()  # simulated genes are landmark probes with symbols


def test_the_r_block_runs_alone_as_a_script(tmp_path):
    (code,) = blocks("r")
    folder = tmp_path / "r_block"
    done = run_alone(code, folder, suffix=".R")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Cells_AreaShape_Area" in done.stdout and "n_cells" in done.stdout
    assert "r2" in done.stdout  # the shipped example's genes table
    assert "Replicate reproducibility" in done.stdout and "replicate_correlation" in done.stdout
    assert list(folder.iterdir()) == []
