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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cleaning_in_the_frames_own_buffer_equals_cleaning_a_copy(dtype):
    """inplace=True (what read_profiles uses) works in the reader's matrix; the result is the same table,
    built here with pandas step by step. 9,000 rows: the row-block scans cross block edges."""
    rng = np.random.default_rng(5)
    values = rng.normal(size=(9000, 12)).astype(dtype)
    values[rng.random(values.shape) < 0.01] = np.nan
    values[100, 2], values[8000, 9] = np.inf, -np.inf
    values[:, 4] = 3.0  # flat: dropped
    values[rng.random(9000) < 0.2, 7] = np.nan  # sparse: dropped
    names = [f"Cells_{i}" for i in range(12)]
    meta = pd.DataFrame({"pert": rng.choice(list("abc"), 9000)})
    frame = pd.concat([meta, pd.DataFrame(values.copy(), columns=names, copy=False)], axis=1, copy=False)
    own = rs.Profiles.from_frame(frame, "cp", "pert", copy=False)
    assert cleaning.writable_block(frame, names) is not None  # the buffer is reachable in place
    cleaned = rs.clean_profiles(own, inplace=True)
    expected = pd.DataFrame(values, columns=names).replace([np.inf, -np.inf], np.nan)
    expected = expected.drop(columns=["Cells_4", "Cells_7"]).interpolate(method="linear", axis=0)
    assert list(cleaned.features) == list(expected.columns)
    assert cleaned.data[list(cleaned.features)].dtypes.eq(dtype).all()
    np.testing.assert_allclose(cleaned.data[list(cleaned.features)].to_numpy(), expected.to_numpy(),
                               rtol=1e-6, atol=1e-6 if dtype == np.float32 else 1e-12)
    copied = rs.clean_profiles(rs.Profiles.from_frame(pd.DataFrame(values, columns=names).assign(pert="p"), "cp",
                                                      "pert"))
    np.testing.assert_array_equal(copied.data[list(copied.features)].to_numpy(),
                                  cleaned.data[list(cleaned.features)].to_numpy())


def test_columns_are_compacted_in_place():
    values = np.arange(5000 * 6, dtype=float).reshape(5000, 6)
    expected = values[:, [0, 2, 5]].copy()
    kept = cleaning.compact_columns(values, np.array([True, False, True, False, False, True]))
    assert np.shares_memory(kept, values)
    np.testing.assert_array_equal(kept, expected)
