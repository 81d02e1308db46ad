"""The single-cell simulator: planted well means are recovered by in-database aggregation."""
from __future__ import annotations

import numpy as np
import pytest

import rosetta_stats as rs


@pytest.fixture(scope="module")
def joined(tmp_path_factory):
    path = tmp_path_factory.mktemp("cells") / "cells.sqlite"
    return rs.simulate_single_cells(path, plates=2, wells=24, cells_per_well=60, features=9, seed=5)


def test_aggregation_recovers_planted_means(joined, r_session):
    wells = rs.aggregate(rs.SQLiteTable(joined.path, joined.table), joined.features, joined.strata).table
    merged = wells.merge(joined.well_means, on=joined.strata, suffixes=("", "_truth"))
    assert len(merged) == 48
    error = merged[joined.features].to_numpy() - merged[[f + "_truth" for f in joined.features]].to_numpy()
    cells = rs.SQLiteTable(joined.path, joined.table)
    sd = rs.aggregate(cells, joined.features, joined.strata, "sd").table
    standard_error = sd[joined.features].to_numpy() / np.sqrt(merged["n_cells"].to_numpy())[:, None]
    z = error / standard_error
    assert np.abs(z).max() < 5.5
    assert 0.7 < z.std() < 1.3  # errors are of the size sampling predicts, not zero
    assert merged["n_cells"].sum() == joined.n_cells


def test_compartment_layout_holds_the_same_cells(joined, tmp_path, r_session):
    split = rs.simulate_single_cells(tmp_path / "split.sqlite", plates=2, wells=24, cells_per_well=60,
                                     features=9, layout="compartments", seed=5)
    a = rs.aggregate(rs.SQLiteTable(joined.path, "single_cells"), joined.features, joined.strata).table
    b = rs.aggregate(rs.SQLiteTable(split.path, "single_cells"), split.features, split.strata).table
    np.testing.assert_allclose(a[joined.features].to_numpy(), b[split.features].to_numpy(), atol=1e-12)
    assert set(rs.SQLiteTable(split.path, "Nuclei").columns()) >= {"TableNumber", "ObjectNumber"}


def test_same_seed_same_cells_other_seed_other_cells(tmp_path):
    a = rs.simulate_single_cells(tmp_path / "a.sqlite", plates=1, wells=8, cells_per_well=5, features=3, seed=1)
    b = rs.simulate_single_cells(tmp_path / "b.sqlite", plates=1, wells=8, cells_per_well=5, features=3, seed=1)
    c = rs.simulate_single_cells(tmp_path / "c.sqlite", plates=1, wells=8, cells_per_well=5, features=3, seed=2)
    assert a.well_means.equals(b.well_means)
    assert not a.well_means.equals(c.well_means)
    assert a.path.read_bytes() == b.path.read_bytes()


def test_bad_sizes_and_layout(tmp_path):
    with pytest.raises(ValueError, match="layout"):
        rs.simulate_single_cells(tmp_path / "x.sqlite", layout="wide")
    with pytest.raises(ValueError, match="wells"):
        rs.simulate_single_cells(tmp_path / "x.sqlite", wells=500)
    with pytest.raises(ValueError, match="cells_per_well"):
        rs.simulate_single_cells(tmp_path / "x.sqlite", cells_per_well=0)
    assert not (tmp_path / "x.sqlite").exists()
