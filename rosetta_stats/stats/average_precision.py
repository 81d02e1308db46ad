"""Mean average precision (mAP) of retrieving a perturbation's own replicates.

Each replicate row of a perturbation is a query. Its positives are the other
replicates of the same perturbation; its negatives are the negative-control
rows (``negatives="negcon"``) or every row of every other (non-control)
perturbation (``negatives="others"``). Candidates are ranked by cosine
similarity of the centred profiles (Pearson correlation); ties count against
the positive, as sklearn's ``average_precision_score``. A query's average
precision is the mean of the precision at each positive, and a
perturbation's mAP is the mean over its replicate rows.

Null (``null="random_sets"``, the default): sets of k non-control wells drawn
from k different perturbations, scored exactly as a real group of k
replicates (each member a query, the others its positives, the same
negatives), so the null keeps what a perturbation's k queries share: their
positive similarities. ``p = (1 + #{null mAP >= observed}) / (1 + n_null)``
per perturbation, one null per replicate count; q-values are
Benjamini-Hochberg over perturbations. ``null="per_query"`` is the
copairs-style null (k independent random rankings averaged), kept for
comparison: it ignores that shared structure and its p-values run small.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..common.validation import check_choice, rows_matching
from ..data.profiles import Profiles
from ..results.base import ResultShape
from .kernels.ranking import (average_precision_among_all, average_precision_of_groups, group_columns,
                              random_average_precision)
from .kernels.sampling import distinct_draws
from .kernels.similarity import row_range, unit_rows
from .multiple_testing import bh_qvalues
from .parallel import map_blocks
from ..common.feature_matrix import feature_matrix
from .profile_inputs import degenerate_row_mask, profile_inputs

NEGATIVES = ("negcon", "others")
NULLS = ("random_sets", "per_query")


@dataclass(frozen=True)
class AveragePrecisionResult(ResultShape):
    """Per-perturbation mAP (``table``) and the parameters that made it."""

    table: pd.DataFrame  # perturbation, n_replicates, n_negatives, mean_average_precision, p_value, q_value
    negatives: str
    n_null: int
    seed: int | None
    notes: tuple[str, ...] = field(default=())
    null: str = "random_sets"

    def summary_dict(self) -> dict:
        scored = self.table["mean_average_precision"].notna()
        return {
            "negatives": self.negatives, "null": self.null, "n_null": self.n_null, "seed": self.seed,
            "n_perturbations": int(scored.sum()),
            "mean_map": float(self.table.loc[scored, "mean_average_precision"].mean()),
            "fraction_q_below_0.05": float((self.table.loc[scored, "q_value"] < 0.05).mean()),
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        s = self.summary_dict()
        lines = [
            "Mean average precision of replicate retrieval",
            f"  negatives: {self.negatives}; perturbations scored: {s['n_perturbations']}",
            f"  average mAP: {s['mean_map']:.3f}; share with q < 0.05: {s['fraction_q_below_0.05']:.1%}",
            f"  null: {self.null}, {self.n_null} draws per replicate count, seed={self.seed}",
        ]
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


def _null_block(draws, units, reference, query_codes, group_starts, group_counts, others: bool) -> np.ndarray:
    """mAP of each drawn set of rows, scored exactly as a real group (draws: n_sets x k row indices)."""
    n_sets, k = draws.shape
    members = units[draws.ravel()]
    member_codes = query_codes[draws]  # (sets, k)
    starts = np.arange(0, n_sets * k, k)
    excluded = None
    if others:  # every member's perturbation is left out of each member's negatives
        def excluded(flat_rows):
            return group_columns(member_codes[flat_rows // k], group_starts, group_counts)
    ap, _ = average_precision_of_groups(members, starts, np.full(n_sets, k), reference, excluded,
                                        block_rows=256)
    return ap.reshape(n_sets, k).mean(axis=1)


def mean_average_precision(
    profiles_or_frame,
    perturbation: str | None = None,
    features=None,
    negatives: str = "negcon",
    controls=None,
    n_null: int = 1000,
    seed: int | None = 0,
    null: str = "random_sets",
    progress: bool = False,
    client=None,
) -> AveragePrecisionResult:
    """mAP of each perturbation's replicates against negative controls or all others.

    ``controls`` (dict of column values or boolean mask) marks the negative
    controls; a Profiles object brings its own. Control rows are never
    queries. Rows holding NaN/inf or constant rows have no similarity: they
    are left out with a note that counts them. ``null``: "random_sets"
    (exchangeable with real groups; see the module) or "per_query" (the
    copairs-style null). With a ``dask.distributed.Client`` the null's sets
    are scored on its workers (drawn here: same seed, same numbers).
    """
    check_choice(negatives, NEGATIVES, "negatives")
    check_choice(null, NULLS, "null")
    if int(n_null) < 1:
        raise ValueError(f"n_null must be at least 1; got {n_null}")
    is_profiles = isinstance(profiles_or_frame, Profiles)
    frame, perturbation, features = profile_inputs(profiles_or_frame, perturbation, features)
    if controls is not None:
        control = rows_matching(frame, controls, "controls")[0]
    elif is_profiles:
        control = profiles_or_frame.controls
    else:
        control = np.zeros(len(frame), dtype=bool)
    if negatives == "negcon" and not control.any():
        raise ValueError("negatives='negcon' needs negative-control rows: pass controls=... "
                         "(e.g. {'Metadata_pert_type': 'control'}) or use negatives='others'")
    matrix = feature_matrix(frame, features, dtype=np.float64)
    ranges = row_range(matrix)
    notes = []
    bad, note = degenerate_row_mask(matrix, "similarity", ranges)
    if note:
        notes.append(note)
    usable = ~bad
    units_all = unit_rows(matrix, inplace=True, ranges=ranges)
    queries = ~control & frame[perturbation].notna().to_numpy() & usable
    codes, names = pd.factorize(frame.loc[queries, perturbation], sort=True)
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    units = units_all[np.flatnonzero(queries)[order]]
    counts = np.bincount(codes, minlength=len(names))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    if not (counts >= 2).any():
        raise ValueError(f"no perturbation in {perturbation!r} has 2 or more usable replicates")
    others = negatives == "others"
    if others:
        reference = units
        ap, n_neg = average_precision_among_all(units, codes, starts, counts)
    else:
        reference = units_all[control & usable]
        if not len(reference):
            raise ValueError("every negative-control row is constant or holds NaN/inf")
        ap, n_neg = average_precision_of_groups(units, starts, counts, reference)
    sums = np.bincount(codes, weights=np.nan_to_num(ap), minlength=len(names))
    map_values = np.where(counts >= 2, sums / np.maximum(counts, 1), np.nan)
    n_negatives = np.full(len(names), np.nan)
    n_negatives[codes] = n_neg

    rng = np.random.default_rng(seed)
    p_values = np.full(len(names), np.nan)
    ks = sorted({int(k) for k in counts if k >= 2})
    nulls = {}
    if null == "random_sets":
        sizes = [k for k in ks if k <= len(names)]
        blocks, owners = [], []
        for k in sizes:
            chosen = distinct_draws(len(names), k, n_null, rng)  # k different perturbations
            rows = starts[chosen] + (rng.random(chosen.shape) * counts[chosen]).astype(int)
            for s in range(0, n_null, 250):
                blocks.append(rows[s:s + 250])
                owners.append(k)
        shared = {"units": units, "reference": reference, "query_codes": codes,
                  "group_starts": starts, "group_counts": counts, "others": others}
        values = map_blocks(_null_block, blocks, shared, client, progress=progress, desc="mAP null")
        for k in sizes:
            nulls[k] = np.sort(np.concatenate([v for o, v in zip(owners, values) if o == k]))
        if len(sizes) < len(ks):
            notes.append(f"replicate counts above the number of perturbations ({len(names)}) have no null")
    else:
        for k in ks:
            m = int(np.nanmedian(n_negatives[counts == k]))
            nulls[k] = np.sort(random_average_precision(k - 1, m, n_null * k, rng).reshape(n_null, k).mean(axis=1))
    floor_notes = []
    for k, null_values in nulls.items():
        members = np.flatnonzero((counts == k) & np.isfinite(map_values))
        at_least = n_null - np.searchsorted(null_values, map_values[members] - 1e-12, side="left")
        p_values[members] = (1.0 + at_least) / (1.0 + n_null)
        best_possible = (1.0 + (null_values >= 1 - 1e-12).sum()) / (1.0 + n_null)  # p of a perfect mAP
        if best_possible > 0.05:
            floor_notes.append(f"{len(members)} perturbation(s) with {k} replicates cannot reach p < 0.05 "
                               f"(a perfect mAP has p = {best_possible:.3f})")
    table = pd.DataFrame({
        "perturbation": names, "n_replicates": counts, "n_negatives": n_negatives,
        "mean_average_precision": map_values, "p_value": p_values, "q_value": bh_qvalues(p_values),
    })
    notes += [f"smallest attainable p-value is {1 / (1 + n_null):.2g} (n_null={n_null})", *floor_notes]
    if negatives == "negcon":
        notes.append(f"{int((control & usable).sum())} negative-control rows used as negatives")
    return AveragePrecisionResult(table, negatives, int(n_null), seed, tuple(notes), null)
