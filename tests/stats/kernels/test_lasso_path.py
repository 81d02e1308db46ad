"""The shared-order lasso path against scikit-learn's own coordinate descent, run output by output."""
import warnings

import numpy as np
import pytest
from sklearn.linear_model import lasso_path

from rosetta_stats.stats.kernels import lasso_path as lp
from rosetta_stats.stats.kernels.lasso_path import lasso_fits, lasso_path_columns, lasso_path_with_epochs, path_seeds
from rosetta_stats.stats.kernels.sweep_epochs import coordinate_order
from tests.helpers.lasso_problems import correlated_problem

ALPHAS = np.sort(np.concatenate([np.linspace(0, 0.2, 20), np.linspace(0.2, 0.5, 10)[1:]]))[::-1]
ROUTES = [pytest.param(True, id="compiled"), pytest.param(False, id="scikit-learn")]


def test_the_compiled_kernel_is_built():
    """``make setup`` builds it; without it every path would quietly take the slow route."""
    assert lp._gram_lasso is not None


def test_seeds_are_one_draw_per_alpha_from_a_fresh_random_state():
    rng = np.random.RandomState(0)
    assert path_seeds(3) == [rng.randint(0, 0x7FFFFFFF) for _ in range(3)]
    order = coordinate_order(7, path_seeds(1)[0], 4)
    assert order.shape == (4, 7) and order.min() >= 0 and order.max() < 7
    assert len(set(map(tuple, order))) == 4  # a new order every epoch


@pytest.mark.parametrize("seed", [0, 1, 209652396, 0x7FFFFFFE])
def test_the_compiled_draws_equal_the_generator_written_out_in_python(seed, monkeypatch):
    from rosetta_stats.stats.kernels import sweep_epochs

    compiled = coordinate_order(809, seed, 6)
    coordinate_order.cache_clear()
    monkeypatch.setattr(sweep_epochs, "coordinate_draws", None)
    try:
        np.testing.assert_array_equal(compiled, coordinate_order(809, seed, 6))
    finally:
        coordinate_order.cache_clear()


@pytest.mark.parametrize("compiled", ROUTES)
def test_the_path_equals_lasso_path_at_every_alpha(compiled):
    x, y, gram, xy = correlated_problem()
    ours = lasso_path_columns(gram, xy, y, ALPHAS, threads=2, compiled=compiled)
    _assert_equals_lasso_path(ours, x, y, gram, xy, ALPHAS, atol=1e-10)
    assert np.count_nonzero(ours[0]) < np.count_nonzero(ours[-1]) == ours[-1].size  # alpha = 0 keeps every feature


@pytest.mark.parametrize("compiled", ROUTES)
def test_every_output_runs_the_epochs_scikit_learn_runs(compiled):
    """70 outputs (three lockstep blocks) that stop at different epochs, a zero column, a zero output and a
    budget of 40 epochs that some alphas exhaust: coefficients and epoch counts equal ``lasso_path``'s."""
    x, y, gram, xy = correlated_problem(n=150, p=30, outputs=70, noise=0.5, seed=6, zero_column=7)
    y[:, 5] = 0.0
    xy = x.T @ y
    alphas = ALPHAS[:-1][::3]
    with warnings.catch_warnings():  # scikit-learn's routine warns where 40 epochs do not converge
        warnings.simplefilter("ignore")
        ours, epochs = lasso_path_with_epochs(gram, xy, y, alphas, max_iter=40, threads=3, compiled=compiled)
        for j in range(y.shape[1]):
            _, coefs, _, iters = lasso_path(x, y[:, j], alphas=alphas, precompute=gram, Xy=xy[:, j], max_iter=40,
                                            selection="random", random_state=0, return_n_iter=True)
            np.testing.assert_allclose(ours[:, :, j], coefs.T, rtol=0, atol=1e-12)
            np.testing.assert_array_equal(epochs[:, j], iters)
    assert len(np.unique(epochs)) > 10 and (epochs == 40).any() and (ours[:, 7] == 0).all()


def test_another_random_state_walks_its_own_order_in_both_routes():
    x, y, gram, xy = correlated_problem(seed=5)
    alphas = ALPHAS[:-1][::4]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for compiled in (True, False):
            ours = lasso_path_columns(gram, xy, y, alphas, random_state=7, threads=2, compiled=compiled)
            for j in range(y.shape[1]):
                _, coefs, _ = lasso_path(x, y[:, j], alphas=alphas, precompute=gram, Xy=xy[:, j], max_iter=1000,
                                         selection="random", random_state=7)
                np.testing.assert_allclose(ours[:, :, j], coefs.T, rtol=0, atol=1e-12)


def test_both_routes_and_any_thread_count_give_the_same_path():
    x, y, gram, xy = correlated_problem(n=200, p=40, outputs=45, seed=2)
    reference = lasso_path_columns(gram, xy, y, ALPHAS[:-1], threads=1, compiled=False)
    for threads in (1, 2, 5):
        ours = lasso_path_columns(gram, xy, y, ALPHAS[:-1], threads=threads, compiled=True)
        np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-12)


@pytest.mark.parametrize("compiled", ROUTES)
def test_fits_at_each_outputs_own_alpha_equal_lasso_on_the_rows(compiled):
    """LassoCV refits ``Lasso`` without a Gram matrix; the Gram route takes the same steps."""
    from sklearn.linear_model import Lasso

    x, y, gram, xy = correlated_problem(n=150, p=25, outputs=6, seed=3)
    alpha = np.array([0.02, 0.3, 0.02, 0.1, 5.0, 0.3])  # shared, distinct and one that keeps everything at zero
    ours = lasso_fits(gram, xy, y, alpha * len(x), threads=2, compiled=compiled)
    for j in range(y.shape[1]):
        model = Lasso(alpha=alpha[j], fit_intercept=False, precompute=False, selection="random", random_state=0)
        np.testing.assert_allclose(ours[:, j], model.fit(x, y[:, j]).coef_, rtol=0, atol=1e-12)
    assert (ours[:, 4] == 0).all() and (ours[:, :4] != 0).any(axis=0).all()


def test_an_output_stops_when_its_gap_closes_as_in_scikit_learn():
    """A near-perfect fit closes the alpha = 0 gap early for one output; the noisy one runs all epochs."""
    x, y, gram, xy = correlated_problem(noise=1e-4, outputs=1)
    noisy = x[:, :1] + np.random.default_rng(3).standard_normal((len(x), 1))
    y = np.column_stack([y, noisy - noisy.mean()])
    xy = x.T @ y
    ours = lasso_path_columns(gram, xy, y, [0.01, 0.0], max_iter=400)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j in range(2):
            _, coefs, _, iters = lasso_path(x, y[:, j], alphas=[0.01, 0.0], precompute=gram, Xy=xy[:, j],
                                            max_iter=400, selection="random", random_state=0, return_n_iter=True)
            np.testing.assert_allclose(ours[:, :, j], coefs.T, rtol=0, atol=1e-10)
            assert (iters[1] < 400) == (j == 0)


def test_alphas_out_of_path_order_are_refused():
    x, y, gram, xy = correlated_problem()
    with pytest.raises(ValueError, match="decreasing"):
        lasso_path_columns(gram, xy, y, [0.1, 0.2])


def test_alphas_that_keep_every_coefficient_at_zero_are_skipped_without_moving_the_order(monkeypatch):
    """The first alphas leave these outputs at zero; skipping their calls must still make the routine's draw.

    Without the draw every later alpha would walk another coordinate order and
    differ from ``lasso_path`` by far more than the tolerance here.
    """
    from sklearn.linear_model import _cd_fast

    x, y, gram, xy = correlated_problem(outputs=3, noise=3.0, seed=4)
    scaled = np.abs(xy).max(axis=0) / len(x)
    alphas = np.concatenate([np.linspace(1.05, 3, 4) * scaled.max(), np.linspace(0.02, 0.9, 8) * scaled.min()])
    alphas = np.sort(alphas)[::-1]
    calls = []
    original = _cd_fast.enet_coordinate_descent_gram
    monkeypatch.setattr(_cd_fast, "enet_coordinate_descent_gram", lambda *a: calls.append(1) or original(*a))
    ours = lasso_path_columns(gram, xy, y, alphas, threads=1, compiled=False)
    assert len(calls) <= 3 * (len(alphas) - 4)  # the four largest alphas were never run
    monkeypatch.setattr(_cd_fast, "enet_coordinate_descent_gram", original)
    _assert_equals_lasso_path(ours, x, y, gram, xy, alphas, atol=1e-12)
    assert (ours[:4] == 0).all() and (ours[-1] != 0).any()


def _assert_equals_lasso_path(ours, x, y, gram, xy, alphas, atol):
    """Every output's path equals scikit-learn's ``lasso_path`` run on that output alone."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j in range(y.shape[1]):
            _, coefs, _ = lasso_path(x, y[:, j], alphas=alphas, precompute=gram, Xy=xy[:, j], max_iter=1000,
                                     selection="random", random_state=0)
            np.testing.assert_allclose(ours[:, :, j], coefs.T, rtol=0, atol=atol)
