"""Single-gene predictability against sklearn loops, planted truth and a full null."""
from __future__ import annotations

import numpy as np
import pytest
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from sklearn.decomposition import PCA
from sklearn.linear_model import Lasso, Ridge
from sklearn.model_selection import GroupKFold, cross_val_score

import rosetta_stats as rs
from rosetta_stats.stats.core.paired import paired_matrices
from rosetta_stats.stats.prediction.predictability import feature_predictability, gene_predictability, pcr_f_test
from rosetta_stats.stats.kernels.regression import RidgeBasis, gcv_alphas, standardize_columns

from tests.helpers.paired_fixtures import paired_treatments


@pytest.fixture(scope="module")
def planted():
    return paired_treatments(n_perturbations=300, n_replicates=3, n_cp_features=50, n_genes=60,
                             reproducible_cp=0.9, reproducible_ge=0.9, seed=1)


@pytest.fixture(scope="module")
def small():
    return paired_treatments(n_perturbations=80, n_replicates=2, n_cp_features=20, n_genes=12, seed=3)


def _standardized(paired):
    m = paired_matrices(paired)
    return standardize_columns(m.cp), standardize_columns(m.ge), m


def test_lasso_equals_the_per_gene_sklearn_loop(small):
    paired, _ = small
    result = gene_predictability(paired, model="lasso", n_permutations=0)
    x, y, m = _standardized(paired)
    folds = list(GroupKFold(5).split(x, groups=m.groups))
    for j, gene in enumerate(m.ge_names):
        scores = cross_val_score(Lasso(alpha=0.1, max_iter=10_000), x, y[:, j], cv=folds, scoring="r2")
        row = result.table.set_index("gene").loc[gene]
        assert row["r2"] == pytest.approx(scores.mean(), abs=1e-6)
        assert row["r2_sd"] == pytest.approx(scores.std(ddof=1), abs=1e-6)


def test_ridge_equals_sklearn_ridge_with_the_chosen_penalty(small):
    paired, _ = small
    x, y, m = _standardized(paired)
    folds = list(GroupKFold(5).split(x, groups=m.groups))
    result = gene_predictability(paired, model="ridge", n_permutations=0)
    for j, gene in enumerate(m.ge_names):
        fold_r2 = []
        for train, test in folds:
            alpha = gcv_alphas(RidgeBasis.fit(x[train]), y[train][:, [j]], result.parameters["alpha_grid"])[0][0]
            fit = Ridge(alpha=alpha, solver="svd").fit(x[train], y[train, j])
            fold_r2.append(fit.score(x[test], y[test, j]))
        assert result.table.set_index("gene").loc[gene, "r2"] == pytest.approx(np.mean(fold_r2), abs=1e-8)


def test_gcv_matches_its_definition(small):
    paired, _ = small
    x, y, _ = _standardized(paired)
    basis = RidgeBasis.fit(x)
    alphas = [0.1, 10.0, 1000.0]
    _, table = gcv_alphas(basis, y, alphas)
    n = len(y)
    for i, alpha in enumerate(alphas):  # brute force: the full hat matrix, intercept included
        xc = x - x.mean(axis=0)
        hat = np.full((n, n), 1.0 / n) + xc @ np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T)
        rss = ((y - hat @ y) ** 2).sum(axis=0)
        gcv = n * rss / np.trace(np.eye(n) - hat) ** 2
        np.testing.assert_allclose(table[i], gcv, rtol=1e-8)


def test_ridge_keeps_its_power_when_features_outnumber_training_rows():
    """400 features, 160 training rows: GCV must not collapse to the smallest penalty."""
    rng = np.random.default_rng(4)
    n, p, n_genes = 200, 400, 40
    latent = rng.normal(size=(n, 3))
    x = np.column_stack([latent @ rng.normal(size=(3, 20)) + rng.normal(size=(n, 20)), rng.normal(size=(n, p - 20))])
    signal = latent @ rng.normal(size=(3, n_genes // 2))
    y = np.column_stack([signal + rng.normal(size=signal.shape), rng.normal(size=(n, n_genes // 2))])
    cp = pd.DataFrame(x, columns=[f"Cells_f{i}" for i in range(p)]).assign(pert=[f"p{i}" for i in range(n)])
    ge = pd.DataFrame(y, columns=[f"{200000 + i}_at" for i in range(n_genes)]).assign(pert=cp["pert"])
    result = gene_predictability(cp, ge, key="pert", n_permutations=100, seed=0)
    called = result.table["q_value"] < 0.1
    planted = np.arange(n_genes) < n_genes // 2
    assert called[planted].mean() >= 0.9  # recall
    assert (called & ~planted).sum() <= 0.1 * max(called.sum(), 1)  # false-discovery proportion
    # the defect this guards against: every gene given the smallest penalty on the grid
    assert result.table.loc[planted, "alpha"].median() > 10 * min(result.parameters["alpha_grid"])


def test_pcr_f_test_equals_statsmodels(small):
    paired, _ = small
    x, y, _ = _standardized(paired)
    ours = pcr_f_test(x, y, 5)
    scores = PCA(n_components=5, random_state=0).fit_transform(x)
    for j in range(y.shape[1]):
        fit = sm.OLS(y[:, j], sm.add_constant(scores)).fit()
        assert ours[j] == pytest.approx(fit.f_pvalue, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("model", ["ridge", "pcr"])
def test_planted_genes_are_found(planted, model):
    paired, truth = planted
    table = gene_predictability(paired, model=model, n_permutations=200, n_components=20,
                                seed=4).table.set_index("gene")
    discovered = set(table.index[table["q_value"] < 0.1])
    linear = set(truth.linear_genes)
    assert len(discovered & linear) >= 0.9 * len(linear)
    assert len(discovered - linear) <= 0.1 * max(1, len(discovered))
    assert table.loc[list(linear), "r2"].min() > table.loc[list(truth.noise_genes), "r2"].max()


def test_null_simulation_gives_uniform_p_values():
    paired, _ = paired_treatments(n_perturbations=200, n_replicates=2, n_cp_features=20, n_genes=150,
                                  linear_genes=0.0, nonlinear_genes=0.0, seed=6)
    p = gene_predictability(paired, model="ridge", n_permutations=99, seed=1).table["p_value"]
    assert stats.kstest(p, "uniform").pvalue > 0.01


def test_reverse_direction_and_summary(planted):
    paired, _ = planted
    result = feature_predictability(paired, model="ridge", n_permutations=20, seed=2)
    assert list(result.table.columns[:3]) == ["feature", "r2", "r2_sd"]
    assert len(result.table) == len(paired.cp.features)
    assert result.table["r2"].median() > 0.2  # CP features are driven by the shared latent state
    assert "ge->cp" in result.summary()
    again = feature_predictability(paired, model="ridge", n_permutations=20, seed=2)
    assert result.table.equals(again.table)


def test_bad_input(small):
    paired, _ = small
    with pytest.raises(ValueError, match="choose one of: ridge, lasso, lasso_cv, mlp_grid, pcr, mlp"):
        gene_predictability(paired, model="forest")
    keys = paired.cp.data["perturbation"]
    two_groups = pd.Series(np.arange(len(keys)) % 2, index=keys)
    with pytest.raises(ValueError, match="fewer groups \\(2\\) than folds"):
        gene_predictability(paired, groups=two_groups, n_permutations=0)
    with pytest.raises(ValueError, match="row position"):
        gene_predictability(paired, groups=np.arange(len(keys)) % 2, n_permutations=0)
    with pytest.raises(ValueError, match="no entry for 1 paired perturbation"):
        gene_predictability(paired, groups=two_groups.iloc[1:], n_permutations=0)
    flat = paired.ge.data.copy()
    flat[paired.ge.features[0]] = 1.0
    with pytest.raises(ValueError, match=f"constant output.*{paired.ge.features[0]}"):
        gene_predictability(paired.cp, paired.ge.with_data(flat), key="perturbation", n_permutations=0)
    broken = paired.cp.data.copy()
    broken.loc[3, paired.cp.features[1]] = np.nan
    with pytest.raises(ValueError, match="must be finite"):
        gene_predictability(paired.cp.with_data(broken), paired.ge, key="perturbation")
    other = paired.ge.data.assign(perturbation="x" + paired.ge.data["perturbation"])
    with pytest.raises(ValueError, match="no perturbation is in both"):
        gene_predictability(paired.cp, paired.ge.with_data(other), key="perturbation")


def test_pearson_r_and_null_mean_equal_independent_computations(small):
    """Every number of single_gene_predictability.csv, recomputed with sklearn and scipy."""
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import cross_val_predict
    from sklearn.pipeline import make_pipeline

    from rosetta_stats.stats.core.resampling import group_permutation

    paired, _ = small
    result = gene_predictability(paired, model="pcr", n_components=4, n_permutations=15, seed=9)
    table = result.table.set_index("gene")
    x, y, m = _standardized(paired)
    folds = list(GroupKFold(5).split(x, groups=m.groups))
    model = make_pipeline(PCA(n_components=4, random_state=0), LinearRegression())
    rng = np.random.default_rng(9)
    permutations = [group_permutation(m.groups, rng) for _ in range(15)]
    for j, gene in enumerate(m.ge_names):
        predicted = cross_val_predict(model, x, y[:, j], cv=folds)
        assert table.loc[gene, "pearson_r"] == pytest.approx(stats.pearsonr(predicted, y[:, j])[0], abs=1e-8)
        null = [cross_val_score(model, x, y[perm, j], cv=folds, scoring="r2").mean() for perm in permutations]
        assert table.loc[gene, "r2_null_mean"] == pytest.approx(np.mean(null), abs=1e-8)
        at_least = sum(v >= table.loc[gene, "r2"] for v in null)
        assert table.loc[gene, "p_value"] == pytest.approx((1 + at_least) / 16)


def test_groups_are_aligned_by_key_not_by_position(small):
    paired, _ = small
    keys = paired.cp.data["perturbation"].to_numpy()
    groups = pd.Series([k[-1] for k in keys], index=keys)  # 10 groups by the key's last character
    shuffled = groups.sample(frac=1.0, random_state=0)  # a different row order, the same mapping
    a = gene_predictability(paired, groups=groups, n_permutations=5, seed=1)
    b = gene_predictability(paired, groups=shuffled, n_permutations=5, seed=1)
    pd.testing.assert_frame_equal(a.table, b.table)
    column = gene_predictability(paired.cp.with_data(paired.cp.data.assign(last=[k[-1] for k in keys])),
                                 paired.ge, key="perturbation", groups="last", n_permutations=5, seed=1)
    pd.testing.assert_frame_equal(a.table, column.table)


def test_lasso_cv_equals_the_papers_per_gene_loop(small):
    """The paper's LassoCV in every outer fold, one gene at a time, scored by the median of fold R^2."""
    from sklearn.linear_model import LassoCV

    paired, _ = small
    result = gene_predictability(paired, model="lasso_cv", n_permutations=0)
    assert result.parameters["fold_score"] == "median"
    x, y, m = _standardized(paired)
    folds = list(GroupKFold(5).split(x, groups=m.groups))
    alphas = np.concatenate([np.linspace(0, 0.2, 20), np.linspace(0.2, 0.5, 10)[1:]])
    table = result.table.set_index("gene")
    import warnings
    for j, gene in enumerate(m.ge_names[:6]):
        scores = []
        for train, test in folds:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = LassoCV(alphas=alphas, random_state=0, max_iter=1000, selection="random")
                scores.append(model.fit(x[train], y[train, j]).score(x[test], y[test, j]))
        assert table.loc[gene, "r2"] == pytest.approx(np.median(scores), abs=1e-6)
        assert table.loc[gene, "r2_sd"] == pytest.approx(np.std(scores, ddof=1), abs=1e-6)
    mean = gene_predictability(paired, model="lasso_cv", n_permutations=0, fold_score="mean", n_jobs=2)
    assert not np.allclose(mean.table["r2"], result.table["r2"])


def test_n_splits_follows_the_dataset(tmp_path):
    truth = rs.write_rosetta_like(tmp_path, datasets=["luad"], seed=1)
    assert truth["luad"].pairs
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        paired = rs.load_paired("luad", tmp_path)
    assert paired.dataset == "luad"
    assert gene_predictability(paired, n_permutations=0).n_splits == 9  # the paper's LUAD folds
    assert gene_predictability(paired, n_permutations=0, n_splits=3).n_splits == 3


def test_paper_preset_and_the_one_shuffle_rule(small):
    paired, _ = small
    result = gene_predictability(paired, preset="paper", seed=3)
    assert result.model == "lasso_cv" and result.parameters["fold_score"] == "median"
    assert result.n_permutations == 0 and result.table["p_value"].isna().all()
    table = result.table
    threshold = np.percentile(table["r2_shuffled"], 99) + 0.2
    assert (table["highly_predictable"] == (table["r2"] > threshold)).all()
    assert any("highly predictable (the paper's rule)" in n for n in result.notes)
    explicit = gene_predictability(paired, preset="paper", model="ridge", n_permutations=5)  # explicit values win
    assert explicit.model == "ridge" and explicit.n_permutations == 5 and explicit.table["p_value"].notna().all()
    assert gene_predictability(paired, preset="paper", model="pcr", n_permutations=5).model == "pcr"
    with pytest.raises(ValueError, match="choose one of: default, paper"):
        gene_predictability(paired, preset="papr")


def test_mlp_grid_equals_the_papers_per_gene_grid_search(small, monkeypatch):
    """The paper's GridSearchCV MLP (here on a 2-setting slice of its grid, to stay fast)."""
    from sklearn.model_selection import GridSearchCV
    from sklearn.neural_network import MLPRegressor

    from rosetta_stats.stats.prediction import models as prediction_models

    grid = {"max_iter": [100], "hidden_layer_sizes": [(20, 10)], "activation": ["tanh"], "alpha": [0.0005, 1]}
    monkeypatch.setattr(prediction_models, "PAPER_MLP_GRID", grid)
    paired, _ = small
    keep = paired.ge.features[:2]
    ge = paired.ge.with_data(paired.ge.data[[c for c in paired.ge.data.columns
                                             if c not in paired.ge.features or c in keep]], features=keep)
    result = gene_predictability(paired.cp, ge, key="perturbation", model="mlp_grid", n_permutations=0)
    assert result.parameters["fold_score"] == "median"
    x, y, m = _standardized(rs.pair(paired.cp, ge))
    folds = list(GroupKFold(5).split(x, groups=m.groups))
    import warnings
    for j, gene in enumerate(m.ge_names):
        scores = []
        for train, test in folds:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                base = MLPRegressor(random_state=0, early_stopping=True, n_iter_no_change=4, learning_rate="adaptive")
                search = GridSearchCV(base, grid, cv=4).fit(x[train], y[train, j])
                scores.append(search.best_estimator_.score(x[test], y[test, j]))
        assert result.table.set_index("gene").loc[gene, "r2"] == pytest.approx(np.median(scores), abs=1e-6)


def test_exact_group_permutation_p_values_equal_an_enumeration_by_hand():
    """Four compounds of three doses: 4! group arrangements, enumerated; Lasso(alpha=0.1) refitted by sklearn."""
    import itertools

    rng = np.random.default_rng(21)
    groups = np.repeat([f"c{i}" for i in range(4)], 3)
    x = rng.normal(size=(12, 5))
    y = np.column_stack([x[:, 0] + 0.5 * rng.normal(size=12), rng.normal(size=12)])
    cp = pd.DataFrame(x, columns=[f"Cells_{i}" for i in range(5)]).assign(key=[f"k{i:02d}" for i in range(12)],
                                                                        compound=groups)
    ge = pd.DataFrame(y, columns=["1_at", "2_at"]).assign(key=[f"k{i:02d}" for i in range(12)])
    result = gene_predictability(cp, ge, key="key", model="lasso", n_splits=2, groups="compound",
                                 n_permutations=100, seed=0)
    assert result.settings["n_permutations"] == 24
    assert any("exact" in n for n in result.notes)
    zx, zy = (x - x.mean(0)) / x.std(0), (y - y.mean(0)) / y.std(0)
    folds = list(GroupKFold(2).split(zx, groups=groups))

    def r2(column):
        fold_r2 = []
        for train, test in folds:
            fit = Lasso(alpha=0.1, max_iter=10_000).fit(zx[train], column[train])
            residual = column[test] - fit.predict(zx[test])
            fold_r2.append(1 - residual @ residual / ((column[test] - column[test].mean()) ** 2).sum())
        return np.mean(fold_r2)

    for j in range(2):
        observed = r2(zy[:, j])
        null = [r2(zy[np.concatenate([np.flatnonzero(groups == f"c{g}") for g in order]), j])
                for order in itertools.permutations(range(4))]
        assert result.table["r2"].iloc[j] == pytest.approx(observed, abs=1e-9)
        assert result.table["p_value"].iloc[j] == pytest.approx(np.mean(np.asarray(null) >= observed - 1e-12),
                                                                abs=1e-12)


def test_the_papers_one_shuffle_null_is_lasso_on_each_gene_shuffled_alone(small):
    """pred_models.py scored the shuffled run with Lasso(alpha=0.1, max_iter=1000), each gene shuffled by itself
    (``y.sample(frac=1)`` gene by gene): an sklearn twin with the same shuffles gives the same scores."""
    paired, _ = small
    result = gene_predictability(paired, preset="paper", n_splits=4, seed=6)
    assert result.settings["shuffled_model"] == "lasso"
    x, y, m = _standardized(paired)
    folds = list(GroupKFold(4).split(x, groups=m.groups))
    rng = np.random.default_rng(6)  # no permutations under the preset: the shuffles are the first draws
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    for j, gene in enumerate(m.ge_names):
        shuffled = y[rng.permutation(len(y)), j]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            scores = cross_val_score(Lasso(alpha=0.1, max_iter=1000), x, shuffled, cv=folds, scoring="r2")
        assert result.table.set_index("gene").loc[gene, "r2_shuffled"] == pytest.approx(np.median(scores), abs=1e-9)


def test_the_cell_count_baseline_finds_count_driven_genes_only():
    rng = np.random.default_rng(12)
    n = 120
    count = rng.integers(50, 800, n)
    x = rng.normal(size=(n, 10))
    y = np.column_stack([np.log1p(count) + 0.3 * rng.normal(size=n), x[:, 0] + 0.3 * rng.normal(size=n)])
    keys = [f"k{i:03d}" for i in range(n)]
    cp = pd.DataFrame(x, columns=[f"Cells_{i}" for i in range(10)]).assign(key=keys, Metadata_Object_Count=count)
    ge = pd.DataFrame(y, columns=["1_at", "2_at"]).assign(key=keys)
    baseline = rs.cell_count_baseline(cp, ge, key="key", n_permutations=50)
    morphology = gene_predictability(cp, ge, key="key", n_permutations=50)
    table = baseline.table.set_index("gene")
    assert table.loc["1_at", "r2"] > 0.5 and table.loc["1_at", "q_value"] < 0.05
    assert table.loc["2_at", "r2"] < 0.1
    assert morphology.table.set_index("gene").loc["2_at", "r2"] > 0.5
    with pytest.raises(ValueError, match="cell count column 'cells'"):
        rs.cell_count_baseline(cp, ge, key="key", count="cells")


def _dose_rows(seed=0, n_compounds=40, doses=3, n_features=30, n_genes=4):
    rng = np.random.default_rng(seed)
    compound = np.repeat(np.arange(n_compounds), doses)
    x = rng.normal(size=(n_compounds, n_features))[compound] * 1.2 + rng.normal(size=(len(compound), n_features))
    y = rng.normal(size=(n_compounds, n_genes))[compound] * 1.2 + rng.normal(size=(len(compound), n_genes))
    y[:, 0] += x[:, :3].sum(axis=1)
    keys = [f"t{i:03d}" for i in range(len(compound))]  # sorted as written: pairing keeps the row order
    names = [f"c{k:03d}" for k in compound]
    cp = pd.DataFrame(x, columns=[f"Cells_f{i}" for i in range(n_features)]).assign(pert=keys, compound=names)
    ge = pd.DataFrame(y, columns=[f"{200000 + i}_at" for i in range(n_genes)]).assign(pert=keys)
    return cp, ge, x, y, names


def test_ridge_with_dose_rows_chooses_its_penalty_by_grouped_inner_folds_as_sklearn_does():
    """Outer GroupKFold by compound, and inside each training fold GridSearchCV(Ridge) over the same grid with
    GroupKFold(5) by compound: the same R^2 per gene (GCV would leave out single rows, doses of one compound
    then sit on both sides)."""
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from rosetta_stats.stats.kernels.regression import DEFAULT_ALPHAS, standardize_columns
    cp, ge, x, y, names = _dose_rows()
    result = rs.gene_predictability(cp, ge, key="pert", groups="compound", n_permutations=0, inner_cv="grouped")
    assert result.settings["inner_cv"] == "grouped"
    xs, ys, codes = standardize_columns(x), standardize_columns(y), pd.factorize(names)[0]
    fold_r2 = []
    for train, test in GroupKFold(5).split(xs, groups=codes):
        inner = list(GroupKFold(5).split(xs[train], groups=codes[train]))
        row = []
        for j in range(ys.shape[1]):
            search = GridSearchCV(Ridge(), {"alpha": list(DEFAULT_ALPHAS)}, cv=inner, scoring="neg_mean_squared_error")
            predicted = search.fit(xs[train], ys[train, j]).predict(xs[test])
            row.append(1 - ((ys[test, j] - predicted) ** 2).sum() / ((ys[test, j] - ys[test, j].mean()) ** 2).sum())
        fold_r2.append(row)
    np.testing.assert_allclose(result.table["r2"], np.mean(fold_r2, axis=0), rtol=1e-8, atol=1e-10)
    gcv = rs.gene_predictability(cp, ge, key="pert", groups="compound", n_permutations=0)  # the default
    assert gcv.settings["inner_cv"] == "gcv" and not np.allclose(gcv.table["r2"], result.table["r2"])
    assert any("inner_cv='grouped'" in n for n in gcv.notes)


def test_rows_without_groups_keep_gcv():
    cp, ge, *_ = _dose_rows(doses=1)
    assert rs.gene_predictability(cp, ge, key="pert", n_permutations=0).settings["inner_cv"] == "gcv"


def test_a_gene_constant_in_a_test_fold_has_no_r2_there():
    """R^2 of a fold where the gene does not vary is undefined (was -1.6e31): that fold is left out."""
    from sklearn.model_selection import GroupKFold
    cp, ge, *_ = _dose_rows(doses=1, n_compounds=30)
    _, first_test = next(GroupKFold(5).split(np.zeros(30), groups=np.arange(30)))  # the rows of the first fold
    values = np.random.default_rng(1).normal(size=30)
    values[first_test] = 0.0
    ge["200001_at"] = values
    result = rs.gene_predictability(cp.drop(columns="compound"), ge, key="pert", n_splits=5, n_permutations=9)
    table = result.table.set_index("gene")
    assert np.isfinite(table.loc["200001_at", "r2"]) and abs(table.loc["200001_at", "r2"]) < 10
    from rosetta_stats.stats.kernels.regression import r2_columns
    assert np.isnan(r2_columns(np.full((5, 1), 2.0) + 1e-17, np.zeros((5, 1))))[0]
    assert any("constant in some test fold" in n for n in result.notes)
