"""The unpenalised sweeps: epoch by epoch against scikit-learn, and through the error's decay against the replay."""
import warnings

import numpy as np
import pytest
from sklearn.linear_model import _cd_fast

from rosetta_stats.stats.kernels import unpenalised_sweep as us
from rosetta_stats.stats.kernels.lasso_path import path_seeds
from rosetta_stats.stats.kernels.sweep_epochs import Epoch, stop_check
from rosetta_stats.stats.kernels.unpenalised_sweep import gauss_seidel, unpenalised_descent
from tests.helpers.lasso_problems import correlated_problem


def _slow_problem(n=90, p=24, outputs=40, seed=0):
    """Features close to rank 3 (condition number near 8e4): 1,000 epochs leave the sweeps far from w*."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)) @ rng.standard_normal((3, p)) + 0.05 * rng.standard_normal((n, p))
    x -= x.mean(axis=0)
    y = 0.3 * x @ rng.standard_normal((p, outputs)) + rng.standard_normal((n, outputs))
    y -= y.mean(axis=0)
    start = 0.1 * rng.standard_normal((p, outputs))
    return x, y, x.T @ x, x.T @ y, start


def _sklearn_sweeps(gram, xy, y, start, seed_index, epochs, with_epochs=False):
    """scikit-learn's own alpha = 0 coordinate descent, output by output, with the seed of that path position
    (and, with ``with_epochs``, the epochs each output ran)."""
    out, ran = np.empty_like(start), np.empty(y.shape[1], dtype=int)
    for j in range(y.shape[1]):
        rng = np.random.RandomState(0)
        for _ in range(seed_index):
            rng.randint(0, 0x7FFFFFFF)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[:, j], _, _, ran[j] = _cd_fast.enet_coordinate_descent_gram(
                start[:, j].copy(), 0.0, 0.0, gram, xy[:, j].copy(), y[:, j].copy(), epochs, 1e-4, rng, True, False)
    return (out, ran) if with_epochs else out


@pytest.mark.parametrize("epochs", [1, 2, 7, 60])
def test_unpenalised_epochs_match_sequential_coordinate_descent(epochs):
    """One lower-triangular solve per epoch = scikit-learn's sweep in its random order (the order matters here)."""
    x, y, gram, xy = correlated_problem(zero_column=3)
    start = np.random.default_rng(1).standard_normal(xy.shape) * 0.1
    seed = path_seeds(5)[4]
    ours = gauss_seidel(gram, xy, start, np.einsum("ij,ij->j", y, y), seed, max_iter=epochs)
    np.testing.assert_allclose(ours, _sklearn_sweeps(gram, xy, y, start, 4, epochs), rtol=0, atol=1e-11)
    assert (ours[3] == start[3]).all()  # a zero column is never updated


def test_the_stop_rule_equals_scikit_learns_step_by_step_maxima():
    """The bounds decide most outputs; wherever they do not, the exact step values do (every tol here)."""
    rng = np.random.default_rng(8)
    steps = rng.integers(0, 12, 12)  # with repeats
    start = rng.standard_normal((12, 300)) * rng.uniform(0, 2, 300)
    start[:, :5] = 0.0  # outputs whose coefficients start at zero
    delta = rng.standard_normal((12, 300)) * rng.uniform(1e-6, 3, 300)
    epoch = Epoch.of(steps)
    touched, inverse, visits, change = epoch.touched, epoch.inverse, epoch.visits, epoch.adder @ delta
    after = start.copy()
    after[touched] += change
    w_max = np.zeros(300)
    w = start.copy()
    for k, s in enumerate(steps):  # scikit-learn's loop: the largest |coefficient| right after each step
        w[s] += delta[k]
        w_max = np.maximum(w_max, np.abs(w[s]))
    ratio = np.abs(delta).max(axis=0) / w_max
    for tol in np.quantile(ratio, [0.1, 0.3, 0.5, 0.7, 0.9]):
        ours = stop_check(steps, inverse, after[touched], change, delta, visits, tol, last=False)
        np.testing.assert_array_equal(ours, ratio < tol)


def test_through_the_error_equals_scikit_learn_where_the_sweeps_are_far_from_converged():
    """1,000 epochs at condition number 8e4: the result is not w*, and the pruned error basis still gets it."""
    x, y, gram, xy, start = _slow_problem()
    seed = path_seeds(3)[2]
    expected = _sklearn_sweeps(gram, xy, y, start, 2, 1000)
    assert np.abs(expected - np.linalg.solve(gram, xy)).max() > 1  # far from the normal equations' solution
    ours = unpenalised_descent(gram, xy, start, np.einsum("ij,ij->j", y, y), seed)
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-9 * np.abs(expected).max())


@pytest.mark.parametrize("budget", [0.0, 1e-3])
def test_pruning_moves_each_fitted_value_by_at_most_the_budget(budget):
    """``sweep_error`` against the epochs replayed on the error itself (q = 0, so w* = 0 and nothing stops)."""
    x, y, gram, xy, start = _slow_problem(seed=1)
    error = start - np.linalg.solve(gram, xy)
    scale = np.linalg.norm(y, axis=0)
    plan = us.epoch_plan(np.diag(gram), 99, 1000)
    replayed = gauss_seidel(gram, np.zeros_like(xy), error, np.zeros(len(scale)), 99)
    ours = us.sweep_error(gram, np.linalg.cholesky(gram).T, error, scale, plan, budget=budget)
    moved = np.linalg.norm(x @ (ours - replayed), axis=0) / scale  # the energy norm of the difference
    assert moved.max() <= max(budget, 1e-12)
    if budget:
        assert moved.max() > 1e-9  # directions were dropped: the bound is what holds the result
    assert np.abs(replayed).max() > 1e-3  # the error has not died out by itself


def test_outputs_that_may_stop_early_are_replayed_and_stop_as_in_scikit_learn(monkeypatch):
    """A near-perfect fit closes its gap before max_iter; only that output goes through the replay.

    Carried through all 400 epochs instead, it would differ by 3e-3.
    """
    x, y, gram, _ = correlated_problem(noise=1e-4, outputs=1)
    noisy = x[:, :2] + np.random.default_rng(3).standard_normal((len(x), 2))
    y = np.column_stack([y, noisy - noisy.mean(axis=0)])
    xy, start = x.T @ y, np.zeros((x.shape[1], 3))
    replayed = []
    original = us.gauss_seidel
    monkeypatch.setattr(us, "gauss_seidel",
                        lambda g, q, *a, **k: replayed.append(q.shape[1]) or original(g, q, *a, **k))
    ours = unpenalised_descent(gram, xy, start, np.einsum("ij,ij->j", y, y), path_seeds(1)[0], max_iter=400)
    assert replayed == [1]
    expected, epochs = _sklearn_sweeps(gram, xy, y, start, 0, 400, with_epochs=True)
    assert epochs[0] < 400
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12)


def test_a_singular_gram_matrix_replays_every_epoch(monkeypatch):
    x, y, gram, xy = correlated_problem(zero_column=3)
    monkeypatch.setattr(us, "sweep_error", lambda *a, **k: pytest.fail("the error route needs a regular Gram matrix"))
    start = np.zeros_like(xy)
    ours = unpenalised_descent(gram, xy, start, np.einsum("ij,ij->j", y, y), path_seeds(1)[0], max_iter=50)
    np.testing.assert_array_equal(ours, gauss_seidel(gram, xy, start, np.einsum("ij,ij->j", y, y),
                                                     path_seeds(1)[0], max_iter=50))
