"""DataFrame bookkeeping for results that come back from R (no rpy2 here)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def restore_numeric(values: np.ndarray) -> np.ndarray:
    """Doubles from R back to int64 when they are all whole numbers."""
    if values.size and np.all(np.isfinite(values)) and np.all(values == np.round(values)):
        if np.all(np.abs(values) < 2**53):
            return values.astype(np.int64)
    return values


def plain_frame(parts: dict[str, Any], order: Sequence[str] | None = None) -> pd.DataFrame:
    """A DataFrame from the metadata and values parts of an R frame."""
    columns: dict[str, Any] = {}
    for name, values in parts["metadata"].items():
        columns[name] = restore_numeric(values) if isinstance(values, np.ndarray) else values
    frame = pd.DataFrame(columns)
    values = pd.DataFrame(parts["values"], columns=parts["variables"])
    frame = pd.concat([frame.reset_index(drop=True), values], axis=1)
    if order is not None:
        frame = frame[[c for c in order if c in frame.columns]]
    return frame


def back_map(original: pd.Series, returned) -> pd.Series:
    """Map the values that came back from R to the original values and dtype.

    Numbers went to R as doubles and text as strings (see ``metadata_vector``).
    """
    returned = pd.Series(returned)
    numeric = pd.api.types.is_float_dtype(returned)
    key = float if numeric else str
    lookup = {key(v): v for v in pd.unique(original) if not pd.isna(v)}
    mapped = pd.Series([None if pd.isna(k) else lookup[k] for k in returned], dtype=object)
    try:
        return mapped.astype(original.dtype)
    except (TypeError, ValueError):
        return mapped
