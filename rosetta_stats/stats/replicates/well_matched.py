"""Way et al. (2022)'s replicate reproducibility: the median pairwise Spearman correlation of a perturbation's
replicates, against a null of profiles from the same well positions.

Statistic: the rows of each perturbation (duplicates dropped) are ranked
within the row over the features; the statistic is the median of the
Pearson correlations of those ranks over all pairs of replicates (Spearman).

Null (well-matched): for a perturbation whose k replicates sit in wells
w_1 ... w_k (positions such as ``A01``, whatever the plate), a null set takes
one profile at each of those positions from k different perturbations, none
of them the query's; its statistic is computed the same way. ``n_null`` sets
per perturbation give ``p = (1 + #{null >= observed}) / (1 + n_null)``; a
perturbation replicates when p < 0.05. When the possible sets are no more
than ``n_null`` (small plates) they are all enumerated and the p-value is
exact, ``#{sets >= observed} / #sets``. Perturbations whose replicates share
one multiset of positions (replicate plates with one layout) share the draws,
each keeping the sets that avoid its own rows. A position where no other
perturbation was measured leaves that perturbation without a p-value.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.resampling import permutation_p_values
from ..kernels.similarity import similarity_rows

ALPHA = 0.05


def spearman_units(matrix: np.ndarray) -> np.ndarray:
    """Rows ranked over the features, centred and scaled to length 1 (dot products = Spearman)."""
    return similarity_rows(matrix, "spearman")


def median_pair_correlation(units: np.ndarray, sets: np.ndarray) -> np.ndarray:
    """Median pairwise correlation within each set of rows (sets: n x k row indices, k >= 2)."""
    k = sets.shape[1]
    upper = np.triu_indices(k, 1)
    out = np.empty(len(sets))
    for start in range(0, len(sets), 4096):
        members = units[sets[start:start + 4096]]  # (n, k, features)
        gram = np.einsum("nif,njf->nij", members, members)
        out[start:start + 4096] = np.median(gram[:, upper[0], upper[1]], axis=1)
    return out


def observed_statistics(units: np.ndarray, rows_by_group: list[np.ndarray]) -> np.ndarray:
    """The median pairwise correlation of each group's rows (NaN for fewer than 2)."""
    out = np.full(len(rows_by_group), np.nan)
    by_size: dict[int, list[int]] = {}
    for g, rows in enumerate(rows_by_group):
        if len(rows) >= 2:
            by_size.setdefault(len(rows), []).append(g)
    for size, groups in by_size.items():
        out[groups] = median_pair_correlation(units, np.vstack([rows_by_group[g] for g in groups]))
    return out


def well_matched_null_sets(wells: tuple, rows_at_well: dict, perturbation_of: np.ndarray, n: int, rng,
                           max_rounds: int = 50) -> np.ndarray:
    """``n`` sets of rows, one at each position of ``wells``, from distinct perturbations (n x k)."""
    k = len(wells)
    pools = [rows_at_well[w] for w in wells]
    out = np.empty((0, k), dtype=np.int64)
    for _ in range(max_rounds):
        need = n - len(out)
        if need <= 0:
            break
        draw = np.column_stack([pool[rng.integers(0, len(pool), size=2 * need)] for pool in pools])
        labels = np.sort(perturbation_of[draw], axis=1)
        distinct = (labels[:, 1:] != labels[:, :-1]).all(axis=1)
        out = np.vstack([out, draw[distinct][:need]])
    return out


def well_matched_p_values(units, rows_by_group, group_codes_of_row, wells_of_row, observed, n_null, rng,
                          notes: list) -> np.ndarray:
    """p-value of each group's statistic against its well-matched null (NaN where none can be drawn)."""
    rows_at_well = {w: np.flatnonzero(wells_of_row == w) for w in np.unique(wells_of_row)}
    p = np.full(len(rows_by_group), np.nan)
    by_wells: dict[tuple, list[int]] = {}
    for g, rows in enumerate(rows_by_group):
        if len(rows) >= 2 and np.isfinite(observed[g]):
            by_wells.setdefault(tuple(sorted(wells_of_row[rows])), []).append(g)
    starved, exact_groups = 0, 0
    for wells, groups in by_wells.items():
        if any(len(np.unique(group_codes_of_row[rows_at_well[w]])) < 2 for w in set(wells)):
            starved += len(groups)
            continue
        if np.prod([float(len(rows_at_well[w])) for w in wells]) <= n_null:
            for g in groups:
                every = _every_set(wells, rows_at_well, group_codes_of_row, rows_by_group[g])
                if len(every):
                    p[g] = permutation_p_values(median_pair_correlation(units, every), [observed[g]],
                                                exact=True)[0]
                    exact_groups += 1
                else:
                    starved += 1
            continue
        pool = well_matched_null_sets(wells, rows_at_well, group_codes_of_row, int(n_null * 1.25) + 10, rng)
        values = None
        for g in groups:
            own = np.isin(pool, rows_by_group[g]).any(axis=1)
            usable = pool[~own]
            if len(usable) < n_null:
                extra = well_matched_null_sets(wells, rows_at_well, group_codes_of_row, 2 * n_null, rng)
                usable = np.vstack([usable, extra[~np.isin(extra, rows_by_group[g]).any(axis=1)]])
            usable = usable[:n_null]
            if len(usable) < n_null:
                starved += 1
                continue
            null = median_pair_correlation(units, usable) if values is None or own.any() else values
            if not own.any():
                values = null
            p[g] = permutation_p_values(null, [observed[g]])[0]
    if exact_groups:
        notes.append(f"{exact_groups} perturbation(s) have exact p-values: every well-matched set enumerated")
    if starved:
        notes.append(f"{starved} perturbation(s) have no well-matched null (no other perturbation at their "
                     "well positions) and no p-value")
    return p


def _every_set(wells, rows_at_well, perturbation_of, own_rows) -> np.ndarray:
    """Every set of one row per position from distinct perturbations other than the query's."""
    import itertools

    own = set(perturbation_of[own_rows].tolist())
    pools = [[r for r in rows_at_well[w] if perturbation_of[r] not in own] for w in wells]
    sets = [combo for combo in itertools.product(*pools)
            if len({perturbation_of[r] for r in combo}) == len(combo)]
    return np.array(sets, dtype=np.int64).reshape(-1, len(wells))


def per_dose(table: pd.DataFrame, doses: pd.Series, compounds: pd.Series) -> pd.DataFrame:
    """Percent replicating (p < 0.05) per dose, over the compounds measured at every dose."""
    frame = pd.DataFrame({"dose": doses.to_numpy(), "compound": compounds.to_numpy(),
                          "replicating": (table["p_value"] < ALPHA).to_numpy(),
                          "scored": table["p_value"].notna().to_numpy()})
    frame = frame[frame["scored"]]
    all_doses = frame["dose"].nunique()
    complete = frame.groupby("compound")["dose"].nunique()
    keep = frame["compound"].isin(complete.index[complete == all_doses])
    rows = []
    for dose, part in frame[keep].groupby("dose", sort=True):
        rows.append((dose, int(part["compound"].nunique()), 100.0 * part["replicating"].mean()))
    return pd.DataFrame(rows, columns=["dose", "n_compounds", "percent_replicating"])
