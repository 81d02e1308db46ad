"""Treatment level: one profile per perturbation from its replicate wells (mean, median or MODZ).

MODZ, the consensus of L1000 signatures (Subramanian et al. 2017): each
replicate is weighted by how well it agrees with the others, its mean
Spearman correlation with the other replicates of the perturbation (over
the features), floored at 0.01; the weights are normalised to sum to 1 and
the consensus is the weighted mean. One replicate is its own consensus;
two replicates get equal weights.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from ..common.deprecation import renamed_arguments
from ..common.validation import check_choice
from .profiles import Profiles

METHODS = ("mean", "median", "modz")
MODZ_MIN_WEIGHT = 0.01
OBJECT_COUNT = "Metadata_Object_Count"


def modz_weights(replicates: np.ndarray, min_weight: float = MODZ_MIN_WEIGHT) -> np.ndarray:
    """The MODZ weight of each replicate (rows), summing to 1."""
    k = len(replicates)
    if k <= 2:
        return np.full(k, 1.0 / k)
    ranks = rankdata(replicates, axis=1)  # ties share their average rank, as Spearman's correlation takes them
    centred = ranks - ranks.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (centred @ centred.T) / np.outer(norms, norms)
    np.fill_diagonal(rho, np.nan)
    raw = np.maximum(np.nan_to_num(np.nanmean(rho, axis=1), nan=min_weight), min_weight)
    return raw / raw.sum()


@renamed_arguments(key="perturbation")
def treatment_level(profiles: Profiles, perturbation: str | None = None, method: str = "mean") -> Profiles:
    """One profile per perturbation (``method``: "mean", "median" or "modz"); metadata keep their first value.

    ``perturbation`` defaults to the Profiles' own perturbation column; the
    result has one row per perturbation and an ``n_replicates`` column.
    """
    check_choice(method, METHODS, "method")
    key = perturbation or profiles.perturbation
    if key is None:
        raise ValueError("treatment_level needs a perturbation column (perturbation=... or Profiles.perturbation)")
    if key not in profiles.data.columns:
        raise ValueError(f"perturbation column {key!r} not found")
    data = profiles.data
    if data[key].isna().any():
        data = data[data[key].notna()]
    grouped = data.groupby(key, sort=True)
    features = list(profiles.features)
    if method == "mean":
        values = grouped[features].mean()
    elif method == "median":
        values = grouped[features].median()
    else:
        values = _modz(data, key, features)
    meta_cols = [c for c in profiles.metadata_columns if c != key]
    first = grouped[meta_cols].first() if meta_cols else pd.DataFrame(index=values.index)
    if OBJECT_COUNT in meta_cols:  # the cells of a treatment: the mean over its wells
        first[OBJECT_COUNT] = grouped[OBJECT_COUNT].mean()
    first["n_replicates"] = grouped.size()
    out = pd.concat([first, values], axis=1).reset_index()
    verb = {"mean": "averaged", "median": "took the median of", "modz": "took the MODZ consensus of"}[method]
    return profiles.with_data(out, note=f"{verb} replicates per {key}", perturbation=key)


def _modz(data: pd.DataFrame, key: str, features: list[str]) -> pd.DataFrame:
    matrix = data[features].to_numpy(dtype=float)
    codes, names = pd.factorize(data[key], sort=True)
    out = np.empty((len(names), len(features)))
    order = np.argsort(codes, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(codes, minlength=len(names)))]
    for g in range(len(names)):
        rows = matrix[order[bounds[g]:bounds[g + 1]]]
        out[g] = modz_weights(rows) @ rows
    return pd.DataFrame(out, index=pd.Index(names, name=key), columns=features)
