"""Feature categories, their enrichment among selected features, and predictability per category."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import rosetta_stats as rs


def test_names_parse_into_compartment_group_channel():
    table = rs.feature_categories(["Cells_Texture_Contrast_ER_5_0", "Nuclei_Intensity_MeanIntensity_OrigDNA",
                                   "Cytoplasm_Correlation_Correlation_DNA_Mito", "Cells_AreaShape_Area",
                                   "Cells_RadialDistribution_FracAtD_AGP_1of4"]).set_index("feature")
    assert table.loc["Cells_Texture_Contrast_ER_5_0", ["compartment", "group", "channel"]].tolist() == \
        ["Cells", "Texture", "ER"]
    assert table.loc["Nuclei_Intensity_MeanIntensity_OrigDNA", "channel"] == "DNA"
    assert table.loc["Cytoplasm_Correlation_Correlation_DNA_Mito", "channel"] == "DNA_Mito"
    assert table.loc["Cells_AreaShape_Area", "category"] == "Cells-AreaShape"
    assert table.loc["Cells_RadialDistribution_FracAtD_AGP_1of4", "category"] == "AGP-RadialDistribution"


def test_enrichment_is_fishers_exact_test():
    features = [f"Cells_Texture_X_DNA_{i}" for i in range(20)] + [f"Cells_Intensity_X_RNA_{i}" for i in range(30)]
    selected = pd.Series([True] * 12 + [False] * 8 + [True] * 3 + [False] * 27, index=features)
    with pytest.warns(UserWarning, match="treats the features as independent"):
        table = rs.category_enrichment(selected).table.set_index("category")
    assert table.loc["DNA-Texture", "ratio"] == pytest.approx(12 / 20)
    expected = stats.fisher_exact([[12, 8], [3, 27]], alternative="greater")[1]
    assert table.loc["DNA-Texture", "p_value"] == pytest.approx(expected)
    assert table.index[0] == "DNA-Texture"


def test_predictability_by_category_finds_the_informative_channel():
    rng = np.random.default_rng(0)
    n = 120
    signal = rng.normal(size=(n, 2))
    dna = signal @ rng.normal(size=(2, 6)) + 0.5 * rng.normal(size=(n, 6))
    rna = rng.normal(size=(n, 6))
    cp = pd.DataFrame(np.hstack([dna, rna]), columns=[f"Cells_Texture_C_DNA_{i}" for i in range(6)] +
                      [f"Cells_Texture_C_RNA_{i}" for i in range(6)]).assign(pert=[f"t{i}" for i in range(n)])
    genes = signal @ rng.normal(size=(2, 4)) + 0.5 * rng.normal(size=(n, 4))
    ge = pd.DataFrame(genes, columns=["201000_at", "209460_at", "1_at", "2_at"]).assign(pert=cp["pert"])
    table = rs.gene_predictability_by_category(cp, ge, key="pert").table
    by_category = table.groupby("category")["r2"].median()
    assert by_category["DNA-Texture"] > 0.5 > by_category["RNA-Texture"]
    assert set(table["symbol"].dropna()) >= {"AARS1", "ABAT"}


# ----------------------------------------------------------------- the correlation-aware (camera) test

CHANNELS = ("DNA", "RNA", "ER", "AGP")
GROUPS = ("Intensity", "Texture")


def correlated_features(rng, n_rows=50, per_category=10, rho=0.8, signal_category=None, outcome=None):
    """Features in 8 categories (channel x group), correlation ``rho`` within a category, none between;
    with ``signal_category``, that category's shared factor is the outcome itself."""
    columns, names = [], []
    for group in GROUPS:
        for channel in CHANNELS:
            shared = rng.normal(size=n_rows)
            if signal_category == f"{channel}-{group}":
                shared = (outcome - outcome.mean()) / outcome.std()
            block = np.sqrt(rho) * shared[:, None] + np.sqrt(1 - rho) * rng.normal(size=(n_rows, per_category))
            columns.append(block)
            names += [f"Cells_{group}_X_{channel}_{i}" for i in range(per_category)]
    return pd.DataFrame(np.hstack(columns), columns=names)


def selected_by_correlation(frame, outcome, alpha=0.1):
    """Features whose Pearson correlation with the outcome has p < alpha (a selection that inherits the
    features' correlation, as 'predictable features' do)."""
    p = np.array([stats.pearsonr(frame[c], outcome)[1] for c in frame.columns])
    return pd.Series(p < alpha, index=frame.columns)


def test_camera_equals_limma_camera_pr_called_in_r(tmp_path):
    import shutil
    import subprocess
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript not found")
    rng = np.random.default_rng(5)
    frame = correlated_features(rng, rho=0.5)
    score = pd.Series(rng.normal(size=frame.shape[1]), index=frame.columns)
    ours = rs.category_enrichment(score, profiles=frame).table.set_index("category")
    (tmp_path / "score.csv").write_text(score.to_csv(header=["score"]))
    categories = rs.feature_categories(frame.columns).set_index("feature")["category"]
    rho = ours.loc[categories.unique(), "correlation"]
    (tmp_path / "sets.csv").write_text(categories.to_csv(header=["category"]))
    (tmp_path / "rho.csv").write_text(rho.to_csv(header=["rho"]))
    code = """
        s <- read.csv("score.csv", row.names = 1); sets <- read.csv("sets.csv", row.names = 1)
        rho <- read.csv("rho.csv", row.names = 1)
        statistic <- setNames(s$score, rownames(s))
        index <- split(rownames(sets), sets$category)[rownames(rho)]
        out <- limma::cameraPR(statistic, index, inter.gene.cor = rho$rho, sort = FALSE)
        one_sided <- ifelse(out$Direction == "Up", out$PValue / 2, 1 - out$PValue / 2)
        write.csv(data.frame(category = rownames(out), p = one_sided), "limma.csv", row.names = FALSE)
    """
    done = subprocess.run(["Rscript", "-e", code], cwd=tmp_path, capture_output=True, text=True)
    if "there is no package called" in done.stderr:
        pytest.skip("limma is not installed")
    assert done.returncode == 0, done.stderr
    limma = pd.read_csv(tmp_path / "limma.csv").set_index("category")["p"]
    np.testing.assert_allclose(ours.loc[limma.index, "p_value"], limma, rtol=1e-10)


def test_mean_correlation_is_the_mean_off_diagonal_correlation():
    from rosetta_stats.stats.category_enrichment import mean_correlation
    rng = np.random.default_rng(2)
    matrix = rng.normal(size=(30, 3)) @ rng.normal(size=(3, 7)) + rng.normal(size=(30, 7))
    matrix = np.column_stack([matrix, np.ones(30)])  # a constant column is left out
    corr = np.corrcoef(matrix[:, :7], rowvar=False)
    assert mean_correlation(matrix) == pytest.approx(corr[~np.eye(7, dtype=bool)].mean(), rel=1e-12)


def _features_result(seed, signal_category=None, n=60, n_permutations=50):
    rng = np.random.default_rng(seed)
    outcome = rng.normal(size=n)
    cp = correlated_features(rng, n_rows=n, per_category=5, signal_category=signal_category, outcome=outcome)
    cp["pert"] = [f"t{i}" for i in range(n)]
    ge = pd.DataFrame({"201000_at": outcome + 0.3 * rng.normal(size=n), "209460_at": rng.normal(size=n),
                       "pert": cp["pert"]})
    return cp, rs.feature_predictability(cp, ge, key="pert", n_permutations=n_permutations, seed=seed)


def test_a_feature_predictability_result_is_tested_by_its_own_permutations():
    cp, features = _features_result(0, signal_category="DNA-Texture")
    table = rs.category_enrichment(features).table.set_index("category")
    assert table.index[0] == "DNA-Texture" and table.loc["DNA-Texture", "p_value"] == pytest.approx(1 / 51)
    r2 = features.table.set_index("feature")["r2"]
    null = features.extras["null_r2"]
    categories = rs.feature_categories(r2.index).set_index("feature")["category"]
    for category in ("DNA-Texture", "RNA-Intensity"):  # by hand: a loop over the permutations
        inside = (categories == category).to_numpy()
        observed = r2[inside].mean() - r2[~inside].mean()
        k = sum(row[inside].mean() - row[~inside].mean() >= observed - 1e-12 for row in null)
        assert table.loc[category, "statistic"] == pytest.approx(observed)
        assert table.loc[category, "p_value"] == pytest.approx((k + 1) / (len(null) + 1))
    # the counts shown are the q < 0.05 selection
    selected = features.table.set_index("feature")["q_value"] < 0.05
    assert table.loc["DNA-Texture", "n_selected"] == selected[categories == "DNA-Texture"].sum()
    _, plain = _features_result(0, n_permutations=0)
    with pytest.raises(ValueError, match="no q-values"):
        rs.category_enrichment(plain)


@pytest.mark.slow
def test_enrichment_of_a_predictability_result_is_calibrated_under_correlated_features():
    p = [rs.category_enrichment(_features_result(seed, n_permutations=19)[1]).table
         .set_index("category").loc[CHANNELS[seed % 4] + "-" + GROUPS[seed % 2], "p_value"] for seed in range(200)]
    rate = np.mean(np.array(p) <= 0.05)  # p = 1/20 is the smallest: P(p <= 0.05) = 0.05 exactly under the null
    assert rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 200)


def test_bad_enrichment_arguments_are_named():
    selected = pd.Series([True, False, True], index=["Cells_Texture_X_DNA_0", "Cells_Texture_X_DNA_1", "Cells_A_B"])
    with pytest.raises(ValueError, match="needs profiles="):
        rs.category_enrichment(selected, method="camera")
    with pytest.raises(ValueError, match="lacks 1 of the features"):
        rs.category_enrichment(selected, profiles=pd.DataFrame(np.ones((4, 2)), columns=selected.index[:2]))
    with pytest.raises(ValueError, match="needs method='camera'"):
        rs.category_enrichment(pd.Series([0.1, 0.5, 2.0], index=selected.index), method="fisher")


@pytest.mark.slow
def test_the_correlated_test_is_calibrated_where_fisher_is_not():
    """One null category per simulated data set (independent p-values), within-category correlation 0.8:
    the camera FPR at 0.05 is within binomial error; Fisher's is far above it (the audit's 59-79 % at q 0.1)."""
    rng = np.random.default_rng(11)
    n_sets = 600
    camera, fisher = [], []
    for _ in range(n_sets):
        frame = correlated_features(rng)
        outcome = rng.normal(size=len(frame))
        selected = selected_by_correlation(frame, outcome)
        target = CHANNELS[rng.integers(4)] + "-" + GROUPS[rng.integers(2)]
        camera.append(rs.category_enrichment(selected, profiles=frame).table.set_index("category")
                      .loc[target, "p_value"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            fisher.append(rs.category_enrichment(selected).table.set_index("category").loc[target, "p_value"])
    camera, fisher = np.array(camera), np.array(fisher)
    sd = np.sqrt(0.05 * 0.95 / n_sets)
    assert np.mean(camera <= 0.05) <= 0.05 + 3 * sd  # 3 sd = 0.027: an FPR of 0.08 fails
    assert np.mean(fisher <= 0.05) > 0.1  # Fisher's test, blind to the correlation, is not


@pytest.mark.slow
def test_the_correlated_test_finds_a_category_whose_features_carry_the_signal():
    rng = np.random.default_rng(12)
    found = []
    for _ in range(100):
        outcome = rng.normal(size=50)
        frame = correlated_features(rng, signal_category="RNA-Intensity", outcome=outcome, rho=0.5)
        noisy = outcome + 1.0 * rng.normal(size=50)  # the selection sees the signal through noise
        selected = selected_by_correlation(frame, noisy)
        table = rs.category_enrichment(selected, profiles=frame).table.set_index("category")
        found.append(table.loc["RNA-Intensity", "p_value"] <= 0.05)
    assert np.mean(found) > 0.8
