"""scikit-learn's lasso coordinate descent for many outputs at once, step for step.

With ``selection="random"`` and ``random_state=0`` scikit-learn visits the
coordinates in an order that does not depend on the data: every call to its
path draws one seed per alpha from a fresh ``RandomState(0)``, and the
coordinate of each step comes from a 32-bit xorshift generator started at that
seed. All outputs (genes) and all folds therefore walk the same order.

* ``alpha > 0``: each output runs scikit-learn's own Cython routine on a Gram
  matrix and a warm start shared along the path (no per-output Gram, no
  estimator overhead); the routine releases the GIL, so outputs run on threads.
* ``alpha = 0``: the update is linear, and one epoch of random-order
  Gauss-Seidel is one lower-triangular solve. The epoch is solved for every
  output at once (BLAS 3), with scikit-learn's stopping rule applied per
  output. It matches the sequential sweep to rounding.
"""
from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse
from scipy.linalg.blas import dgemm, dtrsm

RAND_R_MAX = 0x7FFFFFFF
_MASK = 0xFFFFFFFF


def path_seeds(n_alphas: int, random_state: int = 0) -> list[int]:
    """The seed scikit-learn's coordinate descent draws for each alpha of one path (in path order)."""
    rng = np.random.RandomState(random_state)
    return [int(rng.randint(0, RAND_R_MAX)) for _ in range(n_alphas)]


@functools.lru_cache(maxsize=8)
def coordinate_order(n_features: int, seed: int, n_epochs: int) -> np.ndarray:
    """The coordinates scikit-learn visits, epoch by epoch (n_epochs x n_features), from ``seed``."""
    state = seed or 1
    out = np.empty(n_epochs * n_features, dtype=np.int64)
    modulus = RAND_R_MAX + 1
    for k in range(len(out)):
        state ^= (state << 13) & _MASK
        state ^= state >> 17
        state ^= (state << 5) & _MASK
        out[k] = (state % modulus) % n_features
    out = out.reshape(n_epochs, n_features)
    out.setflags(write=False)
    return out


def lasso_path_columns(gram: np.ndarray, xy: np.ndarray, y: np.ndarray, alphas, max_iter: int = 1000,
                       tol: float = 1e-4, random_state: int = 0, threads: int | None = None) -> np.ndarray:
    """Coefficients (alphas x features x outputs) of scikit-learn's ``lasso_path`` with a Gram matrix.

    ``gram`` = X'X and ``xy`` = X'Y of centred training data, ``y`` the centred
    outputs (their norms set the tolerance), ``alphas`` in path order
    (decreasing) on the scale of ``Lasso`` (multiplied by n here).
    """
    from sklearn.linear_model import _cd_fast

    gram = np.ascontiguousarray(gram, dtype=np.float64)
    n, n_outputs = y.shape
    alphas = np.asarray(alphas, dtype=float)
    seeds = path_seeds(len(alphas), random_state)
    coefs = np.zeros((len(alphas), gram.shape[0], n_outputs))
    positive = np.flatnonzero(alphas > 0)
    if positive.size and np.any(np.diff(alphas) > 0):
        raise ValueError("alphas must be in decreasing order, as in a path")

    def one_output(j):
        rng = np.random.RandomState(random_state)
        w = np.zeros(gram.shape[0])
        q, target = np.ascontiguousarray(xy[:, j]), np.ascontiguousarray(y[:, j])
        for i in positive:
            w, *_ = _cd_fast.enet_coordinate_descent_gram(w, alphas[i] * n, 0.0, gram, q, target, max_iter, tol,
                                                         rng, True, False)
            coefs[i, :, j] = w

    if positive.size:
        per_output_threads(one_output, range(n_outputs), threads)
    zero = np.flatnonzero(alphas == 0)
    if zero.size:
        start = coefs[zero[0] - 1] if zero[0] > 0 else np.zeros_like(coefs[0])
        coefs[zero[0]] = gauss_seidel(gram, xy, start, np.einsum("ij,ij->j", y, y), seeds[zero[0]], max_iter, tol)
    return coefs


def gauss_seidel(gram: np.ndarray, xy: np.ndarray, start: np.ndarray, y_norm2: np.ndarray, seed: int,
                 max_iter: int = 1000, tol: float = 1e-4) -> np.ndarray:
    """Unpenalised random-order coordinate descent (alpha = 0) for every output column at once.

    Each epoch visits the coordinates of ``coordinate_order`` (repeats
    included): step k sets ``delta_k = r[s_k] / Q[s_k, s_k]`` with the residual
    correlations ``r = q - Q w`` as left by the steps before it, so the deltas
    solve a lower-triangular system with entries ``Q[s_k, s_m]``. After each
    epoch an output stops under scikit-learn's rule: when its largest step is
    below ``tol`` times its largest coefficient, the duality gap (half the
    residual sum of squares when alpha = 0) is compared with ``tol * ||y||^2``.
    """
    p, n_outputs = start.shape
    w = np.empty((p, n_outputs))  # each output's column is written when it stops, or at the end
    diag = np.diag(gram)
    orders = coordinate_order(p, seed, max_iter)
    active = np.arange(n_outputs)
    wa = np.array(start, dtype=np.float64)
    ra = xy - gram @ wa
    xa, ya, limit = xy, y_norm2, tol * y_norm2  # the active outputs' columns
    for epoch in range(max_iter):
        steps = orders[epoch][diag[orders[epoch]] != 0]
        if steps.size == 0:
            break
        delta = _lower_solve(gram[np.ix_(steps, steps)], ra[steps])
        touched, inverse, visits, change = _per_coordinate(steps, delta)
        wa[touched] += change
        ra = dgemm(-1.0, change.T, gram[:, touched].T, beta=1.0, c=ra.T, overwrite_c=1).T  # ra -= Q[:, t] change
        final = wa[touched]
        check = _stop_check(steps, inverse, final, change, delta, visits, tol, last=epoch == max_iter - 1)
        if not check.any():
            continue
        if check.all():  # no column copies when every output is checked
            done = np.flatnonzero(_gap(wa, ra, xa, ya) < limit)
        else:
            cols = np.flatnonzero(check)
            done = cols[_gap(wa[:, cols], ra[:, cols], xa[:, cols], ya[cols]) < limit[cols]]
        if done.size:
            w[:, active[done]] = wa[:, done]
            keep = np.setdiff1d(np.arange(len(active)), done)
            active, wa, ra = active[keep], wa[:, keep], ra[:, keep]
            xa, ya, limit = xa[:, keep], ya[keep], limit[keep]
            if active.size == 0:
                break
    w[:, active] = wa
    return w


def _lower_solve(block: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve tril(block) @ delta = rhs (block k x k, rhs k x outputs, both C-ordered) with one BLAS call.

    Transposed, the system reads delta' tril(block)' = rhs', and the C-ordered
    arrays are Fortran-ordered transposes already: no copies.
    """
    return dtrsm(1.0, block.T, rhs.T, side=1, lower=0, trans_a=0, overwrite_b=1).T


def _per_coordinate(steps: np.ndarray, delta: np.ndarray):
    """(coordinates touched, each step's place among them, most visits to one, their total change).

    A coordinate drawn twice in an epoch adds both steps.
    """
    touched, inverse, counts = np.unique(steps, return_inverse=True, return_counts=True)
    adder = sparse.csr_matrix((np.ones(len(steps)), (inverse, np.arange(len(steps)))),
                              shape=(len(touched), len(steps)))
    return touched, inverse, int(counts.max()), adder @ delta


def _stop_check(steps, inverse, final, change, delta, visits, tol, last: bool) -> np.ndarray:
    """Per output: scikit-learn's test for checking the gap (largest step small against largest coefficient).

    The largest coefficient over the epoch's steps lies between the largest
    final value of the touched coordinates and that plus (visits - 1) times
    the largest step; the exact value is only worked out where those bounds
    leave the test undecided.
    """
    if last:
        return np.ones(delta.shape[1], dtype=bool)
    d_w_max = np.abs(delta).max(axis=0)
    low = np.abs(final).max(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        check = (low > 0) & (d_w_max / low < tol)  # below tol even against the smallest possible maximum
        undecided = ~check & ((low == 0) | (d_w_max / (low + (visits - 1) * d_w_max) < tol))
    if undecided.any():
        cols = np.flatnonzero(undecided)
        start_rows = (final[:, cols] - change[:, cols])[inverse]  # each step's coordinate before the epoch
        w_max = np.abs(_step_values(steps, start_rows, delta[:, cols])).max(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            check[cols] = (w_max == 0) | (d_w_max[cols] / w_max < tol)
    return check


def _step_values(steps, start_rows, delta) -> np.ndarray:
    """The coefficient after each step: its start (or its previous step's value) plus the step's change."""
    values = delta.copy()
    seen: dict[int, int] = {}
    first, later, previous = [], [], []
    for k, s in enumerate(steps.tolist()):
        if s in seen:
            later.append(k)
            previous.append(seen[s])
        else:
            first.append(k)
        seen[s] = k
    values[first] += start_rows[first]
    for k, m in zip(later, previous):  # repeats are few (a coordinate drawn twice in an epoch)
        values[k] += values[m]
    return values


def _gap(w, r, q, y_norm2) -> np.ndarray:
    """The duality gap at alpha = 0 per output, from the coefficients and the residual correlations r = q - Qw."""
    qw = np.einsum("ij,ij->j", q, w)
    rss = y_norm2 - qw - np.einsum("ij,ij->j", w, r)  # ||y||^2 + w'Qw - 2 q'w
    dual = np.abs(r).max(axis=0)
    return np.where(dual > 0, 0.5 * rss, rss - y_norm2 + qw)


def per_output_threads(function, outputs, threads: int | None) -> None:
    """``function(j)`` for every output on a pool of threads, BLAS held to one thread inside.

    scikit-learn's coordinate descent calls BLAS on short vectors; letting BLAS
    start its own threads under ours made two threads slower than one (3.9 s
    against 2.5 s for 200 genes; 1.3 s with BLAS held to one).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(thread_count(threads)) as pool:
        list(pool.map(function, outputs))


def thread_count(requested: int | None) -> int:
    """``requested`` threads, or one per core when it is None or not positive (joblib's -1)."""
    if requested and requested > 0:
        return requested
    return os.cpu_count() or 1
