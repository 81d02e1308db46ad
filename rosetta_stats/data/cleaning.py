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

import warnings

import numpy as np
import pandas as pd

from ..common.feature_matrix import (compact_columns, feature_matrix, row_blocks, with_feature_block,
                                     writable_block)
from .profiles import Profiles


class _Features:
    """The feature matrix of a Profiles while cleaning works on it; rebuilt into a frame once at the end."""

    def __init__(self, profiles: Profiles, inplace: bool = False):
        self.profiles = profiles
        self.names = list(profiles.features)
        own = writable_block(profiles.data, self.names) if inplace else None
        # changed in place: the frame's own buffer when the caller gives it up, else a copy
        self.values = own if own is not None else feature_matrix(profiles.data, self.names)
        self.notes: list[str] = []
        self.dropped: list[str] = []

    def drop(self, bad: np.ndarray, reason: str) -> None:
        if not bad.any():
            return
        names = [n for n, b in zip(self.names, bad) if b]
        if bad.all():
            raise ValueError(f"every feature was dropped ({reason})")
        shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        self.notes.append(f"dropped {len(names)} feature(s) with {reason}: {shown}")
        self.names = [n for n, b in zip(self.names, bad) if not b]
        self.values = compact_columns(self.values, ~bad)
        self.dropped += names

    def result(self) -> Profiles:
        if not self.notes:
            return self.profiles
        out = with_feature_block(self.profiles.data, self.names, self.values, self.dropped)
        profiles = self.profiles.with_data(out, features=self.names)
        for note in self.notes:
            profiles = profiles.with_data(profiles.data, note=note)
        return profiles


def _replace_infinite(features: _Features) -> None:
    n_inf = 0
    for rows in row_blocks(len(features.values)):
        block = features.values[rows]
        infinite = np.isinf(block)
        n_inf += int(infinite.sum())
        block[infinite] = np.nan
    if n_inf:
        features.notes.append(f"replaced {n_inf} infinite values by NaN")


def _nan_counts(values: np.ndarray) -> np.ndarray:
    """Missing values per column, counted by blocks of rows."""
    counts = np.zeros(values.shape[1], dtype=np.int64)
    for rows in row_blocks(len(values)):
        counts += np.isnan(values[rows]).sum(axis=0)
    return counts


def _drop_sparse(features: _Features, max_nan_fraction: float) -> None:
    fraction = _nan_counts(features.values) / len(features.values)
    features.drop(fraction > max_nan_fraction, f"more than {max_nan_fraction:.0%} NaN")


def _drop_flat(features: _Features, min_std: float) -> None:
    values = features.values
    std = np.empty(values.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN or single-value columns: std undefined
        for start in range(0, values.shape[1], 64):  # blocks of columns: nanstd's float64 copies stay small
            std[start:start + 64] = np.nanstd(values[:, start:start + 64], axis=0, ddof=1, dtype=np.float64)
    features.drop(~(std >= min_std), f"standard deviation < {min_std:g}")


def _interpolate(features: _Features, direction: str) -> None:
    if direction not in ("forward", "both"):
        raise ValueError(f"unknown direction {direction!r}; choose one of: forward, both")
    counts = _nan_counts(features.values)
    n_missing = int(counts.sum())
    if not n_missing:
        return
    columns = np.flatnonzero(counts)  # only these are interpolated
    left = 0
    for start in range(0, len(columns), 32):  # blocks of columns bound the index arrays' memory
        block = columns[start:start + 32]
        filled = interpolate_down(features.values[:, block], direction)
        left += int(np.isnan(filled).sum())
        features.values[:, block] = filled
    note = f"interpolated {n_missing - left} missing values ({direction})"
    if left:
        note += f"; {left} before a column's first value stay NaN"
    features.notes.append(note)


def interpolate_down(values: np.ndarray, direction: str = "forward") -> np.ndarray:
    """Linear interpolation of NaN down each column, as pandas' ``interpolate(method="linear")``.

    Rows are equally spaced; a NaN after a column's last value takes that
    value; a NaN before its first value stays NaN ("forward") or takes it ("both").
    """
    n = len(values)
    valid = ~np.isnan(values)
    rows = np.arange(n)[:, None]
    before = np.maximum.accumulate(np.where(valid, rows, -1), axis=0)  # last valid row at or above
    after = np.minimum.accumulate(np.where(valid, rows, n)[::-1], axis=0)[::-1]  # first valid row at or below
    r, c = np.nonzero(~valid)
    low, high = before[r, c], after[r, c]
    inner = (low >= 0) & (high < n)
    out = values.copy()
    lo_value, hi_value = values[low[inner], c[inner]], values[high[inner], c[inner]]
    weight = (r[inner] - low[inner]) / (high[inner] - low[inner])
    out[r[inner], c[inner]] = lo_value + (hi_value - lo_value) * weight
    trailing = (low >= 0) & (high == n)
    out[r[trailing], c[trailing]] = values[low[trailing], c[trailing]]
    if direction == "both":
        leading = (low < 0) & (high < n)
        out[r[leading], c[leading]] = values[high[leading], c[leading]]
    return out


def replace_infinite(profiles: Profiles) -> Profiles:
    """Replace +-inf in the features by NaN."""
    features = _Features(profiles)
    _replace_infinite(features)
    return features.result()


def drop_sparse_features(profiles: Profiles, max_nan_fraction: float = 0.05) -> Profiles:
    """Drop features with more than ``max_nan_fraction`` missing values."""
    features = _Features(profiles)
    _drop_sparse(features, max_nan_fraction)
    return features.result()


def drop_flat_features(profiles: Profiles, min_std: float = 1e-4) -> Profiles:
    """Drop features whose standard deviation (NaN skipped) is below ``min_std`` or undefined."""
    features = _Features(profiles)
    _drop_flat(features, min_std)
    return features.result()


def interpolate_missing(profiles: Profiles, direction: str = "forward") -> Profiles:
    """Fill NaN by linear interpolation down each feature column.

    ``direction="forward"`` is the paper's (pandas' default): NaN before a
    column's first value stay; "both" also fills them from the nearest value.
    """
    features = _Features(profiles)
    _interpolate(features, direction)
    return features.result()


def standardize_within(frame: pd.DataFrame, features: list[str], group: str) -> pd.DataFrame:
    """A copy of ``frame`` with every feature z-scored within each value of ``group``.

    A feature that is constant within a group becomes NaN there, and so do
    the features of rows without a group.
    """
    values = feature_matrix(frame, features, dtype=np.float64)
    codes, _ = pd.factorize(frame[group], sort=False)
    values[codes < 0] = np.nan
    for code in range(codes.max(initial=-1) + 1):
        rows = codes == code
        block = values[rows]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean, std = np.nanmean(block, axis=0), np.nanstd(block, axis=0, ddof=1)
        values[rows] = (block - mean) / np.where(std > 0, std, np.nan)
    return with_feature_block(frame, features, values)


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
    inplace: bool = False,
) -> Profiles:
    """The paper's cleaning, step by step (``None``/``False`` turns a step off).

    The steps work on one copy of the feature matrix (in its dtype: float32
    stays float32) and the frame is rebuilt once, at the end. ``inplace=True``
    works in the frame's own feature buffer instead (no copy; the input
    profiles must not be used afterwards): for a table just read from a file.
    """
    features = _Features(profiles, inplace)
    if replace_inf:
        _replace_infinite(features)
    if max_nan_fraction is not None:
        _drop_sparse(features, max_nan_fraction)
    if min_std is not None:
        _drop_flat(features, min_std)
    if interpolate:
        _interpolate(features, "forward")
    profiles = features.result()
    if per_plate:
        profiles = standardize_per_plate(profiles)
    return profiles
