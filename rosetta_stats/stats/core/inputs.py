"""Coerce one profile table (Profiles or DataFrame + column names) into checked inputs."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...common.validation import as_name_list, check_columns, check_numeric_features
from ...data.profiles import Profiles
from ..kernels.similarity import degenerate_rows


def profile_inputs(profiles_or_frame, perturbation, features):
    """(frame, perturbation column, feature list) from a Profiles or a DataFrame, checked."""
    if isinstance(profiles_or_frame, Profiles):
        frame = profiles_or_frame.data
        perturbation = perturbation or profiles_or_frame.perturbation
        features = list(features or profiles_or_frame.features)
    else:
        frame = profiles_or_frame
        features = as_name_list(features, "features")
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

