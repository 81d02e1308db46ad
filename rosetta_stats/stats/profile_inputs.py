"""Coerce one profile table (Profiles or DataFrame + column names) into checked inputs."""
from __future__ import annotations

import pandas as pd

from ..common.validation import as_name_list, check_columns, check_numeric_features
from ..data.profiles import Profiles


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
