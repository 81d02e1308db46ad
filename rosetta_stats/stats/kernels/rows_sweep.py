"""Unpenalised sweeps carried on the rows, for folds with fewer rows than features.

``RowState`` carries the fitted values u = X w instead of the residual
correlations q - Q w. ``replay_on_basis`` goes further when the rows are also
fewer than the outputs: at alpha = 0 every step is linear in the training
residual v = y - X w (step = X_j'v / Q_jj, then v -= step X_j), so an epoch
acts on the residual's part in the column space of X (at most n numbers) the
same way for every output. The epochs are run once on an orthonormal basis of
that space, with the coefficient changes each basis vector causes, and every
output's iterate is the start plus those changes weighted by its own
coordinates in the basis: about n / outputs of the work. Each output still
stops at scikit-learn's epoch: its residual sum of squares, read off the
basis every epoch, says when the duality gap can pass; only then are its
steps formed to apply the step-size test and the gap exactly.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.linalg import svd
from scipy.linalg.blas import dgemm

from .sweep_epochs import epoch_plan, gap_at_zero, lower_solve, stop_check
from .threads import thread_count

try:
    from ._gram_lasso import unpenalised_rows_epoch
except ImportError:  # installed without a C compiler: the epochs in BLAS chunks (RowState)
    unpenalised_rows_epoch = None

ROW_CHUNK = 64  # steps per chunk on the rows (CMEA fold, 978 genes: 48: 2.2 s, 64: 2.1 s, 96: 2.2 s, 160: 2.6 s)
SCREEN_MARGIN = 1e-3  # outputs whose residual sum of squares is within this of the gap's limit are checked exactly
SAMPLED_STEPS = 32  # basis steps of largest norm that bound an output's largest step from below


def on_rows(x, gram) -> bool:
    """Whether a fold is carried on its rows (given, and fewer than the features) rather than on the Gram matrix."""
    return x is not None and x.shape[0] < gram.shape[0]


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
            step = delta[first:first + ROW_CHUNK] = lower_solve(self.gram[np.ix_(chunk, chunk)], r)
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


def replay_on_basis(x, gram, xy, start, y_norm2, seed, max_iter=1000, tol=1e-4, threads=None) -> np.ndarray:
    """``gauss_seidel`` on the rows for more outputs than rows: the epochs run once, on a basis of the residuals.

    ``x`` holds the centred training rows (gram = x'x, xy = x'y). The
    residual's part outside the column space of X never moves and enters only
    the residual sum of squares, as a constant per output.
    """
    xt = np.ascontiguousarray(np.asarray(x, dtype=np.float64).T)  # features x rows
    left, singular, right = svd(xt.T, full_matrices=False, check_finite=False)
    rank = int(np.count_nonzero(singular > singular[:1] * max(xt.shape) * np.finfo(float).eps))
    left, singular, right = left[:, :rank], singular[:rank], right[:rank]
    start = np.asarray(start, dtype=np.float64)
    if rank == 0:  # every column of X is zero: every visit is skipped and nothing moves
        return np.array(start)
    r0 = xy - gram @ start  # X'v at the start
    coords = (right @ r0) / singular[:, None]  # v = left @ coords + (a part X never sees)
    rss_start = y_norm2 - np.einsum("ij,ij->j", xy, start) - np.einsum("ij,ij->j", start, r0)
    rss_unseen = rss_start - np.einsum("ij,ij->j", coords, coords)
    diag = np.ascontiguousarray(np.diag(gram))
    basis = BasisSweeps(xt, diag, gram, left, threads)
    try:
        return _replay(basis, xt, xy, start, y_norm2, coords, rss_unseen, seed, max_iter, tol, diag)
    finally:
        basis.close()


def _replay(basis, xt, xy, start, y_norm2, coords, rss_unseen, seed, max_iter, tol, diag):
    """The epochs on ``basis``; each output's iterate is formed only in the epochs where it may stop."""
    out = np.array(start)
    active, limit = np.arange(start.shape[1]), tol * y_norm2
    norm_c = np.sqrt(np.einsum("ij,ij->j", coords, coords))
    w_abs, travel_then = np.abs(start).max(axis=0, initial=0.0), np.zeros(start.shape[1])  # see _steps_too_large
    travel = 0.0
    for k, epoch in enumerate(epoch_plan(diag, seed, max_iter)):
        delta, change = basis.sweep(epoch)
        travel += np.sqrt(np.einsum("ij,ij->i", change, change).max(initial=0.0))
        last = k == max_iter - 1
        c = coords[:, active]
        resid = basis.v @ c  # the residual of each active output, in the rows' span
        rss = rss_unseen[active] + np.einsum("ij,ij->j", resid, resid)
        near = 0.5 * rss <= limit[active] * (1 + SCREEN_MARGIN) + 1e-12 * y_norm2[active]
        near = np.arange(len(active)) if last else np.flatnonzero(near)
        if not last and near.size:
            near = near[~_steps_too_large(delta, epoch.visits, active[near], norm_c, w_abs, travel - travel_then,
                                          coords, tol)]
        if near.size == 0:
            continue  # the gap cannot pass, or the steps are too large: scikit-learn goes on
        cols = active[near]
        w = start[:, cols] + basis.moved @ c[:, near]
        w_abs[cols], travel_then[cols] = np.abs(w).max(axis=0), travel
        steps = delta @ c[:, near]
        check = stop_check(epoch.steps, epoch.inverse, w[epoch.touched], epoch.adder @ steps, steps, epoch.visits,
                           tol, last=last)
        checked = np.flatnonzero(check)
        if checked.size == 0:
            continue
        residual = xt @ resid[:, near[checked]]  # q - Q w = X'v
        gap = gap_at_zero(w[:, checked], residual, xy[:, cols[checked]], y_norm2[cols[checked]])
        done = checked[gap < limit[cols[checked]]]
        if done.size:
            out[:, cols[done]] = w[:, done]
            active = np.setdiff1d(active, cols[done])
            if active.size == 0:
                break
    if active.size:
        out[:, active] = start[:, active] + basis.moved @ coords[:, active]
    return out


def _steps_too_large(delta, visits, cols, norm_c, w_abs, travel, coords, tol) -> np.ndarray:
    """Outputs ``cols`` whose epoch certainly fails scikit-learn's step test (largest step >= tol x largest
    coefficient), decided from bounds without forming their iterates.

    A step is delta_s'c: the largest step is at least the largest over the
    basis steps of largest norm, and at most max ||delta_s|| ||c||. A
    coefficient has moved since its output's last exact iterate (largest
    absolute value ``w_abs``) by at most the summed largest per-coordinate
    change of the basis (``travel``) times ||c||; within the epoch a
    coefficient can exceed its final value by (visits - 1) largest steps.
    """
    norms = np.sqrt(np.einsum("ij,ij->i", delta, delta))
    top = np.argsort(norms)[-SAMPLED_STEPS:]
    c = coords[:, cols]
    step_low = np.abs(delta[top] @ c).max(axis=0)
    step_high = norms.max(initial=0.0) * norm_c[cols]
    w_high = w_abs[cols] + travel[cols] * norm_c[cols] + (visits - 1) * step_high
    return (step_low > 0) & (step_low > tol * w_high * (1 + 1e-9))


class BasisSweeps:
    """Epochs at alpha = 0 acting on residual columns v (rows x columns): v -= X_j d, d = X_j'v / Q_jj per step.

    Compiled, the columns (padded with zero columns to a multiple of 8) are
    split into one block per thread, each block in arrays of its own (blocks
    that share cache lines slow each other down), and each runs the epoch in
    slices small enough to stay in the first-level cache; without the compiled
    kernels the steps go in chunks through BLAS. ``moved`` (features x
    columns) holds the coefficient changes of all steps so far.
    """

    def __init__(self, xt, diag, gram, v, threads=None):
        self.xt, self.diag, self.width = xt, diag, v.shape[1]
        self.compiled, self.pool = unpenalised_rows_epoch is not None, None
        if not self.compiled:  # RowState's chunks, with q = 0 and u = -v (then its r_C = X_C'v)
            self._moved = np.zeros((len(xt), self.width))
            self._rows = RowState(xt.T, gram, np.zeros((len(xt), self.width)), self._moved)
            self._rows.u = np.array(-v, dtype=np.float64, order="C")
            return
        padded = -(-self.width // 8) * 8
        count = max(1, min(thread_count(threads), padded // 16))
        edges = np.linspace(0, padded // 8, count + 1).astype(int) * 8
        whole = np.zeros((len(v), padded))
        whole[:, :self.width] = v
        self.vs = [np.array(whole[:, a:b]) for a, b in zip(edges[:-1], edges[1:]) if b > a]
        self.moveds = [np.zeros((len(xt), block.shape[1])) for block in self.vs]
        self.pool = ThreadPoolExecutor(len(self.vs)) if len(self.vs) > 1 else None

    @property
    def v(self):
        return np.hstack(self.vs)[:, :self.width] if self.compiled else -self._rows.u

    @property
    def moved(self):
        return np.hstack(self.moveds)[:, :self.width] if self.compiled else self._moved

    def sweep(self, epoch):
        """One epoch; returns the steps (steps x columns) and their sums per touched coordinate."""
        if not self.compiled:
            return self._rows.sweep(epoch, self._moved)
        steps = np.ascontiguousarray(epoch.steps, dtype=np.int64)

        def run(block):
            delta = np.empty((len(steps), self.vs[block].shape[1]))
            unpenalised_rows_epoch(self.xt, self.diag, steps, self.vs[block], self.moveds[block], delta)
            return delta

        parts = [run(0)] if self.pool is None else list(self.pool.map(run, range(len(self.vs))))
        delta = np.hstack(parts)[:, :self.width]
        return delta, epoch.adder @ delta

    def close(self):
        if self.pool is not None:
            self.pool.shutdown()
