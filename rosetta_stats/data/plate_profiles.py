"""From a plate's single cells to the Rosetta release's three Cell Painting levels, with cytominer.

``profile_plate`` runs the pipeline the Rosetta profiles were made with:
aggregate the single cells of each well (in the database), annotate the
wells with the platemap, normalise every feature to the plate's control
wells, and select variables. The three results carry the release's names:
``augmented`` (aggregated + annotated), ``normalized`` and
``normalized_variable_selected``; the per-plate centre and scale and the
dropped features (with the reason for each) are tables too. Several plates:
give a list of databases; they are profiled one by one, with a progress bar.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..common.result import Result
from ..common.validation import check_choice, check_columns
from .profiles import Profiles
from .features import classify_cp_columns, infer_cp_features
from ..bridge.cellprofiler_database import CellProfilerDatabase, cellprofiler_database
from ..bridge.cytominer import aggregate, normalize, select_features
from ..bridge.database_tables import PostgresTable, SQLiteTable

LEVELS = ("augmented", "normalized", "normalized_variable_selected")
NORMALIZATIONS = ("robustize", "standardize")
_WELL = re.compile(r"^\s*([A-Za-z]{1,2})\s*0*(\d{1,2})\s*$")


@dataclass(frozen=True)
class PlateProfiles(Result):
    """The Cell Painting levels of one or more plates (``table``: the variable-selected level), and how they
    were made: ``tables`` holds every level, the normalisation parameters and the dropped features."""

    title = "Plate profiles"

    def levels(self) -> dict[str, pd.DataFrame]:
        """The levels under the release's file stems (``replicate_level_cp_<level>``)."""
        return {f"replicate_level_cp_{level}": self.tables[level] for level in LEVELS + ("spherized",)
                if level in self.tables}

    def headline(self) -> list[str]:
        e, s = self.estimates, self.settings
        return [f"{e['n_wells']} wells; {e['n_features_out']} features kept after selection, "
                f"{len(self.tables['dropped_features'])} dropped; aggregation {s['operation']}, normalisation "
                f"{s['normalization']} to the controls of each plate"]


OBJECT_COUNT = "Metadata_Object_Count"


def normalize_well_name(well) -> str | None:
    """``a1``, ``A01``, ``A 1`` -> ``A01`` (None when it is not a well name)."""
    match = _WELL.match(str(well))
    return f"{match.group(1).upper()}{int(match.group(2)):02d}" if match else None


def _as_database(database):
    if isinstance(database, (CellProfilerDatabase, SQLiteTable, PostgresTable)):
        return database
    if isinstance(database, (str, os.PathLike)):
        return cellprofiler_database(database)
    raise ValueError(f"give a CellProfiler SQLite file, a CellProfilerDatabase or a SQLiteTable; got {database!r}")


def annotate(wells: pd.DataFrame, platemap, well_column: str = "Metadata_Well",
             platemap_well: str | None = None) -> tuple[pd.DataFrame, str]:
    """Wells joined with their platemap rows (wells matched as ``A01`` whatever their spelling)."""
    if isinstance(platemap, (str, os.PathLike)):
        path = Path(platemap)
        if not path.is_file():
            raise ValueError(f"platemap not found: {path}")
        platemap = pd.read_csv(path, sep="\t" if path.suffix in (".txt", ".tsv") else ",", dtype=str)
    if not isinstance(platemap, pd.DataFrame) or platemap.empty:
        raise ValueError("the platemap must be a non-empty table (a DataFrame, CSV or tab-separated file)")
    if platemap_well is None:
        candidates = [c for c in platemap.columns if c.lower() in ("metadata_well", "well_position", "well")]
        if not candidates:
            raise ValueError(f"the platemap has no well column (Metadata_Well, well_position or well); "
                             f"columns: {', '.join(map(str, platemap.columns))}")
        platemap_well = candidates[0]
    check_columns(platemap.columns, [platemap_well], "platemap well column")
    mapped = platemap.rename(columns={c: c if c.startswith("Metadata_") else f"Metadata_{c}"
                                      for c in platemap.columns if c != platemap_well})
    mapped = mapped.assign(rosetta_well_=mapped[platemap_well].map(normalize_well_name))
    mapped = mapped.drop(columns=[platemap_well]).drop_duplicates("rosetta_well_")
    keys = wells[well_column].map(normalize_well_name)
    matched = keys.isin(set(mapped["rosetta_well_"]))
    if not matched.any():
        raise ValueError(f"the platemap matches no well: wells look like {wells[well_column].iloc[0]!r}, "
                         f"the platemap's {platemap_well!r} like {platemap[platemap_well].iloc[0]!r}")
    clash = [c for c in mapped.columns if c in wells.columns and c != "rosetta_well_"]
    mapped = mapped.drop(columns=clash)
    out = wells.assign(rosetta_well_=keys.to_numpy()).merge(mapped, on="rosetta_well_", how="left")
    note = f"platemap annotated {int(matched.sum())} of {len(wells)} wells"
    if clash:
        note += f"; kept the database's own {', '.join(clash)}"
    return out.drop(columns=["rosetta_well_"]), note


def profile_plate(database, platemap=None, strata=("Metadata_Plate", "Metadata_Well"), operation: str = "median",
                  controls=None, normalization: str = "robustize",
                  selection=("variance_threshold", "correlation_threshold"), features=None,
                  platemap_well: str | None = None, progress: bool = False,
                  min_cells: int | None = None, spherize: str | None = None) -> PlateProfiles:
    """Aggregate -> annotate -> normalise to the controls per plate -> select variables, all through cytominer.

    ``database``: a CellProfiler SQLite file, a :class:`CellProfilerDatabase`,
    a :class:`SQLiteTable`, or a list of them (one per plate). ``strata``: the
    plate column then the well column. ``controls``: ``{column: value(s)}``
    naming the control wells (a platemap column such as
    ``{"Metadata_pert_type": "control"}``); without it every well of the plate
    is the reference, with a note. Every level carries ``Metadata_Object_Count``
    (the cells of each well, counted in the database); ``min_cells`` drops
    wells with fewer cells, with a note. ``spherize`` ("ZCA", "ZCA-cor",
    "PCA") adds a ``spherized`` level: the variable-selected profiles
    sphered against the controls (every well without controls).
    """
    check_choice(normalization, NORMALIZATIONS, "normalization")
    strata = list(strata)
    if len(strata) < 2:
        raise ValueError("strata must name the plate column and the well column")
    databases = database if isinstance(database, (list, tuple)) else [database]
    if not databases:
        raise ValueError("no database given")
    selection = (selection,) if isinstance(selection, str) else tuple(selection or ())
    parts, notes, bookkeeping = [], [], []
    for item in tqdm(databases, desc="plates", disable=not progress or len(databases) < 2):
        db = _as_database(item)
        notes += list(getattr(db, "notes", ()))
        columns = db.columns()
        check_columns(columns, strata, "strata")
        if features is not None:
            wanted = list(features)
        else:  # measurements only: object numbers, links and positions are bookkeeping, with the reason
            wanted = infer_cp_features(columns)
            set_aside = classify_cp_columns(columns)
            set_aside = set_aside[~set_aside["is_feature"]]
            bookkeeping.append(set_aside.rename(columns={"column": "feature"})[["feature", "reason"]])

        check_columns(columns, wanted, "features")
        step = aggregate(db, wanted, strata, operation, min_cells=min_cells)
        parts.append(step.table)
        notes += list(step.notes[1:])  # the min_cells note
    augmented = pd.concat(parts, ignore_index=True)
    feats = [c for c in augmented.columns if c not in strata and c != OBJECT_COUNT]
    if platemap is not None:
        augmented, note = annotate(augmented, platemap, strata[1], platemap_well)
        notes.append(note)
    if controls is None:
        sample = {strata[0]: list(pd.unique(augmented[strata[0]].astype(str)))}
        augmented = augmented.assign(**{strata[0]: augmented[strata[0]].astype(str)})
        notes.append("no controls named: every well of a plate is its reference")
    else:
        sample = controls
    normalized = normalize(augmented, feats, strata[:1], sample, operation="robustize" if normalization ==
                           "robustize" else "standardize")
    parameters = normalized.normalization_parameters
    dropped = [pd.concat(bookkeeping).drop_duplicates("feature")] if bookkeeping else []
    dropped.append(normalized.dropped_features)
    normalized = normalized.table
    kept = [f for f in feats if f in normalized.columns]
    selected = normalized
    for step in selection:
        step_result = select_features(selected, kept, operation=step)
        dropped.append(step_result.dropped_features)
        selected = step_result.table
        kept = [f for f in kept if f in selected.columns]
    dropped_table = pd.concat(dropped, ignore_index=True) if dropped else pd.DataFrame(columns=["feature", "reason"])
    settings = {"operation": operation, "normalization": normalization, "selection": list(selection),
                "strata": strata, "min_cells": min_cells, "spherize": spherize}
    estimates = {"n_plates": len(databases), "n_wells": len(augmented), "n_features_in": len(feats),
                 "n_features_out": len(kept)}
    tables = {"augmented": augmented, "normalized": normalized, "normalized_variable_selected": selected,
              "normalization_parameters": parameters, "dropped_features": dropped_table}
    if spherize:
        from .transforms import spherize as sphere

        wells = Profiles.from_frame(selected, "cp", features=kept)
        reference = sample if controls is not None else None
        sphered = sphere(wells, reference=reference if reference is not None else np.ones(len(selected), bool),
                         method=spherize, epsilon=1e-6)
        tables["spherized"] = sphered.data
        notes.append(sphered.notes[-1])
    inputs = tuple({"path": str(getattr(_as_database(d), "path", d)), "name": Path(str(getattr(
        _as_database(d), "path", d))).name} for d in databases if isinstance(d, (str, os.PathLike)))
    return PlateProfiles(selected, settings, estimates, tuple(notes), inputs, tables=tables)
