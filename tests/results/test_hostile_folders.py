"""Results folders against hostile and careless states: other results, links, FIFOs, tampered manifests.

Every case ends in one error naming what is wrong (never a traceback or a hang), and no file outside the
package's own outputs changes.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from rosetta_stats.results import folders
from rosetta_stats.results.output_folder import OutputError

TABLE = pd.DataFrame({"gene": ["a", "b"], "r2": [0.1, 0.2]})


def snapshot(folder) -> dict:
    """Every file below ``folder`` (links not followed) with its bytes."""
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            out[path] = os.readlink(path) if os.path.islink(path) else open(path, "rb").read()
    return out


def test_a_second_result_into_a_folder_needs_overwrite_and_deletes_nothing(tmp_path):
    out = folders.write_results({"first": TABLE}, tmp_path / "res")
    before = snapshot(out)
    with pytest.raises(OutputError, match=r"already holds results \(first\); pass overwrite=True"):
        folders.write_results({"second": TABLE}, out)
    assert snapshot(out) == before
    folders.write_results({"second": TABLE}, out, overwrite=True)  # replaces what it wrote, only that
    tables, manifest = folders.read_results(out)
    assert set(tables) == {"second"} and manifest["kind"] == ["second"]


def test_a_linked_lock_file_is_refused_and_its_target_untouched(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / ".res.rosetta-lock").symlink_to(victim)
    with pytest.raises(OutputError, match="symbolic link"):
        folders.write_results({"t": TABLE}, tmp_path / "res")
    assert victim.read_text() == "precious"


def test_overwrite_never_removes_through_a_linked_folder(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("precious")
    out = folders.write_results({"t": TABLE}, tmp_path / "res")
    (out / "sub").symlink_to(outside)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"]["sub/victim.txt"] = "0" * 64  # a tampered manifest claims the outside file
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(OutputError, match="symbolic link"):
        folders.write_results({"t": TABLE}, out, overwrite=True)
    assert (outside / "victim.txt").read_text() == "precious"


@pytest.mark.parametrize("shape, needle", [
    ({"package": "rosetta_stats", "files": 5, "tables": {}}, "'files' must map"),
    ({"package": "rosetta_stats", "files": ["a"], "tables": {}}, "'files' must map"),
    ({"package": "rosetta_stats", "files": {}, "tables": {"t": {"rows": 1}}}, "names no csv file"),
    ({"package": "rosetta_stats", "files": {}, "tables": {"t": {"files": {"csv": "t.csv"}}}}, "no row count"),
    ({"package": "rosetta_stats", "files": {"a.csv": "xyz"}, "tables": {}}, "no sha256"),
    ([1, 2], "not a JSON object"),
    ({"package": "someone else", "files": {}}, "not written by rosetta_stats"),
])
def test_manifests_of_any_shape_give_one_error(tmp_path, shape, needle):
    out = folders.write_results({"t": TABLE}, tmp_path / "res")
    (out / "manifest.json").write_text(json.dumps(shape))
    with pytest.raises(ValueError, match=needle):
        folders.read_results(out)
    with pytest.raises(OutputError, match=needle):  # and the folder is not written into either
        folders.write_results({"t": TABLE}, out, overwrite=True)


def test_a_deeply_nested_manifest_is_an_error_not_a_recursion_crash(tmp_path):
    out = folders.write_results({"t": TABLE}, tmp_path / "res")
    (out / "manifest.json").write_text('{"package": "rosetta_stats", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(ValueError, match="manifest.json is corrupt|nested deeper"):
        folders.read_results(out)


@pytest.mark.parametrize("replacement", ["fifo", "dev_zero", "link"])
def test_a_listed_file_replaced_by_a_fifo_or_a_link_is_refused_at_once(tmp_path, replacement):
    out = folders.write_results({"t": TABLE}, tmp_path / "res")
    listed = out / "t.csv"
    listed.unlink()
    if replacement == "fifo":
        os.mkfifo(listed)
    elif replacement == "dev_zero":
        listed.symlink_to("/dev/zero")
    else:
        other = tmp_path / "other.csv"
        TABLE.to_csv(other, index=False)
        listed.symlink_to(other)
    with pytest.raises(ValueError, match="not a regular file|symbolic link"):
        folders.read_results(out)


def test_a_file_in_place_of_a_folder_and_unlisted_files_are_left_alone(tmp_path):
    out = folders.write_results({"t": TABLE}, tmp_path / "res")
    (out / "notes_of_mine.txt").write_text("mine")
    folders.write_results({"t": TABLE.assign(r2=np.array([0.3, 0.4]))}, out, overwrite=True)
    assert (out / "notes_of_mine.txt").read_text() == "mine"
    assert folders.read_results(out)[0]["t"]["r2"].tolist() == [0.3, 0.4]
