"""Benjamini-Hochberg with NaNs masked, against statsmodels on the finite p-values alone."""
from __future__ import annotations

import numpy as np
from statsmodels.stats.multitest import multipletests

import rosetta_stats as rs


def test_nan_p_values_stay_nan_and_do_not_count():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=40) ** 3
    p[[3, 17, 25]] = np.nan
    q = rs.bh_qvalues(p)
    finite = ~np.isnan(p)
    np.testing.assert_allclose(q[finite], multipletests(p[finite], method="fdr_bh")[1])
    assert np.isnan(q[~finite]).all()
    # counting the NaNs as tests (m = 40 instead of 37) would inflate every q by 40/37 somewhere
    assert not np.allclose(q[finite], np.minimum(1, multipletests(np.nan_to_num(p, nan=1.0), method="fdr_bh")[1][finite]))


def test_all_nan_and_empty():
    assert np.isnan(rs.bh_qvalues([np.nan, np.nan])).all()
    assert rs.bh_qvalues([]).shape == (0,)
