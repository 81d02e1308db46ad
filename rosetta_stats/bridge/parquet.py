"""Parquet files through R's nanoparquet (Debian 12 ships no pyarrow; nanoparquet builds from CRAN).

Reading: R reads the file; the feature columns cross to Python as one
numeric matrix and the metadata as plain vectors, so names such as
``200814_at`` and the column order come back exactly as stored. Writing
takes the same path the other way (used by the Rosetta-like simulator).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .r_session import RSession
from .r_conversion import plain_frame


def _session_with_nanoparquet():
    session = RSession.get()
    session.nanoparquet = session.package(
        "nanoparquet", "reading the curated (parquet) release needs it; run `make setup`")
    return session


def parquet_columns(path: str | os.PathLike) -> list[str]:
    """The column names stored in a parquet file (reads only its schema)."""
    session = _session_with_nanoparquet()
    schema = session.nanoparquet.read_parquet_schema(str(path))
    names = session.strings(schema.rx2("name"))
    return names[1:] if names and names[0] in ("schema", "r", "root") else names


def read_parquet(path: str | os.PathLike, features: Sequence[str] | None = None,
                 infer=None) -> pd.DataFrame:
    """Read a parquet file into a DataFrame; ``features`` (or ``infer(columns)``) cross as one matrix."""
    path = Path(path)
    session = _session_with_nanoparquet()
    ro = session.ro
    try:
        frame = session.nanoparquet.read_parquet(str(path))
    except Exception as exc:  # rpy2's RRuntimeError: a truncated or foreign file
        raise ValueError(f"{path.name}: not a readable parquet file ({str(exc).strip()})") from None
    columns = session.strings(ro.baseenv["names"](frame))
    if features is None:
        features = infer(columns) if infer is not None else []
    text = session.strings(ro.r("function(f, v) v[!vapply(f[v], is.numeric, logical(1))]")(
        frame, ro.StrVector(list(features))))
    if text:
        raise ValueError(f"{path.name}: feature column(s) stored as text, not numbers: {', '.join(text[:5])}"
                         f"{' ...' if len(text) > 5 else ''}; convert them, or name the features (features=)")
    parts = session.frame_parts(frame, list(features))
    return plain_frame(parts, order=columns)


def write_parquet(frame: pd.DataFrame, path: str | os.PathLike, features: Sequence[str]) -> Path:
    """Write ``frame`` as parquet: ``features`` as doubles, other columns as numbers or text."""
    path = Path(path)
    session = _session_with_nanoparquet()
    ro = session.ro
    features = list(features)
    metadata = [c for c in frame.columns if c not in set(features)]
    values = frame[features].to_numpy(dtype=float)
    r_meta = session.named_list({c: frame[c] for c in metadata})
    r_values = session.matrix(np.ascontiguousarray(values))
    build = ro.r("""function(meta, values, names) {
        out <- as.data.frame(meta, stringsAsFactors = FALSE, optional = TRUE)
        if (length(meta) == 0) out <- data.frame(row.names = seq_len(nrow(values)))
        colnames(values) <- names
        out <- cbind(out, as.data.frame(values, optional = TRUE))
        names(out) <- c(names(meta), names)
        out
    }""")
    r_frame = build(r_meta, r_values, ro.StrVector(features))
    order = ro.StrVector([str(c) for c in frame.columns])
    r_frame = ro.r("function(f, o) f[, o, drop = FALSE]")(r_frame, order)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        session.nanoparquet.write_parquet(r_frame, str(tmp))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
