"""Cleaning steps as the paper applied them, each a named function on ``Profiles``.

``clean_profiles`` runs them in the paper's order; each step can be turned
off, and each records what it did in ``Profiles.notes``:

1. ``replace_infinite``: +-inf -> NaN;
2. ``drop_sparse_features``: features with more than 5% NaN;
3. ``drop_flat_features``: features with standard deviation below 1e-4;
4. ``interpolate_missing``: remaining NaN filled by linear interpolation down
   each column, forward only as the paper did (pandas' default: a NaN before
   a column's first value stays NaN, and statistics leave such rows out);
5. ``standardize_per_plate`` (optional): z-score every feature within each plate.

"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .profiles import Profiles


def replace_infinite(profiles: Profiles) -> Profiles:
    """Replace +-inf in the features by NaN."""
    data = profiles.data.copy()
    feats = list(profiles.features)
    n_inf = int(np.isinf(data[feats].to_numpy(float)).sum())
    data[feats] = data[feats].replace([np.inf, -np.inf], np.nan)
    return profiles.with_data(data, note=f"replaced {n_inf} infinite values by NaN" if n_inf else None)


def _drop(profiles: Profiles, bad: list[str], reason: str) -> Profiles:
    if not bad:
        return profiles
    kept = [f for f in profiles.features if f not in set(bad)]
    if not kept:
        raise ValueError(f"every feature was dropped ({reason})")
    shown = ", ".join(bad[:10]) + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
    return profiles.with_data(profiles.data.drop(columns=bad), features=kept,
                              note=f"dropped {len(bad)} feature(s) with {reason}: {shown}")


def drop_sparse_features(profiles: Profiles, max_nan_fraction: float = 0.05) -> Profiles:
    """Drop features with more than ``max_nan_fraction`` missing values."""
    fraction = profiles.data[list(profiles.features)].isna().mean()
    return _drop(profiles, fraction.index[fraction > max_nan_fraction].tolist(),
                 f"more than {max_nan_fraction:.0%} NaN")


def drop_flat_features(profiles: Profiles, min_std: float = 1e-4) -> Profiles:
    """Drop features whose standard deviation (NaN skipped) is below ``min_std`` or undefined."""
    std = profiles.data[list(profiles.features)].std()
    return _drop(profiles, std.index[~(std >= min_std)].tolist(), f"standard deviation < {min_std:g}")


def interpolate_missing(profiles: Profiles, direction: str = "forward") -> Profiles:
    """Fill NaN by linear interpolation down each feature column.

    ``direction="forward"`` is the paper's (pandas' default): NaN before a
    column's first value stay; "both" also fills them from the nearest value.
    """
    if direction not in ("forward", "both"):
        raise ValueError(f"unknown direction {direction!r}; choose one of: forward, both")
    feats = list(profiles.features)
    n_missing = int(profiles.data[feats].isna().sum().sum())
    if not n_missing:
        return profiles
    data = profiles.data.copy()
    data[feats] = data[feats].interpolate(method="linear", limit_direction=direction, axis=0)
    left = int(data[feats].isna().sum().sum())
    note = f"interpolated {n_missing - left} missing values ({direction})"
    if left:
        note += f"; {left} before a column's first value stay NaN"
    return profiles.with_data(data, note=note)


def standardize_within(frame: pd.DataFrame, features: list[str], group: str) -> pd.DataFrame:
    """A copy of ``frame`` with every feature z-scored within each value of ``group``.

    A feature that is constant within a group becomes NaN there.
    """
    grouped = frame.groupby(group, sort=False)[features]
    std = grouped.transform("std")
    out = frame.copy()
    out[features] = (frame[features] - grouped.transform("mean")) / std.where(std > 0)
    return out


def standardize_per_plate(profiles: Profiles) -> Profiles:
    """Z-score every feature within each plate (the paper's per-plate normalisation)."""
    if profiles.plate is None:
        raise ValueError("standardize_per_plate needs the plate column (Profiles.plate is None)")
    data = standardize_within(profiles.data, list(profiles.features), profiles.plate)
    return profiles.with_data(data, note=f"standardised features within each {profiles.plate}")


def clean_profiles(
    profiles: Profiles,
    replace_inf: bool = True,
    max_nan_fraction: float | None = 0.05,
    min_std: float | None = 1e-4,
    interpolate: bool = True,
    per_plate: bool = False,
) -> Profiles:
    """The paper's cleaning, step by step (``None``/``False`` turns a step off)."""
    if replace_inf:
        profiles = replace_infinite(profiles)
    if max_nan_fraction is not None:
        profiles = drop_sparse_features(profiles, max_nan_fraction)
    if min_std is not None:
        profiles = drop_flat_features(profiles, min_std)
    if interpolate:
        profiles = interpolate_missing(profiles)
    if per_plate:
        profiles = standardize_per_plate(profiles)
    return profiles
