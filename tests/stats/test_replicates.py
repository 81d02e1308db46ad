"""Replicate reproducibility against a brute-force loop, the paper's threshold, calibrated p-values."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import rosetta_stats as rs
import rosetta_stats.data.cleaning
from rosetta_stats.stats.replicates import replicate_reproducibility


def brute_force_replicate_correlation(frame, perturbation, features):
    """The paper's loop, written plainly: interpolate, per perturbation drop duplicates, mean pair corr."""
    values = frame[features].interpolate(method="linear", axis=0)  # forward only, as pandas (and the paper)
    data = pd.concat([frame[[perturbation]], values], axis=1)
    out = {}
    for pert, group in data.groupby(perturbation):
        rows = group[features].drop_duplicates().to_numpy()
        if len(group) < 2:
            out[pert] = np.nan
            continue
        pairs = [stats.pearsonr(rows[i], rows[j])[0] for i, j in itertools.combinations(range(len(rows)), 2)]
        out[pert] = np.mean(pairs) if pairs else np.nan
    return pd.Series(out)


@pytest.fixture()
def messy():
    rng = np.random.default_rng(0)
    perts = np.r_[np.repeat([f"p{i}" for i in range(30)], rng.integers(1, 6, 30)), ["solo"]]
    frame = pd.DataFrame(rng.normal(size=(len(perts), 12)), columns=[f"Cells_f{i}" for i in range(12)])
    frame.insert(0, "pert", perts)
    frame.iloc[3, 4] = np.nan
    frame.iloc[10, 2] = np.nan
    frame = pd.concat([frame, frame.iloc[[5]]], ignore_index=True)  # a duplicate row
    return frame.sample(frac=1, random_state=1).reset_index(drop=True)


def test_equals_brute_force_loop(messy):
    features = [c for c in messy.columns if c.startswith("Cells_")]
    result = replicate_reproducibility(messy, "pert", features, null="paper")
    expected = brute_force_replicate_correlation(messy, "pert", features)
    ours = result.table.set_index("perturbation")["replicate_correlation"]
    np.testing.assert_allclose(ours.loc[expected.index].to_numpy(), expected.to_numpy(), atol=1e-10)
    assert np.isnan(ours["solo"])


def test_null_p_values_are_uniform_and_fdr_is_kept():
    # exchangeable null: without plate offsets, replicates and random draws look alike
    sim = rs.simulate_paired(n_perturbations=300, n_replicates=3, reproducible_cp=0.0,
                             plate_effect=0.0, seed=8)
    cp = rs.Profiles.from_frame(sim.cp[sim.cp["pert_type"] == "trt"], "cp",
                                "Metadata_broad_sample", "Metadata_Plate")
    result = replicate_reproducibility(cp, n_null=500, seed=3)
    p = result.table["p_value"].dropna()
    assert stats.kstest(p, "uniform").pvalue > 0.01
    assert (result.table["q_value"] < 0.1).mean() <= 0.1


def test_planted_reproducible_perturbations_are_recalled():
    sim = rs.simulate_paired(n_perturbations=200, n_replicates=4, reproducible_cp=0.5, seed=9)
    cp = rs.Profiles.from_frame(sim.cp, "cp", "Metadata_broad_sample", "Metadata_Plate")
    table = replicate_reproducibility(cp, n_null=1000, seed=1).table.set_index("perturbation")
    planted = sorted(sim.truth.reproducible_cp)
    assert (table.loc[planted, "q_value"] < 0.1).mean() >= 0.9
    assert table.loc[planted, "above_threshold"].mean() >= 0.9


def test_taorf_paper_threshold(taorf_l1k_path):
    frame = pd.read_csv(taorf_l1k_path)
    genes = rs.infer_features(frame.columns, "ge")
    thresholds = [replicate_reproducibility(frame, "pert_id", genes, null="paper", seed=s).threshold
                  for s in range(20)]
    reference = pd.read_csv(rs_reference("paper_replicate_correlation.csv.gz"))
    paper = reference.query("dataset == 'taorf' and modality == 'L1000'")["Rand90Perc"].iloc[0]
    assert paper == pytest.approx(0.150, abs=1e-3)
    assert abs(np.mean(thresholds) - paper) < 0.02


def rs_reference(name):
    from tests.conftest import shared_file

    return shared_file(f"reference/{name}")


def test_same_seed_same_numbers_and_bad_input(messy):
    features = [c for c in messy.columns if c.startswith("Cells_")]
    a = replicate_reproducibility(messy, "pert", features, seed=4, n_null=100)
    b = replicate_reproducibility(messy, "pert", features, seed=4, n_null=100)
    pd.testing.assert_frame_equal(a.table, b.table)
    with pytest.raises(ValueError, match="pertt"):
        replicate_reproducibility(messy, "pertt", features)
    with pytest.raises(ValueError, match="at least 2 perturbations"):
        replicate_reproducibility(messy.assign(pert="one"), "pert", features)
    with pytest.raises(ValueError, match="2 or more distinct replicates"):
        replicate_reproducibility(messy.assign(pert=[f"x{i}" for i in range(len(messy))]), "pert", features)
    with pytest.raises(ValueError, match="non-numeric"):
        replicate_reproducibility(messy, "pert", features + ["pert"])
    with pytest.raises(ValueError, match="choose one of"):
        replicate_reproducibility(messy, "pert", features, null="permutation")


def test_per_plate_option_equals_standardizing_first():
    sim = rs.simulate_paired(n_perturbations=60, n_replicates=3, plate_effect=2.0, seed=13)
    cp, _ = sim.to_profiles()
    direct = replicate_reproducibility(cp, plate="Metadata_Plate", null="paper", seed=2)
    manual = replicate_reproducibility(rosetta_stats.data.cleaning.standardize_per_plate(cp), null="paper", seed=2)
    pd.testing.assert_frame_equal(direct.table, manual.table)
    raw = replicate_reproducibility(cp, null="paper", seed=2)
    assert not np.allclose(raw.table["replicate_correlation"].fillna(0),
                           direct.table["replicate_correlation"].fillna(0))
    with pytest.raises(ValueError, match="Metadata_Plat.*did you mean"):
        replicate_reproducibility(cp, plate="Metadata_Plat")


def _wells(seed=0, n_perts=40, reps=3, n_features=30):
    rng = np.random.default_rng(seed)
    effects = rng.normal(size=(n_perts, n_features))
    perts = np.repeat([f"p{i:02d}" for i in range(n_perts)], reps)
    values = effects[np.repeat(np.arange(n_perts), reps)] * (np.arange(n_perts) % 2)[np.repeat(np.arange(n_perts), reps), None]
    values = values + rng.normal(size=values.shape)
    frame = pd.DataFrame(values, columns=[f"Cells_f{i}" for i in range(n_features)])
    frame.insert(0, "pert", perts)
    return frame


@pytest.mark.parametrize("bad", ["zero", "inf", "nan_first_row"])
def test_one_degenerate_well_never_gives_a_nan_threshold(bad):
    frame = _wells()
    features = [c for c in frame.columns if c.startswith("Cells_")]
    clean = replicate_reproducibility(frame, "pert", features, n_null=200, seed=1)
    broken = frame.copy()
    if bad == "zero":
        broken.loc[4, features] = 0.0
    elif bad == "inf":
        broken.loc[4, features[3]] = np.inf
    else:
        broken.loc[0, features[2]] = np.nan  # the paper interpolates forward only: row 0 stays NaN
    result = replicate_reproducibility(broken, "pert", features, n_null=200, seed=1)
    assert np.isfinite(result.threshold)
    assert result.percent_replicating > 0
    assert any("left out 1 row(s) without a correlation" in n for n in result.notes)
    table = result.table.set_index("perturbation")
    assert table["p_value"][table["replicate_correlation"].isna()].isna().all()
    # the affected perturbation is scored on its remaining wells, exactly as the plain loop does
    affected = broken.loc[0 if bad == "nan_first_row" else 4, "pert"]
    kept = broken.drop(index=0 if bad == "nan_first_row" else 4)
    expected = brute_force_replicate_correlation(kept[kept["pert"] == affected].reset_index(drop=True), "pert",
                                                 features)[affected]
    assert table.loc[affected, "replicate_correlation"] == pytest.approx(expected, abs=1e-10)
    assert abs(result.threshold - clean.threshold) < 0.05


def test_huge_values_are_correlated_not_lost():
    frame = _wells(seed=2)
    features = [c for c in frame.columns if c.startswith("Cells_")]
    scaled = frame.copy()
    scaled.loc[5, features] = scaled.loc[5, features] * 1e306  # correlation does not see the scale
    a = replicate_reproducibility(frame, "pert", features, null="paper", seed=0)
    b = replicate_reproducibility(scaled, "pert", features, null="paper", seed=0)
    np.testing.assert_allclose(a.table["replicate_correlation"], b.table["replicate_correlation"], atol=1e-12)
    assert a.threshold == pytest.approx(b.threshold, abs=1e-12)


def test_exact_duplicates_are_all_found_at_l1000_width():
    rng = np.random.default_rng(3)
    perts = np.repeat([f"p{i}" for i in range(100)], 3)
    frame = pd.DataFrame(rng.normal(size=(300, 978)), columns=[f"{i}_at" for i in range(978)]).assign(pert=perts)
    extra = frame.iloc[rng.integers(0, 300, 120)]  # exact copies within their own perturbation
    frame = pd.concat([frame, extra], ignore_index=True).sample(frac=1, random_state=0)
    genes = [c for c in frame.columns if c.endswith("_at")]
    result = replicate_reproducibility(frame, "pert", genes, null="paper")
    expected = int(frame.duplicated().sum())
    assert expected > 100
    assert f"dropped {expected} duplicate row(s)" in " ".join(result.notes)


def test_percent_replicating_counts_only_perturbations_with_replicates():
    frame = _wells(seed=4)
    singles = _wells(seed=5, n_perts=30, reps=1).assign(pert=lambda d: "single_" + d["pert"])
    twins = frame[frame["pert"] == "p01"].iloc[:1]
    identical = pd.concat([twins, twins]).assign(pert="identical")  # all wells equal: no statistic
    data = pd.concat([frame, singles, identical], ignore_index=True)
    features = [c for c in frame.columns if c.startswith("Cells_")]
    result = replicate_reproducibility(data, "pert", features, null="paper", seed=0)
    table = result.table.set_index("perturbation")
    scored = table["replicate_correlation"].notna()
    expected = 100 * (table.loc[scored, "replicate_correlation"] > result.threshold).mean()
    assert result.percent_replicating == pytest.approx(expected)
    assert scored.sum() == 40  # not the 30 singletons, not the identical pair
    assert any("all identical" in n for n in result.notes)


def test_float32_input_gives_the_float64_numbers():
    frame = _wells(seed=6)
    features = [c for c in frame.columns if c.startswith("Cells_")]
    single = frame.astype({f: np.float32 for f in features})
    a = replicate_reproducibility(frame, "pert", features, null="paper", seed=3)
    b = replicate_reproducibility(single, "pert", features, null="paper", seed=3)
    np.testing.assert_allclose(a.table["replicate_correlation"], b.table["replicate_correlation"], atol=1e-5)
    assert abs(a.threshold - b.threshold) < 1e-5


def test_size_matched_null_never_draws_one_perturbation_twice():
    """Five perturbations whose two wells agree closely and differ from everyone else: a null made of wells
    of different perturbations never reaches their correlation, so p is the smallest attainable value."""
    rng = np.random.default_rng(8)
    centres = rng.normal(size=(5, 30))
    values = np.repeat(centres, 2, axis=0) + 0.01 * rng.normal(size=(10, 30))
    frame = pd.DataFrame(values, columns=[f"Cells_{i}" for i in range(30)]).assign(pert=np.repeat(list("abcde"), 2))
    result = replicate_reproducibility(frame, "pert", [f"Cells_{i}" for i in range(30)], n_null=300, seed=1)
    np.testing.assert_array_equal(result.table["p_value"], np.full(5, 1 / 301))
