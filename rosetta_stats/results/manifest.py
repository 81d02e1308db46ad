"""The manifest of a results folder: read bounded, checked against its schema, files opened safely.

A manifest is trusted for nothing until it has passed :func:`validate`: a
mapping with ``package == "rosetta_stats"``, ``files`` mapping plain relative
names to sha256 digests (and ``sizes`` to byte counts, in manifests written
since sizes were recorded), ``tables`` mapping names to entries with a row
count, the files of each format and typed columns. Any other shape, a nesting
deeper than a manifest ever has, or a file over the size bound is one error
naming what is wrong. Listed files are opened without following links, must
be regular files inside the folder, and are read only up to their recorded
size.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from ..common.safe_paths import UnsafePathError, inside, open_for_reading

MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 32  # a manifest's deepest legitimate nesting is about 8 (settings inside tables)
SHA256 = re.compile(r"^[0-9a-f]{64}$")
COLUMN_TYPES = {"character", "double", "integer", "logical"}


class ManifestError(ValueError):
    """The manifest is missing, unreadable, or not of the shape rosetta_stats writes."""


def _depth(value, limit: int, level: int = 0) -> None:
    if level > limit:
        raise ManifestError(f"nested deeper than {limit} levels")
    if isinstance(value, dict):
        for item in value.values():
            _depth(item, limit, level + 1)
    elif isinstance(value, list):
        for item in value:
            _depth(item, limit, level + 1)


def load(folder: str | os.PathLike) -> dict:
    """The folder's manifest, read without following links, size-bounded, parsed and validated."""
    path = Path(folder) / MANIFEST
    try:
        with open_for_reading(path) as handle:
            raw = handle.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        raise ManifestError(f"{folder} has no manifest.json; is it a rosetta_stats results folder?") from None
    except UnsafePathError as exc:
        raise ManifestError(str(exc)) from None
    except OSError as exc:
        raise ManifestError(f"{path} cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"{path} is larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MB; not a manifest")
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ManifestError(f"{path} is corrupt ({reason})") from None
    try:
        validate(manifest)
    except ManifestError as exc:
        raise ManifestError(f"{path}: {exc}") from None
    return manifest


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ManifestError(message)


def _plain_name(name) -> str:
    _check(isinstance(name, str), f"file name {name!r} is not text")
    try:
        inside(Path("."), name)
    except UnsafePathError:
        raise ManifestError(f"{name!r} is not a plain file name inside the folder") from None
    return name


def validate(manifest) -> None:
    """Raise ManifestError unless ``manifest`` has the shape rosetta_stats writes."""
    _check(isinstance(manifest, dict), "not a JSON object")
    _depth(manifest, MAX_DEPTH)
    _check(manifest.get("package") == "rosetta_stats", "not written by rosetta_stats")
    files = manifest.get("files")
    _check(isinstance(files, dict), "'files' must map file names to sha256 digests")
    for name, digest in files.items():
        _plain_name(name)
        _check(isinstance(digest, str) and bool(SHA256.match(digest)), f"'files' entry {name!r} is no sha256")
    sizes = manifest.get("sizes", {})
    _check(isinstance(sizes, dict), "'sizes' must map file names to byte counts")
    for name, size in sizes.items():
        _check(name in files, f"'sizes' lists {name!r}, which 'files' does not")
        _check(isinstance(size, int) and not isinstance(size, bool) and size >= 0, f"size of {name!r} is no count")
    tables = manifest.get("tables", {})
    _check(isinstance(tables, dict), "'tables' must map table names to entries")
    for name, entry in tables.items():
        _check(isinstance(entry, dict), f"table {name!r} is not an object")
        rows = entry.get("rows")
        _check(isinstance(rows, int) and not isinstance(rows, bool) and rows >= 0, f"table {name!r} has no row count")
        table_files = entry.get("files")
        _check(isinstance(table_files, dict) and isinstance(table_files.get("csv"), str),
               f"table {name!r} names no csv file")
        for kind, file_name in table_files.items():
            _check(_plain_name(file_name) in files, f"table {name!r} points to {file_name!r}, which 'files' does not list")
        columns = entry.get("columns", [])
        _check(isinstance(columns, list), f"table {name!r}: 'columns' must be a list")
        for column in columns:
            _check(isinstance(column, dict) and isinstance(column.get("name"), str)
                   and column.get("type") in COLUMN_TYPES, f"table {name!r} has a malformed column entry")
            missing = column.get("missing_rows", [])
            _check(isinstance(missing, list) and all(isinstance(i, int) and 0 <= i < rows for i in missing),
                   f"table {name!r}, column {column['name']!r}: malformed missing_rows")
    for key in ("notes", "inputs"):
        _check(isinstance(manifest.get(key, []), list), f"'{key}' must be a list")


def listed_path(folder: str | os.PathLike, name: str) -> Path:
    """The listed file ``name`` inside ``folder``: no link on the way, a regular file."""
    try:
        path = inside(folder, name)
    except UnsafePathError as exc:
        raise ManifestError(str(exc)) from None
    if not path.exists() and not path.is_symlink():
        raise ManifestError(f"{name} is listed in the manifest but missing from {folder}")
    return path


def read_listed(folder: str | os.PathLike, name: str, manifest: dict) -> bytes:
    """The bytes of a listed file, opened without following links and read up to its recorded size."""
    path = listed_path(folder, name)
    expected = manifest.get("sizes", {}).get(name)
    try:
        with open_for_reading(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            if expected is not None and size != expected:
                raise ManifestError(f"{name} has {size} bytes; the manifest says {expected}")
            data = handle.read(size + 1)
    except UnsafePathError as exc:
        raise ManifestError(str(exc)) from None
    if len(data) != size:
        raise ManifestError(f"{name} changed while it was read")
    return data


def verify_file(folder: str | os.PathLike, name: str, manifest: dict) -> bytes:
    """A listed file's bytes, checked against the manifest's sha256."""
    data = read_listed(folder, name, manifest)
    if hashlib.sha256(data).hexdigest() != manifest["files"][name]:
        raise ManifestError(f"{name} does not match its sha256 in the manifest (changed after writing?)")
    return data
