"""Descriptions of database tables that cytominer processes in place.

A :class:`SQLiteTable` (a file) or a :class:`PostgresTable` (a server) can be
given wherever a DataFrame is accepted by :mod:`rosetta_stats.bridge.cytominer`;
the work then runs inside the database and only results reach Python. Both
check on creation that the table exists, and name what is missing if not.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlparse


@dataclass(frozen=True)
class SQLiteTable:
    """A table (or view) in a SQLite file, processed inside the database.

    >>> SQLiteTable("cells.sqlite", "Cells")  # doctest: +SKIP
    """

    path: str | os.PathLike
    table: str

    def __post_init__(self) -> None:
        path = Path(self.path)
        if not path.is_file():
            raise ValueError(f"SQLite file not found: {path}")
        tables = _sqlite_tables(path)
        if self.table not in tables:
            raise ValueError(
                f"table {self.table!r} not found in {path}; tables: {', '.join(sorted(tables))}"
            )
        object.__setattr__(self, "path", str(path.resolve()))

    def columns(self) -> list[str]:
        """The table's column names, in order."""
        with contextlib.closing(sqlite3.connect(read_only_uri(self.path), uri=True)) as con:
            rows = con.execute(f"PRAGMA table_info({quote_identifier(self.table)})").fetchall()
        return [r[1] for r in rows]

    def distinct_values(self, column: str, limit: int = 100_000) -> list:
        """The distinct values of one column (for matching control rules against them)."""
        with contextlib.closing(sqlite3.connect(read_only_uri(self.path), uri=True)) as con:
            rows = con.execute(f"SELECT DISTINCT {quote_identifier(column)} FROM {quote_identifier(self.table)} "
                               f"LIMIT {int(limit)}").fetchall()
        return [r[0] for r in rows]


def read_only_uri(path: str | os.PathLike) -> str:
    """A read-only SQLite URI for ``path``, whatever characters it holds (``#``, ``%``, ``?``, spaces)."""
    return f"file:{quote(str(Path(path).resolve()))}?mode=ro"


def quote_identifier(name: str) -> str:
    """A SQL identifier in double quotes, embedded quotes doubled."""
    return '"' + str(name).replace('"', '""') + '"'


def _sqlite_tables(path: Path) -> set[str]:
    try:
        with contextlib.closing(sqlite3.connect(read_only_uri(path), uri=True)) as con:
            rows = con.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
            ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"cannot read {path} as a SQLite database: {exc}") from exc
    return {r[0] for r in rows}


@dataclass(frozen=True)
class PostgresTable:
    """A table (or view) in a PostgreSQL database, processed in the server.

    Give either ``dsn`` (``postgresql://user:password@host:port/dbname``) or
    the parameters.

    >>> PostgresTable("single_cells", "postgresql://postgres@127.0.0.1:5432/cells")  # doctest: +SKIP
    """

    table: str
    dsn: str | None = None
    host: str = "127.0.0.1"
    port: int = 5432
    dbname: str = "postgres"
    user: str | None = None
    password: str | None = None

    def __post_init__(self) -> None:
        if self.dsn:
            url = urlparse(self.dsn)
            if url.scheme not in ("postgres", "postgresql"):
                raise ValueError(f"not a PostgreSQL DSN: {self.dsn!r} (expected postgresql://...)")
            object.__setattr__(self, "host", url.hostname or self.host)
            object.__setattr__(self, "port", url.port or self.port)
            object.__setattr__(self, "dbname", url.path.lstrip("/") or self.dbname)
            object.__setattr__(self, "user", unquote(url.username) if url.username else self.user)
            object.__setattr__(self, "password", unquote(url.password) if url.password else self.password)
        if not self.columns():
            raise ValueError(f"table {self.table!r} not found in database {self.dbname!r} "
                             f"on {self.host}:{self.port}")

    def connect(self):
        """A psycopg2 connection (the caller closes it)."""
        try:
            import psycopg2
        except ImportError as exc:
            raise RuntimeError("PostgreSQL tables need python3-psycopg2; run `make setup`") from exc
        try:
            return psycopg2.connect(host=self.host, port=self.port, dbname=self.dbname,
                                    user=self.user, password=self.password, connect_timeout=10)
        except psycopg2.OperationalError as exc:
            raise ValueError(f"cannot connect to PostgreSQL at {self.host}:{self.port}/{self.dbname}: "
                             f"{str(exc).strip()}") from exc

    def columns(self) -> list[str]:
        """The table's column names, in order."""
        con = self.connect()
        try:
            with con.cursor() as cursor:
                cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                               "ORDER BY ordinal_position", (self.table,))
                return [r[0] for r in cursor.fetchall()]
        finally:
            con.close()

    def distinct_values(self, column: str, limit: int = 100_000) -> list:
        """The distinct values of one column (for matching control rules against them)."""
        con = self.connect()
        try:
            with con.cursor() as cursor:
                cursor.execute(f"SELECT DISTINCT {quote_identifier(column)} FROM {quote_identifier(self.table)} "
                               f"LIMIT {int(limit)}")
                return [r[0] for r in cursor.fetchall()]
        finally:
            con.close()


DATABASE_TABLES = (SQLiteTable, PostgresTable)
