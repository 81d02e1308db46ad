"""``Profiles``: one container that keeps a frame and its column roles aligned.

A profile table has metadata columns and feature columns (CellProfiler
features or L1000 genes). ``Profiles`` carries the frame together with the
names of its features, its perturbation (match) column, its plate column and
its modality, so later steps never have to pass parallel lists around.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..common.matching import ControlSpec
from .features import infer_features
from ..common.validation import check_choice, check_columns, check_numeric_features

MODALITIES = ("cp", "ge")
CONTROL_COLUMN = "control_type"


@dataclass(frozen=True)
class Profiles:
    """A profile frame with its roles.

    Attributes
    ----------
    data : DataFrame (never modified in place; every step returns a new Profiles)
    features : names of the feature columns
    perturbation : the column naming the perturbation (the match key), or None
    plate : the plate column, or None
    modality : "cp" (Cell Painting) or "ge" (L1000)
    notes : what earlier steps did (dropped features and why, which control rule matched, ...)
    control_rule : the :class:`ControlSpec` that marks negative controls (None: rows
        with ``control_type == "negcon"``, when that column exists)
    time_point : hours between perturbation and measurement, when known
    sources : the files read (path, sha256, and the ETag when downloaded); results list them as inputs
    """

    data: pd.DataFrame
    features: tuple[str, ...]
    modality: str
    perturbation: str | None = None
    plate: str | None = None
    notes: tuple[str, ...] = field(default=())
    control_rule: ControlSpec | None = None
    time_point: float | None = None
    sources: tuple = ()  # the files behind these rows: {"path", "name", "sha256"[, "etag"]}

    def __post_init__(self) -> None:
        check_choice(self.modality, MODALITIES, "modality")
        object.__setattr__(self, "features", tuple(self.features))
        if not self.features:
            raise ValueError("a Profiles object needs at least one feature column")
        check_columns(self.data.columns, list(self.features), "features")
        roles = [c for c in (self.perturbation, self.plate) if c is not None]
        check_columns(self.data.columns, roles, "perturbation/plate")
        check_numeric_features(self.data, list(self.features))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, modality: str, perturbation: str | None = None,
                   plate: str | None = None, features=None, copy: bool = True) -> "Profiles":
        """Wrap a copy of a frame (the frame itself with ``copy=False``), inferring the features when not given."""
        features = infer_features(frame.columns, modality) if features is None else list(features)
        return cls(frame.copy() if copy else frame, tuple(features), modality, perturbation, plate)

    @property
    def feature_annotations(self) -> pd.DataFrame:
        """One row per feature (index: its name): gene symbols for L1000, categories for Cell Painting."""
        if self.modality == "ge":
            from .gene_symbols import gene_annotations

            return gene_annotations(self.features)
        from .feature_categories import feature_categories

        return feature_categories(self.features).set_index("feature")

    @property
    def inputs(self) -> tuple:
        return self.sources

    @property
    def metadata_columns(self) -> list[str]:
        feats = set(self.features)
        return [c for c in self.data.columns if c not in feats]

    @property
    def metadata(self) -> pd.DataFrame:
        return self.data[self.metadata_columns]

    def values(self) -> np.ndarray:
        """The features as a float matrix (rows x features)."""
        return self.data[list(self.features)].to_numpy(dtype=float)

    @property
    def controls(self) -> np.ndarray:
        """Boolean mask of negative-control rows (by ``control_rule``, else ``control_type == "negcon"``)."""
        if self.control_rule is not None and all(c in self.data.columns for c in self.control_rule.columns):
            return self.control_rule.mask(self.data)
        if CONTROL_COLUMN not in self.data.columns:
            return np.zeros(len(self.data), dtype=bool)
        return (self.data[CONTROL_COLUMN] == "negcon").to_numpy()

    def with_data(self, data: pd.DataFrame, features=None, note: str | None = None, **roles) -> "Profiles":
        """A new Profiles with other data (and optionally features, roles, one more note)."""
        notes = self.notes + ((note,) if note else ())
        return replace(self, data=data, features=tuple(self.features if features is None else features),
                       notes=notes, **roles)

    def __len__(self) -> int:
        return len(self.data)

    def summary(self) -> str:
        lines = [
            f"Profiles ({self.modality}): {len(self.data)} rows x {len(self.features)} features",
            f"  perturbation column: {self.perturbation}"
            + (f" ({self.data[self.perturbation].nunique()} distinct)" if self.perturbation else ""),
            f"  plate column: {self.plate}"
            + (f" ({self.data[self.plate].nunique()} plates)" if self.plate else ""),
            f"  negative-control rows: {int(self.controls.sum())}"
            + (f" ({self.control_rule.describe()})" if self.control_rule is not None else ""),
        ]
        if self.time_point is not None:
            lines.append(f"  time point: {self.time_point:g} h")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"Profiles(modality={self.modality!r}, rows={len(self.data)}, "
                f"features={len(self.features)}, perturbation={self.perturbation!r}, plate={self.plate!r})")
