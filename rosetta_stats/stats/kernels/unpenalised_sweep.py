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
as those directions die, with a bound on what the pruning may change. With
fewer rows than features the Gram matrix is singular and the epochs are
replayed: on the rows, and, with more outputs than rows, once on a basis of
the residuals for all outputs (``rows_sweep``). The coordinate order and the
stopping rule live in ``sweep_epochs``.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve, svd
from scipy.linalg.blas import dgemm, dtrmm
from scipy.linalg.lapack import dpocon

from .rows_sweep import RowState, on_rows, replay_on_basis
from .sweep_epochs import RAND_R_MAX, Epoch, epoch_plan, gap_at_zero, lower_solve, stop_check

__all__ = ["RAND_R_MAX", "on_rows", "unpenalised_descent", "gauss_seidel", "sweep_error", "cholesky_or_none"]

RCOND_FLOOR = 1e-10  # below this the normal equations are solved too loosely; the epochs are replayed instead
GAP_MARGIN = 10.0  # outputs whose gap could come within this factor of scikit-learn's limit are replayed
ERROR_BUDGET = 1e-12  # pruning may move an output's fitted values by at most this times ||y|| in total
SWEEP_CHUNK = 64  # steps solved together in an epoch (50: 2.12 s, 100: 2.10 s, 200: 2.25 s for one fold)
PRUNE_EVERY = 20  # epochs between prunings of the error basis (5: 3.3 s, 10: 2.5 s, 20: 2.1 s, 40: 2.0 s a fold)


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
        delta[first:first + SWEEP_CHUNK] = lower_solve(np.ascontiguousarray(rows[:, chunk]), r[chunk])
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
    ``q - Q w`` (``RowState``: about 2 n / p of the work), to rounding the same,
    and with more outputs than rows the epochs run once on a basis of the
    residuals (``replay_on_basis``).
    """
    p, n_outputs = start.shape
    if on_rows(x, gram) and len(x) < n_outputs:
        return replay_on_basis(x, gram, xy, start, y_norm2, seed, max_iter, tol)
    w = np.empty((p, n_outputs))  # each output's column is written when it stops, or at the end
    active = np.arange(n_outputs)
    wa = np.array(start, dtype=np.float64)
    state = RowState(x, gram, xy, wa) if on_rows(x, gram) else GramState(gram, xy, wa)
    ya, limit = y_norm2, tol * y_norm2  # the active outputs' columns
    for k, epoch in enumerate(epoch_plan(np.diag(gram), seed, max_iter)):
        delta, change = state.sweep(epoch, wa)
        check = stop_check(epoch.steps, epoch.inverse, wa[epoch.touched], change, delta, epoch.visits, tol,
                            last=k == max_iter - 1)
        if not check.any():
            continue
        cols = None if check.all() else np.flatnonzero(check)  # no column copies when every output is checked
        if cols is None:
            done = np.flatnonzero(gap_at_zero(wa, state.residual(), state.q, ya) < limit)
        else:
            done = cols[gap_at_zero(wa[:, cols], state.residual(cols), state.q[:, cols], ya[cols]) < limit[cols]]
        if done.size:
            w[:, active[done]] = wa[:, done]
            keep = np.setdiff1d(np.arange(len(active)), done)
            active, wa, ya, limit = active[keep], wa[:, keep], ya[keep], limit[keep]
            state.keep(keep)
            if active.size == 0:
                break
    w[:, active] = wa
    return w


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
