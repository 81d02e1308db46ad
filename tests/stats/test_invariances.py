"""Property tests: row order, perturbation names and unrelated perturbations do not change a statistic."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rosetta_stats as rs

FEATURES = [f"Cells_f{i}" for i in range(6)]


def _frame(seed: int, n_perts: int, reps: int, n_controls: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = np.repeat(np.arange(n_perts), reps)
    values = rng.normal(size=(n_perts, 6))[index] * 0.8 + rng.normal(size=(len(index), 6))
    frame = pd.DataFrame(np.vstack([values, rng.normal(size=(n_controls, 6))]), columns=FEATURES)
    frame["pert"] = [f"p{i}" for i in index] + ["DMSO"] * n_controls
    return frame


cases = st.tuples(st.integers(0, 10_000), st.integers(3, 12), st.integers(2, 4), st.integers(0, 10_000))


def _replicates(frame):
    table = rs.replicate_reproducibility(frame, "pert", FEATURES, null="paper").table
    return table.set_index("perturbation")["replicate_correlation"]


def _map(frame):
    table = rs.mean_average_precision(frame, "pert", FEATURES, controls={"pert": "DMSO"}, n_null=20).table
    return table.set_index("perturbation")["mean_average_precision"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases)
def test_row_order_does_not_matter(case):
    seed, n_perts, reps, shuffle_seed = case
    frame = _frame(seed, n_perts, reps)
    shuffled = frame.sample(frac=1.0, random_state=shuffle_seed)
    pd.testing.assert_series_equal(_replicates(frame), _replicates(shuffled), atol=1e-12)
    pd.testing.assert_series_equal(_map(frame), _map(shuffled), atol=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases)
def test_relabelling_perturbations_moves_the_numbers_with_them(case):
    seed, n_perts, reps, label_seed = case
    frame = _frame(seed, n_perts, reps)
    names = sorted(set(frame["pert"]) - {"DMSO"})
    new = dict(zip(names, np.random.default_rng(label_seed).permutation([f"x{i}" for i in range(len(names))])))
    relabelled = frame.assign(pert=frame["pert"].map(lambda p: new.get(p, p)))
    before, after = _replicates(frame), _replicates(relabelled)
    np.testing.assert_allclose(before.rename(new).sort_index(), after.sort_index(), atol=1e-12)
    before, after = _map(frame), _map(relabelled)
    np.testing.assert_allclose(before.rename(new).sort_index(), after.sort_index(), atol=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases)
def test_an_unrelated_perturbation_changes_no_one_else(case):
    seed, n_perts, reps, extra_seed = case
    frame = _frame(seed, n_perts, reps)
    rng = np.random.default_rng(extra_seed)
    extra = pd.DataFrame(rng.normal(size=(3, 6)), columns=FEATURES).assign(pert="newcomer")
    bigger = pd.concat([frame, extra], ignore_index=True)
    pd.testing.assert_series_equal(_replicates(frame), _replicates(bigger).drop("newcomer"), atol=1e-12)
    # against the controls only, a newcomer is never a negative of anyone else
    pd.testing.assert_series_equal(_map(frame), _map(bigger).drop("newcomer"), atol=1e-12)
