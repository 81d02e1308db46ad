"""A cache of a read profile file, kept beside it, so the second load skips parsing.

``read_profiles(path, ..., cache=True)`` stores the table as read (before
cleaning, so every cleaning option still applies) in
``<file>.rosetta-cache.npz``: the feature matrix in the requested dtype, each
metadata column as a plain array (text as fixed-width unicode with a mask for
missing values), and a small JSON record of what it was made from. Numpy
loads it without pickle. The cache is used only while the source file keeps
the size and modification time recorded in it and the dtype matches; it is
rewritten only when the file there is a cache this package wrote.
"""
from __future__ import annotations

import json
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..common.atomic_files import atomic_path
from ..common.feature_matrix import feature_matrix, writable_block
from ..version import __version__

CACHE_SUFFIX = ".rosetta-cache.npz"
FORMAT = 1


def cache_path(source: Path) -> Path:
    return source.with_name(source.name + CACHE_SUFFIX)


def _stamp(source: Path, dtype) -> dict:
    stat = source.stat()
    return {"format": FORMAT, "source": source.name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
            "dtype": np.dtype(dtype).name if dtype is not None else None}


def _record(path: Path) -> dict | None:
    """The JSON record of a cache this package wrote, or None for anything else."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            if "record" not in stored.files:
                return None
            return json.loads(str(stored["record"]))
    except (OSError, ValueError, zipfile.BadZipFile, json.JSONDecodeError, EOFError):
        return None


def load_cached(source: Path, dtype) -> pd.DataFrame | None:
    """The cached table of ``source`` when a current cache exists, else None."""
    path = cache_path(source)
    if not path.is_file():
        return None
    record, stamp = _record(path), _stamp(source, dtype)
    if record is None or {k: record.get(k) for k in stamp} != stamp:
        return None
    with np.load(path, allow_pickle=False) as stored:
        columns = {}
        for i, (name, kind) in enumerate(zip(record["columns"], record["kinds"])):
            if kind == "features":
                continue
            values = stored[f"c{i}"]
            if kind == "text":
                missing = stored[f"m{i}"]
                values = values.astype(object)
                values[missing] = np.nan
            columns[name] = values
        features = pd.DataFrame(stored["features"], columns=record["features"], copy=False)
    metadata = pd.DataFrame(columns)
    frame = pd.concat([metadata, features], axis=1, copy=False) if len(columns) else features
    return frame if list(frame.columns) == record["columns"] else frame[record["columns"]]


def store_cache(source: Path, frame: pd.DataFrame, features: list[str], dtype) -> Path | None:
    """Write the cache of ``source`` beside it; a warning (and no cache) when that is not possible."""
    path = cache_path(source)
    if path.exists() and _record(path) is None:
        warnings.warn(f"{path.name} exists and is not a cache this package wrote; not caching", UserWarning,
                      stacklevel=3)
        return None
    feature_set = set(features)
    arrays, kinds = {}, []
    for i, name in enumerate(frame.columns):
        if name in feature_set:
            kinds.append("features")
            continue
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            arrays[f"c{i}"] = column.to_numpy()
            kinds.append("number")
        else:
            missing = column.isna().to_numpy()
            arrays[f"c{i}"] = column.where(~missing, "").astype(str).to_numpy(dtype=str)
            arrays[f"m{i}"] = missing
            kinds.append("text")
    record = {**_stamp(source, dtype), "columns": [str(c) for c in frame.columns], "kinds": kinds,
              "features": list(features), "written_by": f"rosetta_stats {__version__}"}
    values = writable_block(frame, features)  # saved straight from the table's buffer when it has one
    if values is None or (dtype is not None and values.dtype != np.dtype(dtype)):
        values = feature_matrix(frame, features, dtype=dtype)
    try:
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, features=values, record=np.array(json.dumps(record)), **arrays)
    except OSError as exc:
        warnings.warn(f"could not write the cache {path.name} ({exc.strerror or exc}); not caching", UserWarning,
                      stacklevel=3)
        return None
    return path


def remove_cache(source: str | os.PathLike) -> bool:
    """Delete the cache of ``source`` if it is one this package wrote; True if one was removed."""
    path = cache_path(Path(source))
    if path.is_file() and _record(path) is not None:
        path.unlink()
        return True
    return False
