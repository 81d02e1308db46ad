"""The README's Python example runs as written (with a simulated cells.sqlite beside it)."""
from __future__ import annotations

import re

import pytest

import rosetta_stats as rs

from tests.conftest import REPO

pytestmark = pytest.mark.usefixtures("r_session")


def test_readme_python_example_runs(tmp_path, monkeypatch, capsys):
    text = (REPO / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    rs.simulate_single_cells("cells.sqlite", plates=1, wells=8, cells_per_well=5, features=60, seed=0)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    tables, manifest = rs.read_results(tmp_path / "results")
    assert set(tables) == {"replicates", "genes"}
    assert len(namespace["wells"]) == 8
    assert "percent replicating" in capsys.readouterr().out


def test_readme_rosetta_today_example_runs(capsys):
    text = (REPO / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "write_rosetta_like" in b]
    assert len(blocks) == 1
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "48 h vs 24 h" in out
    assert namespace["paired"].losses["only_cp"].sum() == 0
