"""Calibration of every p-value producer, on simulated nulls of several shapes and under planted signal.

The simulations here are written independently of ``rosetta_stats.simulate_*``:
plain Gaussian or t-distributed wells, latent-factor correlated features,
unequal replicate counts, and compounds measured at several doses (grouped
rows). Under the null the share of p <= 0.05 must sit within binomial error of
0.05 (three standard deviations, one-sided where permutation p-values are
conservative by construction); under planted signal Benjamini-Hochberg at
q = 0.1 must keep the false-discovery proportion, averaged over runs, at or
below q (plus binomial error).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs
from rosetta_stats.stats.prediction.predictability import pcr_f_test

pytestmark = pytest.mark.slow

ALPHA = 0.05
Q = 0.1


def within_binomial(p_values, alpha=ALPHA, lower=True, n_effective=None):
    """The share of p <= alpha is within 3 binomial sd of alpha (above it; also below, if ``lower``)."""
    p = np.asarray(p_values, float)
    p = p[~np.isnan(p)]
    n = n_effective or len(p)
    rate = float(np.mean(p <= alpha))
    sd = np.sqrt(alpha * (1 - alpha) / n)
    assert rate <= alpha + 3 * sd, f"false-positive rate {rate:.3f} > {alpha} + 3 sd ({sd:.3f}), n={n}"
    if lower:
        assert rate >= alpha - 3 * sd, f"false-positive rate {rate:.3f} < {alpha} - 3 sd ({sd:.3f}), n={n}"
    return rate


def false_discovery_proportion(q_values, is_null) -> float:
    called = np.asarray(q_values) < Q
    return float((called & np.asarray(is_null)).sum() / max(called.sum(), 1))


# ---------------------------------------------------------------- replicate-level simulations

def _noise(rng, shape, shape_name):
    if shape_name == "heavy":
        return rng.standard_t(3, size=shape)
    if shape_name == "very heavy":  # infinite variance: the t-test's p <= 0.001 comes 6-7 times too often
        return rng.standard_t(2, size=shape)
    if shape_name == "correlated":
        return rng.normal(size=(shape[0], 3)) @ rng.normal(size=(3, shape[1])) + 0.5 * rng.normal(size=shape)
    return rng.normal(size=shape)


def wells(rng, shape_name="plain", n_perts=60, n_features=20, signal=0.0, share=0.5, n_controls=24):
    """Replicate wells (+ control wells); the first ``share`` of perturbations carry an effect."""
    if shape_name == "small":
        n_perts, n_features = 12, 10
    reps = rng.integers(2, 7, n_perts) if shape_name == "unequal" else np.full(n_perts, 3 if shape_name != "small" else 2)
    active = np.arange(n_perts) < int(share * n_perts) if signal else np.zeros(n_perts, bool)
    effects = rng.normal(size=(n_perts, n_features)) * signal * active[:, None]
    index = np.repeat(np.arange(n_perts), reps)
    noise = _noise(rng, (len(index) + n_controls, n_features), shape_name)  # one distribution for every well
    values = effects[index] + noise[:len(index)]
    controls = noise[len(index):]
    frame = pd.DataFrame(np.vstack([values, controls]), columns=[f"Cells_f{i}" for i in range(n_features)])
    frame["pert"] = [f"p{i:03d}" for i in index] + ["DMSO"] * n_controls
    return frame, {f"p{i:03d}": bool(a) for i, a in enumerate(active)}


NULL_SHAPES = ["plain", "small", "unequal", "correlated", "heavy"]


@pytest.mark.parametrize("shape", NULL_SHAPES)
def test_replicate_p_values_are_calibrated_under_the_null(shape):
    rng = np.random.default_rng(100)
    p = []
    for _ in range(8 if shape == "small" else 4):
        frame, _ = wells(rng, shape)
        frame = frame[frame["pert"] != "DMSO"]
        result = rs.replicate_reproducibility(frame, "pert", [c for c in frame if c.startswith("Cells_")],
                                              n_null=400, seed=int(rng.integers(1 << 30)))
        p.extend(result.table["p_value"])
    within_binomial(p)


@pytest.mark.parametrize("negatives", ["negcon", "others"])
@pytest.mark.parametrize("shape", NULL_SHAPES)
def test_map_p_values_are_calibrated_under_the_null(shape, negatives):
    rng = np.random.default_rng(200)
    p = []
    for _ in range(8 if shape == "small" else 4):
        frame, _ = wells(rng, shape)
        features = [c for c in frame if c.startswith("Cells_")]
        result = rs.mean_average_precision(frame, "pert", features, controls={"pert": "DMSO"}, n_null=400,
                                           seed=int(rng.integers(1 << 30)), negatives=negatives)
        p.extend(result.table["p_value"])
    # the rank null compares a group's mean AP with one query's AP: conservative by construction (the mean of
    # a group's queries varies less than one query), and mAP is discrete: never liberal, so one-sided
    within_binomial(p, lower=False)


def test_map_p_values_one_perturbation_of_interest_per_simulation():
    """The audit's shape: k = 4 replicates, 24 controls, the one perturbation scored against its own null."""
    rng = np.random.default_rng(300)
    p = []
    for _ in range(300):
        values = rng.normal(size=(4 + 3 * 10 + 24, 15))
        frame = pd.DataFrame(values, columns=[f"Cells_{i}" for i in range(15)])
        frame["pert"] = ["target"] * 4 + [f"o{i}" for i in np.repeat(np.arange(10), 3)] + ["DMSO"] * 24
        result = rs.mean_average_precision(frame, "pert", list(frame.columns[:15]), controls={"pert": "DMSO"},
                                           n_null=200, seed=int(rng.integers(1 << 30)))
        p.append(result.table.set_index("perturbation").loc["target", "p_value"])
    within_binomial(p)
    within_binomial(p, alpha=0.1)


@pytest.mark.parametrize("producer", ["replicates", "map", "map_others"])
def test_bh_keeps_the_false_discovery_proportion_under_planted_signal(producer):
    rng = np.random.default_rng(400)
    fdp = []
    for _ in range(4):
        frame, active = wells(rng, "unequal", n_perts=80, signal=0.6 if producer == "replicates" else 1.0,
                              share=0.3)
        features = [c for c in frame if c.startswith("Cells_")]
        if producer == "replicates":
            table = rs.replicate_reproducibility(frame[frame["pert"] != "DMSO"], "pert", features, n_null=500,
                                                 seed=1).table
        else:
            table = rs.mean_average_precision(frame, "pert", features, controls={"pert": "DMSO"}, n_null=500,
                                              seed=1, negatives="others" if producer == "map_others" else "negcon"
                                              ).table
        fdp.append(false_discovery_proportion(table["q_value"], ~table["perturbation"].map(active)))
        assert (table["q_value"] < Q).sum() > 0  # the signal is found at all
    assert np.mean(fdp) <= Q + 0.05


# ---------------------------------------------------------------- paired (treatment-level) simulations

def paired_frames(rng, shape="plain", n=60, n_features=15, n_genes=12, signal_genes=0):
    """CP and GE frames of the same rows; genes after ``signal_genes`` are independent of CP."""
    groups = np.arange(n)
    if shape == "small":
        n = 30
        groups = np.arange(n)
    if shape == "grouped":
        n_compounds, doses = 15, 4
        n = n_compounds * doses
        groups = np.repeat(np.arange(n_compounds), doses)
        x = rng.normal(size=(n_compounds, n_features))[groups] * 1.5 + rng.normal(size=(n, n_features))
        y = rng.normal(size=(n_compounds, n_genes))[groups] * 1.5 + rng.normal(size=(n, n_genes))
    else:
        x = _noise(rng, (n, n_features), shape)
        y = _noise(rng, (n, n_genes), shape)
    if signal_genes:
        y[:, :signal_genes] += x[:, :signal_genes] * 1.5
    keys = [f"t{i:03d}" for i in range(n)]
    cp = pd.DataFrame(x, columns=[f"Cells_f{i}" for i in range(n_features)]).assign(pert=keys, compound=groups)
    ge = pd.DataFrame(y, columns=[f"{200000 + i}_at" for i in range(n_genes)]).assign(pert=keys)
    return cp, ge, ("compound" if shape == "grouped" else None)


def null_p_values(seed: int, runs: int, shape: str, producer, column: str = "p_value", **frame_options) -> list:
    """p-values of ``producer(cp, ge, groups, seed)`` over ``runs`` independent null simulations."""
    rng = np.random.default_rng(seed)
    p = []
    for _ in range(runs):
        cp, ge, groups = paired_frames(rng, shape, **frame_options)
        result = producer(cp, ge, groups, int(rng.integers(1 << 30)))
        table = result if isinstance(result, pd.DataFrame) else result.table
        p.extend(table[column])
    return p


PAIRED_SHAPES = ["plain", "small", "correlated", "heavy", "grouped"]


@pytest.mark.parametrize("model", ["ridge", "pcr", "lasso"])
@pytest.mark.parametrize("shape", PAIRED_SHAPES)
def test_gene_predictability_permutation_p_values_under_the_null(model, shape):
    p = null_p_values(500, 4, shape, lambda cp, ge, groups, seed: rs.gene_predictability(
        cp, ge, key="pert", model=model, groups=groups, n_permutations=39, n_components=5, seed=seed))
    # lasso often predicts a constant (R^2 ties with the null): its p-values lean conservative
    within_binomial(p, lower=model != "lasso", n_effective=len(p) // 3)


@pytest.mark.parametrize("shape", PAIRED_SHAPES)
def test_feature_predictability_permutation_p_values_under_the_null(shape):
    p = null_p_values(600, 4, shape, lambda cp, ge, groups, seed: rs.feature_predictability(
        cp, ge, key="pert", groups=groups, n_permutations=39, seed=seed))
    within_binomial(p, n_effective=len(p) // 3)


@pytest.mark.parametrize("shape", PAIRED_SHAPES)
def test_pcr_f_test_under_the_null(shape):
    p = null_p_values(700, 20, shape, lambda cp, ge, groups, seed: rs.gene_predictability(
        cp, ge, key="pert", model="pcr", groups=groups, n_permutations=0, n_components=5), "f_test_p_value")
    within_binomial(p, lower=shape != "heavy", n_effective=len(p) // 2)


@pytest.mark.parametrize("shape", PAIRED_SHAPES)
def test_feature_gene_correlation_t_test_under_the_null(shape):
    p = null_p_values(800, 30, shape, lambda cp, ge, groups, seed: rs.feature_gene_correlation(
        cp, ge, key="pert", groups=groups), n_features=6, n_genes=6)
    within_binomial(p, n_effective=len(p) // 4)


@pytest.mark.parametrize("shape", ["heavy", "grouped"])
def test_feature_gene_correlation_permutation_under_the_null(shape):
    p = null_p_values(900, 30, shape, lambda cp, ge, groups, seed: rs.feature_gene_correlation(
        cp, ge, key="pert", groups=groups, method="permutation", n_permutations=99, seed=seed),
        n_features=6, n_genes=6)
    within_binomial(p, n_effective=len(p) // 4)


@pytest.mark.parametrize("shape", PAIRED_SHAPES)
def test_canonical_correlation_under_the_null(shape):
    p = null_p_values(1000, 60, shape, lambda cp, ge, groups, seed: rs.canonical_correlation(
        cp, ge, key="pert", groups=groups, n_components=1, n_pcs=4, n_permutations=19, seed=seed),
        n_features=8, n_genes=8)
    within_binomial(p, lower=False)


@pytest.mark.parametrize("shape", PAIRED_SHAPES)
def test_mantel_under_the_null(shape):
    p = null_p_values(1100, 60, shape, lambda cp, ge, groups, seed: rs.similarity_concordance(
        cp, ge, key="pert", groups=groups, n_permutations=39, seed=seed), n=40, n_features=8, n_genes=8)
    within_binomial(p, lower=False)


@pytest.mark.parametrize("producer", ["ridge", "correlation"])
def test_paired_producers_keep_the_fdp_under_planted_signal(producer):
    rng = np.random.default_rng(1200)
    fdp = []
    for _ in range(3):
        cp, ge, _ = paired_frames(rng, "plain", n=80, n_features=12, n_genes=30, signal_genes=6)
        if producer == "ridge":
            table = rs.gene_predictability(cp, ge, key="pert", n_permutations=199, seed=2).table
            is_null = ~table["gene"].isin([f"{200000 + i}_at" for i in range(6)])
        else:
            table = rs.feature_gene_correlation(cp, ge, key="pert").table
            signal_pairs = {(f"Cells_f{i}", f"{200000 + i}_at") for i in range(6)}
            is_null = ~pd.Series(list(zip(table["feature"], table["gene"]))).isin(signal_pairs)
        assert (table["q_value"] < Q).sum() >= 3
        fdp.append(false_discovery_proportion(table["q_value"], is_null))
    assert np.mean(fdp) <= Q + 0.05


def test_the_pcr_f_test_twin_is_the_same_function():
    """pcr_f_test on group means is what the grouped PCR model reports (no hidden second test)."""
    rng = np.random.default_rng(1300)
    cp, ge, groups = paired_frames(rng, "grouped")
    result = rs.gene_predictability(cp, ge, key="pert", model="pcr", groups=groups, n_permutations=0,
                                    n_components=5)
    features = [c for c in cp if c.startswith("Cells_")]
    genes = [c for c in ge if c.endswith("_at")]
    z = lambda frame: (frame - frame.mean()) / frame.std(ddof=0)  # noqa: E731  (rows z-scored first, as fed)
    x = z(cp[features]).groupby(cp["compound"]).mean().to_numpy()
    y = z(ge[genes]).groupby(cp["compound"]).mean().to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = pcr_f_test(x, y, 5)
    np.testing.assert_allclose(result.table["f_test_p_value"], expected, rtol=1e-6)


# ---------------------------------------------------------------- well-level rows, default arguments

def _well_level_pair(rng, n_perts=40, n_replicates=4, n_features=20, n_genes=50):
    """Replicate wells keyed by a unique well id; a perturbation column repeats; GE independent of CP."""
    index = np.repeat(np.arange(n_perts), n_replicates)
    cp = pd.DataFrame(rng.normal(size=(n_perts, n_features))[index] + 0.5 * rng.normal(size=(len(index), n_features)),
                      columns=[f"Cells_f{i}" for i in range(n_features)])
    ge = pd.DataFrame(rng.normal(size=(n_perts, n_genes))[index] + 0.5 * rng.normal(size=(len(index), n_genes)),
                      columns=[f"{200000 + i}_at" for i in range(n_genes)])
    wells = [f"P{j // 96}_{'ABCDEFGH'[(j % 96) // 12]}{j % 12 + 1:02d}" for j in range(len(index))]
    for frame in (cp, ge):
        frame["well"] = wells
        frame["perturbation"] = [f"p{i}" for i in index]
    return cp, ge


def test_well_level_predictability_with_default_arguments_is_calibrated():
    """Replicates keep their perturbation's signal; without grouping, a replicate in the test fold is
    predicted from its twins in the training fold (the audit: 57 % of noise genes called). The default
    groups the rows by the repeating perturbation column."""
    rng = np.random.default_rng(21)
    p_values = []
    for run in range(60):
        cp, ge = _well_level_pair(rng)
        result = rs.gene_predictability(cp, ge, key="well", n_permutations=99, seed=run)
        assert any("keep the rows of one perturbation together" in n for n in result.notes)
        p_values.append(result.table["p_value"].to_numpy())
    # genes are independent of each other but share each run's permutations: count a fifth as effective
    p_values = np.concatenate(p_values)
    within_binomial(p_values, n_effective=len(p_values) // 5, lower=False)


def test_unique_well_keys_without_a_perturbation_column_warn():
    cp, ge = _well_level_pair(np.random.default_rng(0), n_genes=5)
    with pytest.warns(UserWarning, match="looks like wells"):
        rs.gene_predictability(cp.drop(columns="perturbation"), ge.drop(columns="perturbation"), key="well",
                               n_permutations=0)


def test_feature_gene_correlation_default_is_calibrated_far_in_the_tail_on_heavy_tails():
    """t(2) noise: the t-test's p <= 0.001 comes 6-7 times too often; the default notices the tails and
    permutes (smallest p 1/1001), keeping the rate within binomial error at 0.001 as well as at 0.05."""
    p = null_p_values(1400, 300, "very heavy", lambda cp, ge, groups, seed: rs.feature_gene_correlation(
        cp, ge, key="pert", seed=seed), n_features=6, n_genes=6)
    within_binomial(p, alpha=0.001, n_effective=len(p) // 4, lower=False)
    within_binomial(p, n_effective=len(p) // 4)


def test_feature_gene_correlation_default_stays_the_t_test_on_gaussian_data():
    cp, ge, _ = paired_frames(np.random.default_rng(1401), "plain")
    result = rs.feature_gene_correlation(cp, ge, key="pert")
    assert result.settings["method"] == "t" and not any("heavy tails" in n for n in result.notes)


@pytest.mark.parametrize("shape", ["heavy", "very heavy"])
def test_pcr_f_test_default_is_calibrated_on_heavy_tails(shape):
    p = null_p_values(1500, 250, shape, lambda cp, ge, groups, seed: rs.gene_predictability(
        cp, ge, key="pert", model="pcr", n_permutations=0, n_components=5, seed=seed), "f_test_p_value")
    within_binomial(p, n_effective=len(p) // 2)


def _few_perturbations(rng, signal):
    perts = np.r_[np.repeat(["a", "b", "c"], 10), ["ctl"] * 6]
    codes = pd.factorize(perts)[0]
    effect = rng.normal(size=(4, 8)) * signal
    frame = pd.DataFrame(effect[codes] + rng.normal(size=(len(perts), 8)), columns=[f"Cells_f{i}" for i in range(8)])
    return frame.assign(pert=perts, kind=np.where(perts == "ctl", "negcon", "trt"))


def test_replicate_p_values_when_replicates_outnumber_perturbations():
    """3 perturbations x 10 replicates: no null set of 10 different perturbations exists (the p-values were
    NaN); the fallback null is calibrated and still finds real replicates."""
    rng = np.random.default_rng(1600)
    p = np.concatenate([rs.replicate_reproducibility(_few_perturbations(rng, 0.0), "pert",
                                                     controls={"kind": "negcon"}, n_null=199, seed=s).table["p_value"]
                        for s in range(200)])
    assert not np.isnan(p).any()
    within_binomial(p, n_effective=len(p) // 2)
    found = rs.replicate_reproducibility(_few_perturbations(rng, 1.0), "pert", controls={"kind": "negcon"}, seed=0)
    assert (found.table["p_value"] < 0.05).all()
    assert any("more replicates than there are perturbations" in n for n in found.notes)
