"""Results folders: round trips in Python and R, tampering, interrupted writes."""
from __future__ import annotations

import json
import os
import stat
import subprocess

import numpy as np
import pandas as pd
import pytest

from rosetta_stats.results import folders as handoff

pytestmark = pytest.mark.usefixtures("r_session")


@pytest.fixture()
def mixed_table():
    return pd.DataFrame({
        "perturbation": ["BRD-1", "BRD-2", None],
        "200814_at": [0.5, np.nan, -1.25],
        "n_replicates": np.array([3, 4, 2], dtype=np.int64),
        "above_threshold": [True, False, True],
    })


def test_python_round_trip_and_manifest(mixed_table, tmp_path):
    source = tmp_path / "input.csv"
    source.write_text("a,b\n1,2\n")
    out = handoff.write_results({"genes": mixed_table}, tmp_path / "res", inputs=[source])
    tables, manifest = handoff.read_results(out)
    pd.testing.assert_frame_equal(tables["genes"], mixed_table, check_dtype=False)
    assert tables["genes"]["n_replicates"].dtype == np.int64
    assert manifest["tables"]["genes"]["rows"] == 3
    assert {c["name"]: c["type"] for c in manifest["tables"]["genes"]["columns"]} == {
        "perturbation": "character", "200814_at": "double", "n_replicates": "integer",
        "above_threshold": "logical"}
    # inputs are named by their path relative to the results folder, never an absolute machine path
    assert manifest["inputs"] == [{"name": "input.csv", "path": "../input.csv", "sha256": handoff.sha256_file(source)}]
    for name, digest in manifest["files"].items():
        assert handoff.sha256_file(out / name) == digest
    assert set(manifest["files"]) == {"genes.csv", "genes.rds"}


def test_r_reads_the_same_values_and_types(mixed_table, tmp_path):
    out = handoff.write_results({"genes": mixed_table}, tmp_path / "res")
    script = f"""
    res <- rosettabridge::read_results("{out}")
    g <- res$tables$genes
    stopifnot(inherits(g, "tbl_df"), identical(names(g), c("perturbation", "200814_at", "n_replicates", "above_threshold")))
    stopifnot(is.integer(g$n_replicates), is.logical(g$above_threshold), is.character(g$perturbation))
    stopifnot(identical(g$perturbation, c("BRD-1", "BRD-2", NA)))
    stopifnot(isTRUE(all.equal(g$`200814_at`, c(0.5, NA, -1.25))))
    stopifnot(identical(g$n_replicates, c(3L, 4L, 2L)), identical(g$above_threshold, c(TRUE, FALSE, TRUE)))
    cat(res$manifest$tables$genes$rows)
    """
    run = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "3"


def test_tampered_folders_are_refused(mixed_table, tmp_path):
    out = handoff.write_results({"genes": mixed_table}, tmp_path / "res")
    (out / "genes.csv").write_text((out / "genes.csv").read_text() + "BRD-9,1,1,True\n")
    with pytest.raises(ValueError, match=r"genes.csv has \d+ bytes; the manifest says \d+"):
        handoff.read_results(out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["sizes"]["genes.csv"] = 113  # the size made to agree: the sha256 still catches it
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="genes.csv does not match its sha256"):
        handoff.read_results(out)
    with pytest.raises(ValueError, match="has 4 rows; the manifest says 3"):
        _rows_only(out)
    out = handoff.write_results({"genes": mixed_table}, tmp_path / "res2")
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "genes.rds").unlink()
    with pytest.raises(ValueError, match="genes.rds is listed in the manifest but missing"):
        handoff.read_results(out)
    run = subprocess.run(["Rscript", "-e", f'rosettabridge::read_results("{out}")'], capture_output=True, text=True)
    assert run.returncode != 0 and "missing: genes.rds" in run.stderr
    assert manifest["tables"]["genes"]["rows"] == 3


def _rows_only(out):
    """A tampered CSV whose new sha256 was written into the manifest: the row count still catches it."""
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"]["genes.csv"] = handoff.sha256_file(out / "genes.csv")
    manifest["sizes"]["genes.csv"] = (out / "genes.csv").stat().st_size
    (out / "manifest.json").write_text(json.dumps(manifest))
    return handoff.read_results(out)


def test_interrupted_write_leaves_no_folder(mixed_table, tmp_path, monkeypatch):
    def explode(table, path):
        raise RuntimeError("disk full")

    monkeypatch.setattr(handoff, "write_rds", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        handoff.write_results({"genes": mixed_table}, tmp_path / "res")
    assert list(tmp_path.iterdir()) == []


def test_bad_results(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        handoff.write_results({}, tmp_path / "x")
    with pytest.raises(ValueError, match="cannot hand off a list"):
        handoff.write_results({"x": [1, 2]}, tmp_path / "x")
    with pytest.raises(ValueError, match="no manifest.json"):
        handoff.read_results(tmp_path)


def test_a_folder_of_someone_elses_files_is_never_touched(mixed_table, tmp_path):
    thesis = tmp_path / "out" / "thesis.tex"
    thesis.parent.mkdir()
    thesis.write_text("years of work")
    with pytest.raises(ValueError, match="holds files rosetta_stats did not write \\(thesis.tex\\)"):
        handoff.write_results({"genes": mixed_table}, tmp_path / "out")
    assert thesis.read_text() == "years of work" and sorted(p.name for p in thesis.parent.iterdir()) == ["thesis.tex"]
    a_file = tmp_path / "results.csv"
    a_file.write_text("mine")
    with pytest.raises(ValueError, match="is a file"):
        handoff.write_results({"genes": mixed_table}, a_file)
    assert a_file.read_text() == "mine"
    with pytest.raises(ValueError, match="is a file, so"):
        handoff.write_results({"genes": mixed_table}, a_file / "sub")
    assert not list(tmp_path.glob(".*staging*"))


def test_rewriting_our_own_folder_needs_overwrite_and_touches_only_our_files(mixed_table, tmp_path):
    out = handoff.write_results({"genes": mixed_table, "old": mixed_table}, tmp_path / "res")
    (out / "notes.txt").write_text("a colleague's note")  # added by a person after the run
    with pytest.raises(ValueError, match="pass overwrite=True"):
        handoff.write_results({"genes": mixed_table.head(2)}, out)
    assert len(handoff.read_results(out)[0]["genes"]) == 3
    handoff.write_results({"genes": mixed_table.head(2)}, out, overwrite=True)
    tables, manifest = handoff.read_results(out)
    assert len(tables["genes"]) == 2 and "old" not in tables
    assert not (out / "old.csv").exists()  # ours, no longer part of the results: removed
    assert (out / "notes.txt").read_text() == "a colleague's note"  # not ours: untouched
    (out / "genes.csv").unlink()
    (out / "genes.csv").write_text("someone replaced it")  # still listed: ours to overwrite
    handoff.write_results({"genes": mixed_table}, out, overwrite=True)


def test_names_outside_the_folder_and_empty_folders(mixed_table, tmp_path):
    for bad in ("../x.png", "/etc/x", "a/../../b", ""):
        with pytest.raises(ValueError, match="not a plain file name"):
            handoff.write_results({"genes": mixed_table}, tmp_path / "res", extra_files={bad: b"x"})
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "res").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    handoff.write_results({"genes": mixed_table}, empty)
    assert (empty / "manifest.json").is_file()


def test_permissions_follow_the_umask(mixed_table, tmp_path):
    old = os.umask(0o022)
    try:
        out = handoff.write_results({"genes": mixed_table}, tmp_path / "res")
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert stat.S_IMODE((out / "genes.csv").stat().st_mode) == 0o644


def test_a_killed_runs_staging_folder_is_cleared_by_the_next(mixed_table, tmp_path):
    stale = tmp_path / ".res.rosetta-staging-999999-abc"
    stale.mkdir()
    (stale / "genes.csv").write_text("half")
    handoff.write_results({"genes": mixed_table}, tmp_path / "res")
    assert not stale.exists()


def test_literal_na_and_empty_strings_survive_and_manifests_hold_null(tmp_path):
    table = pd.DataFrame({"perturbation": ["NA", "", None, "x"], "r": [0.1, np.nan, 0.3, np.inf]})

    class Result:
        def __init__(self):
            self.table = table
            self.notes = ("a note",)

        def summary_dict(self):
            return {"threshold": float("nan"), "seed": 0}

    out = handoff.write_results({"t": Result()}, tmp_path / "res")
    text = (out / "manifest.json").read_text()
    assert "NaN" not in text and '"threshold": null' in text
    tables, manifest = handoff.read_results(out)
    back = tables["t"]["perturbation"].tolist()
    assert back[:2] == ["NA", ""] and pd.isna(back[2]) and back[3] == "x"
    assert manifest["tables"]["t"]["notes"] == ["a note"]
    run = subprocess.run(["Rscript", "-e", f'r <- rosettabridge::read_results("{out}"); '
                          'cat(is.null(r$manifest$tables$t$parameters$threshold), r$tables$t$perturbation[1:2], '
                          'is.na(r$tables$t$perturbation[3]), sep="|")'], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "TRUE|NA||TRUE"


def test_read_results_refuses_unlisted_tables_and_corrupt_manifests(mixed_table, tmp_path):
    out = handoff.write_results({"genes": mixed_table}, tmp_path / "res")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"]["../outside.csv"] = "0" * 64
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="'../outside.csv' is not a plain file name inside the folder"):
        handoff.read_results(out)
    (out / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match="manifest.json is corrupt"):
        handoff.read_results(out)
