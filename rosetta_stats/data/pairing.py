"""Pair treatment-level Cell Painting and L1000 profiles on their perturbation keys, losing nothing silently.

Keys are normalised before matching (``match="auto"``: a trailing dose is
parsed and rounded to two decimals when the keys carry one, so LINCS'
``_10.0`` meets ``_10``; ``match="raw"`` compares the strings as the paper
did). Both time points are kept, and a difference ("48 h vs 24 h") is stated
in the summary and the notes. ``losses`` counts, per dose, what each side
had, what paired and what was lost.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..common.deprecation import renamed_arguments
from ..common.presets import resolve_preset
from ..common.validation import check_choice, check_columns
from .keys import dose_of_key, match_keys, resolve_key_rule
from .profiles import Profiles
from .read import load_profiles, read_profiles
from .registry import get_dataset
from .treatment_level import treatment_level

MATCH_RULES = ("auto", "dose_suffix", "raw")
LOSS_COLUMNS = ["dose", "n_cp", "n_ge", "n_paired", "only_cp", "only_ge"]


@dataclass(frozen=True)
class PairedProfiles:
    """CP and GE profiles of the same perturbations, row-aligned on ``key``."""

    cp: Profiles
    ge: Profiles
    key: str
    lost_cp: tuple[str, ...]  # perturbations only in CP
    lost_ge: tuple[str, ...]  # perturbations only in GE
    disagreements: pd.DataFrame  # key + both columns, for each compared pair that differs
    losses: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LOSS_COLUMNS))  # per dose
    time_points: tuple[float | None, float | None] = (None, None)  # hours: (CP, L1000)
    match: str = "raw"
    notes: tuple[str, ...] = ()
    dataset: str | None = None  # the Rosetta dataset, when loaded by name (its paper settings then apply)

    @property
    def table(self) -> pd.DataFrame:
        """What paired and what was lost, per dose (a tidy table, like every result's ``.table``)."""
        return self.losses

    @property
    def time_difference(self) -> str | None:
        """``"48 h vs 24 h"`` (CP vs L1000) when the two time points differ, else None."""
        cp_t, ge_t = self.time_points
        if cp_t is None or ge_t is None or cp_t == ge_t:
            return None
        return f"{cp_t:g} h vs {ge_t:g} h"

    @property
    def sources(self) -> tuple:
        """The files behind both sides (path, sha256, ETag when downloaded)."""
        seen, out = set(), []
        for entry in self.cp.sources + self.ge.sources:
            if (entry.get("path"), entry.get("sha256")) not in seen:
                seen.add((entry.get("path"), entry.get("sha256")))
                out.append(entry)
        return tuple(out)

    @property
    def inputs(self) -> tuple:
        return self.sources

    @property
    def cv_folds(self) -> int | None:
        """The paper's fold count for this dataset, when it was loaded by name."""
        return get_dataset(self.dataset).cv_folds if self.dataset else None

    @renamed_arguments(keep_negcon="include_controls")
    def restrict(self, keys, include_controls: bool = True) -> "PairedProfiles":
        """Only the perturbations in ``keys`` (a list, or a ReproducibleSets' ``.both``/``.either``), plus
        the negative controls unless ``include_controls=False``."""
        wanted = set(map(str, keys))
        mask = self.cp.data[self.key].astype(str).isin(wanted).to_numpy()
        if include_controls:
            mask |= self.cp.controls | self.ge.controls
        if not mask.any():
            raise ValueError(f"none of the {len(wanted)} keys is among the {len(self.cp)} paired perturbations")
        note = f"restricted to {int(mask.sum())} of {len(self.cp)} paired perturbations"
        cp = self.cp.with_data(self.cp.data[mask].reset_index(drop=True), note=note)
        ge = self.ge.with_data(self.ge.data[mask].reset_index(drop=True), note=note)
        return replace(self, cp=cp, ge=ge, notes=self.notes + (note,))

    def summary(self) -> str:
        lines = [
            f"paired {len(self.cp)} perturbations on {self.key!r} "
            f"({int(self.cp.controls.sum())} negcon; keys matched: {self.match})",
            f"  Cell Painting: {len(self.cp.features)} features; {len(self.lost_cp)} perturbations had no L1000 match",
            f"  L1000: {len(self.ge.features)} genes; {len(self.lost_ge)} perturbations had no Cell Painting match",
            f"  rows whose compared columns disagree: {len(self.disagreements)}",
        ]
        if self.time_difference:
            lines.append(f"  time points differ: Cell Painting vs L1000 measured at {self.time_difference}")
        elif self.time_points[0] is not None:
            lines.append(f"  time point: {self.time_points[0]:g} h in both")
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


def _keys_of(side: Profiles, name: str) -> pd.Series:
    if side.perturbation is None:
        raise ValueError(f"{name} profiles have no perturbation column to pair on")
    return side.data[side.perturbation]


def _loss_table(cp_keys: pd.Series, ge_keys: pd.Series, shared: set) -> pd.DataFrame:
    rows = []
    frame = pd.concat([pd.DataFrame({"key": cp_keys, "side": "cp"}), pd.DataFrame({"key": ge_keys, "side": "ge"})])
    frame["dose"] = dose_of_key(frame["key"]).to_numpy()
    for dose, group in frame.groupby(frame["dose"].fillna(np.inf), sort=True):
        cp_set = set(group.loc[group["side"] == "cp", "key"])
        ge_set = set(group.loc[group["side"] == "ge", "key"])
        rows.append({"dose": np.nan if dose == np.inf else dose, "n_cp": len(cp_set), "n_ge": len(ge_set),
                     "n_paired": len(cp_set & shared), "only_cp": len(cp_set - shared),
                     "only_ge": len(ge_set - shared)})
    return pd.DataFrame(rows, columns=LOSS_COLUMNS)


def pair(cp: Profiles, ge: Profiles, key: str = "perturbation",
         compare: Sequence[tuple[str, str]] = (), match: str = "auto") -> PairedProfiles:
    """Inner-join treatment-level CP and GE profiles on their perturbation columns.

    The matched (normalised) keys go into a column ``key`` on both sides;
    each side keeps its original match column. ``match``: "auto" (parse a
    trailing dose when the keys carry one), "dose_suffix" (always) or "raw"
    (strings as written). ``compare`` lists (CP column, GE column) pairs that
    should agree, such as doses; both are kept and a warning counts the
    perturbations where they differ.
    """
    check_choice(match, MATCH_RULES, "match")
    raw_cp, raw_ge = _keys_of(cp, "cp"), _keys_of(ge, "ge")
    rule = resolve_key_rule(match, raw_cp, raw_ge)
    cp_keys = match_keys(raw_cp, rule).reset_index(drop=True)
    ge_keys = match_keys(raw_ge, rule).reset_index(drop=True)
    for name, side, keys in (("cp", cp, cp_keys), ("ge", ge, ge_keys)):
        duplicated = keys.duplicated() & keys.notna()
        if duplicated.any():
            example = keys[duplicated].iloc[0]
            originals = sorted(map(str, side.data[side.perturbation][(keys == example).to_numpy()].unique()))
            raise ValueError(
                f"{name} profiles repeat perturbation {example!r} in {side.perturbation!r}"
                + (f" (from {', '.join(originals)})" if len(originals) > 1 else "")
                + "; pair treatment-level profiles (rosetta_stats.treatment_level)"
                + (", made after normalising the keys" if len(originals) > 1 else "")
            )
    for cp_col, ge_col in compare:
        check_columns(cp.data.columns, [cp_col], "compare (Cell Painting side)")
        check_columns(ge.data.columns, [ge_col], "compare (L1000 side)")
    shared = sorted(set(cp_keys.dropna()) & set(ge_keys.dropna()))
    if not shared:
        raise ValueError(
            f"no perturbation is in both modalities: Cell Painting {cp.perturbation!r} "
            f"(e.g. {raw_cp.iloc[0]!r}) vs L1000 {ge.perturbation!r} (e.g. {raw_ge.iloc[0]!r})"
        )
    order = pd.Index(shared)

    def aligned(side: Profiles, keys: pd.Series) -> Profiles:
        data = side.data.reset_index(drop=True)
        positions = pd.Series(np.arange(len(data)), index=keys.to_numpy())
        data = data.iloc[positions.loc[order].to_numpy()].reset_index(drop=True)
        data[key] = order.to_numpy()  # the matched key; the original match column stays as it was
        return side.with_data(data, perturbation=key, note=f"paired on {key} ({rule} keys)")

    cp_out, ge_out = aligned(cp, cp_keys), aligned(ge, ge_keys)
    notes = []
    if rule == "dose_suffix":
        rewritten = int((cp_keys != raw_cp.astype(str).str.strip().reset_index(drop=True)).sum()
                        + (ge_keys != raw_ge.astype(str).str.strip().reset_index(drop=True)).sum())
        notes.append(f"doses in the keys parsed and rounded to 2 decimals ({rewritten} key(s) rewritten)")
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
    result = PairedProfiles(
        cp=cp_out, ge=ge_out, key=key,
        lost_cp=tuple(sorted(set(cp_keys.dropna()) - set(shared))),
        lost_ge=tuple(sorted(set(ge_keys.dropna()) - set(shared))),
        disagreements=pd.concat(disagreements, ignore_index=True) if disagreements else
        pd.DataFrame(columns=[key, "cp_column", "cp_value", "ge_column", "ge_value"]),
        losses=_loss_table(cp_keys.dropna(), ge_keys.dropna(), set(shared)),
        time_points=(cp.time_point, ge.time_point), match=rule,
    )
    if result.lost_cp or result.lost_ge:
        notes.append(f"{len(result.lost_cp)} Cell Painting and {len(result.lost_ge)} L1000 perturbation(s) "
                     "had no partner")
    if result.time_difference:
        notes.append(f"time points differ: Cell Painting vs L1000 measured at {result.time_difference}")
        warnings.warn(f"Cell Painting and L1000 were measured at different times ({result.time_difference})",
                      UserWarning, stacklevel=2)
    return _with_notes(result, notes)


def _with_notes(result: PairedProfiles, notes: list[str]) -> PairedProfiles:
    inherited = tuple(f"Cell Painting: {n}" for n in result.cp.notes if not n.startswith("paired on")) + \
        tuple(f"L1000: {n}" for n in result.ge.notes if not n.startswith("paired on"))
    return replace(result, notes=inherited + tuple(notes))


@renamed_arguments(cp_key="cp_perturbation", ge_key="ge_perturbation")
def read_paired(cp_path, ge_path, cp_perturbation: str, ge_perturbation: str | None = None,
                key: str = "perturbation", cp_controls=None, ge_controls=None, clean: bool = True,
                match: str = "auto") -> PairedProfiles:
    """Read a CP and a GE profile file, average replicates per perturbation, and pair them.

    ``cp_perturbation`` / ``ge_perturbation`` name each file's perturbation
    column (the GE one defaults to the CP one); ``key`` names the paired column.
    """
    cp = read_profiles(cp_path, "cp", cp_perturbation, controls=cp_controls, clean=clean)
    ge = read_profiles(ge_path, "ge", ge_perturbation or cp_perturbation, controls=ge_controls, clean=clean)
    return pair(treatment_level(cp), treatment_level(ge), key=key, match=match)


def load_paired(dataset: str, root=".", release: str = "csv", level: str | None = None,
                match: str | None = None, clean: bool = True, key: str = "perturbation",
                cp_controls=None, ge_controls=None, preset: str | None = None, **cleaning) -> PairedProfiles:
    """Load both modalities of a downloaded Rosetta dataset, clean, average to treatment level, pair.

    ``level`` is the Cell Painting level (csv: "normalized" by default; curated:
    "augmented"). Keys are matched as the registry says (doses parsed for
    CDRP, CDRP-bio and LINCS; compound + rounded dose in the curated release)
    unless ``match`` says otherwise ("raw": the paper's string matching).
    ``cp_controls`` / ``ge_controls`` override the registry's control rules.
    ``preset="paper"``: the paper's choices (per-plate z-scoring of both
    modalities, the variable-selected CP level, keys matched as written).
    """
    preset = resolve_preset(preset)
    if preset.per_plate:
        cleaning.setdefault("per_plate", True)
    if release == "csv":
        level = preset.pick(level, "cp_level")
    if preset.key_match == "raw":
        match = match or "raw"
    ds = get_dataset(dataset)
    cp = load_profiles(ds.short, "cp", level, root, clean=clean, release=release, controls=cp_controls,
                       **cleaning)
    ge = load_profiles(ds.short, "ge", None, root, clean=clean, release=release, controls=ge_controls,
                       **cleaning)
    rule = match or ("dose_suffix" if ds.schema("cp", release).key_rule == "dose_suffix" else "raw")
    return replace(pair(treatment_level(cp), treatment_level(ge), key=key, match=rule), dataset=ds.short)
