"""The example results rosettabridge ships are what the code computes today, and verify as written."""
from __future__ import annotations

import importlib.util

import pandas as pd
import pytest

import rosetta_stats as rs
from tests.conftest import REPO

SPEC = importlib.util.spec_from_file_location("build_example_results", REPO / "tools" / "build_example_results.py")
builder = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(builder)


@pytest.mark.slow
def test_shipped_example_results_equal_a_fresh_build(tmp_path):
    shipped_tables, shipped = rs.read_results(builder.SHIPPED)  # sha256 of every file checked
    fresh_tables, fresh = rs.read_results(builder.build(tmp_path / "fresh"))
    assert set(shipped_tables) == set(fresh_tables) == {"replicates", "genes"}
    for name in shipped_tables:
        pd.testing.assert_frame_equal(shipped_tables[name], fresh_tables[name], check_exact=False, rtol=1e-12,
                                      obj=f"{name} (rebuild with tools/build_example_results.py)")
        assert shipped["tables"][name]["settings"] == fresh["tables"][name]["settings"], name
