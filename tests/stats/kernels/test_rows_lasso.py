"""The lasso path carried on the rows (fewer rows than features) against scikit-learn's routine on the rows."""
import warnings

import numpy as np
import pytest
from sklearn.linear_model import Lasso, lasso_path

from rosetta_stats.stats.kernels import lasso_path as lp
from rosetta_stats.stats.kernels.lasso_path import lasso_fits, lasso_path_columns, lasso_path_with_epochs, path_seeds
from rosetta_stats.stats.kernels import unpenalised_sweep as us
from rosetta_stats.stats.kernels import rows_sweep
from rosetta_stats.stats.kernels.rows_sweep import replay_on_basis
from rosetta_stats.stats.kernels.sweep_epochs import Epoch, stop_check
from rosetta_stats.stats.kernels.unpenalised_sweep import gauss_seidel
from tests.helpers.lasso_problems import correlated_problem

ALPHAS = np.sort(np.concatenate([np.linspace(0, 0.2, 20), np.linspace(0.2, 0.5, 10)[1:]]))[::-1]


def wide_problem(n=40, p=90, outputs=21, seed=0, zero_column=11, noise=0.3):
    """More features than rows (a consensus-level fold): x, y, X'X, X'y; one constant feature, one zero output."""
    x, y, gram, xy = correlated_problem(n=n, p=p, outputs=outputs, noise=noise, seed=seed, zero_column=zero_column)
    y[:, 4] = 0.0
    return x, y, gram, x.T @ y


def test_the_rows_route_is_taken_only_with_the_rows_and_fewer_rows_than_features():
    x, _, gram, _ = wide_problem()
    assert lp.on_rows(x, gram) and not lp.on_rows(None, gram)
    tall, _, tall_gram, _ = correlated_problem(n=100, p=20)
    assert not lp.on_rows(tall, tall_gram)


@pytest.mark.parametrize("max_iter", [1000, 30])
def test_every_alpha_and_every_epoch_count_equal_scikit_learns_routine_on_the_rows(max_iter):
    """21 outputs (three blocks of eight, the last padded), a constant feature, a zero output; with 30 epochs
    most small alphas run out, so the last iterate (not a solution) must match, as in the paper's LassoCV."""
    x, y, gram, xy = wide_problem()
    alphas = ALPHAS[:-1]
    ours, epochs = lasso_path_with_epochs(gram, xy, y, alphas, max_iter=max_iter, threads=2, x=x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j in range(y.shape[1]):
            _, coefs, _, iters = lasso_path(x, y[:, j], alphas=alphas, precompute=False, max_iter=max_iter,
                                            selection="random", random_state=0, return_n_iter=True)
            np.testing.assert_allclose(ours[:, :, j], coefs.T, rtol=0, atol=1e-10)
            np.testing.assert_array_equal(epochs[:, j], iters)
    assert (ours[:, 11] == 0).all() and (ours[:, :, 4] == 0).all()
    assert (epochs[-1] == max_iter).any() and len(np.unique(epochs)) > 5


def test_the_rows_route_equals_the_gram_route_on_real_shaped_noise():
    """Pure noise on 30 rows x 200 features: many zero coefficients sit near the penalty, the bound's hard case."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((30, 200))
    y = rng.standard_normal((30, 10))
    x, y = x - x.mean(axis=0), y - y.mean(axis=0)
    gram, xy = x.T @ x, x.T @ y
    alphas = ALPHAS[:-1] * 0.2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows, rows_epochs = lasso_path_with_epochs(gram, xy, y, alphas, threads=1, x=x)
        gram_route, gram_epochs = lasso_path_with_epochs(gram, xy, y, alphas, threads=1)
    np.testing.assert_allclose(x @ rows, x @ gram_route, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(rows_epochs, gram_epochs)
    assert (rows[-1] != 0).sum(axis=0).min() > 5


def test_a_thread_count_does_not_change_the_path():
    x, y, gram, xy = wide_problem(outputs=17, seed=3)
    one = lasso_path_columns(gram, xy, y, ALPHAS[:-1], threads=1, x=x)
    for threads in (2, 3):
        np.testing.assert_array_equal(lasso_path_columns(gram, xy, y, ALPHAS[:-1], threads=threads, x=x), one)


def test_fits_at_each_outputs_own_alpha_equal_lasso_on_the_rows():
    x, y, gram, xy = wide_problem(outputs=6, seed=5)
    alpha = np.array([0.02, 0.3, 0.02, 0.1, 50.0, 0.3])
    ours = lasso_fits(gram, xy, y, alpha * len(x), threads=2, x=x)
    for j in range(y.shape[1]):
        model = Lasso(alpha=alpha[j], fit_intercept=False, precompute=False, selection="random", random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.testing.assert_allclose(ours[:, j], model.fit(x, y[:, j]).coef_, rtol=0, atol=1e-10)
    assert (ours[:, 4] == 0).all() and (ours[:, [0, 1, 2, 3, 5]] != 0).any(axis=0)[[0, 1, 2, 3]].all()


def test_unpenalised_sweeps_on_the_rows_equal_the_sweeps_on_the_gram_matrix():
    """alpha = 0 with more features than rows (singular Gram matrix): an exact fit stops early, noise runs on."""
    x, y, gram, xy = wide_problem(outputs=9, zero_column=None, noise=0.0)
    y[:, 0] = x[:, 3] * 2.0  # in the column space: the gap closes
    xy = x.T @ y
    start = np.zeros_like(xy)
    y_norm2 = np.einsum("ij,ij->j", y, y)
    seed = path_seeds(1)[0]
    on_gram = gauss_seidel(gram, xy, start, y_norm2, seed, max_iter=300)
    on_rows = gauss_seidel(gram, xy, start, y_norm2, seed, max_iter=300, x=x)
    np.testing.assert_allclose(on_rows, on_gram, rtol=0, atol=1e-9 * np.abs(on_gram).max())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j in (0, 5):
            np.testing.assert_allclose(x @ on_rows[:, j], x @ _sklearn_sweep(x, y[:, j], seed, 300), atol=1e-9)


@pytest.fixture(params=["compiled", "blas"])
def basis_route(request, monkeypatch):
    """The basis epochs through the compiled kernel and through the BLAS chunks used without a compiler."""
    if request.param == "compiled" and rows_sweep.unpenalised_rows_epoch is None:
        pytest.skip("the compiled kernels were not built")
    if request.param == "blas":
        monkeypatch.setattr(rows_sweep, "unpenalised_rows_epoch", None)
    return request.param


def test_unpenalised_sweeps_for_more_outputs_than_rows_run_once_on_a_basis_with_each_outputs_own_stop(
        monkeypatch, basis_route):
    """25 outputs on 12 rows: five fit exactly (they stop at different epochs), one is zero, the rest run on;
    warm starts as the path hands them. Equal to scikit-learn's own routine, output by output."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((12, 3)) @ rng.standard_normal((3, 30)) + 0.3 * rng.standard_normal((12, 30))
    x -= x.mean(axis=0)  # correlated features: the exact fits stop after 65 to 131 epochs
    y = rng.standard_normal((12, 25))
    y[:, :5] = x @ rng.standard_normal((30, 5)) * np.array([1.0, 3.0, 0.3, 10.0, 0.01])
    y[:, 5] = 0.0
    y -= y.mean(axis=0)
    gram, xy = x.T @ x, x.T @ y
    start = np.where(rng.random((30, 25)) < 0.2, rng.standard_normal((30, 25)), 0.0)
    y_norm2 = np.einsum("ij,ij->j", y, y)
    seed = path_seeds(1)[0]
    calls = []
    monkeypatch.setattr(us, "replay_on_basis", lambda *a, **k: calls.append(1) or replay_on_basis(*a, **k))
    on_basis = gauss_seidel(gram, xy, start, y_norm2, seed, max_iter=400, x=x)
    assert calls, "more outputs than rows must take the basis route"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = np.column_stack([_sklearn_sweep(x, y[:, j], seed, 400, start[:, j]) for j in range(y.shape[1])])
    np.testing.assert_allclose(on_basis, theirs, rtol=0, atol=1e-9 * np.abs(theirs).max())


def test_on_a_basis_an_output_stops_when_its_gap_passes_with_a_residual_the_rows_cannot_fit(basis_route):
    """Rank-3 rows: a residual outside their span stays, so some outputs' gaps pass only just (or never)."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((12, 3)) @ rng.standard_normal((3, 30))
    x -= x.mean(axis=0)
    y = x @ rng.standard_normal((30, 20))
    outside = rng.standard_normal((12, 20))
    outside -= outside.mean(axis=0)
    outside -= x @ np.linalg.lstsq(x, outside, rcond=None)[0]  # centred and out of the rows' span
    share = np.r_[0.0, 1.8e-4, 1.95e-4, 1.99e-4, 2.05e-4, np.full(15, 1e-3)]  # of ||y||^2; the gap needs < 2e-4
    fitted2, outside2 = (y ** 2).sum(axis=0), (outside ** 2).sum(axis=0)
    y += outside * np.sqrt(share / (1 - share) * fitted2 / outside2)
    gram, xy = x.T @ x, x.T @ y
    y_norm2 = np.einsum("ij,ij->j", y, y)
    seed = path_seeds(1)[0]
    ours = gauss_seidel(gram, xy, np.zeros_like(xy), y_norm2, seed, max_iter=300, x=x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = np.column_stack([_sklearn_sweep(x, y[:, j], seed, 300) for j in range(y.shape[1])])
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9 * np.abs(theirs).max())


@pytest.mark.parametrize("rows, threads", [(72, 1), (72, 2), (24, 1), (17, 1), (10, 3)])
def test_the_basis_epochs_equal_scikit_learn_at_every_block_width(rows, threads, basis_route):
    """Residual bases of 71, 23, 16 and 9 columns, split over 1 to 3 threads: blocks of 8 to 40 columns."""
    rng = np.random.default_rng(rows)
    x = rng.standard_normal((rows, 2 * rows + 5))
    x -= x.mean(axis=0)
    y = rng.standard_normal((rows, rows + 9))
    y -= y.mean(axis=0)
    gram, xy = x.T @ x, x.T @ y
    start = np.where(rng.random(xy.shape) < 0.1, rng.standard_normal(xy.shape), 0.0)
    y_norm2 = np.einsum("ij,ij->j", y, y)
    seed = path_seeds(1)[0]
    ours = replay_on_basis(x, gram, xy, start, y_norm2, seed, max_iter=60, threads=threads)
    picked = np.arange(0, y.shape[1], 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = np.column_stack([_sklearn_sweep(x, y[:, j], seed, 60, start[:, j]) for j in picked])
    np.testing.assert_allclose(ours[:, picked], theirs, rtol=0, atol=1e-9 * np.abs(theirs).max())


def test_rows_that_are_all_zero_leave_every_start_where_it_was():
    """A centred training fold whose features are all constant: scikit-learn skips every coordinate."""
    x = np.zeros((6, 15))
    y = np.random.default_rng(2).standard_normal((6, 9))
    start = np.random.default_rng(3).standard_normal((15, 9))
    out = gauss_seidel(x.T @ x, x.T @ y, start, np.einsum("ij,ij->j", y, y), path_seeds(1)[0], max_iter=20, x=x)
    np.testing.assert_array_equal(out, start)


@pytest.mark.parametrize("excess", [-1e-6, 1e-6, 1e-3])
def test_the_step_certificate_never_passes_over_an_epoch_that_meets_the_step_test(excess):
    """A coordinate visited twice (+s, then -s) peaks at F + s while every final value is F: with s just above
    tol F the step test passes (s / (F + s) < tol) and no certificate may say the steps are too large."""
    tol, big = 1e-4, 1.0
    s = tol * big * (1 + excess)
    steps = np.array([0, 1, 0])
    epoch = Epoch.of(steps)
    delta = np.array([[s], [0.0], [-s]])  # basis steps; one basis vector, the output's coordinate on it is 1
    start = np.array([[big], [0.0]])
    change = epoch.adder @ delta
    final = start[epoch.touched] + change
    exact = stop_check(epoch.steps, epoch.inverse, final, change, delta, epoch.visits, tol, last=False)
    certified = rows_sweep._steps_too_large(delta, epoch.visits, np.array([0]), np.array([1.0]),
                                            np.abs(final).max(axis=0), np.zeros(1), np.ones((1, 1)), tol)
    assert not (certified & exact).any()
    if excess == 1e-3:  # s / (F + s) is then above tol: the certificate should see it
        assert certified.all() and not exact.any()


def _sklearn_sweep(x, y, seed, max_iter, start=None):
    """scikit-learn's own routine at alpha = 0 from ``start`` (zero), with the seed the path draws for its alpha."""
    from sklearn.linear_model import _cd_fast

    class OneSeed:
        def randint(self, *_):
            return seed

    w = np.zeros(x.shape[1]) if start is None else np.array(start, dtype=np.float64)
    out = _cd_fast.enet_coordinate_descent(w, 0.0, 0.0, np.asfortranarray(x), np.ascontiguousarray(y), max_iter,
                                           1e-4, OneSeed(), True, False)
    return out[0]
