"""Feature inference on the real files and on made-up column lists."""
from __future__ import annotations

import pandas as pd
import pytest

from rosetta_stats.data.features import infer_features, parse_feature_spec


def test_l1000_genes_in_the_taorf_file(taorf_l1k_path):
    columns = pd.read_csv(taorf_l1k_path, nrows=0).columns
    genes = infer_features(columns, "ge")
    assert len(genes) == 978
    assert all(g.endswith("_at") for g in genes)
    assert "pert_id" not in genes


def test_cell_painting_features_in_the_lincs_plate(lincs_plate_path):
    columns = pd.read_csv(lincs_plate_path, nrows=0).columns
    features = infer_features(columns, "auto")
    assert len(features) == 452  # 454 compartment columns, of which two are positions in the image
    assert not any(f.startswith("Metadata_") for f in features)
    assert {"Cytoplasm_Location_MaxIntensity_X_DNA", "Cytoplasm_Location_MaxIntensity_Y_DNA"} <= set(columns) - set(features)


def test_prefix_spec_and_errors():
    columns = ["Metadata_Plate", "Cells_A", "Nuclei_B", "Image_C"]
    assert parse_feature_spec("Nuclei_,Image_", columns) == ["Nuclei_B", "Image_C"]
    with pytest.raises(ValueError, match="no feature columns found"):
        infer_features(["Metadata_Plate", "pert_id"])
    with pytest.raises(ValueError, match="no columns start with"):
        parse_feature_spec("Foo_", columns)
    with pytest.raises(ValueError, match="choose one of"):
        infer_features(columns, "morphology")
