"""Load Rosetta profile files into ``Profiles`` and pair the two modalities."""
from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .cleaning import clean_profiles, treatment_level
from .profiles import CONTROL_COLUMN, Profiles
from .registry import ControlSpec, get_dataset
from .validation import check_choice, check_columns

CP_LEVELS = ("augmented", "normalized", "normalized_variable_selected")


def read_profiles(
    path: str | os.PathLike,
    modality: str,
    perturbation: str | None = None,
    plate: str | None = None,
    controls: ControlSpec | None = None,
    clean: bool = True,
    **cleaning,
) -> Profiles:
    """Read a profile CSV (``.csv`` or ``.csv.gz``) into ``Profiles``.

    Features are inferred (``Cells_``/``Cytoplasm_``/``Nuclei_`` for Cell
    Painting, ``*_at`` for L1000). Rows matching ``controls`` get
    ``control_type == "negcon"``. With ``clean`` the paper's cleaning runs
    (:func:`rosetta_stats.cleaning.clean_profiles`; keyword arguments pass
    through, e.g. ``per_plate=True``).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"profile file not found: {path}")
    frame = pd.read_csv(path, low_memory=False)
    if frame.empty:
        raise ValueError(f"{path.name} has no rows")
    check_columns(frame.columns, [c for c in (perturbation, plate) if c], f"columns of {path.name}")
    frame = mark_controls(frame, controls, label=path.name)
    try:
        profiles = Profiles.from_frame(frame, modality, perturbation, plate)
    except ValueError as exc:
        raise ValueError(f"{path.name}: {exc}") from None
    if clean:
        if modality == "ge":  # the paper filtered Cell Painting features only
            cleaning.setdefault("max_nan_fraction", None)
            cleaning.setdefault("min_std", None)
        profiles = clean_profiles(profiles, **cleaning)
    return profiles


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


def _file_for_level(dataset, modality: str, level: str) -> str:
    if modality == "cp":
        check_choice(level, CP_LEVELS, "Cell Painting level")
        return "cp-" + level.replace("_", "-")
    if level in ("normalized", "replicate"):
        return "l1k"
    return level


def load_profiles(
    dataset: str,
    modality: str,
    level: str = "normalized",
    root: str | os.PathLike = ".",
    clean: bool = True,
    **cleaning,
) -> Profiles:
    """Load a downloaded Rosetta file (see ``rosetta-stats datasets download``).

    ``level`` for Cell Painting: "augmented", "normalized" or
    "normalized_variable_selected"; for L1000: "normalized" (the replicate-level
    file) or any of the dataset's L1000 short file names ("l1k-treatment", ...).
    """
    ds = get_dataset(dataset)
    check_choice(modality, ("cp", "ge"), "modality")
    remote = ds.file(_file_for_level(ds, modality, level))
    path = Path(root) / remote.relative_path
    if not path.is_file():
        raise ValueError(
            f"{path} not found; fetch it with: rosetta-stats datasets download {ds.short} "
            f"--files {remote.short} --dest {root}"
        )
    return read_profiles(path, modality, ds.match_column(modality), ds.plate_column(modality),
                         ds.controls(modality), clean=clean, **cleaning)


@dataclass(frozen=True)
class PairedProfiles:
    """CP and GE profiles of the same perturbations, row-aligned on ``key``."""

    cp: Profiles
    ge: Profiles
    key: str
    lost_cp: tuple[str, ...]  # perturbations only in CP
    lost_ge: tuple[str, ...]  # perturbations only in GE
    disagreements: pd.DataFrame  # key + both columns, for each compared pair that differs

    def summary(self) -> str:
        return "\n".join([
            f"paired {len(self.cp)} perturbations on {self.key!r} "
            f"({int(self.cp.controls.sum())} negcon)",
            f"  Cell Painting: {len(self.cp.features)} features; {len(self.lost_cp)} perturbations had no L1000 match",
            f"  L1000: {len(self.ge.features)} genes; {len(self.lost_ge)} perturbations had no Cell Painting match",
            f"  rows whose compared columns disagree: {len(self.disagreements)}",
        ])


def pair(cp: Profiles, ge: Profiles, key: str = "perturbation",
         compare: Sequence[tuple[str, str]] = ()) -> PairedProfiles:
    """Inner-join treatment-level CP and GE profiles on their perturbation columns.

    Both match columns are renamed to ``key``. ``compare`` lists (CP column,
    GE column) pairs that should agree, such as doses or time points; both are
    kept and a warning counts the perturbations where they differ.
    """
    for name, side in (("cp", cp), ("ge", ge)):
        if side.perturbation is None:
            raise ValueError(f"{name} profiles have no perturbation column to pair on")
        duplicated = side.data[side.perturbation].duplicated()
        if duplicated.any():
            example = side.data.loc[duplicated, side.perturbation].iloc[0]
            raise ValueError(
                f"{name} profiles repeat perturbation {example!r} in {side.perturbation!r}; "
                "pair treatment-level profiles (rosetta_stats.treatment_level) "
            )
    for cp_col, ge_col in compare:
        check_columns(cp.data.columns, [cp_col], "compare (Cell Painting side)")
        check_columns(ge.data.columns, [ge_col], "compare (L1000 side)")
    cp_keys = cp.data[cp.perturbation].astype(str)
    ge_keys = ge.data[ge.perturbation].astype(str)
    shared = sorted(set(cp_keys) & set(ge_keys))
    if not shared:
        raise ValueError(
            f"no perturbation is in both modalities: Cell Painting {cp.perturbation!r} "
            f"(e.g. {cp_keys.iloc[0]!r}) vs L1000 {ge.perturbation!r} (e.g. {ge_keys.iloc[0]!r})"
        )
    order = pd.Index(shared)

    def aligned(side: Profiles, keys: pd.Series) -> Profiles:
        data = side.data.assign(**{side.perturbation: keys})
        data = data.set_index(side.perturbation).loc[order].rename_axis(key).reset_index()
        return side.with_data(data, perturbation=key, note=f"paired on {key}")

    cp_out, ge_out = aligned(cp, cp_keys), aligned(ge, ge_keys)
    disagreements = []
    for cp_col, ge_col in compare:
        a, b = cp_out.data[cp_col], ge_out.data[ge_col]
        differ = ~((a == b) | (a.isna() & b.isna()))
        if differ.any():
            disagreements.append(pd.DataFrame({key: order[differ.to_numpy()], "cp_column": cp_col,
                                               "cp_value": a[differ].to_numpy(), "ge_column": ge_col,
                                               "ge_value": b[differ].to_numpy()}))
            warnings.warn(f"{int(differ.sum())} paired perturbation(s) differ between {cp_col} (CP) "
                          f"and {ge_col} (L1000)", UserWarning, stacklevel=2)
    return PairedProfiles(
        cp=cp_out, ge=ge_out, key=key,
        lost_cp=tuple(sorted(set(cp_keys) - set(shared))),
        lost_ge=tuple(sorted(set(ge_keys) - set(shared))),
        disagreements=pd.concat(disagreements, ignore_index=True) if disagreements else
        pd.DataFrame(columns=[key, "cp_column", "cp_value", "ge_column", "ge_value"]),
    )


def read_paired(cp_path, ge_path, cp_key: str, ge_key: str | None = None, key: str = "perturbation",
                cp_controls: ControlSpec | None = None, ge_controls: ControlSpec | None = None,
                clean: bool = True) -> PairedProfiles:
    """Read a CP and a GE profile file, average replicates per key, and pair them."""
    cp = read_profiles(cp_path, "cp", cp_key, controls=cp_controls, clean=clean)
    ge = read_profiles(ge_path, "ge", ge_key or cp_key, controls=ge_controls, clean=clean)
    return pair(treatment_level(cp), treatment_level(ge), key=key)
