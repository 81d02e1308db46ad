"""All-genes LassoCV against scikit-learn's LassoCV fitted gene by gene (the paper's loop)."""
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from rosetta_stats.stats.prediction import lasso_cv


def _data(n, p, outputs, noise, seed=0, zero_column=None):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p)) @ (np.eye(p) + 0.5 * rng.standard_normal((p, p)) / np.sqrt(p)) + 3
    if zero_column is not None:
        x[:, zero_column] = 0.0
    coef = rng.standard_normal((p, outputs)) * (rng.random((p, outputs)) < 0.3)
    y = x @ coef + noise * rng.standard_normal((n, outputs)) + 1
    return x, y, rng.standard_normal((25, p)) + 3


def _loop(x, y, x_test):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = [lasso_cv.paper_lasso_cv().fit(x, y[:, j]) for j in range(y.shape[1])]
    return np.column_stack([m.predict(x_test) for m in models]), np.array([m.alpha_ for m in models])


@pytest.mark.parametrize("noise, chosen", [(1.0, "penalised"), (0.01, "unpenalised"), (1e-5, "unpenalised")])
def test_predictions_equal_the_per_gene_loop(noise, chosen):
    """Noisy genes pick a penalty; near-noiseless ones pick alpha = 0, whose refit is the batched sweep."""
    x, y, x_test = _data(150, 20, 5, noise, zero_column=4)
    expected, alphas = _loop(x, y, x_test)
    assert (alphas > 0).all() if chosen == "penalised" else (alphas == 0).all()
    np.testing.assert_allclose(lasso_cv.lasso_cv_predict(x, y, x_test, n_jobs=2), expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("n_features", [35, 120])
def test_more_features_than_fold_rows_take_the_gram_route_and_equal_the_loop(n_features):
    """scikit-learn uses no Gram matrix there; ours does, and the predictions still equal the loop's."""
    x, y, x_test = _data(40, n_features, 4, 1.0)
    np.testing.assert_allclose(lasso_cv.lasso_cv_predict(x, y, x_test), _loop(x, y, x_test)[0], atol=1e-9)


def test_real_consensus_profiles_with_more_features_than_rows_equal_the_loop():
    """CMEA: 162 CDRP compounds, 812 Cell Painting features (written by others): 8 genes against the loop."""
    from tests.conftest import shared_file

    import rosetta_stats as rs

    cp = rs.read_profiles(shared_file("data/real/cdrp_cmea_cp_consensus.csv.gz"), "cp", "Metadata_broad_id")
    ge = rs.read_profiles(shared_file("data/real/cdrp_cmea_l1000_consensus.csv.gz"), "ge", "pert_id")
    x = cp.data[list(cp.features)].to_numpy(float)
    y = ge.data.set_index("pert_id").loc[cp.data["Metadata_broad_id"], list(ge.features)[:8]].to_numpy(float)
    x, y = (x - x.mean(0)) / x.std(0), (y - y.mean(0)) / y.std(0)
    train, test = np.arange(130), np.arange(130, 162)
    ours = lasso_cv.lasso_cv_predict(x[train], y[train], x[test])
    np.testing.assert_allclose(ours, _loop(x[train], y[train], x[test])[0], atol=1e-9)


def test_no_outputs_gives_an_empty_prediction():
    x, y, x_test = _data(60, 5, 1, 1.0)
    assert lasso_cv.lasso_cv_predict(x, y[:, :0], x_test).shape == (25, 0)


def test_a_constant_gene_predicts_its_mean_without_warnings():
    """scikit-learn's routine warns at every alpha when ||y|| = 0; the loop is quiet, and so is the batch."""
    x, y, x_test = _data(150, 20, 3, 1.0)
    y[:, 1] = 3.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = lasso_cv.lasso_cv_predict(x, y, x_test, n_jobs=2)
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    np.testing.assert_allclose(ours[:, 1], 3.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours, _loop(x, y, x_test)[0], rtol=0, atol=1e-9)


def test_fold_errors_equal_the_plain_held_out_mean_squared_error():
    """Zero fits take a shortcut in the scoring; every penalised alpha's error must still be the plain computation,
    and alpha = 0's exact error must lie within the screened bounds."""
    x, y, _ = _data(150, 20, 4, 1.0)
    y = np.column_stack([y, 0.3 * np.random.default_rng(2).standard_normal((150, 2))])  # zero at large alphas
    train, test = np.arange(30, 150), np.arange(30)
    alphas = np.sort(np.asarray(lasso_cv.PAPER_LASSO_ALPHAS))[::-1]
    fold = lasso_cv.InnerFold(x, y, train, test)
    ours = fold.penalised_mse(alphas[:-1], 2)
    xt, yt = x[train] - x[train].mean(axis=0), y[train] - y[train].mean(axis=0)
    coefs = lasso_cv.lasso_path_columns(xt.T @ xt, xt.T @ yt, yt, alphas, threads=1)
    zero_columns = ~coefs.any(axis=1)
    assert zero_columns.any() and not zero_columns.all()  # both kinds are scored
    plain = [(((x[test] - x[train].mean(axis=0)) @ coef + y[train].mean(axis=0) - y[test]) ** 2).mean(axis=0)
             for coef in coefs]
    np.testing.assert_allclose(ours, plain[:-1], rtol=1e-12)
    seed = lasso_cv.path_seeds(len(alphas))[-1]
    estimate, low, high = fold.unpenalised_interval(seed)
    assert (low <= plain[-1]).all() and (plain[-1] <= high).all() and (low < high).all()
    np.testing.assert_allclose(fold.unpenalised_mse(np.arange(y.shape[1]), seed), plain[-1], rtol=1e-12)


def test_the_held_out_gain_bounds_every_direction():
    """||X_test v|| <= gain ||X_train v||, and the bound is nearly reached (it is the largest such ratio)."""
    x, y, _ = _data(150, 20, 2, 1.0)
    fold = lasso_cv.InnerFold(x, y, np.arange(30, 150), np.arange(30))
    xt, xs = x[30:] - fold.x_offset, x[:30] - fold.x_offset
    v = np.random.default_rng(0).standard_normal((20, 2000))
    ratios = np.linalg.norm(xs @ v, axis=0) / np.linalg.norm(xt @ v, axis=0)
    gain = fold.held_out_gain()
    assert ratios.max() <= gain
    worst = np.linalg.eigh(xs.T @ xs - (gain / 1.01) ** 2 * (xt.T @ xt))[0].max()
    assert abs(worst) < 1e-8 * np.abs(xs.T @ xs).max()  # no direction beyond it, one at it


def test_alpha_zero_is_run_exactly_only_where_it_could_be_chosen(monkeypatch):
    """Noisy genes never choose alpha = 0: the screen settles them; near-noiseless genes are run again exactly
    (and then choose it, as LassoCV does)."""
    x, y_noisy, x_test = _data(150, 20, 4, 1.0, seed=1)
    _, y_clean, _ = _data(150, 20, 2, 1e-3, seed=2)
    y = np.column_stack([y_noisy, x @ np.linspace(-1, 1, 20)[:, None] * [1, 2] + 1e-3 * y_clean])
    exact = []
    original = lasso_cv.InnerFold.unpenalised_mse
    monkeypatch.setattr(lasso_cv.InnerFold, "unpenalised_mse",
                        lambda self, cols, seed: exact.append(list(cols)) or original(self, cols, seed))
    expected, alphas = _loop(x, y, x_test)
    np.testing.assert_allclose(lasso_cv.lasso_cv_predict(x, y, x_test, n_jobs=2), expected, rtol=0, atol=1e-9)
    assert (alphas[:4] > 0).all() and (alphas[4:] == 0).all()
    assert exact == [[4, 5]] * lasso_cv.INNER_FOLDS


def test_real_cell_painting_features_give_what_the_per_gene_loop_gives():
    """Real CP features are strongly correlated (condition number near 2e5 for these 150): the batched sweeps
    and the error route must still give what LassoCV gives gene by gene."""
    import pandas as pd

    from tests.conftest import shared_file

    frame = pd.read_csv(shared_file("data/lincs_cp_plate_SQ00015054.csv.gz"))
    values = frame[[c for c in frame.columns if not c.startswith("Metadata_")]].select_dtypes("number").to_numpy()
    values = values[:, np.isfinite(values).all(axis=0) & (values.std(axis=0) > 0)][:, :150]
    x = (values - values.mean(axis=0)) / values.std(axis=0)
    rng = np.random.default_rng(0)
    y = 0.3 * x[:, :20] @ rng.standard_normal((20, 6)) + rng.standard_normal((len(x), 6))
    train = np.arange(len(x)) % 5 != 0
    np.testing.assert_allclose(lasso_cv.lasso_cv_predict(x[train], y[train], x[~train], n_jobs=2),
                               _loop(x[train], y[train], x[~train])[0], rtol=0, atol=1e-9)


def test_without_the_compiled_kernel_scikit_learns_routine_gives_the_same(monkeypatch):
    """An install without a C compiler takes scikit-learn's routine output by output: same predictions."""
    from rosetta_stats.stats.kernels import lasso_path

    x, y, x_test = _data(150, 20, 4, 1.0, seed=3)
    expected = lasso_cv.lasso_cv_predict(x, y, x_test, n_jobs=2)
    monkeypatch.setattr(lasso_path, "_gram_lasso", None)
    np.testing.assert_allclose(lasso_cv.lasso_cv_predict(x, y, x_test, n_jobs=2), expected, rtol=0, atol=1e-12)
    with pytest.raises(RuntimeError, match="not built"):
        lasso_path.lasso_path_columns(np.eye(3), np.ones((3, 1)), np.ones((5, 1)), [0.1], compiled=True)
