"""read_profiles(dtype=, cache=): float32 features, and a cache beside the file that is used only while valid."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs
from rosetta_stats.data.profile_cache import cache_path, remove_cache


def _write(path, rows=40, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, 6)), columns=[f"Cells_f{i}" for i in range(6)])
    frame.insert(0, "Metadata_pert", [f"p{i % 8}" if i % 10 else None for i in range(rows)])
    frame.insert(1, "Metadata_dose", np.where(np.arange(rows) % 3, 10, 0.5))
    frame.insert(2, "Metadata_count", np.arange(rows))
    frame.loc[3, "Cells_f2"] = np.nan
    frame.to_csv(path, index=False)
    return frame


def _read(path, **options):
    return rs.read_profiles(path, "cp", perturbation="Metadata_pert", **options)


@pytest.mark.parametrize("dtype", [None, "float32"])
def test_a_second_load_from_the_cache_equals_the_first(tmp_path, dtype):
    path = tmp_path / "plate.csv.gz"
    _write(path)
    first = _read(path, dtype=dtype, cache=True)
    assert cache_path(path).is_file()
    second = _read(path, dtype=dtype, cache=True)
    pd.testing.assert_frame_equal(first.data, second.data)
    assert first.notes == second.notes and first.features == second.features
    plain = _read(path, dtype=dtype)
    pd.testing.assert_frame_equal(plain.data, second.data)
    expected = np.float32 if dtype else np.float64
    assert all(second.data[f].dtype == expected for f in second.features)


def test_the_cache_is_not_used_once_the_file_changes(tmp_path):
    path = tmp_path / "plate.csv"
    _write(path, seed=0)
    before = _read(path, cache=True)
    _write(path, rows=41, seed=1)
    os.utime(path, ns=(1, 1))  # a different time stamp as well
    after = _read(path, cache=True)
    assert len(after.data) == 41 and not before.data["Cells_f0"].equals(after.data["Cells_f0"].iloc[:40])
    assert remove_cache(path) and not cache_path(path).exists()


def test_a_file_the_package_did_not_write_is_never_replaced(tmp_path):
    path = tmp_path / "plate.csv"
    _write(path)
    cache_path(path).write_text("mine")
    with pytest.warns(UserWarning, match="not a cache this package wrote"):
        profiles = _read(path, cache=True)
    assert cache_path(path).read_text() == "mine" and len(profiles.data) == 40
    assert not remove_cache(path) and cache_path(path).read_text() == "mine"


def test_float32_reading_names_text_in_a_feature_column(tmp_path):
    path = tmp_path / "plate.csv"
    frame = _write(path)
    frame["Cells_f1"] = frame["Cells_f1"].astype(object)
    frame.loc[5, "Cells_f1"] = "oops"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match="plate.csv: a feature column holds text"):
        _read(path, dtype="float32")
    with pytest.raises(ValueError, match="floating-point"):
        _read(path, dtype="int32")


@pytest.mark.parametrize("dtype", [None, "float32"])
def test_reading_in_chunks_gives_what_one_read_gives(tmp_path, monkeypatch, dtype):
    from rosetta_stats.data import csv_engine, read

    path = tmp_path / "plate.csv.gz"
    frame = _write(path, rows=45)
    frame["Metadata_mixed"] = [str(i) for i in range(30)] + ["A"] * 15  # numbers in early chunks, text later
    frame["Metadata_late_na"] = [1] * 40 + [None] * 5
    frame.to_csv(path, index=False)
    whole = _read(path, dtype=dtype, clean=False).data
    monkeypatch.setattr(csv_engine, "CSV_CHUNK_ROWS", 7)
    chunked = _read(path, dtype=dtype, clean=False).data
    expected = pd.read_csv(path)
    features = [c for c in expected.columns if c.startswith("Cells_")]
    if dtype:
        expected[features] = expected[features].astype(dtype)
    pd.testing.assert_frame_equal(chunked, expected)
    pd.testing.assert_frame_equal(whole, expected)
    frame.loc[30, "Cells_f3"] = "text"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match="non-numeric feature column"):
        _read(path, clean=False)
