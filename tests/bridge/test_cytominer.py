"""rosetta_stats.bridge.cytominer against cytominer called directly in R, plus bad input."""
from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from rosetta_stats.bridge import cytominer as cm
from rosetta_stats.bridge.database_tables import SQLiteTable

from tests.helpers.r_reference import run_cytominer_script

pytestmark = pytest.mark.usefixtures("r_session")

FEATURES = ["Cells_AreaShape_Area", "Nuclei_Intensity_Mean", "200814_at"]


@pytest.fixture()
def synthetic():
    """Rows in 3 strata columns with NaNs, a digit-leading L1000-style name and controls."""
    rng = np.random.default_rng(7)
    n = 120
    frame = pd.DataFrame(
        {
            "Metadata_Plate": rng.choice(["P1", "P2"], n),
            "Metadata_Well": rng.choice(["A01", "A02", "B01"], n),
            "Metadata_Site": rng.integers(1, 3, n),
            "Metadata_pert_type": rng.choice(["negcon", "trt"], n, p=[0.4, 0.6]),
        }
    )
    for j, f in enumerate(FEATURES):
        frame[f] = rng.normal(10 * (j + 1), j + 1, n)
    frame.loc[rng.choice(n, 6, replace=False), "Nuclei_Intensity_Mean"] = np.nan
    return frame


@pytest.fixture(scope="module")
def fixture_sqlite():
    path = run_cytominer_script(
        'result <- data.frame(path = system.file("extdata", '
        '"fixture_intensities_shapes.sqlite", package = "cytominer"))'
    )["path"][0]
    return path


def _assert_frames_close(ours: pd.DataFrame, theirs: pd.DataFrame, keys, features):
    ours = ours.sort_values(keys).reset_index(drop=True)
    theirs = theirs.sort_values(keys).reset_index(drop=True)
    assert len(ours) == len(theirs)
    for k in keys:
        assert ours[k].astype(str).tolist() == theirs[k].astype(str).tolist()
    np.testing.assert_allclose(
        ours[features].to_numpy(float), theirs[features].to_numpy(float), rtol=0, atol=1e-10
    )


@pytest.mark.parametrize("operation", ["mean", "median"])
def test_aggregate_equals_cytominer(synthetic, operation):
    strata = ["Metadata_Plate", "Metadata_Well", "Metadata_Site"]
    ours = cm.aggregate(synthetic, FEATURES, strata, operation)
    theirs = run_cytominer_script(
        f"""
        vars <- c({", ".join(repr(f) for f in FEATURES)})
        result <- cytominer::aggregate(frame, vars, c("Metadata_Plate", "Metadata_Well",
                                       "Metadata_Site"), operation = "{operation}")
        """,
        {"frame": synthetic},
    )
    assert list(ours.columns) == strata + ["Metadata_Object_Count"] + FEATURES
    counts = synthetic.groupby(strata).size().reset_index(name="n")
    merged = ours.table.merge(counts, on=strata)
    assert (merged["Metadata_Object_Count"] == merged["n"]).all() and len(merged) == len(ours.table)
    assert ours["Metadata_Site"].dtype == synthetic["Metadata_Site"].dtype
    assert ours["Nuclei_Intensity_Mean"].isna().any()  # NaN propagates as in cytominer
    _assert_frames_close(ours, theirs, strata, FEATURES)


@pytest.mark.parametrize("operation", ["standardize", "robustize"])
def test_normalize_equals_cytominer(synthetic, operation):
    strata = ["Metadata_Plate", "Metadata_Well"]
    ours = cm.normalize(synthetic, FEATURES, strata, {"Metadata_pert_type": "negcon"}, operation)
    theirs = run_cytominer_script(
        f"""
        frame$row_id <- seq_len(nrow(frame))
        vars <- c({", ".join(repr(f) for f in FEATURES)})
        result <- cytominer::normalize(frame, vars, c("Metadata_Plate", "Metadata_Well"),
                                       frame[frame$Metadata_pert_type == "negcon", ],
                                       operation = "{operation}")
        result <- result[order(result$row_id), ]
        """,
        {"frame": synthetic},
    )
    assert list(ours.columns) == list(synthetic.columns)
    np.testing.assert_allclose(
        ours[FEATURES].to_numpy(float), theirs[FEATURES].to_numpy(float), rtol=0, atol=1e-10
    )
    pd.testing.assert_frame_equal(ours.drop(columns=FEATURES), synthetic.drop(columns=FEATURES))


def test_normalization_parameters_match_pandas(synthetic):
    out = cm.normalize(synthetic, FEATURES, "Metadata_Plate", {"Metadata_pert_type": "negcon"})
    params = out.normalization_parameters
    controls = synthetic[synthetic["Metadata_pert_type"] == "negcon"]
    expected = controls.groupby("Metadata_Plate")[FEATURES].agg(["mean", "std"])
    assert len(params) == 2 * len(FEATURES)
    for _, row in params.iterrows():
        assert row["location"] == pytest.approx(expected.loc[row["Metadata_Plate"], (row["feature"], "mean")], abs=1e-10)
        assert row["dispersion"] == pytest.approx(expected.loc[row["Metadata_Plate"], (row["feature"], "std")], abs=1e-10)


def test_aggregate_in_database_equals_cytominer(fixture_sqlite):
    variables = [
        "m_intensities_mean", "m_intensities_maximum", "m_intensities_integrated",
        "m_intensities_standard_deviation",
    ]
    ours = cm.aggregate(SQLiteTable(fixture_sqlite, "view_intensities"), variables, ["g_plate", "g_well"])
    theirs = run_cytominer_script(
        f"""
        con <- DBI::dbConnect(RSQLite::SQLite(), "{fixture_sqlite}")
        cells <- dplyr::tbl(con, "view_intensities")
        result <- cytominer::aggregate(cells, c({", ".join(repr(v) for v in variables)}),
                                       c("g_plate", "g_well")) %>% dplyr::collect()
        """
    )
    assert len(ours) == 4
    _assert_frames_close(ours, theirs, ["g_plate", "g_well"], variables)
    # the cell count of each well, against a direct SQL count; min_cells drops wells under it, saying so
    import sqlite3

    with sqlite3.connect(fixture_sqlite) as con:
        direct = pd.read_sql("SELECT g_plate, g_well, COUNT(*) AS n FROM view_intensities GROUP BY g_plate, g_well",
                             con)
    merged = ours.table.merge(direct, on=["g_plate", "g_well"])
    assert (merged["Metadata_Object_Count"] == merged["n"]).all() and len(merged) == 4
    cut = int(direct["n"].median()) + 1
    fewer = cm.aggregate(SQLiteTable(fixture_sqlite, "view_intensities"), variables, ["g_plate", "g_well"],
                         min_cells=cut)
    assert len(fewer.table) == int((direct["n"] >= cut).sum())
    assert any(f"fewer than {cut} rows" in n for n in fewer.notes)


def test_normalize_in_database_equals_in_memory(fixture_sqlite):
    variables = ["m_intensities_mean", "m_intensities_maximum"]
    table = SQLiteTable(fixture_sqlite, "view_intensities")
    in_db = cm.normalize(table, variables, ["g_plate", "g_pattern"], {"g_well": ["A01", "A02"]})
    frame = run_cytominer_script(
        f"""
        con <- DBI::dbConnect(RSQLite::SQLite(), "{fixture_sqlite}")
        result <- DBI::dbReadTable(con, "view_intensities")
        """
    )
    in_memory = cm.normalize(frame, variables, ["g_plate", "g_pattern"], {"g_well": ["A01", "A02"]})
    keys = ["g_well", "g_image", "g_object", "g_pattern", "g_channel"]
    _assert_frames_close(in_db, in_memory, keys, variables)
    assert list(in_db.columns) == table.columns()


def test_normalize_real_lincs_plate_to_dmso(lincs_plate_path):
    plate = pd.read_csv(lincs_plate_path)
    features = [c for c in plate.columns if not c.startswith("Metadata_")]
    before = plate.copy()
    ours = cm.normalize(plate, features, "Metadata_Plate", {"Metadata_broad_sample": "DMSO"})
    theirs = run_cytominer_script(
        f"""
        frame <- utils::read.csv("{lincs_plate_path}", check.names = FALSE, stringsAsFactors = FALSE)
        vars <- grep("^Metadata_", colnames(frame), value = TRUE, invert = TRUE)
        result <- cytominer::normalize(frame, vars, "Metadata_Plate",
                                       frame[frame$Metadata_broad_sample == "DMSO", ])
        """
    )
    pd.testing.assert_frame_equal(plate, before)
    assert ours.shape == plate.shape
    np.testing.assert_allclose(
        ours[features].to_numpy(float), theirs[features].to_numpy(float), rtol=0, atol=1e-10
    )
    dmso = ours[plate["Metadata_broad_sample"] == "DMSO"][features]
    np.testing.assert_allclose(dmso.mean().to_numpy(), 0, atol=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("operation", ["variance_threshold", "correlation_threshold", "drop_na_columns"])
def test_select_features_equals_cytominer(lincs_plate_path, operation):
    plate = pd.read_csv(lincs_plate_path)
    features = [c for c in plate.columns if not c.startswith("Metadata_")]
    plate.loc[plate.index[:60], features[3]] = np.nan  # makes drop_na_columns drop it
    plate[features[5]] = 1.5  # constant: variance_threshold drops it
    if operation == "correlation_threshold":
        features = [f for f in features if f not in (features[3], features[5])]
    ours = cm.select_features(plate, features, operation=operation)
    theirs = run_cytominer_script(
        f"""
        vars <- c({", ".join(repr(f) for f in features)})
        result <- cytominer::variable_select(frame, vars, frame[, vars],
                                             operation = "{operation}")
        """,
        {"frame": plate},
    )
    assert list(ours.columns) == list(theirs.columns)
    dropped = set(features) - set(ours.columns)
    assert dropped and set(ours.dropped_features["feature"]) == dropped


def test_low_dispersion_feature_is_dropped_by_name(synthetic):
    frame = synthetic.copy()
    frame.loc[frame["Metadata_pert_type"] == "negcon", "Cells_AreaShape_Area"] = 4.0
    with pytest.warns(UserWarning, match="Cells_AreaShape_Area"):
        out = cm.normalize(frame, FEATURES, "Metadata_Plate", {"Metadata_pert_type": "negcon"})
    assert "Cells_AreaShape_Area" not in out.columns
    assert out.dropped_features["feature"].tolist() == ["Cells_AreaShape_Area"]
    assert np.isfinite(out["200814_at"]).all()
    with pytest.raises(ValueError, match="Cells_AreaShape_Area"):
        cm.normalize(frame, FEATURES, "Metadata_Plate", {"Metadata_pert_type": "negcon"},
                     on_low_dispersion="error")


def test_plate_without_controls_is_named(synthetic):
    frame = synthetic.copy()
    frame.loc[frame["Metadata_Plate"] == "P2", "Metadata_pert_type"] = "trt"
    with pytest.raises(ValueError, match="Metadata_Plate=P2"):
        cm.normalize(frame, FEATURES, "Metadata_Plate", {"Metadata_pert_type": "negcon"})
    with pytest.warns(UserWarning, match="P2"):
        out = cm.normalize(frame, FEATURES, "Metadata_Plate", {"Metadata_pert_type": "negcon"},
                           on_missing_controls="drop")
    assert set(out["Metadata_Plate"]) == {"P1"}
    assert len(out) == (frame["Metadata_Plate"] == "P1").sum()


def test_row_order_does_not_change_aggregate(synthetic):
    strata = ["Metadata_Plate", "Metadata_Well"]
    shuffled = synthetic.sample(frac=1, random_state=3)
    a = cm.aggregate(synthetic.fillna(0), FEATURES, strata)
    b = cm.aggregate(shuffled.fillna(0), FEATURES, strata)
    np.testing.assert_allclose(a[FEATURES].to_numpy(), b[FEATURES].to_numpy(), atol=1e-12)
    expected = synthetic.fillna(0).groupby(strata)[FEATURES].mean().reset_index()
    np.testing.assert_allclose(a[FEATURES].to_numpy(), expected[FEATURES].to_numpy(), atol=1e-12)


# ----------------------------------------------------------------------------- bad input


def test_missing_strata_column_is_named(synthetic):
    before = synthetic.copy()
    with pytest.raises(ValueError, match="Metadata_Plat.*did you mean 'Metadata_Plate'"):
        cm.aggregate(synthetic, FEATURES, ["Metadata_Plat"])
    pd.testing.assert_frame_equal(synthetic, before)


def test_non_numeric_feature_is_named(synthetic):
    with pytest.raises(ValueError, match="non-numeric.*Metadata_Well"):
        cm.aggregate(synthetic, FEATURES + ["Metadata_Well"], "Metadata_Plate")


def test_empty_frame(synthetic):
    with pytest.raises(ValueError, match="no rows"):
        cm.normalize(synthetic.iloc[:0], FEATURES, "Metadata_Plate", {"Metadata_pert_type": "negcon"})


@pytest.mark.parametrize(
    "call",
    [
        lambda f: cm.aggregate(f, FEATURES, "Metadata_Plate", "average"),
        lambda f: cm.normalize(f, FEATURES, "Metadata_Plate", {"Metadata_pert_type": "negcon"}, "zscore"),
        lambda f: cm.select_features(f, FEATURES, operation="pca"),
    ],
)
def test_unknown_operation_lists_choices(synthetic, call):
    with pytest.raises(ValueError, match="choose one of"):
        call(synthetic)


def test_no_control_rows(synthetic):
    with pytest.raises(ValueError, match="no negative-control rows"):
        cm.normalize(synthetic, FEATURES, "Metadata_Plate", {"Metadata_pert_type": "ctl_vehicle"})


def test_missing_sqlite_file_and_table(tmp_path, fixture_sqlite):
    with pytest.raises(ValueError, match="not found.*nope.sqlite"):
        SQLiteTable(tmp_path / "nope.sqlite", "Cells")
    assert not (tmp_path / "nope.sqlite").exists()
    with pytest.raises(ValueError, match="table 'Cellz' not found"):
        SQLiteTable(fixture_sqlite, "Cellz")
    not_sqlite = tmp_path / "text.sqlite"
    not_sqlite.write_text("hello, not a database\n" * 20)
    with pytest.raises(ValueError, match="cannot read"):
        SQLiteTable(not_sqlite, "Cells")


def test_missing_column_in_database_table(fixture_sqlite):
    with pytest.raises(ValueError, match="m_intensities_meen"):
        cm.aggregate(SQLiteTable(fixture_sqlite, "view_intensities"), ["m_intensities_meen"], "g_well")


def test_r_error_becomes_value_error(synthetic):
    frame = synthetic.copy()
    frame["flat"] = 1.0
    with pytest.raises(cm.CytominerError, match="constant or missing: flat"):
        cm.select_features(frame, FEATURES + ["flat"], operation="correlation_threshold")


def test_missing_r_gives_one_clear_message(monkeypatch):
    monkeypatch.setattr(cm.RSession, "_instance", None)
    monkeypatch.setitem(sys.modules, "rpy2.robjects", None)
    with pytest.raises(cm.RBackendUnavailable, match="make setup"):
        cm.RSession.get()
    assert cm.r_available() is False


def test_no_warnings_on_clean_input(synthetic):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cm.normalize(synthetic, FEATURES, "Metadata_Plate", {"Metadata_pert_type": "negcon"})


def test_probe_names_survive_the_database_path(synthetic, tmp_path):
    """L1000 probe ids start with a digit; dbplyr/cytominer fail on them unmapped."""
    import sqlite3

    path = tmp_path / "wells.sqlite"
    with sqlite3.connect(path) as con:
        synthetic.fillna(0).to_sql("wells", con, index=False)
    table = SQLiteTable(path, "wells")
    strata = ["Metadata_Plate", "Metadata_Well"]
    in_db = cm.aggregate(table, FEATURES, strata, "mean+sd")
    expected = synthetic.fillna(0).groupby(strata)[FEATURES].agg(["mean", "std"])
    assert "200814_at_mean" in in_db.columns and "200814_at_sd" in in_db.columns
    np.testing.assert_allclose(in_db["200814_at_mean"], expected[("200814_at", "mean")], atol=1e-10)
    np.testing.assert_allclose(in_db["200814_at_sd"], expected[("200814_at", "std")], atol=1e-10)
    normalized = cm.normalize(table, FEATURES, "Metadata_Plate", {"Metadata_pert_type": "negcon"})
    assert list(normalized.columns) == list(synthetic.columns)
    params = normalized.normalization_parameters
    assert set(params["feature"]) == set(FEATURES)


def test_awkward_metadata_dtypes_come_back_unchanged(synthetic):
    """Categoricals, nullable integers and booleans convert badly through rpy2 by default."""
    frame = synthetic.copy()
    frame["Metadata_Plate"] = frame["Metadata_Plate"].astype("category")
    frame["Metadata_Site"] = frame["Metadata_Site"].astype("Int64")
    frame.loc[frame.index[:5], "Metadata_Site"] = pd.NA
    frame["Metadata_flag"] = (frame["Metadata_Well"] == "A01")
    out = cm.aggregate(frame, ["Cells_AreaShape_Area"], ["Metadata_Plate", "Metadata_Site", "Metadata_flag"])
    assert out["Metadata_Plate"].dtype == frame["Metadata_Plate"].dtype
    assert out["Metadata_Site"].dtype == "Int64" and out["Metadata_Site"].isna().any()
    assert out["Metadata_Site"].dropna().min() >= 1  # never -2147483648
    assert set(out["Metadata_flag"]) == {True, False}
    expected = frame.groupby(["Metadata_Plate", "Metadata_Site", "Metadata_flag"], dropna=False,
                             observed=True)["Cells_AreaShape_Area"].mean()
    assert len(out) == len(expected)
    np.testing.assert_allclose(np.sort(out["Cells_AreaShape_Area"]), np.sort(expected.to_numpy()), atol=1e-10)
