"""The epochs of scikit-learn's random-order coordinate descent, and what is checked after each.

The coordinates come from a 32-bit xorshift generator that does not look at
the data, so an epoch's steps (and how they add up per coordinate) are known
before it runs and shared by every output. ``stop_check`` and ``gap_at_zero``
are scikit-learn's stopping rule at alpha = 0, for many outputs at once.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.linalg.blas import dtrsm

try:
    from ._gram_lasso import coordinate_draws
except ImportError:  # installed without a C compiler: drawn in Python
    coordinate_draws = None

RAND_R_MAX = 0x7FFFFFFF
_MASK = 0xFFFFFFFF


@functools.lru_cache(maxsize=4)  # 8 bytes x features x epochs each (13 MB at 1,670 features)
def coordinate_order(n_features: int, seed: int, n_epochs: int) -> np.ndarray:
    """The coordinates scikit-learn visits, epoch by epoch (n_epochs x n_features), from ``seed``."""
    if coordinate_draws is not None:
        out = coordinate_draws(seed, n_features, n_epochs * n_features)
    else:
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


class _FullPlan(Sequence):
    """Every epoch of the order, each built the first time it is asked for (a sweep rarely runs them all)."""

    def __init__(self, order: np.ndarray):
        self.order, self.built = order, []

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        if k < 0:
            k += len(self)
        while len(self.built) <= k:
            self.built.append(Epoch.of(self.order[len(self.built)]))
        return self.built[k]


@functools.lru_cache(maxsize=2)  # lasso_cv needs two: the path's alpha = 0 and the refit's
def _full_plan(n_features: int, seed: int, n_epochs: int) -> _FullPlan:
    return _FullPlan(coordinate_order(n_features, seed, n_epochs))


def epoch_plan(diag: np.ndarray, seed: int, n_epochs: int) -> Sequence[Epoch]:
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


def lower_solve(block: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve tril(block) @ delta = rhs (block k x k, rhs k x outputs, both C-ordered) with one BLAS call.

    Transposed, the system reads delta' tril(block)' = rhs', and the C-ordered
    arrays are Fortran-ordered transposes already: no copies.
    """
    return dtrsm(1.0, block.T, rhs.T, side=1, lower=0, trans_a=0, overwrite_b=1).T


def stop_check(steps, inverse, final, change, delta, visits, tol, last: bool) -> np.ndarray:
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
        w_max = np.abs(step_values(steps, start_rows, delta[:, cols])).max(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            check[cols] = (w_max == 0) | (d_w_max[cols] / w_max < tol)
    return check


def step_values(steps, start_rows, delta) -> np.ndarray:
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


def gap_at_zero(w, r, q, y_norm2) -> np.ndarray:
    """The duality gap at alpha = 0 per output, from the coefficients and the residual correlations r = q - Qw."""
    qw = np.einsum("ij,ij->j", q, w)
    rss = y_norm2 - qw - np.einsum("ij,ij->j", w, r)  # ||y||^2 + w'Qw - 2 q'w
    dual = np.abs(r).max(axis=0)
    return np.where(dual > 0, 0.5 * rss, rss - y_norm2 + qw)
