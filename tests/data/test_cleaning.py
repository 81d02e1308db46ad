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
