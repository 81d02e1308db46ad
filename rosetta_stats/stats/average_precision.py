"""Mean average precision (mAP) of retrieving a perturbation's own replicates.

Each replicate row of a perturbation is a query. Its positives are the other
replicates of the same perturbation; its negatives are the negative-control
rows (``negatives="negcon"``) or every row of every other (non-control)
perturbation (``negatives="others"``). Candidates are ranked by cosine similarity of the
centred profiles (Pearson correlation), the query's average precision is the
mean of the precision at each positive, and a perturbation's mAP is the mean
over its replicate rows.

The permutation null ranks the same numbers of positives and negatives at
random, so ``p = (1 + #{null mAP >= observed}) / (1 + n_null)`` for each
perturbation; q-values are Benjamini-Hochberg over perturbations.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import numpy as np
import pandas as pd

from ..data.profiles import Profiles
from .kernels.ranking import random_average_precision, replicate_average_precision
from .kernels.similarity import unit_rows
from .profile_inputs import profile_inputs
from .multiple_testing import bh_qvalues
from ..common.validation import check_choice, rows_matching

NEGATIVES = ("negcon", "others")


@dataclass(frozen=True)
class AveragePrecisionResult:
    """Per-perturbation mAP (``table``) and the parameters that made it."""

    table: pd.DataFrame  # perturbation, n_replicates, n_negatives, mean_average_precision, p_value, q_value
    negatives: str
    n_null: int
    seed: int | None
    notes: tuple[str, ...] = field(default=())

    def summary_dict(self) -> dict:
        scored = self.table["mean_average_precision"].notna()
        return {
            "negatives": self.negatives, "n_null": self.n_null, "seed": self.seed,
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
            f"  null: {self.n_null} random rankings per perturbation size, seed={self.seed}",
        ]
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


def mean_average_precision(
    profiles_or_frame,
    perturbation: str | None = None,
    features=None,
    negatives: str = "negcon",
    controls=None,
    n_null: int = 1000,
    seed: int | None = 0,
) -> AveragePrecisionResult:
    """mAP of each perturbation's replicates against negative controls or all others.

    ``controls`` (dict of column values or boolean mask) marks the negative
    controls; a Profiles object brings its own (``control_type == "negcon"``).
    Control rows are never queries. Features must be finite: a NaN would make
    every similarity NaN and the ranking meaningless, so it is an error.
    """
    check_choice(negatives, NEGATIVES, "negatives")
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
    matrix = frame[features].to_numpy(dtype=float)
    bad = ~np.isfinite(matrix)
    if bad.any():
        raise ValueError(f"features must be finite for mAP: {int(bad.any(axis=1).sum())} row(s) and "
                         f"{int(bad.any(axis=0).sum())} column(s) hold NaN or inf; clean them first "
                         "(rosetta_stats.clean_profiles)")
    units_all = unit_rows(matrix)
    queries = ~control & frame[perturbation].notna().to_numpy()
    codes, names = pd.factorize(frame.loc[queries, perturbation], sort=True)
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    units = units_all[np.flatnonzero(queries)[order]]
    counts = np.bincount(codes, minlength=len(names))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    if not (counts >= 2).any():
        raise ValueError(f"no perturbation in {perturbation!r} has 2 or more replicates")

    if negatives == "negcon":
        reference, same_group = units_all[control], None
    else:
        reference = units
        same_group = lambda rows: codes[rows][:, None] == codes[None, :]  # noqa: E731
    ap, n_neg = replicate_average_precision(units, starts, counts, reference, same_group)
    group_of_row = codes
    sums = np.bincount(group_of_row, weights=np.nan_to_num(ap), minlength=len(names))
    map_values = np.where(counts >= 2, sums / np.maximum(counts, 1), np.nan)
    n_negatives = np.full(len(names), np.nan)
    n_negatives[group_of_row] = n_neg

    rng = np.random.default_rng(seed)
    p_values = np.full(len(names), np.nan)
    floor_notes = []
    for k, m in sorted({(int(k), int(m)) for k, m in zip(counts, n_negatives) if k >= 2}):
        members = np.flatnonzero((counts == k) & (n_negatives == m))
        null = random_average_precision(k - 1, m, n_null * k, rng).reshape(n_null, k).mean(axis=1)
        null.sort()
        at_least = n_null - np.searchsorted(null, map_values[members] - 1e-12, side="left")
        p_values[members] = (1.0 + at_least) / (1.0 + n_null)
        best_possible = (1.0 + (null >= 1 - 1e-12).sum()) / (1.0 + n_null)  # p of a perfect mAP
        if best_possible > 0.05:
            floor_notes.append(f"{len(members)} perturbation(s) with {k} replicates among {m} negatives "
                               f"cannot reach p < 0.05 (a perfect mAP has p = {best_possible:.3f})")
    table = pd.DataFrame({
        "perturbation": names, "n_replicates": counts, "n_negatives": n_negatives,
        "mean_average_precision": map_values, "p_value": p_values, "q_value": bh_qvalues(p_values),
    })
    notes = [f"smallest attainable p-value is {1 / (1 + n_null):.2g} (n_null={n_null})", *floor_notes]
    if negatives == "negcon":
        notes.append(f"{int(control.sum())} negative-control rows used as negatives")
    return AveragePrecisionResult(table, negatives, int(n_null), seed, tuple(notes))
