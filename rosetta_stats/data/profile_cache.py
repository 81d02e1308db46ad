"""A cache of a read profile file, kept beside it, so the second load skips parsing; it proves itself.

``read_profiles(path, ..., cache=True)`` stores the table as read (before
cleaning, so every cleaning option still applies) in
``<file>.rosetta-cache.npz``: the feature matrix in the requested dtype,
numeric metadata columns as arrays, text columns as integer codes into one
UTF-8 blob of their distinct values (so a long text cell costs its length
once, not once per row), and a JSON record. The cache is used only when

* the source's sha256 (computed while the file was parsed, and on load by
  one streamed hash, far cheaper than parsing) and the package version and
  dtype equal the record's;
* its arrays have the recorded shapes and their own sha256 equals the
  record's (values edited in place, a row cut, a pickled array: all refused);

otherwise it is ignored, with a note saying why, and rebuilt. Numpy loads it
without pickle. It is rewritten only when the file there is a cache this
package wrote; temporaries of killed writes are removed on the next load.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..common.atomic_files import atomic_path
from ..common.feature_matrix import feature_matrix, writable_block
from ..common.safe_paths import UnsafePathError, file_digest, open_for_reading, open_new, process_alive
from ..version import __version__

CACHE_SUFFIX = ".rosetta-cache.npz"
FORMAT = 2


def cache_path(source: Path) -> Path:
    return source.with_name(source.name + CACHE_SUFFIX)




def _arrays_sha256(arrays: dict) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{value.dtype.str}:{value.shape}".encode())
        digest.update(memoryview(value).cast("B") if value.size else b"")
    return digest.hexdigest()


def _key(source_sha256: str, dtype) -> dict:
    return {"format": FORMAT, "source_sha256": source_sha256, "version": __version__,
            "dtype": np.dtype(dtype).name if dtype is not None else None}


def _record(path: Path) -> dict | None:
    """The JSON record of a cache this package wrote, or None for anything else."""
    try:
        with open_for_reading(path) as handle, np.load(handle, allow_pickle=False) as stored:
            if "record" not in stored.files:
                return None
            record = json.loads(str(stored["record"]))
    except (OSError, ValueError, zipfile.BadZipFile, json.JSONDecodeError, EOFError, UnsafePathError):
        return None
    return record if isinstance(record, dict) and str(record.get("written_by", "")).startswith("rosetta_stats") \
        else None


def clear_stale_temporaries(source: Path) -> None:
    """Remove temporaries of this cache that a killed write left behind (their writer is gone)."""
    path = cache_path(source)
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        pid = leftover.name[len(path.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)) and not leftover.is_symlink():
            with contextlib.suppress(OSError):
                leftover.unlink()


    return True


def load_cached(source: Path, dtype) -> tuple[pd.DataFrame | None, str | None, str | None]:
    """(the cached table or None, the source's sha256 when it was computed, a note when a cache was refused)."""
    clear_stale_temporaries(source)
    path = cache_path(source)
    if not path.exists():
        return None, None, None
    record = _record(path)
    if record is None:
        return None, None, f"{path.name} is not a cache this package can read; the file was parsed again"
    source_sha256 = file_digest(source)
    key = _key(source_sha256, dtype)
    stale = [k for k in key if record.get(k) != key[k]]
    if stale:
        return None, source_sha256, (f"{path.name} was made from another file or setting ({', '.join(stale)}); "
                                     "the file was parsed again and the cache rebuilt")
    try:
        frame = _read_arrays(path, record)
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, EOFError, UnsafePathError) as exc:
        return None, source_sha256, (f"{path.name} failed its checks ({str(exc).splitlines()[0]}); the file was "
                                     "parsed again and the cache rebuilt")
    return frame, source_sha256, None


def _read_arrays(path: Path, record: dict) -> pd.DataFrame:
    with open_for_reading(path) as handle, np.load(handle, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files if name != "record"}
    if _arrays_sha256(arrays) != record["content_sha256"]:
        raise ValueError("its content does not match its recorded sha256")
    n_rows, features = int(record["n_rows"]), list(record["features"])
    if arrays["features"].shape != (n_rows, len(features)):
        raise ValueError(f"the feature matrix is {arrays['features'].shape}, not ({n_rows}, {len(features)})")
    columns = {}
    for i, (name, kind) in enumerate(zip(record["columns"], record["kinds"])):
        if kind == "features":
            continue
        if kind == "text":
            codes, blob, offsets = arrays[f"c{i}"], arrays[f"b{i}"].tobytes(), arrays[f"o{i}"]
            words = np.array([blob[offsets[j]:offsets[j + 1]].decode("utf-8") for j in range(len(offsets) - 1)]
                             + [np.nan], dtype=object)
            if len(codes) != n_rows or codes.min(initial=0) < -1 or codes.max(initial=-1) >= len(words) - 1:
                raise ValueError(f"text column {name!r} is malformed")
            values = words[np.where(codes < 0, len(words) - 1, codes)]
        else:
            values = arrays[f"c{i}"]
            if len(values) != n_rows:
                raise ValueError(f"column {name!r} has {len(values)} rows, not {n_rows}")
        columns[name] = values
    frame_features = pd.DataFrame(arrays["features"], columns=features, copy=False)
    metadata = pd.DataFrame(columns)
    frame = pd.concat([metadata, frame_features], axis=1, copy=False) if len(columns) else frame_features
    return frame if list(frame.columns) == record["columns"] else frame[record["columns"]]


def store_cache(source: Path, frame: pd.DataFrame, features: list[str], dtype, source_sha256: str) -> Path | None:
    """Write the cache of ``source`` beside it; a warning (and no cache) when that is not possible."""
    path = cache_path(source)
    if (path.exists() or path.is_symlink()) and _record(path) is None:
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
            values = column.to_numpy()
            if values.dtype == object:  # nullable types: stored as float with NaN
                values = column.astype(float).to_numpy()
            arrays[f"c{i}"] = values
            kinds.append("number")
        else:
            codes, uniques = pd.factorize(column.astype(object).where(column.notna(), None), use_na_sentinel=True)
            encoded = [str(u).encode("utf-8") for u in uniques]
            arrays[f"c{i}"] = codes.astype(np.int32)
            arrays[f"b{i}"] = np.frombuffer(b"".join(encoded), dtype=np.uint8)
            arrays[f"o{i}"] = np.r_[0, np.cumsum([len(e) for e in encoded])].astype(np.int64)
            kinds.append("text")
    values = writable_block(frame, features)  # saved straight from the table's buffer when it has one
    if values is None or (dtype is not None and values.dtype != np.dtype(dtype)):
        values = feature_matrix(frame, features, dtype=dtype)
    arrays["features"] = values
    record = {**_key(source_sha256, dtype), "source": source.name, "n_rows": int(len(frame)),
              "columns": [str(c) for c in frame.columns], "kinds": kinds, "features": list(features),
              "content_sha256": _arrays_sha256(arrays), "written_by": f"rosetta_stats {__version__}"}
    try:
        with atomic_path(path, prefix=f".{path.name}.{os.getpid()}.") as tmp:
            tmp.unlink()
            with open_new(tmp) as handle:
                np.savez(handle, record=np.array(json.dumps(record)), **arrays)
    except (OSError, UnsafePathError) as exc:
        warnings.warn(f"could not write the cache {path.name} ({getattr(exc, 'strerror', None) or exc}); "
                      "not caching", UserWarning, stacklevel=3)
        return None
    return path


def remove_cache(source: str | os.PathLike) -> bool:
    """Delete the cache of ``source`` if it is one this package wrote; True if one was removed."""
    path = cache_path(Path(source))
    if path.is_file() and not path.is_symlink() and _record(path) is not None:
        path.unlink()
        return True
    return False
