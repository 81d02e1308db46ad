"""Simulated single cells in a CellProfiler-style SQLite file.

The file feeds the in-database aggregation path (cytominer through
rosettabridge). Every well has a known mean profile (plate effect +
perturbation effect), and cells scatter around it, so a per-well mean of
the cells must recover the truth returned alongside the file.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..common.atomic_files import atomic_path
from ..common.validation import check_choice

COMPARTMENTS = ("Cells", "Cytoplasm", "Nuclei")
_MEASURES = ("AreaShape_Area", "Intensity_MeanIntensity_DNA", "Intensity_MeanIntensity_RNA",
             "Texture_Contrast_ER_5_0", "Granularity_2_Mito", "RadialDistribution_FracAtD_AGP_1of4")
LAYOUTS = ("joined", "compartments")


@dataclass(frozen=True)
class SingleCellTruth:
    """What the simulator planted: per-well means and the table to aggregate."""

    path: Path
    table: str
    features: list[str]
    strata: list[str]
    well_means: pd.DataFrame  # strata + metadata + features: the mean each well was drawn around
    n_cells: int


def cell_feature_names(n_features: int) -> list[str]:
    """CellProfiler-like names spread over the three compartments."""
    names = []
    for i in range(n_features):
        compartment = COMPARTMENTS[i % 3]
        measure = _MEASURES[(i // 3) % len(_MEASURES)]
        names.append(f"{compartment}_{measure}_{i:03d}")
    return names


def well_name(position: int) -> str:
    """The name of a 384-well plate position counted row by row: 0 -> A01, 24 -> B01."""
    return f"{'ABCDEFGHIJKLMNOP'[(position // 24) % 16]}{position % 24 + 1:02d}"


def _plate_layout(n_plates: int, n_wells: int, n_perturbations: int, negcon_fraction: float, rng):
    wells = [well_name(i) for i in range(n_wells)]
    n_negcon = max(1, int(round(negcon_fraction * n_wells)))
    records = []
    for p in range(n_plates):
        control_positions = set(rng.choice(n_wells, n_negcon, replace=False).tolist())
        treated = [w for i, w in enumerate(wells) if i not in control_positions]
        perts = rng.integers(0, n_perturbations, len(treated))
        it = iter(perts)
        for i, well in enumerate(wells):
            if i in control_positions:
                records.append((f"PLATE{p + 1:03d}", well, "negcon", "DMSO"))
            else:
                records.append((f"PLATE{p + 1:03d}", well, "trt", f"BRD-{next(it):06d}"))
    return pd.DataFrame(
        records, columns=["Metadata_Plate", "Metadata_Well", "Metadata_pert_type", "Metadata_broad_sample"]
    )


def simulate_single_cells(
    path,
    plates: int = 2,
    wells: int = 96,
    cells_per_well: int = 50,
    features: int = 30,
    n_perturbations: int = 40,
    negcon_fraction: float = 0.125,
    layout: str = "joined",
    seed: int = 0,
    progress: bool = False,
) -> SingleCellTruth:
    """Write simulated single cells to a SQLite file and return the planted truth.

    Parameters
    ----------
    path : path of the SQLite file to create (replaced if present; written
        under a temporary name first).
    plates, wells, cells_per_well, features : sizes; cells per well vary
        +-20% around ``cells_per_well``.
    n_perturbations : distinct treatments; negative-control wells ("DMSO",
        ``Metadata_pert_type == "negcon"``) make up ``negcon_fraction`` of each plate.
    layout : "joined" writes one table ``single_cells`` (metadata + all
        features); "compartments" writes ``Image``, ``Cells``, ``Cytoplasm``
        and ``Nuclei`` tables joined by ``TableNumber``/``ImageNumber``/
        ``ObjectNumber`` plus a view ``single_cells``.
    seed : the same seed gives the same file.
    """
    check_choice(layout, LAYOUTS, "layout")
    for name, value in (("plates", plates), ("wells", wells), ("cells_per_well", cells_per_well),
                        ("features", features), ("n_perturbations", n_perturbations)):
        if int(value) < 1:
            raise ValueError(f"`{name}` must be at least 1; got {value}")
    if wells > 384:
        raise ValueError(f"`wells` must be at most 384 (a plate); got {wells}")
    rng = np.random.default_rng(seed)
    names = cell_feature_names(features)
    layout_frame = _plate_layout(plates, wells, n_perturbations, negcon_fraction, rng)
    scale = rng.uniform(0.5, 5.0, features)
    baseline = rng.normal(10.0, 2.0, features)
    plate_effect = {p: rng.normal(0, 0.3, features) * scale for p in layout_frame["Metadata_Plate"].unique()}
    pert_effect = {
        b: (np.zeros(features) if b == "DMSO" else rng.normal(0, 1.0, features) * scale)
        for b in layout_frame["Metadata_broad_sample"].unique()
    }
    means = np.array([
        baseline + plate_effect[p] + pert_effect[b]
        for p, b in zip(layout_frame["Metadata_Plate"], layout_frame["Metadata_broad_sample"])
    ])
    counts = rng.integers(max(1, int(cells_per_well * 0.8)), int(cells_per_well * 1.2) + 1, len(layout_frame))

    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.unlink()
        with sqlite3.connect(tmp) as con:
            con.execute("PRAGMA journal_mode = OFF")
            con.execute("PRAGMA synchronous = OFF")
            _create_tables(con, layout, names)
            for well_index in tqdm(range(len(layout_frame)), disable=not progress,
                                   desc="simulating wells", unit="well"):
                meta = layout_frame.iloc[well_index]
                n = int(counts[well_index])
                cells = means[well_index] + rng.normal(0, 1.0, (n, features)) * scale
                _insert_cells(con, layout, names, meta, well_index + 1, cells)
            con.commit()
    well_means = pd.concat([layout_frame, pd.DataFrame(means, columns=names)], axis=1)
    well_means["n_cells"] = counts
    return SingleCellTruth(
        path=path, table="single_cells", features=names,
        strata=["Metadata_Plate", "Metadata_Well"], well_means=well_means, n_cells=int(counts.sum()),
    )


_METADATA = ("Metadata_Plate", "Metadata_Well", "Metadata_pert_type", "Metadata_broad_sample")


def _create_tables(con: sqlite3.Connection, layout: str, names: list[str]) -> None:
    feature_sql = ", ".join(f'"{n}" REAL' for n in names)
    meta_sql = ", ".join(f"{m} TEXT" for m in _METADATA)
    if layout == "joined":
        con.execute(f"CREATE TABLE single_cells (TableNumber INTEGER, ObjectNumber INTEGER, {meta_sql}, {feature_sql})")
        return
    con.execute(f"CREATE TABLE Image (TableNumber INTEGER, ImageNumber INTEGER, {meta_sql})")
    for compartment in COMPARTMENTS:
        cols = ", ".join(f'"{n}" REAL' for n in names if n.startswith(compartment + "_"))
        con.execute(
            f"CREATE TABLE {compartment} (TableNumber INTEGER, ImageNumber INTEGER, ObjectNumber INTEGER"
            + (f", {cols})" if cols else ")")
        )
    selected = ", ".join(f'{n.split("_", 1)[0]}."{n}"' for n in names)
    joins = " ".join(
        f"JOIN {c} USING (TableNumber, ImageNumber, ObjectNumber)" for c in COMPARTMENTS[1:]
    )
    con.execute(
        "CREATE VIEW single_cells AS SELECT Image.TableNumber, Cells.ObjectNumber, "
        + ", ".join(f"Image.{m}" for m in _METADATA)
        + f", {selected} FROM Image JOIN Cells USING (TableNumber, ImageNumber) {joins}"
    )


def _insert_cells(con, layout, names, meta, table_number, cells: np.ndarray) -> None:
    n = len(cells)
    objects = np.arange(1, n + 1)
    meta_values = [meta[m] for m in _METADATA]
    if layout == "joined":
        rows = [(table_number, int(o), *meta_values, *vals) for o, vals in zip(objects, cells.tolist())]
        marks = ", ".join("?" * (2 + len(_METADATA) + len(names)))
        con.executemany(f"INSERT INTO single_cells VALUES ({marks})", rows)
        return
    con.execute(f"INSERT INTO Image VALUES ({', '.join('?' * (2 + len(_METADATA)))})",
                (table_number, 1, *meta_values))
    for compartment in COMPARTMENTS:
        idx = [i for i, nme in enumerate(names) if nme.startswith(compartment + "_")]
        rows = [(table_number, 1, int(o), *vals) for o, vals in zip(objects, cells[:, idx].tolist())]
        con.executemany(f"INSERT INTO {compartment} VALUES ({', '.join('?' * (3 + len(idx)))})", rows)
