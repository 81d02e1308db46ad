"""Benjamini-Hochberg with NaNs masked, against statsmodels on the finite p-values alone."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
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


def test_hierarchical_fdr_by_hand():
    # family A: two strong doses; family B: nothing; family C: one dose at 0.01 of three
    p = np.array([0.001, 0.004, 0.5, 0.6, 0.7, 0.01, 0.8, 0.9])
    families = ["A", "A", "B", "B", "B", "C", "C", "C"]
    out = rs.hierarchical_fdr(p, families, q=0.05)
    simes = {"A": min(2 * 0.001 / 1, 2 * 0.004 / 2), "B": min(3 * 0.5, 3 * 0.6 / 2, 3 * 0.7 / 3),
             "C": min(3 * 0.01, 3 * 0.8 / 2, 3 * 0.9 / 3)}
    np.testing.assert_allclose(out["family_p_value"], [min(1, simes[f]) for f in families])
    family_q = dict(zip("ABC", multipletests([simes["A"], simes["B"], simes["C"]], method="fdr_bh")[1]))
    np.testing.assert_allclose(out["family_q_value"], [family_q[f] for f in families])
    selected = {f for f, q in family_q.items() if q <= 0.05}
    assert selected == {"A", "C"}
    # stage 2: BH within each selected family at q / 2 (q-values doubled)
    within_a = multipletests([0.001, 0.004], method="fdr_bh")[1] * 2
    within_c = multipletests([0.01, 0.8, 0.9], method="fdr_bh")[1] * 2
    np.testing.assert_allclose(out["within_q_value"].to_numpy()[[0, 1, 5, 6, 7]],
                               np.minimum(np.r_[within_a, within_c], 1))
    assert out["within_q_value"].iloc[2:5].isna().all()
    assert out["significant"].tolist() == [True, True, False, False, False, False, False, False]  # C: 0.03 * 2
    bonferroni = rs.hierarchical_fdr(p, families, q=0.05, stage1="bonferroni")
    assert bonferroni["family_p_value"].iloc[0] == pytest.approx(2 * 0.001)
    scaled = rs.hierarchical_fdr(p, families, q=0.05, stage2="scaled")  # Benjamini-Bogomolov: m / R = 3 / 2
    np.testing.assert_allclose(scaled["within_q_value"].to_numpy()[[0, 1]], within_a / 2 * 3 / 2)


def test_hierarchical_fdr_is_calibrated_and_finds_more_than_flat_bh_on_dose_series():
    """Null families never pass more often than q; planted dose series keep FDP <= q with more discoveries."""
    rng = np.random.default_rng(7)
    null_hits, fdp, gained = [], [], []
    for _ in range(300):
        p = rng.uniform(size=(40, 6))
        families = np.repeat(np.arange(40), 6)
        out = rs.hierarchical_fdr(p.ravel(), families, q=0.1)
        null_hits.append(out["significant"].any())
    assert np.mean(null_hits) <= 0.1 + 3 * np.sqrt(0.09 / 300)  # the chance of any discovery under the null
    for _ in range(200):
        active = np.zeros((60, 6), bool)
        active[:10, 3:] = True  # ten compounds act at their three highest doses, more strongly at higher doses
        z = rng.normal(size=(60, 6)) + np.array([0, 0, 0, 2.5, 3.0, 3.5]) * active
        p = stats.norm.sf(z).ravel()
        out = rs.hierarchical_fdr(p, np.repeat(np.arange(60), 6), q=0.1)
        called = out["significant"].to_numpy()
        fdp.append((called & ~active.ravel()).sum() / max(called.sum(), 1))
        gained.append(called.sum() - (multipletests(p, alpha=0.1, method="fdr_bh")[0]).sum())
    assert np.mean(fdp) <= 0.1 + 0.02
    assert np.mean(gained) > 1
