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


# ---------------------------------------------------------------- caches that must not be trusted

def _rewrite_cache(path, change):
    """Load the cache's arrays, let ``change`` edit them (and the record), save it back in place."""
    import json
    with np.load(cache_path(path), allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    record = json.loads(str(arrays.pop("record")))
    change(arrays, record)
    with open(cache_path(path), "wb") as handle:
        np.savez(handle, record=np.array(json.dumps(record)), **arrays)


def test_a_file_restored_with_its_old_time_stamp_is_not_served_from_the_old_cache(tmp_path):
    path = tmp_path / "plate.csv"
    _write(path, seed=0)
    stamp = os.stat(path)
    _read(path, cache=True)
    _write(path, seed=1)  # same size, other values, then the old time stamp put back (cp -p, rsync -t, tar x)
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    fresh = _read(path, cache=True)
    pd.testing.assert_frame_equal(fresh.data, _read(path).data)
    assert any("made from another file" in n for n in fresh.notes)


@pytest.mark.parametrize("tamper", ["all_42", "one_row_short", "pickled", "text_codes"])
def test_a_tampered_cache_is_ignored_rebuilt_and_said(tmp_path, tamper):
    path = tmp_path / "plate.csv"
    _write(path)
    _read(path, cache=True)

    def change(arrays, record):
        if tamper == "all_42":
            arrays["features"][:] = 42.0
        elif tamper == "one_row_short":
            arrays["features"] = arrays["features"][:-1]
        elif tamper == "text_codes":
            arrays["c0"][:] = 999
        else:
            arrays["features"] = np.array([object()] * 3, dtype=object)
    if tamper == "pickled":
        import json
        with np.load(cache_path(path), allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        arrays["features"] = np.array([{"a": 1}], dtype=object)
        with open(cache_path(path), "wb") as handle:
            np.savez(handle, **arrays)
    else:
        _rewrite_cache(path, change)
    loaded = _read(path, cache=True)
    pd.testing.assert_frame_equal(loaded.data, _read(path).data)
    assert any("failed its checks" in n for n in loaded.notes), loaded.notes
    assert not any("failed its checks" in n for n in _read(path, cache=True).notes)  # rebuilt


def test_a_killed_writes_temporary_is_cleared_on_the_next_load(tmp_path):
    path = tmp_path / "plate.csv"
    _write(path)
    leftover = tmp_path / f".{cache_path(path).name}.999999999.abcd.tmp"  # a pid that cannot be running
    leftover.write_bytes(b"x" * 1000)
    _read(path, cache=True)
    assert not leftover.exists()


def test_long_text_cells_cost_their_length_once(tmp_path):
    path = tmp_path / "plate.csv"
    frame = _write(path, rows=400)
    frame["Metadata_note"] = ["x" * 20_000 if i == 0 else "short" for i in range(len(frame))]
    frame.to_csv(path, index=False)
    _read(path, cache=True)
    assert cache_path(path).stat().st_size < 3 * path.stat().st_size


def test_a_linked_cache_path_is_not_followed(tmp_path):
    path = tmp_path / "plate.csv"
    _write(path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    cache_path(path).symlink_to(victim)
    with pytest.warns(UserWarning, match="not a cache this package wrote"):
        _read(path, cache=True)
    assert victim.read_text() == "precious" and cache_path(path).is_symlink()
