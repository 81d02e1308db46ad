"""Negative controls: the rule object and the marking of control rows."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .profiles import CONTROL_COLUMN


@dataclass(frozen=True)
class ControlSpec:
    """Rows whose ``column`` takes one of ``values`` are negative controls."""

    column: str
    values: tuple[str, ...]


def mark_controls(frame: pd.DataFrame, controls: ControlSpec | None, label: str = "profiles") -> pd.DataFrame:
    """A copy of ``frame`` with ``control_type`` = "negcon" where ``controls`` match, else "trt"."""
    if controls is None:
        return frame
    if controls.column not in frame.columns:
        warnings.warn(f"{label}: control column {controls.column!r} not found; no rows are marked negcon",
                      UserWarning, stacklevel=3)
        return frame
    is_control = frame[controls.column].isin(controls.values).to_numpy()
    return frame.assign(**{CONTROL_COLUMN: np.where(is_control, "negcon", "trt")})
