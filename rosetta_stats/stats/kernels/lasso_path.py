"""scikit-learn's lasso coordinate descent for many outputs at once, step for step.

With ``selection="random"`` and ``random_state=0`` scikit-learn visits the
coordinates in an order that does not depend on the data: every call to its
path draws one seed per alpha from a fresh ``RandomState(0)``, and the
coordinate of each step comes from a 32-bit xorshift generator started at that
seed. All outputs (genes) and all folds therefore walk the same order.

* ``alpha > 0``: the compiled kernel ``_gram_lasso`` runs scikit-learn's Gram
  routine for blocks of outputs in lockstep (one pass over a row of Q per
  changed coefficient, ``Q w`` carried along the path, each row read once for
  the whole block), blocks on threads; its results equal scikit-learn's to
  rounding, with the same epoch counts. Given the centred training rows
  themselves and fewer rows than features, the kernel carries the fitted
  values instead of ``Q w`` and skips, by a bound, the visits that leave a zero
  coefficient at zero (``rows_lasso.h``; same iterates to rounding). Where the
  kernel was not built, each output runs scikit-learn's own routine.
* ``alpha = 0``: the update is linear; ``kernels.unpenalised_sweep`` runs it
  for every output at once (its result equals the sequential sweep to
  rounding, or within a stated bound of 1e-12 of ||y|| in fitted values).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .threads import thread_count
from .unpenalised_sweep import RAND_R_MAX, on_rows, unpenalised_descent

try:
    from . import _gram_lasso
except ImportError:  # installed without a C compiler: scikit-learn's routine, output by output
    _gram_lasso = None

LOCKSTEP_BLOCK = 32  # outputs per lockstep block (978 genes, one fold: 1: 3.1 s, 8: 3.1 s, 32: 2.3 s, 64: 2.4 s)
ROWS_BLOCK = 8  # outputs per block of the rows kernel (CMEA fold, 104 x 808, 2 threads: 8: 10.8, 32: 11.2 ms a gene)


def path_seeds(n_alphas: int, random_state: int = 0) -> list[int]:
    """The seed scikit-learn's coordinate descent draws for each alpha of one path (in path order)."""
    rng = np.random.RandomState(random_state)
    return [int(rng.randint(0, RAND_R_MAX)) for _ in range(n_alphas)]


def lasso_path_columns(gram: np.ndarray, xy: np.ndarray, y: np.ndarray, alphas, max_iter: int = 1000,
                       tol: float = 1e-4, random_state: int = 0, threads: int | None = None,
                       compiled: bool | None = None, x: np.ndarray | None = None) -> np.ndarray:
    """Coefficients (alphas x features x outputs) of scikit-learn's ``lasso_path`` with a Gram matrix.

    ``gram`` = X'X and ``xy`` = X'Y of centred training data, ``y`` the centred
    outputs (their norms set the tolerance), ``alphas`` in path order
    (decreasing) on the scale of ``Lasso`` (multiplied by n here).
    ``compiled=False`` runs scikit-learn's routine output by output (the
    default uses the compiled kernel when it is there). ``x``, the centred
    training rows (gram = x'x), lets the kernel work on the rows when they
    are fewer than the features.
    """
    coefs, _ = lasso_path_with_epochs(gram, xy, y, alphas, max_iter, tol, random_state, threads, compiled, x)
    return coefs


def lasso_path_with_epochs(gram, xy, y, alphas, max_iter=1000, tol=1e-4, random_state=0, threads=None,
                           compiled=None, x=None):
    """``lasso_path_columns`` and the epochs each penalised fit ran (alphas x outputs; zero at alpha = 0)."""
    gram = np.ascontiguousarray(gram, dtype=np.float64)
    n, n_outputs = y.shape
    alphas = np.asarray(alphas, dtype=float)
    if np.any(np.diff(alphas) > 0) and np.any(alphas > 0):
        raise ValueError("alphas must be in decreasing order, as in a path")
    seeds = path_seeds(len(alphas), random_state)
    n_positive = int(np.count_nonzero(alphas > 0))  # a prefix: the path is decreasing
    y_norm2 = np.einsum("ij,ij->j", y, y)
    # outputs x alphas x features, so a block of outputs is a slice of rows; handed back as a transposed view
    store = np.zeros((n_outputs, len(alphas), gram.shape[0]))
    epochs = np.zeros((n_outputs, len(alphas)), dtype=np.int32)
    if n_positive:
        _penalised(gram, xy, y, y_norm2, alphas[:n_positive] * n, random_state, max_iter, tol,
                   store[:, :n_positive], epochs[:, :n_positive], threads, compiled, x)
    coefs = store.transpose(1, 2, 0)
    zero = np.flatnonzero(alphas == 0)
    if zero.size:
        start = coefs[zero[0] - 1] if zero[0] > 0 else np.zeros_like(coefs[0])
        coefs[zero[0]] = unpenalised_descent(gram, xy, start, y_norm2, seeds[zero[0]], max_iter, tol, x=x)
    return coefs, epochs.T


def lasso_fits(gram: np.ndarray, xy: np.ndarray, y: np.ndarray, alpha_n: np.ndarray, max_iter: int = 1000,
               tol: float = 1e-4, random_state: int = 0, threads: int | None = None,
               compiled: bool | None = None, x: np.ndarray | None = None) -> np.ndarray:
    """Coefficients (features x outputs) of ``Lasso(alpha)`` from zero, each output at its own penalty.

    ``alpha_n`` holds each output's alpha times the number of rows (all
    positive). Outputs sharing a penalty run as one single-alpha path; the
    Gram route equals scikit-learn's fit on the rows themselves in exact
    arithmetic (X'r = q - Q w, ||r||^2 = ||y||^2 - 2 q'w + w'Q w).
    """
    gram = np.ascontiguousarray(gram, dtype=np.float64)
    coef = np.zeros((gram.shape[0], xy.shape[1]))
    for penalty in np.unique(alpha_n):
        cols = np.flatnonzero(alpha_n == penalty)
        store = np.zeros((cols.size, 1, gram.shape[0]))
        _penalised(gram, xy[:, cols], y[:, cols], np.einsum("ij,ij->j", y[:, cols], y[:, cols]),
                   np.array([penalty]), random_state, max_iter, tol, store,
                   np.zeros((cols.size, 1), dtype=np.int32), threads, compiled, x)
        coef[:, cols] = store[:, 0].T
    return coef


def _penalised(gram, xy, y, y_norm2, penalties, random_state, max_iter, tol, store, epochs, threads, compiled,
               x=None):
    """The penalised part of a path into ``store`` (outputs x alphas x features): a kernel or scikit-learn.

    ``penalties`` are the first alphas (times n) of a path whose draws come from ``RandomState(random_state)``.
    """
    use_kernel = _gram_lasso is not None if compiled is None else compiled
    if use_kernel and _gram_lasso is None:
        raise RuntimeError("the compiled lasso kernel (rosetta_stats.stats.kernels._gram_lasso) is not built")
    if not use_kernel:
        _per_output_path(gram, xy, y, y_norm2, penalties, random_state, max_iter, tol, store, epochs, threads)
    elif on_rows(x, gram):
        _rows_path(x, gram, xy, y_norm2, penalties, random_state, max_iter, tol, store, epochs, threads)
    else:
        _lockstep_path(gram, xy, y, y_norm2, penalties, random_state, max_iter, tol, store, epochs, threads)


def _rows_path(x, gram, xy, y_norm2, penalties, random_state, max_iter, tol, store, epochs, threads):
    """The rows kernel on blocks of ``ROWS_BLOCK`` outputs (it writes C-ordered blocks: strided stores are copied)."""
    n_outputs, p = xy.shape[1], gram.shape[0]
    xt = np.ascontiguousarray(np.asarray(x, dtype=np.float64).T)
    diag = np.ascontiguousarray(np.diag(gram), dtype=np.float64)
    w, u = np.zeros((n_outputs, p)), np.zeros((n_outputs, xt.shape[1]))  # from zero, so u = X w = 0
    coefs = store if store.flags.c_contiguous else np.zeros(store.shape)
    iters = epochs if epochs.flags.c_contiguous else np.zeros(epochs.shape, dtype=np.int32)

    def block(rows, xy_rows, y2, pen, seeds):
        _gram_lasso.lasso_rows_path_block(xt, diag, xy_rows[rows], y2[rows], pen, seeds, max_iter, tol, w[rows],
                                          u[rows], coefs[rows], iters[rows])

    _on_blocks(block, xy, y_norm2, penalties, random_state, ROWS_BLOCK, threads)
    if coefs is not store:
        store[...] = coefs
        epochs[...] = iters


def _lockstep_path(gram, xy, y, y_norm2, penalties, random_state, max_iter, tol, store, epochs, threads):
    """The Gram kernel on blocks of ``LOCKSTEP_BLOCK`` outputs."""
    n_outputs, p = xy.shape[1], gram.shape[0]
    w, h = np.zeros((n_outputs, p)), np.zeros((n_outputs, p))  # from zero, so H = Q w = 0

    def block(rows, xy_rows, y2, pen, seeds):
        _gram_lasso.lasso_gram_path_block(gram, xy_rows[rows], y2[rows], pen, seeds, max_iter, tol, w[rows],
                                          h[rows], store[rows], epochs[rows])

    _on_blocks(block, xy, y_norm2, penalties, random_state, LOCKSTEP_BLOCK, threads)


def _on_blocks(block, xy, y_norm2, penalties, random_state, size, threads) -> None:
    """``block(rows, xy_rows, y_norm2, penalties, seeds)`` for blocks of ``size`` outputs, on threads (the
    kernels release the GIL), with the inputs both compiled kernels take: C-ordered, float64, and the
    routine's draw for each alpha."""
    xy_rows = np.ascontiguousarray(xy.T, dtype=np.float64)
    y_norm2 = np.ascontiguousarray(y_norm2, dtype=np.float64)
    penalties = np.ascontiguousarray(penalties, dtype=np.float64)
    seeds = np.asarray(path_seeds(len(penalties), random_state), dtype=np.uint32)
    with ThreadPoolExecutor(thread_count(threads)) as pool:
        list(pool.map(lambda first: block(slice(first, first + size), xy_rows, y_norm2, penalties, seeds),
                      range(0, xy_rows.shape[0], size)))


def _per_output_path(gram, xy, y, y_norm2, penalties, random_state, max_iter, tol, store, epochs, threads):
    """scikit-learn's ``enet_coordinate_descent_gram`` output by output along the path (outputs on threads).

    From zero, a step sets a coefficient to ``soft(q_j, alpha n) / Q_jj``,
    which is exactly zero when ``|q_j| <= alpha n``; so while every ``|q_j|``
    is within the penalty the routine would return zero, and only its one
    draw from the random state is made.
    """
    from sklearn.linear_model import _cd_fast

    live = np.diag(gram) != 0

    def one_output(j):
        rng = np.random.RandomState(random_state)
        w = np.zeros(gram.shape[0])
        q, target = np.ascontiguousarray(xy[:, j]), np.ascontiguousarray(y[:, j])
        q_max = np.abs(q[live]).max(initial=0.0)
        for i, penalty in enumerate(penalties):
            if q_max <= penalty and not w.any():
                rng.randint(0, RAND_R_MAX)  # the routine's one draw; from zero it would return zero
                epochs[j, i] = 1 if y_norm2[j] > 0 else max_iter
                continue
            w, _, _, epochs[j, i] = _cd_fast.enet_coordinate_descent_gram(w, penalty, 0.0, gram, q, target,
                                                                          max_iter, tol, rng, True, False)
            store[j, i] = w

    per_output_threads(one_output, range(xy.shape[1]), threads)


def per_output_threads(function, outputs, threads: int | None) -> None:
    """``function(j)`` for every output on a pool of threads, BLAS held to one thread inside.

    scikit-learn's coordinate descent calls BLAS on short vectors; letting BLAS
    start its own threads under ours made two threads slower than one (3.9 s
    against 2.5 s for 200 genes; 1.3 s with BLAS held to one).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(thread_count(threads)) as pool:
        list(pool.map(function, outputs))
