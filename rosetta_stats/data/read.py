"""Read Rosetta profile files (and the registry's downloads) into ``Profiles``."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .cleaning import clean_profiles
from .profiles import Profiles
from .controls import ControlSpec, mark_controls
from .registry import get_dataset
from ..common.validation import check_choice, check_columns

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
    (:func:`rosetta_stats.data.cleaning.clean_profiles`; keyword arguments pass
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


