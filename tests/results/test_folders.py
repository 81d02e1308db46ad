"""Results folders: round trips in Python and R, tampering, interrupted writes."""
from __future__ import annotations

import json
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
    assert manifest["inputs"] == [{"name": "input.csv", "sha256": handoff.sha256_file(source)}]
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
    """Check row counts without the sha256 check, as a reader that skips hashing would."""
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"] = {}
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
