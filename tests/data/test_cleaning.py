"""The paper's cleaning steps, one by one."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs
from rosetta_stats.data import cleaning


def test_cleaning_steps_do_what_they_say():
    ok = np.arange(40, dtype=float)
    ok[7], ok[20] = np.nan, np.inf  # 2 of 40 = 5% missing after inf -> NaN: kept
    sparse = np.arange(40, dtype=float)
    sparse[:3] = np.nan  # 7.5% missing: dropped
    frame = pd.DataFrame({"pert": np.repeat(list("abcdefghij"), 4), "plate": list("xy") * 20,
                          "Cells_ok": ok, "Cells_sparse": sparse, "Cells_flat": 2.0})
    p = rs.Profiles.from_frame(frame, "cp", "pert", "plate")
    cleaned = rs.clean_profiles(p)
    assert cleaned.features == ("Cells_ok",)
    np.testing.assert_allclose(cleaned.data["Cells_ok"], np.arange(40))  # linear interpolation
    assert any("Cells_sparse" in n for n in cleaned.notes) and any("Cells_flat" in n for n in cleaned.notes)
    assert np.isinf(frame["Cells_ok"]).sum() == 1  # the caller's frame is untouched
    per_plate = cleaning.standardize_per_plate(cleaned)
    grouped = per_plate.data.groupby("plate")["Cells_ok"]
    np.testing.assert_allclose(grouped.mean(), 0, atol=1e-12)
    np.testing.assert_allclose(grouped.std(), 1)
    with pytest.raises(ValueError, match="every feature was dropped"):
        cleaning.drop_flat_features(rs.Profiles.from_frame(frame[["pert", "Cells_flat"]], "cp", "pert"))


def test_interpolation_is_forward_only_as_the_paper():
    frame = pd.DataFrame({"pert": list("aabb"), "Cells_x": [np.nan, 1.0, np.nan, 3.0],
                          "Cells_y": [1.0, 2.0, 3.0, 4.0]})
    p = rs.Profiles.from_frame(frame, "cp", "pert")
    forward = cleaning.interpolate_missing(p)
    # pandas' own default, written out: the leading NaN stays, the inner one is the mean of its neighbours
    assert forward.data["Cells_x"].isna().tolist() == [True, False, False, False]
    assert forward.data["Cells_x"].iloc[2] == 2.0
    assert "1 before a column's first value stay NaN" in forward.notes[-1]
    both = cleaning.interpolate_missing(p, direction="both")
    assert both.data["Cells_x"].tolist() == [1.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("direction", ["forward", "both"])
def test_vectorised_interpolation_equals_pandas(direction):
    rng = np.random.default_rng(3)
    values = rng.normal(size=(200, 30))
    values[rng.random(values.shape) < 0.2] = np.nan
    values[:5, 3] = np.nan  # leading run
    values[-7:, 4] = np.nan  # trailing run
    values[:, 5] = np.nan  # nothing to interpolate from
    values[:, 6] = np.nan
    values[50, 6] = 2.5  # a single value
    expected = pd.DataFrame(values).interpolate(method="linear", limit_direction=direction, axis=0).to_numpy()
    np.testing.assert_allclose(cleaning.interpolate_down(values, direction), expected, rtol=1e-12, atol=1e-12)
    frame = pd.DataFrame(values, columns=[f"Cells_{i}" for i in range(30)]).assign(pert="p")
    cleaned = cleaning.interpolate_missing(rs.Profiles.from_frame(frame, "cp", "pert"), direction=direction)
    np.testing.assert_allclose(cleaned.data[[f"Cells_{i}" for i in range(30)]].to_numpy(), expected,
                               rtol=1e-12, atol=1e-12)
