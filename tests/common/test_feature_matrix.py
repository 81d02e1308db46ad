"""feature_matrix copies feature columns exactly as pandas would assemble them, in every layout."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from rosetta_stats.common.feature_matrix import feature_matrix


def _frames(dtype):
    rng = np.random.default_rng(0)
    values = rng.normal(size=(120, 30)).astype(dtype)
    built = pd.DataFrame(values, columns=[f"f{i}" for i in range(30)], copy=False)  # row-major block
    built.insert(0, "pert", "a")
    built["other"] = 1.5
    text = io.StringIO()
    built.to_csv(text, index=False)
    text.seek(0)
    read = pd.read_csv(text, dtype={f"f{i}": dtype for i in range(30)})  # column-major block
    mixed = built.copy()
    mixed["f4"] = mixed["f4"].astype(np.float64)
    return values, [built, read, mixed]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("pick", ["all", "slice", "shuffled", "with_other"])
def test_feature_matrix_equals_pandas(dtype, pick):
    values, frames = _frames(dtype)
    rows = np.random.default_rng(1).random(120) > 0.3
    names = {"all": [f"f{i}" for i in range(30)], "slice": ["f3", "f4", "f5"],
             "shuffled": ["f7", "f2", "f29", "f2"], "with_other": ["f1", "other"]}[pick]
    for frame in frames:
        for keep in (None, rows):
            out = feature_matrix(frame, names, rows=keep)
            expected = frame[names].to_numpy()
            expected = expected if keep is None else expected[keep]
            all_single = all(frame[n].dtype == np.float32 for n in names)
            assert out.dtype == (np.float32 if all_single else np.float64)
            np.testing.assert_array_equal(out, expected.astype(out.dtype))
            assert out.flags.writeable and not np.may_share_memory(out, values)
            out[...] = 0  # the caller may overwrite it: the frame is untouched
            assert frame[names[0]].abs().sum() > 0


def test_feature_matrix_honours_an_explicit_dtype():
    values, frames = _frames(np.float32)
    out = feature_matrix(frames[0], ["f0", "f1"], dtype=np.float64)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, values[:, :2].astype(np.float64))
