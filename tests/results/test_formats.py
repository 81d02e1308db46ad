"""GCT 1.3 and AnnData twins: the layout other tools expect, and a lossless round trip."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs
from rosetta_stats.results.formats import read_gct, write_gct


@pytest.fixture
def ge():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(5, 3)), columns=["201000_at", "209460_at", "203192_at"])
    frame.insert(0, "cid", [f"REP.A001:{w}" for w in ("A01", "A02", "A03", "A04", "A05")])
    frame.insert(1, "pert_id", ["BRD-K1", "BRD-K1", "BRD-K2", None, "DMSO"])
    frame.insert(2, "pert_dose", [1.0, 10.0, 1.0, np.nan, -666.0])
    return rs.Profiles.from_frame(frame, "ge", "pert_id")


def test_gct_is_laid_out_as_cmap_tools_read_it_and_round_trips(ge, tmp_path):
    path = write_gct(ge.data, tmp_path / "x.gct", list(ge.features), ge.feature_annotations)
    lines = path.read_text().splitlines()
    assert lines[0] == "#1.3"
    assert lines[1].split("\t") == ["3", "5", str(ge.feature_annotations.shape[1]), "2"]  # rows = genes
    header = lines[2].split("\t")
    assert header[0] == "id" and header[-5:] == list(ge.data["cid"])
    assert lines[3].startswith("pert_id\t") and lines[4].startswith("pert_dose\t")
    assert lines[5].startswith("201000_at\tAARS1\t")
    data, rows, columns = read_gct(path)
    np.testing.assert_array_equal(data.to_numpy(), ge.data[list(ge.features)].to_numpy())
    assert rows.loc["201000_at", "symbol"] == "AARS1"
    assert columns["pert_id"].tolist() == ["BRD-K1", "BRD-K1", "BRD-K2", None, "DMSO"]
    assert columns["pert_dose"].tolist()[:3] == ["1.0", "10.0", "1.0"]
    (tmp_path / "cut.gct").write_text("\n".join(lines[:-1] + [lines[-1].rsplit("\t", 1)[0]]) + "\n")
    with pytest.raises(ValueError, match="cut or ragged"):
        read_gct(tmp_path / "cut.gct")


def test_h5ad_round_trips_with_metadata_and_annotations(ge, tmp_path):
    import anndata

    adata = rs.to_anndata(ge)
    adata.write_h5ad(tmp_path / "x.h5ad")
    back = anndata.read_h5ad(tmp_path / "x.h5ad")
    np.testing.assert_array_equal(back.X, ge.data[list(ge.features)].to_numpy())
    assert list(back.var_names) == list(ge.features) and back.var.loc["201000_at", "symbol"] == "AARS1"
    assert back.obs["pert_id"].astype(object).where(back.obs["pert_id"].notna(), None).tolist() == \
        ["BRD-K1", "BRD-K1", "BRD-K2", None, "DMSO"]
    np.testing.assert_array_equal(back.obs["pert_dose"].to_numpy(), ge.data["pert_dose"].to_numpy())
    assert back.uns["modality"] == "ge"


def test_write_results_adds_every_format_to_the_manifest(ge, tmp_path, r_session):
    out = rs.write_results({"profiles": ge}, tmp_path / "res", formats=("csv", "rds", "parquet", "h5ad", "gct"))
    tables, manifest = rs.read_results(out)
    assert set(manifest["tables"]["profiles"]["files"]) == {"csv", "rds", "parquet", "h5ad", "gct"}
    for kind in ("parquet", "h5ad", "gct"):
        assert f"profiles.{kind}" in manifest["files"]
    data, _, _ = read_gct(out / "profiles.gct")
    np.testing.assert_allclose(data.to_numpy(), tables["profiles"][list(ge.features)].to_numpy())
    with pytest.raises(ValueError, match="formats must include csv"):
        rs.write_results({"profiles": ge}, tmp_path / "bad", formats=("xlsx",))
