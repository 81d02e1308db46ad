"""scikit-learn's unpenalised (alpha = 0) random-order coordinate descent, for many outputs at once.

With ``alpha = 0`` every step is linear: step k sets
``delta_k = r[s_k] / Q[s_k, s_k]`` with the residual correlations
``r = q - Q w`` as left by the steps before it, so one epoch is one
lower-triangular solve (``gauss_seidel`` replays the epochs that way, for all
outputs at once, with scikit-learn's stopping rule per output).

Its sweeps run 1,000 epochs without ever stopping unless the fit is nearly
perfect, which makes them the slowest part of the paper's LassoCV.
``unpenalised_descent`` gets the same result from the error ``w - w*``
(``w*`` solves the normal equations): each epoch maps the error linearly, the
same map for every output, and the epochs damp most directions to nothing
within a few hundred epochs. The error is carried in a basis that is pruned
as those directions die, with a bound on what the pruning may change.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.linalg import LinAlgError, cho_factor, cho_solve, svd
from scipy.linalg.blas import dgemm, dtrmm, dtrsm
from scipy.linalg.lapack import dpocon

RAND_R_MAX = 0x7FFFFFFF
_MASK = 0xFFFFFFFF
RCOND_FLOOR = 1e-10  # below this the normal equations are solved too loosely; the epochs are replayed instead
GAP_MARGIN = 10.0  # outputs whose gap could come within this factor of scikit-learn's limit are replayed
ERROR_BUDGET = 1e-12  # pruning may move an output's fitted values by at most this times ||y|| in total
SWEEP_CHUNK = 64  # steps solved together in an epoch (50: 2.12 s, 100: 2.10 s, 200: 2.25 s for one fold)
ROW_CHUNK = 64  # steps per chunk on the rows (CMEA fold, 978 genes: 48: 2.2 s, 64: 2.1 s, 96: 2.2 s, 160: 2.6 s)
PRUNE_EVERY = 20  # epochs between prunings of the error basis (5: 3.3 s, 10: 2.5 s, 20: 2.1 s, 40: 2.0 s a fold)


@functools.lru_cache(maxsize=4)  # 8 bytes x features x epochs each (13 MB at 1,670 features)
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


@dataclass(frozen=True)
class Epoch:
    """One epoch's steps (coordinates in visiting order, repeats included) and how they add up per coordinate."""

    steps: np.ndarray
    touched: np.ndarray  # the distinct coordinates
    inverse: np.ndarray  # each step's place among them
    visits: int  # the most visits to one coordinate
    adder: sparse.csr_matrix  # touched x steps: sums each coordinate's steps

    @classmethod
    def of(cls, steps: np.ndarray) -> "Epoch":
        touched, inverse, counts = np.unique(steps, return_inverse=True, return_counts=True)
        adder = sparse.csr_matrix((np.ones(len(steps)), (inverse, np.arange(len(steps)))),
                                  shape=(len(touched), len(steps)))
        return cls(steps, touched, inverse, int(counts.max()), adder)


@functools.lru_cache(maxsize=2)  # lasso_cv needs two: the path's alpha = 0 and the refit's
def _full_plan(n_features: int, seed: int, n_epochs: int) -> tuple[Epoch, ...]:
    return tuple(Epoch.of(order) for order in coordinate_order(n_features, seed, n_epochs))


def epoch_plan(diag: np.ndarray, seed: int, n_epochs: int) -> tuple[Epoch, ...]:
    """The epochs of the sweep; coordinates with a zero diagonal are skipped, as scikit-learn skips them.

    The plan depends only on the order, so it is shared by every fold with no
    zero column; it ends early if an epoch would visit nothing.
    """
    live = diag != 0
    if live.all():
        return _full_plan(len(diag), seed, n_epochs)
    plan = []
    for order in coordinate_order(len(diag), seed, n_epochs):
        steps = order[live[order]]
        if steps.size == 0:
            break
        plan.append(Epoch.of(steps))
    return tuple(plan)


def sweep(gram: np.ndarray, epoch: Epoch, w: np.ndarray, r: np.ndarray):
    """One epoch for every column: ``w`` updated in place, ``r = q - Q w`` returned; also the steps and changes.

    The steps go in chunks of ``SWEEP_CHUNK``: a chunk's deltas solve the
    lower triangle of its own block, with ``r`` as the chunks before left it,
    and then update ``r`` with the chunk's rows of Q (a row gather and one
    GEMM). Gathering whole rows is about 3x cheaper than gathering the
    step-ordered block of the whole epoch.
    """
    steps = epoch.steps
    delta = np.empty((len(steps), r.shape[1]))
    for first in range(0, len(steps), SWEEP_CHUNK):
        chunk = steps[first:first + SWEEP_CHUNK]
        rows = gram[chunk]  # = Q[:, chunk]' (Q is symmetric)
        delta[first:first + SWEEP_CHUNK] = _lower_solve(np.ascontiguousarray(rows[:, chunk]), r[chunk])
        r = dgemm(-1.0, delta[first:first + SWEEP_CHUNK].T, rows.T, beta=1.0, c=r.T, overwrite_c=1,
                  trans_b=1).T  # r -= Q[:, chunk] delta
    change = epoch.adder @ delta
    w[epoch.touched] += change
    return r, delta, change


def unpenalised_descent(gram: np.ndarray, xy: np.ndarray, start: np.ndarray, y_norm2: np.ndarray, seed: int,
                        max_iter: int = 1000, tol: float = 1e-4, budget: float = ERROR_BUDGET,
                        return_bound: bool = False, x: np.ndarray | None = None):
    """The result of ``gauss_seidel`` (scikit-learn's sweeps), mostly computed through the error's decay.

    An output stops early only when its duality gap, half its residual sum of
    squares at alpha = 0, falls below ``tol * ||y||^2``; the residual sum of
    squares never falls below that of ``w*``. Outputs for which that bound
    leaves a stop possible (within ``GAP_MARGIN``) are replayed epoch by
    epoch. All others run every epoch, and their result is
    ``w* + A (start - w*)`` with A the product of the epochs' maps
    (``sweep_error``). A singular or badly conditioned Gram matrix replays all.

    ``budget`` bounds how far the error route may move each output's fitted
    values (times ||y||); with ``return_bound`` the bound on
    ``||X (w - w_returned)||`` is returned per output too (0 where replayed).
    ``x`` (the centred training rows) lets replays with fewer rows than
    features run on the rows (``gauss_seidel``).
    """
    gram = np.ascontiguousarray(gram, dtype=np.float64)
    start = np.asarray(start, dtype=np.float64)
    factor = cholesky_or_none(gram)
    bound = np.zeros(start.shape[1])
    if factor is None:
        out = gauss_seidel(gram, xy, start, y_norm2, seed, max_iter, tol, x)
        return (out, bound) if return_bound else out
    solution = cho_solve(factor, xy)
    rss_floor = y_norm2 - np.einsum("ij,ij->j", xy, solution)
    may_stop = 0.5 * rss_floor < GAP_MARGIN * tol * y_norm2
    out = np.empty(start.shape)
    if may_stop.any():
        cols = np.flatnonzero(may_stop)
        out[:, cols] = gauss_seidel(gram, xy[:, cols], start[:, cols], y_norm2[cols], seed, max_iter, tol, x)
    cols = np.flatnonzero(~may_stop)
    if cols.size:
        scale = np.sqrt(np.where(y_norm2[cols] > 0, y_norm2[cols], 1.0))
        error = sweep_error(gram, factor[0], start[:, cols] - solution[:, cols], scale,
                            epoch_plan(np.diag(gram), seed, max_iter), budget)
        out[:, cols] = solution[:, cols] + error
        bound[cols] = budget * scale
    return (out, bound) if return_bound else out


def sweep_error(gram, upper, error, scale, plan, budget: float = ERROR_BUDGET) -> np.ndarray:
    """``A @ error``: the error columns carried through every epoch of ``plan``, in a pruned basis.

    The error is kept as ``basis @ coefficients`` and the epochs act on the
    basis only. Every ``PRUNE_EVERY`` epochs the basis is turned orthogonal in
    the energy norm ``||v||_Q = ||X v||`` (through the Cholesky factor
    ``upper``), and directions are dropped while the energy they carry into
    every output stays within its share of ``budget * scale``. An epoch never
    lengthens a vector in that norm (each step minimises the energy along its
    coordinate), so what is dropped bounds the final error: at most
    ``budget * scale`` per output in fitted values.
    """
    allowance = budget / (len(plan) // PRUNE_EVERY + 1)
    basis, coefficients = np.array(error, dtype=np.float64), np.eye(error.shape[1])
    residual = None
    for k, epoch in enumerate(plan):
        if k % PRUNE_EVERY == 0:
            basis, residual, coefficients = _prune(gram, upper, basis, residual, coefficients, scale, allowance)
            if basis.shape[1] == 0:
                break
        residual, _, _ = sweep(gram, epoch, basis, residual)
    return basis @ coefficients


def _prune(gram, upper, basis, residual, coefficients, scale, allowance):
    """The basis rotated to energy-orthogonal directions, less those every output can do without."""
    _, energy, vt = svd(dtrmm(1.0, upper, basis), full_matrices=False, check_finite=False)
    coefficients = vt @ coefficients
    share = energy[:, None] * np.abs(coefficients) / scale  # each direction's energy in each output's error
    order = np.argsort(share.max(axis=1))
    n_drop = int((np.cumsum(share[order], axis=0) <= allowance).all(axis=1).sum())
    keep = np.sort(order[n_drop:])
    rotation = vt[keep].T
    basis = np.ascontiguousarray(basis @ rotation)
    residual = -(gram @ basis) if residual is None else np.ascontiguousarray(residual @ rotation)
    return basis, residual, coefficients[keep]


def cholesky_or_none(gram: np.ndarray):
    """The upper Cholesky factor of the Gram matrix, or None when it is singular or badly conditioned."""
    try:
        factor = cho_factor(gram, lower=False, check_finite=False)
    except LinAlgError:
        return None
    rcond, info = dpocon(factor[0], np.abs(gram).sum(axis=0).max())
    return factor if info == 0 and rcond >= RCOND_FLOOR else None


def gauss_seidel(gram: np.ndarray, xy: np.ndarray, start: np.ndarray, y_norm2: np.ndarray, seed: int,
                 max_iter: int = 1000, tol: float = 1e-4, x: np.ndarray | None = None) -> np.ndarray:
    """Unpenalised random-order coordinate descent (alpha = 0) for every output column at once, epoch by epoch.

    After each epoch an output stops under scikit-learn's rule: when its
    largest step is below ``tol`` times its largest coefficient, the duality
    gap (half the residual sum of squares when alpha = 0) is compared with
    ``tol * ||y||^2``. Given the centred training rows ``x`` and fewer rows
    than features, the epochs carry the fitted values ``X w`` instead of
    ``q - Q w`` (``RowState``: about 2 n / p of the work), to rounding the same.
    """
    p, n_outputs = start.shape
    w = np.empty((p, n_outputs))  # each output's column is written when it stops, or at the end
    active = np.arange(n_outputs)
    wa = np.array(start, dtype=np.float64)
    state = RowState(x, gram, xy, wa) if on_rows(x, gram) else GramState(gram, xy, wa)
    ya, limit = y_norm2, tol * y_norm2  # the active outputs' columns
    for k, epoch in enumerate(epoch_plan(np.diag(gram), seed, max_iter)):
        delta, change = state.sweep(epoch, wa)
        check = _stop_check(epoch.steps, epoch.inverse, wa[epoch.touched], change, delta, epoch.visits, tol,
                            last=k == max_iter - 1)
        if not check.any():
            continue
        cols = None if check.all() else np.flatnonzero(check)  # no column copies when every output is checked
        if cols is None:
            done = np.flatnonzero(_gap(wa, state.residual(), state.q, ya) < limit)
        else:
            done = cols[_gap(wa[:, cols], state.residual(cols), state.q[:, cols], ya[cols]) < limit[cols]]
        if done.size:
            w[:, active[done]] = wa[:, done]
            keep = np.setdiff1d(np.arange(len(active)), done)
            active, wa, ya, limit = active[keep], wa[:, keep], ya[keep], limit[keep]
            state.keep(keep)
            if active.size == 0:
                break
    w[:, active] = wa
    return w


def on_rows(x, gram) -> bool:
    """Whether a fold is carried on its rows (given, and fewer than the features) rather than on the Gram matrix."""
    return x is not None and x.shape[0] < gram.shape[0]


class GramState:
    """The sweeps' state on the Gram matrix: the residual correlations r = q - Q w (features x outputs)."""

    def __init__(self, gram, q, w):
        self.gram, self.q, self.r = gram, q, q - gram @ w

    def sweep(self, epoch, w):
        self.r, delta, change = sweep(self.gram, epoch, w, self.r)
        return delta, change

    def residual(self, cols=None):
        return self.r if cols is None else self.r[:, cols]

    def keep(self, keep):
        self.q, self.r = self.q[:, keep], self.r[:, keep]


class RowState:
    """The sweeps' state on the rows: the fitted values u = X w (rows x outputs), for fewer rows than features.

    A chunk of steps needs r only at its own coordinates, r_C = q_C - X_C'u,
    and moves u by X_C delta: 4 n |C| flops per output against the Gram
    route's 2 p |C|. The full r is formed only for the outputs whose stop is
    checked.
    """

    def __init__(self, x, gram, q, w):
        self.xt = np.ascontiguousarray(np.asarray(x, dtype=np.float64).T)  # features x rows
        self.gram, self.q = gram, q
        self.u = np.ascontiguousarray(self.xt.T @ w)

    def sweep(self, epoch, w):
        steps = epoch.steps
        delta = np.empty((len(steps), self.u.shape[1]))
        ut = self.u.T  # Fortran order: BLAS updates it in place
        for first in range(0, len(steps), ROW_CHUNK):
            chunk = steps[first:first + ROW_CHUNK]
            rows = self.xt[chunk]
            r = dgemm(-1.0, ut, rows.T, beta=1.0, c=self.q[chunk].T, overwrite_c=1).T  # q_C - X_C'u
            step = delta[first:first + ROW_CHUNK] = _lower_solve(self.gram[np.ix_(chunk, chunk)], r)
            dgemm(1.0, step.T, rows.T, beta=1.0, c=ut, overwrite_c=1, trans_b=1)  # u += X_C delta
        change = epoch.adder @ delta
        w[epoch.touched] += change
        return delta, change

    def residual(self, cols=None):
        if cols is None:
            return self.q - self.xt @ self.u
        return self.q[:, cols] - self.xt @ self.u[:, cols]

    def keep(self, keep):
        self.q, self.u = self.q[:, keep], np.ascontiguousarray(self.u[:, keep])


def _lower_solve(block: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve tril(block) @ delta = rhs (block k x k, rhs k x outputs, both C-ordered) with one BLAS call.

    Transposed, the system reads delta' tril(block)' = rhs', and the C-ordered
    arrays are Fortran-ordered transposes already: no copies.
    """
    return dtrsm(1.0, block.T, rhs.T, side=1, lower=0, trans_a=0, overwrite_b=1).T


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
