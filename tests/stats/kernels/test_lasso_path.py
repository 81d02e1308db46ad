"""The shared-order lasso path against scikit-learn's own coordinate descent, run output by output."""
import warnings

import numpy as np
import pytest
from sklearn.linear_model import _cd_fast, lasso_path

from rosetta_stats.stats.kernels.lasso_path import (coordinate_order, gauss_seidel, lasso_path_columns,
                                                    path_seeds)

ALPHAS = np.sort(np.concatenate([np.linspace(0, 0.2, 20), np.linspace(0.2, 0.5, 10)[1:]]))[::-1]


def _problem(n=120, p=15, outputs=4, noise=1.0, seed=0, zero_column=None):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p)) @ (np.eye(p) + 0.6 * rng.standard_normal((p, p)) / np.sqrt(p))
    if zero_column is not None:
        x[:, zero_column] = 0.0
    y = x @ (rng.standard_normal((p, outputs)) * (rng.random((p, outputs)) < 0.4)) \
        + noise * rng.standard_normal((n, outputs))
    x, y = x - x.mean(axis=0), y - y.mean(axis=0)
    return x, y, x.T @ x, x.T @ y


def test_seeds_are_one_draw_per_alpha_from_a_fresh_random_state():
    rng = np.random.RandomState(0)
    assert path_seeds(3) == [rng.randint(0, 0x7FFFFFFF) for _ in range(3)]
    order = coordinate_order(7, path_seeds(1)[0], 4)
    assert order.shape == (4, 7) and order.min() >= 0 and order.max() < 7
    assert len(set(map(tuple, order))) == 4  # a new order every epoch


@pytest.mark.parametrize("epochs", [1, 2, 7, 60])
def test_unpenalised_epochs_match_sequential_coordinate_descent(epochs):
    """One lower-triangular solve per epoch = scikit-learn's sweep in its random order (the order matters here)."""
    x, y, gram, xy = _problem(zero_column=3)
    start = np.random.default_rng(1).standard_normal(xy.shape) * 0.1
    seed = path_seeds(5)[4]
    ours = gauss_seidel(gram, xy, start, np.einsum("ij,ij->j", y, y), seed, max_iter=epochs)
    for j in range(y.shape[1]):
        rng = np.random.RandomState(0)
        for _ in range(4):
            rng.randint(0, 0x7FFFFFFF)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w, *_ = _cd_fast.enet_coordinate_descent_gram(start[:, j].copy(), 0.0, 0.0, gram, xy[:, j].copy(),
                                                          y[:, j].copy(), epochs, 1e-4, rng, True, False)
        np.testing.assert_allclose(ours[:, j], w, rtol=0, atol=1e-11)
    assert (ours[3] == start[3]).all()  # a zero column is never updated


def test_the_path_equals_lasso_path_at_every_alpha():
    x, y, gram, xy = _problem()
    ours = lasso_path_columns(gram, xy, y, ALPHAS, threads=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j in range(y.shape[1]):
            _, coefs, _ = lasso_path(x, y[:, j], alphas=ALPHAS, precompute=gram, Xy=xy[:, j], max_iter=1000,
                                     selection="random", random_state=0)
            np.testing.assert_allclose(ours[:, :, j], coefs.T, rtol=0, atol=1e-10)
    assert np.count_nonzero(ours[0]) < np.count_nonzero(ours[-1]) == ours[-1].size  # alpha = 0 keeps every feature


def test_an_output_stops_when_its_gap_closes_as_in_scikit_learn():
    """A near-perfect fit closes the alpha = 0 gap early for one output; the noisy one runs all epochs."""
    x, y, gram, xy = _problem(noise=1e-4, outputs=1)
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
    x, y, gram, xy = _problem()
    with pytest.raises(ValueError, match="decreasing"):
        lasso_path_columns(gram, xy, y, [0.1, 0.2])


def test_the_stop_rule_equals_scikit_learns_step_by_step_maxima():
    """The bounds decide most outputs; wherever they do not, the exact step values do (every tol here)."""
    from rosetta_stats.stats.kernels.lasso_path import _per_coordinate, _stop_check

    rng = np.random.default_rng(8)
    steps = rng.integers(0, 12, 12)  # with repeats
    start = rng.standard_normal((12, 300)) * rng.uniform(0, 2, 300)
    start[:, :5] = 0.0  # outputs whose coefficients start at zero
    delta = rng.standard_normal((12, 300)) * rng.uniform(1e-6, 3, 300)
    touched, inverse, visits, change = _per_coordinate(steps, delta)
    after = start.copy()
    after[touched] += change
    w_max = np.zeros(300)
    w = start.copy()
    for k, s in enumerate(steps):  # scikit-learn's loop: the largest |coefficient| right after each step
        w[s] += delta[k]
        w_max = np.maximum(w_max, np.abs(w[s]))
    ratio = np.abs(delta).max(axis=0) / w_max
    for tol in np.quantile(ratio, [0.1, 0.3, 0.5, 0.7, 0.9]):
        ours = _stop_check(steps, inverse, after[touched], change, delta, visits, tol, last=False)
        np.testing.assert_array_equal(ours, ratio < tol)
