"""A CellProfiler plate database to the three CP levels, against cytominer's own pipeline run directly in R."""
from __future__ import annotations

import re
import subprocess

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs

from tests.helpers.r_reference import run_cytominer_script

pytestmark = pytest.mark.usefixtures("r_session")
FEATURES = ["Cells_AreaShape_Area", "Cells_AreaShape_Eccentricity", "Cytoplasm_AreaShape_Area",
            "Nuclei_AreaShape_Area", "Nuclei_AreaShape_Solidity", "Cells_AreaShape_Perimeter"]


@pytest.fixture(scope="module")
def htqc():
    return subprocess.run(["Rscript", "-e", 'cat(system.file("extdata", "fixture_htqc.sqlite", package = "cytominer"))'],
                          capture_output=True, text=True).stdout


def direct_r(htqc, level: str) -> pd.DataFrame:
    """cytominer's pipeline as its vignette writes it: join, aggregate, normalise, select."""
    return run_cytominer_script(f"""
        db <- DBI::dbConnect(RSQLite::SQLite(), "{htqc}")
        RSQLite::initExtension(db)
        image <- tbl(db, "image") %>% select(TableNumber, ImageNumber, Metadata_Barcode = image_Metadata_Barcode,
                                             Metadata_Well = image_Metadata_Well)
        cells <- image %>%
          inner_join(tbl(db, "Cells"), by = c("TableNumber", "ImageNumber")) %>%
          inner_join(tbl(db, "Cytoplasm"), by = c("TableNumber", "ImageNumber", "ObjectNumber")) %>%
          inner_join(tbl(db, "Nuclei"), by = c("TableNumber", "ImageNumber", "ObjectNumber"))
        variables <- c({", ".join(f'"{f}"' for f in FEATURES)})
        wells <- cytominer::aggregate(cells, variables, c("Metadata_Barcode", "Metadata_Well"), "median") %>%
          collect() %>% arrange(Metadata_Barcode, Metadata_Well)
        wells$Metadata_Barcode <- as.character(wells$Metadata_Barcode)
        normalized <- cytominer::normalize(wells, variables, "Metadata_Barcode",
                                           wells %>% filter(Metadata_Well %in% c("A01", "A02")),
                                           operation = "robustize")
        selected <- cytominer::variable_select(normalized, variables, normalized, "variance_threshold")
        kept <- intersect(variables, colnames(selected))
        selected <- cytominer::variable_select(selected, kept, selected, "correlation_threshold")
        result <- list(augmented = wells, normalized = normalized, normalized_variable_selected = selected)[["{level}"]]
    """)


@pytest.mark.slow
def test_every_level_equals_cytominer_run_directly(htqc):
    database = rs.cellprofiler_database(htqc)
    ours = rs.profile_plate(database, strata=("Metadata_Barcode", "Metadata_Well"), features=FEATURES,
                            controls={"Metadata_Well": ["A01", "A02"]})
    for level in ("augmented", "normalized", "normalized_variable_selected"):
        theirs = direct_r(htqc, level)
        mine = getattr(ours, level).sort_values("Metadata_Well").reset_index(drop=True)
        features = [c for c in theirs.columns if c in FEATURES]
        assert [c for c in mine.columns if c in FEATURES] == features, level
        np.testing.assert_allclose(mine[features].to_numpy(float), theirs[features].to_numpy(float),
                                   rtol=1e-10, atol=1e-10, err_msg=level)
    assert set(ours.dropped_features["feature"]) == set(FEATURES) - set(features)
    assert not ours.normalization_parameters.empty


def test_the_joined_view_names_and_errors(htqc, tmp_path):
    database = rs.cellprofiler_database(htqc)
    assert {"Metadata_Barcode", "Metadata_Well"} <= set(database.metadata)
    assert all(f.startswith(("Cells_", "Cytoplasm_", "Nuclei_")) for f in database.features)
    with pytest.raises(ValueError, match="no compartment table 'Nucleus'.*Cells"):
        rs.cellprofiler_database(htqc, compartments=("Cells", "Nucleus"))
    import shutil
    import sqlite3
    copy = tmp_path / "no_image.sqlite"
    shutil.copy(htqc, copy)
    with sqlite3.connect(copy) as con:
        con.execute("DROP TABLE image")
    with pytest.raises(ValueError, match="no image table 'Image'"):
        rs.cellprofiler_database(copy)


def test_platemaps_are_matched_by_well_and_a_stranger_is_named(htqc):
    database = rs.cellprofiler_database(htqc)
    wells = rs.aggregate(database, FEATURES[:2], ["Metadata_Barcode", "Metadata_Well"]).table
    platemap = pd.DataFrame({"well_position": [re.sub(r"^([A-P])0", r"\1", w) for w in wells["Metadata_Well"]],
                             "broad_sample": [f"BRD-{i}" for i in range(len(wells))]})
    ours = rs.profile_plate(database, platemap=platemap, strata=("Metadata_Barcode", "Metadata_Well"),
                            features=FEATURES[:2], selection=())
    assert ours.augmented["Metadata_broad_sample"].notna().all()  # 'A1' matched 'A01'
    with pytest.raises(ValueError, match="the platemap matches no well"):
        rs.profile_plate(database, platemap=platemap.assign(well_position="Z99"),
                         strata=("Metadata_Barcode", "Metadata_Well"), features=FEATURES[:2])


@pytest.mark.slow
def test_profile_command_writes_the_three_levels(htqc, tmp_path):
    from rosetta_stats.cli import main

    assert main(["profile", "--sqlite", htqc, "--strata", "Metadata_Barcode,Metadata_Well",
                 "--control", "Metadata_Well=A01,A02", "--out", str(tmp_path / "plate"), "--quiet"]) == 0
    tables, manifest = rs.read_results(tmp_path / "plate")
    assert {"replicate_level_cp_augmented", "replicate_level_cp_normalized",
            "replicate_level_cp_normalized_variable_selected", "normalization_parameters",
            "dropped_features"} <= set(tables)
    assert len(tables["replicate_level_cp_augmented"]) == 4
    assert main(["profile", "--sqlite", str(tmp_path / "none.sqlite"), "--out", str(tmp_path / "x")]) == 2


def _compartment_copy(source, tmp_path, sql):
    import shutil
    import sqlite3

    copy = tmp_path / f"copy{len(list(tmp_path.glob('copy*')))}.sqlite"
    shutil.copy(source, copy)
    with sqlite3.connect(copy) as con:
        con.executescript(sql)
    return copy


def test_join_cardinality_is_checked_and_counted(htqc, tmp_path):
    database = rs.cellprofiler_database(htqc)
    assert any(n.startswith("joined ") for n in database.notes)
    import sqlite3

    with sqlite3.connect(htqc) as con:
        cells = con.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
        joined = con.execute(f"SELECT COUNT(*) FROM ({database.query})").fetchone()[0]
    assert f"joined {joined} objects" in database.notes[0] and joined <= cells
    duplicated = _compartment_copy(htqc, tmp_path, "INSERT INTO cells SELECT * FROM cells LIMIT 1;")
    with pytest.raises(ValueError, match="rows for one object.*more than once"):
        rs.cellprofiler_database(duplicated)
    unmatched = _compartment_copy(htqc, tmp_path, "UPDATE nuclei SET ObjectNumber = ObjectNumber + 100000 "
                                  "WHERE rowid IN (SELECT rowid FROM nuclei LIMIT 3);")
    notes = rs.cellprofiler_database(unmatched).notes
    assert any("matched no object" in n for n in notes)
    empty = _compartment_copy(htqc, tmp_path, "UPDATE nuclei SET ImageNumber = ImageNumber + 100000;")
    with pytest.raises(ValueError, match="keeps no object"):
        rs.cellprofiler_database(empty)


def test_spherized_level_and_min_cells_on_the_command_line(htqc, tmp_path, capsys):
    from rosetta_stats.cli import main

    out = tmp_path / "plate"
    assert main(["--quiet", "profile", "--sqlite", htqc, "--strata", "Metadata_Barcode,Metadata_Well",
                 "--spherize", "ZCA", "--min-cells", "2", "--out", str(out)]) == 0
    tables, manifest = rs.read_results(out)
    sphered = tables["replicate_level_cp_spherized"]
    selected = tables["replicate_level_cp_normalized_variable_selected"]
    assert list(sphered.columns) == list(selected.columns) and len(sphered) == len(selected)
    assert (tables["replicate_level_cp_augmented"]["Metadata_Object_Count"] >= 2).all()
    assert "replicate_level_cp_spherized.csv" in manifest["files"]
