"""Every Python and R block of the README runs as written, in order, in one empty folder."""
from __future__ import annotations

import os
import re
import subprocess

import pytest

import rosetta_stats as rs

from tests.conftest import REPO

pytestmark = [pytest.mark.usefixtures("r_session"), pytest.mark.slow]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", (REPO / "README.md").read_text(), re.S)


def test_readme_blocks_run_as_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    python = blocks("python")
    assert len(python) >= 3
    namespace: dict = {}
    for i, code in enumerate(python):
        exec(compile(code, f"README.md python block {i + 1}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "percent replicating" in out and "48 h vs 24 h" in out
    tables, manifest = rs.read_results(tmp_path / "results")
    assert set(tables) == {"wells", "normalization_parameters", "dropped_features", "replicates", "genes"}
    assert len(tables["wells"]) == 48  # 2 plates x 24 wells
    assert namespace["paired"].losses["only_cp"].sum() == 0
    (r_code,) = blocks("r")
    run = subprocess.run(["Rscript", "-e", r_code], capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "TZ": "UTC"})
    assert run.returncode == 0, run.stderr
    assert "200" in run.stdout and "Cells_AreaShape_Area_000" in run.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cells.sqlite", "results"]
