"""A CellProfiler database (SQLite file or PostgreSQL) as one single-cell table, joined in the database.

CellProfiler writes an ``Image`` table (one row per image: plate, well,
site in ``*Metadata_*`` columns) and one table per compartment (``Cells``,
``Cytoplasm``, ``Nuclei``: one row per object, keyed by ``TableNumber``,
``ImageNumber``, ``ObjectNumber``). :func:`cellprofiler_database` describes
the join of these as one SQL ``SELECT`` that runs inside the database: image
metadata under plain ``Metadata_*`` names (``Image_Metadata_Plate`` ->
``Metadata_Plate``) and every feature prefixed by its compartment
(``Cells_AreaShape_Area``). It can be given wherever a :class:`SQLiteTable`
is accepted (``rs.aggregate``, ``rs.normalize``, ``rs.select_features``,
:func:`rosetta_stats.profile_plate`); no row leaves the database until the
aggregated wells do.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from .database_tables import quote_identifier, read_only_uri

KEYS = ("TableNumber", "ImageNumber", "ObjectNumber")


@dataclass(frozen=True)
class CellProfilerDatabase:
    """The joined single-cell view of a CellProfiler SQLite file (see :func:`cellprofiler_database`)."""

    path: str
    compartments: tuple[str, ...]
    image_table: str
    query: str = field(repr=False)
    metadata: tuple[str, ...] = field(repr=False)
    features: tuple[str, ...] = field(repr=False)
    notes: tuple[str, ...] = field(default=(), repr=False)  # what the join kept and left out

    @property
    def table(self) -> str:
        return f"cellprofiler({self.image_table} + {' + '.join(self.compartments)})"

    def columns(self) -> list[str]:
        return list(self.metadata) + list(self.features)

    def distinct_values(self, column: str, limit: int = 100_000) -> list:
        """The distinct values of one column of the joined view."""
        with contextlib.closing(sqlite3.connect(read_only_uri(self.path), uri=True)) as con:
            rows = con.execute(f"SELECT DISTINCT {quote_identifier(column)} FROM ({self.query}) "
                               f"LIMIT {int(limit)}").fetchall()
        return [r[0] for r in rows]


def _tables_and_columns(path: Path) -> dict[str, list[str]]:
    try:
        with contextlib.closing(sqlite3.connect(read_only_uri(path), uri=True)) as con:
            names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
            return {n: [r[1] for r in con.execute(f"PRAGMA table_info({quote_identifier(n)})")] for n in names}
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"cannot read {path} as a SQLite database: {exc}") from None


def _find(tables: dict, wanted: str, what: str, path: Path) -> str:
    matches = [t for t in tables if t.lower() == wanted.lower()]
    if not matches:
        raise ValueError(f"{path.name} has no {what} table {wanted!r}; tables: {', '.join(sorted(tables))}")
    return matches[0]


def _metadata_name(column: str) -> str:
    return column[column.index("Metadata_"):] if "Metadata_" in column else column


def cellprofiler_database(path_or_dsn: str | os.PathLike, compartments=("Cells", "Cytoplasm", "Nuclei"),
                          image_table: str = "Image") -> CellProfilerDatabase:
    """Describe a CellProfiler SQLite file as one joined single-cell table (built in the database).

    Table names are matched without regard to case (``image`` or ``Image``);
    a missing ``Image`` table or compartment is an error naming the tables
    the file has. Objects are joined on ``TableNumber``/``ImageNumber``/
    ``ObjectNumber`` (``ImageNumber`` alone when the file has no ``TableNumber``).
    """
    source = str(path_or_dsn)
    if source.startswith(("postgres://", "postgresql://")):
        raise ValueError("CellProfiler databases are read from SQLite files here; load a PostgreSQL "
                         "CellProfiler schema into one table or view and use rs.PostgresTable")
    path = Path(source)
    if not path.is_file():
        raise ValueError(f"CellProfiler database not found: {path}")
    compartments = (compartments,) if isinstance(compartments, str) else tuple(compartments)
    if not compartments:
        raise ValueError("name at least one compartment table")
    tables = _tables_and_columns(path)
    image = _find(tables, image_table, "image", path)
    found = [_find(tables, c, "compartment", path) for c in compartments]
    image_columns = tables[image]
    keys = [k for k in ("TableNumber", "ImageNumber") if k in image_columns]
    if "ImageNumber" not in keys:
        raise ValueError(f"{path.name}: the image table {image!r} has no ImageNumber column")
    for table in found:
        missing = [k for k in keys + ["ObjectNumber"] if k not in tables[table]]
        if missing:
            raise ValueError(f"{path.name}: the compartment table {table!r} lacks {', '.join(missing)}")
    q = quote_identifier
    select = [f"i.{q(k)} AS {q(k)}" for k in keys] + [f"c0.{q('ObjectNumber')} AS {q('ObjectNumber')}"]
    metadata = list(keys) + ["ObjectNumber"]
    for column in image_columns:
        name = _metadata_name(column)
        if "Metadata_" in column and name not in metadata:
            select.append(f"i.{q(column)} AS {q(name)}")
            metadata.append(name)
    features = []
    for index, (wanted, table) in enumerate(zip(compartments, found)):
        for column in tables[table]:
            if column in KEYS:
                continue
            name = column if column.startswith(f"{wanted}_") else f"{wanted}_{column}"
            if name in features or name in metadata:
                continue
            select.append(f"c{index}.{q(column)} AS {q(name)}")
            features.append(name)
    joins = [f"JOIN {q(found[0])} AS c0 ON " + " AND ".join(f"c0.{q(k)} = i.{q(k)}" for k in keys)]
    for index in range(1, len(found)):
        on = " AND ".join(f"c{index}.{q(k)} = c0.{q(k)}" for k in keys + ["ObjectNumber"])
        joins.append(f"JOIN {q(found[index])} AS c{index} ON {on}")
    query = f"SELECT {', '.join(select)} FROM {q(image)} AS i " + " ".join(joins)
    notes = _cardinality(path, image, found, keys, query)
    return CellProfilerDatabase(str(path.resolve()), tuple(compartments), image, query, tuple(metadata),
                                tuple(features), notes)


def _cardinality(path: Path, image: str, compartments: list[str], keys: list[str], query: str) -> tuple[str, ...]:
    """Check that each compartment has one row per (image, object) and that the join keeps every cell once;
    return notes counting the objects that found no partner. A duplicate or an empty join is an error."""
    q = quote_identifier
    object_keys = keys + ["ObjectNumber"]
    grouped = ", ".join(q(k) for k in object_keys)
    notes = []
    with contextlib.closing(sqlite3.connect(read_only_uri(path), uri=True)) as con:
        counts = {}
        for table in compartments:
            duplicate = con.execute(f"SELECT {grouped}, COUNT(*) FROM {q(table)} GROUP BY {grouped} "
                                    f"HAVING COUNT(*) > 1 LIMIT 1").fetchone()
            if duplicate:
                where = ", ".join(f"{k} {v}" for k, v in zip(object_keys, duplicate[:-1]))
                raise ValueError(f"{path.name}: the {table} table has {duplicate[-1]} rows for one object ({where}); "
                                 "a join would count that cell more than once")
            counts[table] = con.execute(f"SELECT COUNT(*) FROM {q(table)}").fetchone()[0]
        joined = con.execute(f"SELECT COUNT(*) FROM ({query})").fetchone()[0]
        if joined == 0:
            raise ValueError(f"{path.name}: joining {', '.join(compartments)} with {image} keeps no object "
                             f"({', '.join(f'{t}: {n}' for t, n in counts.items())} rows): the ImageNumber/"
                             "ObjectNumber keys do not match")
    notes.append(f"joined {joined} objects from {', '.join(f'{t} ({n})' for t, n in counts.items())}")
    for table, n in counts.items():
        if n > joined:
            notes.append(f"{n - joined} {table} object(s) matched no object of the other compartments or no image "
                         "and are left out")
    return tuple(notes)
