"""Treatment level: one profile per perturbation, the mean of its replicate wells."""
from __future__ import annotations

import pandas as pd

from ..common.deprecation import renamed_arguments
from .profiles import Profiles


@renamed_arguments(key="perturbation")
def treatment_level(profiles: Profiles, perturbation: str | None = None) -> Profiles:
    """Mean profile per perturbation; metadata columns keep their first value.

    ``perturbation`` defaults to the Profiles' own perturbation column; the
    result has one row per perturbation and an ``n_replicates`` column.
    """
    key = perturbation or profiles.perturbation
    if key is None:
        raise ValueError("treatment_level needs a perturbation column (perturbation=... or Profiles.perturbation)")
    if key not in profiles.data.columns:
        raise ValueError(f"perturbation column {key!r} not found")
    data = profiles.data
    if data[key].isna().any():
        data = data[data[key].notna()]
    grouped = data.groupby(key, sort=True)
    means = grouped[list(profiles.features)].mean()
    meta_cols = [c for c in profiles.metadata_columns if c != key]
    first = grouped[meta_cols].first() if meta_cols else pd.DataFrame(index=means.index)
    first["n_replicates"] = grouped.size()
    out = pd.concat([first, means], axis=1).reset_index()
    return profiles.with_data(out, note=f"averaged replicates per {key}", perturbation=key)
