"""A private PostgreSQL server for the tests: initdb + pg_ctl in a temporary folder, loopback only."""
from __future__ import annotations

import glob
import io
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from pathlib import Path


def server_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateServer:
    """Start with ``start()``, stop with ``stop()``; ``dsn`` connects as the superuser."""

    def __init__(self, binaries: Path):
        self.binaries = binaries
        self.folder = Path(tempfile.mkdtemp(prefix="rosetta-pg-"))
        self.port = free_port()
        self.user = "postgres"
        self.as_root = os.geteuid() == 0

    def _run(self, *command):
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        subprocess.run(prefix + [str(self.binaries / command[0]), *command[1:]], check=True,
                       capture_output=True, text=True)

    def start(self) -> "PrivateServer":
        if self.as_root:
            shutil.chown(self.folder, "postgres")
        else:
            self.user = os.environ.get("USER", "postgres")
        self._run("initdb", "-D", str(self.folder / "data"), "-A", "trust", "-U", self.user)
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c track_activity_query_size=16384"
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-o", options, "-l",
                  str(self.folder / "server.log"), "-w", "start")
        return self

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def connect(self):
        import psycopg2

        return psycopg2.connect(host="127.0.0.1", port=self.port, dbname="postgres", user=self.user)

    def copy_from_sqlite(self, sqlite_path, table: str, target: str | None = None, chunk: int = 200_000):
        """Copy a SQLite table into the server with COPY (REAL -> double precision)."""
        target = target or table
        source = sqlite3.connect(sqlite_path)
        info = source.execute(f'PRAGMA table_info("{table}")').fetchall()
        types = {"REAL": "double precision", "INTEGER": "bigint", "TEXT": "text"}
        columns = ", ".join(f'"{c[1]}" {types.get(c[2].upper(), "text")}' for c in info)
        with self.connect() as con, con.cursor() as cursor:
            cursor.execute(f'DROP TABLE IF EXISTS "{target}"')
            cursor.execute(f'CREATE TABLE "{target}" ({columns})')
            rows = source.execute(f'SELECT * FROM "{table}"')
            while batch := rows.fetchmany(chunk):
                buffer = io.StringIO()
                for row in batch:
                    buffer.write("\t".join("\\N" if v is None else repr(v) if isinstance(v, float) else str(v)
                                           for v in row) + "\n")
                buffer.seek(0)
                cursor.copy_from(buffer, target)
        source.close()

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
