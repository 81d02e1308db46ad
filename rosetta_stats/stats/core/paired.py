"""Turn paired CP / GE inputs into aligned matrices for the cross-modal statistics."""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...data.pairing import PairedProfiles, pair
from ...data.profiles import Profiles
from ...data.read import COMPOUND_COLUMN


@dataclass(frozen=True)
class PairedMatrices:
    """Row-aligned inputs: ``cp`` (n x features) and ``ge`` (n x genes) of the same perturbations."""

    cp: np.ndarray
    ge: np.ndarray
    cp_names: list[str]
    ge_names: list[str]
    keys: np.ndarray
    groups: np.ndarray
    n_controls_dropped: int
    notes: tuple[str, ...] = ()
    cp_annotations: pd.DataFrame | None = None  # index: feature; compartment, group, channel, category
    ge_annotations: pd.DataFrame | None = None  # index: gene; symbol, paper_gene
    inputs: tuple = ()
    paired: PairedProfiles | None = None


def _as_profiles(side, modality: str, key: str | None) -> Profiles:
    if isinstance(side, Profiles):
        return side
    if isinstance(side, pd.DataFrame):
        if key is None:
            raise ValueError("with DataFrames, name the shared perturbation column (key=...)")
        return Profiles.from_frame(side, modality, perturbation=key)
    raise ValueError(f"expected Profiles, a DataFrame or PairedProfiles for {modality}; got {type(side).__name__}")


def as_paired(cp, ge=None, key: str | None = None) -> PairedProfiles:
    """A PairedProfiles as given, or made once from two sides keyed by ``key``."""
    if isinstance(cp, PairedProfiles):
        if ge is not None:
            raise ValueError("give a PairedProfiles alone, or two sides (cp, ge) with key=...")
        return cp
    return pair(_as_profiles(cp, "cp", key), _as_profiles(ge, "ge", key), key=key or "perturbation")


# names of metadata columns that say which perturbation a row is (not its dose, type, time or plate)
_PERTURBATION_LIKE = re.compile(r"(?i)(pert|broad_sample|compound|treatment|drug|sample)")
_NOT_PERTURBATION = re.compile(r"(?i)(type|dose|time|unit|plate|well|moa|target|control|smiles|count)")
_WELL_LIKE = re.compile(r"(?i)(?:^|[^A-Z])[A-P]\d{1,2}$")


def replicate_groups(metadata: pd.DataFrame, keys: pd.Series) -> tuple[str | None, str | None]:
    """When every row has its own key but rows share a perturbation column, that column (the coarsest
    such one): replicates of one perturbation must stay in one fold. Returns (column, warning)."""
    if keys.duplicated().any():
        return None, None
    candidates = []
    for column in metadata.columns:
        if column == keys.name or not _PERTURBATION_LIKE.search(str(column)) or _NOT_PERTURBATION.search(str(column)):
            continue
        values = metadata[column]
        n_groups = values.nunique(dropna=True)
        if values.notna().all() and 3 <= n_groups < len(values):
            candidates.append((n_groups, str(column)))
    if candidates:
        return min(candidates)[1], None
    if keys.astype(str).str.contains(_WELL_LIKE).mean() > 0.5:
        return None, (f"every row has its own key ({keys.name!r} looks like wells) and no perturbation column was "
                      "found: if rows are replicates, pass groups= (the perturbation column) so that replicates "
                      "of one perturbation never sit on both sides of a fold")
    return None, None


def paired_matrices(cp, ge=None, key: str | None = None, groups=None,
                    include_controls: bool = False) -> PairedMatrices:
    """Align treatment-level CP and GE profiles on their perturbation key.

    ``cp`` may be a :class:`PairedProfiles` (then ``ge`` is None), or ``cp`` and
    ``ge`` are Profiles / DataFrames keyed by ``key`` (paired here). ``groups``
    is a column of the CP side (e.g. the compound, when doses are rows) or a
    Series indexed by the key; by default the ``compound`` column when the
    profiles have one (the loaders add it), else every perturbation is its own group. Negative controls
    are dropped unless ``include_controls=True``.
    """
    paired = as_paired(cp, ge, key)
    keep = np.ones(len(paired.cp), dtype=bool) if include_controls else ~(paired.cp.controls | paired.ge.controls)
    data_cp, data_ge = paired.cp.data[keep], paired.ge.data[keep]
    cp_names, ge_names = list(paired.cp.features), list(paired.ge.features)
    x = data_cp[cp_names].to_numpy(dtype=float)
    y = data_ge[ge_names].to_numpy(dtype=float)
    for label, values, names in (("Cell Painting", x, cp_names), ("L1000", y, ge_names)):
        bad = ~np.isfinite(values)
        if bad.any():
            columns = [n for n, b in zip(names, bad.any(axis=0)) if b]
            raise ValueError(f"{label} values must be finite: {int(bad.any(axis=1).sum())} row(s), "
                             f"column(s) {', '.join(columns[:5])}{' ...' if len(columns) > 5 else ''}")
    notes = list(paired.notes)  # what cleaning and pairing did travels on
    keys = data_cp[paired.key]
    if groups is None and COMPOUND_COLUMN in data_cp.columns:
        groups = COMPOUND_COLUMN
        notes.append(f"folds and permutations keep rows of one {COMPOUND_COLUMN} together")
    if groups is None:
        metadata = data_cp.drop(columns=cp_names)
        column, warning = replicate_groups(metadata, keys.rename(paired.key))
        if column is not None:
            groups = column
            notes.append(f"rows are replicates ({paired.key!r} is unique per row, {column!r} repeats): folds and "
                         f"permutations keep the rows of one {column} together (groups= chooses otherwise)")
        elif warning:
            warnings.warn(warning, UserWarning, stacklevel=3)
            notes.append(warning)
    if isinstance(groups, str):
        if groups not in data_cp.columns:
            raise ValueError(f"groups column {groups!r} not found on the Cell Painting side")
        group_values = data_cp[groups].astype(str).to_numpy()
    elif groups is None:
        group_values = keys.to_numpy()
    elif isinstance(groups, pd.Series):
        aligned = groups.reindex(keys.to_numpy())
        if aligned.isna().any():
            missing = keys[aligned.isna().to_numpy()].tolist()
            raise ValueError(f"groups has no entry for {len(missing)} paired perturbation(s), e.g. "
                             f"{missing[:3]}; index the Series by the paired key ({paired.key!r})")
        group_values = aligned.astype(str).to_numpy()
    else:
        raise ValueError("groups must be a column name or a pandas Series indexed by the perturbation key; "
                         "a plain array would be matched by row position, which pairing may have reordered")
    if len(x) < 3:
        raise ValueError(f"only {len(x)} paired perturbation(s); need at least 3")
    return PairedMatrices(x, y, cp_names, ge_names, keys.to_numpy(), pd.factorize(group_values)[0],
                          int((~keep).sum()), tuple(notes), paired.cp.feature_annotations,
                          paired.ge.feature_annotations, paired.sources, paired)
