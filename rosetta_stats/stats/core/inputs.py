"""Coerce one profile table (Profiles or DataFrame + column names) into checked inputs."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...common.validation import as_name_list, check_columns, check_numeric_features
from ...data.profiles import Profiles
from ..kernels.similarity import degenerate_rows


def profile_inputs(profiles_or_frame, perturbation, features):
    """(frame, perturbation column, feature list) from a Profiles or a DataFrame, checked. A DataFrame
    without ``features`` has them inferred as the readers do (CellProfiler measurements, or L1000 probes)."""
    if isinstance(profiles_or_frame, Profiles):
        frame = profiles_or_frame.data
        perturbation = perturbation or profiles_or_frame.perturbation
        features = list(features or profiles_or_frame.features)
    else:
        frame = profiles_or_frame
        features = as_name_list(features, "features")
        if not features and isinstance(frame, pd.DataFrame):
            from ...data.features import infer_features

            features = infer_features(frame.columns)
    if not isinstance(frame, pd.DataFrame):
        raise ValueError("give a Profiles object or a pandas DataFrame")
    if not perturbation:
        raise ValueError("name the perturbation column (perturbation=...)")
    if not features:
        raise ValueError("name the feature columns (features=...)")
    check_columns(frame.columns, [perturbation], "perturbation")
    check_columns(frame.columns, features, "features")
    check_numeric_features(frame, features)
    return frame, perturbation, features


TRANSPOSE_TILE = 64  # columns copied at a time (15,460 x 1,565 float32: 0.04 s, against 0.1-0.3 s in one copy)


def feature_matrix(frame: pd.DataFrame, features, keep_float32: bool = False) -> np.ndarray:
    """The feature columns as a new C-ordered float64 array, copied once (pandas' own route copies twice
    and hands back a column-major array when the columns are float32).

    ``keep_float32``: float32 when every feature column is float32 (profiles
    loaded with ``dtype="float32"``: half the memory and twice the speed of
    the products, at float32's precision).
    """
    features = list(features)
    single = keep_float32 and len(features) and bool((frame.dtypes[features] == np.float32).all())
    source = frame[features].to_numpy()  # pandas keeps columns together: usually a column-major view
    out = np.empty(source.shape, dtype=np.float32 if single else np.float64)
    for start in range(0, source.shape[1], TRANSPOSE_TILE):  # column tiles: both sides stay in cache
        out[:, start:start + TRANSPOSE_TILE] = source[:, start:start + TRANSPOSE_TILE]
    return out


def degenerate_row_mask(matrix: np.ndarray, what: str, ranges=None) -> tuple[np.ndarray, str | None]:
    """(rows with NaN/inf or no variance, a note counting them) for statistics that cannot use such rows.

    ``ranges``: the rows' (maximum, minimum) when the caller has them already.
    """
    non_finite, constant = degenerate_rows(matrix, ranges)
    bad = non_finite | constant
    if not bad.any():
        return bad, None
    parts = [f"{int(non_finite.sum())} with NaN or infinite values"] if non_finite.any() else []
    parts += [f"{int(constant.sum())} constant"] if constant.any() else []
    return bad, f"left out {int(bad.sum())} row(s) without a {what} ({', '.join(parts)})"



# Median excess kurtosis above which a parametric (t or F) p-value is replaced by a permutation one. For
# Gaussian columns the sample value sits near 0 (sd about sqrt(24 / n) per column; the median over many
# columns much closer); t-distributed noise with 3 to 5 degrees of freedom gives 2 and more.
HEAVY_TAIL_KURTOSIS = 1.0


def heavy_tails(*matrices: np.ndarray) -> float | None:
    """The median excess kurtosis of the columns of the matrices when it exceeds HEAVY_TAIL_KURTOSIS
    (heavy tails: the t and F tests' tail probabilities are wrong), else None."""
    from scipy import stats

    values = np.concatenate([stats.kurtosis(np.asarray(m, dtype=float), axis=0, nan_policy="omit").ravel()
                             for m in matrices if np.asarray(m).size])
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    median = float(np.median(values))
    return median if median > HEAVY_TAIL_KURTOSIS else None
