"""Pair treatment-level Cell Painting and L1000 profiles on their perturbation key."""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..common.deprecation import renamed_arguments
from ..common.validation import check_columns
from .controls import ControlSpec
from .profiles import Profiles
from .read import read_profiles
from .treatment_level import treatment_level


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


@renamed_arguments(cp_key="cp_perturbation", ge_key="ge_perturbation")
def read_paired(cp_path, ge_path, cp_perturbation: str, ge_perturbation: str | None = None, key: str = "perturbation",
                cp_controls: ControlSpec | None = None, ge_controls: ControlSpec | None = None,
                clean: bool = True) -> PairedProfiles:
    """Read a CP and a GE profile file, average replicates per perturbation, and pair them.

    ``cp_perturbation`` / ``ge_perturbation`` name each file's perturbation
    column (the GE one defaults to the CP one); ``key`` names the paired column.
    """
    cp = read_profiles(cp_path, "cp", cp_perturbation, controls=cp_controls, clean=clean)
    ge = read_profiles(ge_path, "ge", ge_perturbation or cp_perturbation, controls=ge_controls, clean=clean)
    return pair(treatment_level(cp), treatment_level(ge), key=key)
