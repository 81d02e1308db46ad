"""The one resampling engine: draws, permutations, rank nulls and their p-values.

Every statistic takes its null from here, so the rules are stated once:

* a sampled null of size n gives ``p = (1 + #{null >= observed}) / (1 + n)``;
  a NaN statistic has a NaN p-value (:func:`permutation_p_values`);
* when the distinct arrangements are no more than the draws asked for, they
  are enumerated instead and the p-value is exact,
  ``#{arrangements with statistic >= observed} / #arrangements`` (the
  observed arrangement is one of them): :func:`group_permutations`,
  :func:`average_precision_null`;
* permutations move whole groups (the doses of one compound) onto groups of
  the same size; groups whose size no other group shares move as blocks laid
  end to end over their rows (:func:`group_permutation`);
* the rank null of average precision is the framework's (copairs'): the
  positives of a query take a uniformly random set of positions among its
  candidates; it depends on the numbers of positives and candidates only.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

TIE_TOLERANCE = 1e-12


# ----------------------------------------------------------------------------- p-values


def permutation_p_values(null: np.ndarray, observed, exact: bool = False) -> np.ndarray:
    """p-values of ``observed`` against ``null`` draws (n_null,) or (n_null, m) per column.

    Sampled: ``(1 + #{null >= observed}) / (1 + n_null)``. ``exact=True``:
    the null holds every arrangement (the observed one included), and
    ``p = #{null >= observed} / n_null``. Ties within 1e-12 count as reaching
    the observed value. NaN observed values give NaN.
    """
    null = np.asarray(null, dtype=float)
    observed = np.asarray(observed, dtype=float)
    n = null.shape[0]
    if null.ndim == 1:
        ordered = np.sort(null[~np.isnan(null)])
        at_least = len(ordered) - np.searchsorted(ordered, observed - TIE_TOLERANCE, side="left")
    else:
        at_least = (null >= observed[None, :] - TIE_TOLERANCE).sum(axis=0)
    p = at_least / n if exact else (1.0 + at_least) / (1.0 + n)
    return np.where(np.isnan(observed), np.nan, p)


def smallest_p_note(n_null: int, exact: bool = False, what: str = "n_null") -> str:
    if exact:
        return f"p-values are exact: all {n_null} arrangements enumerated (smallest attainable {1 / n_null:.2g})"
    return f"smallest attainable p-value is {1 / (1 + n_null):.2g} ({what}={n_null})"


# ----------------------------------------------------------------------------- draws


def distinct_draws(n: int, k: int, n_draws: int, rng, chunk_cells: int = 5_000_000) -> np.ndarray:
    """``n_draws`` rows of k distinct integers below n.

    Few expected repeats (k^2 small next to n): draw and redraw the rows with
    repeats. Otherwise: the k smallest of n random keys per row, in chunks.
    """
    if k > n:
        raise ValueError(f"cannot draw {k} distinct values below {n}")
    if k * (k - 1) < n:
        draws = rng.integers(0, n, size=(n_draws, k))
        while True:
            ordered = np.sort(draws, axis=1)
            repeats = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
            if not repeats.any():
                return draws
            draws[repeats] = rng.integers(0, n, size=(int(repeats.sum()), k))
    out = np.empty((n_draws, k), dtype=np.int64)
    step = max(1, chunk_cells // max(n, 1))
    for start in range(0, n_draws, step):
        stop = min(start + step, n_draws)
        keys = rng.random((stop - start, n))
        out[start:stop] = np.argpartition(keys, k - 1, axis=1)[:, :k] if k < n else np.argsort(keys, axis=1)
    return out


# ----------------------------------------------------------------------------- group permutations


def group_rows(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows sorted by group, start of each group in that order, size of each group) for integer codes."""
    order = np.argsort(groups, kind="stable")
    counts = np.bincount(groups)
    counts = counts[counts > 0]
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    return order, starts, counts


def _codes(groups) -> np.ndarray:
    return np.unique(np.asarray(groups), return_inverse=True)[1].ravel()


@dataclass(frozen=True)
class GroupLayout:
    """Rows by group, and the groups by size: what a group permutation moves."""

    order: np.ndarray
    starts: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, groups) -> "GroupLayout":
        return cls(*group_rows(_codes(groups)))

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def classes(self) -> list[tuple[int, np.ndarray]]:
        """(size, the groups of that size) for sizes shared by two or more groups."""
        sizes, how_many = np.unique(self.counts, return_counts=True)
        return [(int(s), np.flatnonzero(self.counts == s)) for s, m in zip(sizes, how_many) if m > 1]

    def lonely(self) -> np.ndarray:
        """Groups whose size no other group has."""
        sizes, how_many = np.unique(self.counts, return_counts=True)
        alone = set(sizes[how_many == 1].tolist())
        return np.flatnonzero(np.isin(self.counts, list(alone)))

    def rows_of(self, members: np.ndarray, size: int) -> np.ndarray:
        return self.order[self.starts[members][:, None] + np.arange(size)]

    def n_arrangements(self) -> float:
        """How many distinct permutations the group rule allows (inf when past 1e15)."""
        total = 1.0
        for _, members in self.classes():
            total *= math.factorial(min(len(members), 30)) if len(members) <= 30 else math.inf
        lonely = len(self.lonely())
        if lonely > 1:
            total *= math.factorial(min(lonely, 30)) if lonely <= 30 else math.inf
        return total if total <= 1e15 else math.inf


def _block_shuffle(layout: GroupLayout, members: np.ndarray, order_of_members: np.ndarray) -> tuple[np.ndarray,
                                                                                                    np.ndarray]:
    """(slots, rows): the rows of ``members`` laid end to end in ``order_of_members`` over their own slots."""
    slots = np.concatenate([layout.order[layout.starts[g]:layout.starts[g] + layout.counts[g]] for g in members])
    moved = np.concatenate([layout.order[layout.starts[g]:layout.starts[g] + layout.counts[g]]
                            for g in members[order_of_members]])
    return slots, moved


def group_permutation(groups: np.ndarray, rng, layout: GroupLayout | None = None) -> np.ndarray:
    """A row permutation that moves whole groups onto other groups.

    ``y[group_permutation(groups, rng)]`` gives every group the rows of another
    group of its size, in their original order, so rows that belong together
    (doses of one compound) stay together under the null. Groups whose size
    no other group has are moved as blocks laid end to end over their rows
    (their rows stay together; a block may straddle two of them). With every
    group a single row this is ``rng.permutation(n)``.
    """
    layout = layout or GroupLayout.of(groups)
    n = layout.n
    if layout.counts.max(initial=0) <= 1:
        return rng.permutation(n)
    perm = np.arange(n)
    for size, members in layout.classes():
        rows = layout.rows_of(members, size)
        perm[rows] = rows[rng.permutation(len(members))]
    lonely = layout.lonely()
    if len(lonely) > 1:
        slots, moved = _block_shuffle(layout, lonely, rng.permutation(len(lonely)))
        perm[slots] = moved
    return perm


def group_permutations(groups, n_permutations: int, rng) -> tuple[list[np.ndarray], bool]:
    """(permutations, exact): ``n_permutations`` random group permutations, or every distinct one when
    there are no more than that (then the identity is among them and ``exact`` is True)."""
    layout = GroupLayout.of(groups)
    if layout.n_arrangements() <= n_permutations:
        return _all_group_permutations(layout), True
    return [group_permutation(groups, rng, layout) for _ in range(int(n_permutations))], False


def _all_group_permutations(layout: GroupLayout) -> list[np.ndarray]:
    n = layout.n
    parts = []  # each: list of (slots, rows) options for one size class
    if layout.counts.max(initial=0) <= 1:
        return [np.array(p) for p in itertools.permutations(range(n))]
    for size, members in layout.classes():
        rows = layout.rows_of(members, size)
        parts.append([(rows.ravel(), rows[list(p)].ravel()) for p in itertools.permutations(range(len(members)))])
    lonely = layout.lonely()
    if len(lonely) > 1:
        parts.append([_block_shuffle(layout, lonely, np.array(p)) for p in itertools.permutations(range(len(lonely)))])
    out = []
    for choice in itertools.product(*parts):
        perm = np.arange(n)
        for slots, rows in choice:
            perm[slots] = rows
        out.append(perm)
    return out


def has_groups(groups: np.ndarray) -> bool:
    """True when some group holds more than one row."""
    _, counts = np.unique(np.asarray(groups), return_counts=True)
    return bool((counts > 1).any())


def group_means(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Mean row of each group (groups in sorted order of their codes)."""
    order, starts, counts = group_rows(_codes(groups))
    return np.add.reduceat(values[order], starts, axis=0) / counts[:, None]


# ----------------------------------------------------------------------------- the rank null of average precision


def average_precision_from_ranks(ranks: np.ndarray) -> np.ndarray:
    """AP per row from the 1-based ranks of its positives (distinct ranks, any order within the row)."""
    ranks = np.sort(ranks, axis=1)
    hits = np.arange(1, ranks.shape[1] + 1)
    return (hits / ranks).mean(axis=1)


def n_rankings(n_positives: int, n_candidates: int) -> int:
    """Distinct rankings of ``n_positives`` positives among ``n_candidates`` candidates (positives included)."""
    return math.comb(int(n_candidates), int(n_positives))


def all_average_precisions(n_positives: int, n_candidates: int) -> np.ndarray:
    """AP of every distinct ranking, in lexicographic order of the positives' positions."""
    positions = np.array(list(itertools.combinations(range(n_candidates), n_positives)), dtype=float)
    return average_precision_from_ranks(positions.reshape(-1, n_positives) + 1.0)


def random_average_precision(n_positives: int, n_negatives: int, n_draws: int, rng) -> np.ndarray:
    """AP of ``n_draws`` random rankings of n_positives among n_positives + n_negatives."""
    positions = distinct_draws(n_positives + n_negatives, n_positives, n_draws, rng)
    return average_precision_from_ranks(positions + 1.0)


@dataclass(frozen=True)
class AveragePrecisionNull:
    """The null AP of one (positives, candidates) configuration: sorted values, exact or sampled."""

    n_positives: int
    n_candidates: int
    values: np.ndarray  # sorted
    exact: bool

    def p_values(self, observed) -> np.ndarray:
        """p of each observed (m)AP. A perfect score's p is the exact 1 / C(candidates, positives)
        whether the rest is sampled or not (the chance that a random ranking is perfect)."""
        observed = np.asarray(observed, dtype=float)
        p = permutation_p_values(self.values, observed, exact=self.exact)
        if not self.exact:
            perfect = observed >= 1 - TIE_TOLERANCE
            p = np.where(perfect, 1.0 / n_rankings(self.n_positives, self.n_candidates), p)
        return p


def average_precision_null(n_positives: int, n_candidates: int, n_null: int, rng,
                           cache: dict | None = None) -> AveragePrecisionNull:
    """The rank null of AP: every ranking when there are no more than ``n_null`` (exact), else ``n_null``
    random ones. ``cache`` (a dict) keeps nulls by configuration across groups and calls."""
    key = (int(n_positives), int(n_candidates), int(n_null))
    if cache is not None and key in cache:
        return cache[key]
    if n_positives < 1 or n_candidates < n_positives:
        raise ValueError(f"an AP null needs 1 <= positives <= candidates; got {n_positives}, {n_candidates}")
    if n_rankings(n_positives, n_candidates) <= n_null:
        null = AveragePrecisionNull(*key[:2], np.sort(all_average_precisions(n_positives, n_candidates)), True)
    else:
        values = random_average_precision(n_positives, n_candidates - n_positives, n_null, rng)
        null = AveragePrecisionNull(*key[:2], np.sort(values), False)
    if cache is not None:
        cache[key] = null
    return null


def expected_average_precision(n_positives: int, n_candidates: int) -> float:
    """The mean AP of a uniformly random ranking (exactly; used to normalise AP).

    E[AP] = (1/P) sum over positives i and ranks r of P(the i-th positive is at r) * i / r;
    the i-th positive sits at rank r with probability C(r-1, i-1) C(N-r, P-i) / C(N, P).
    """
    p, n = int(n_positives), int(n_candidates)
    if p < 1 or n < p:
        return float("nan")
    ranks = np.arange(1, n + 1, dtype=float)
    total = 0.0
    log_all = math.lgamma(n + 1) - math.lgamma(p + 1) - math.lgamma(n - p + 1)
    for i in range(1, p + 1):
        r = ranks[(ranks >= i) & (ranks <= n - p + i)]
        log_w = (_log_comb(r - 1, i - 1) + _log_comb(n - r, p - i) - log_all)
        total += float(np.sum(np.exp(log_w) * i / r))
    return total / p


def _log_comb(n: np.ndarray, k: int) -> np.ndarray:
    from scipy.special import gammaln

    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
