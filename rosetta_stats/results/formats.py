"""Tables and profiles in the formats other tools open: GCT 1.3 (Morpheus, clue.io, cmapR) and AnnData (.h5ad).

A table is split into a matrix and metadata: for profiles, the features are
the matrix and everything else describes the rows (wells, perturbations);
for a tidy result table, its numeric columns are the matrix and its other
columns the row descriptions.

GCT 1.3 (the connectivity-map text format) is written the way L1000 tools
expect it: one row per feature (gene or morphology feature, with its
annotations as row metadata) and one column per sample (with the sample
metadata as column metadata), after a ``#1.3`` line and a line of
dimensions. AnnData keeps samples as observations: ``X`` the matrix,
``obs`` the metadata (as text), ``var`` the feature annotations, ``uns``
the provenance (settings, notes, inputs).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

GCT_VERSION = "#1.3"


def split_table(table: pd.DataFrame, features=None) -> tuple[np.ndarray, list[str], pd.DataFrame]:
    """(matrix: rows x features, feature names, metadata frame) of a table."""
    if features is None:
        features = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])
                    and not pd.api.types.is_bool_dtype(table[c])]
    features = [str(f) for f in features]
    metadata = table[[c for c in table.columns if str(c) not in set(features)]]
    return table[features].to_numpy(dtype=float), features, metadata


def _text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "na"
    text = str(value)
    if any(ch in text for ch in "\t\n\r"):
        raise ValueError(f"a GCT field cannot hold tabs or line breaks: {text[:40]!r}")
    return text


def write_gct(table: pd.DataFrame, path: str | os.PathLike, features=None, row_annotations: pd.DataFrame | None = None,
              sample_ids: str | None = None) -> Path:
    """Write a table as GCT 1.3: rows = features (``row_annotations`` indexed by feature), columns = samples.

    ``sample_ids``: the metadata column holding each sample's id (default: ``cid`` when present, else
    ``sample_1`` ...); every other metadata column becomes a column annotation.
    """
    matrix, names, metadata = split_table(table, features)
    if sample_ids is not None:
        ids = metadata[sample_ids].astype(str).tolist()
        metadata = metadata.drop(columns=[sample_ids])
    elif "cid" in metadata.columns:
        ids = metadata["cid"].astype(str).tolist()
        metadata = metadata.drop(columns=["cid"])
    else:
        ids = [f"sample_{i + 1}" for i in range(len(table))]
    if len(set(ids)) != len(ids):
        raise ValueError("GCT sample ids must be unique")
    rows = (row_annotations.reindex(names) if row_annotations is not None
            else pd.DataFrame(index=pd.Index(names)))
    row_fields = [str(c) for c in rows.columns]
    col_fields = [str(c) for c in metadata.columns]
    lines = [GCT_VERSION, "\t".join(map(str, (len(names), len(ids), len(row_fields), len(col_fields)))),
             "\t".join(["id", *row_fields, *ids])]
    for field in col_fields:
        values = metadata[field].tolist()
        lines.append("\t".join([field, *(["na"] * len(row_fields)), *map(_text, values)]))
    for j, name in enumerate(names):
        annotations = [_text(v) for v in rows.iloc[j].tolist()] if row_fields else []
        lines.append("\t".join([name, *annotations, *(repr(float(v)) if np.isfinite(v) else "NaN"
                                                      for v in matrix[:, j])]))
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


def read_gct(path: str | os.PathLike) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(data: samples x features, row annotations indexed by feature, column annotations indexed by sample)."""
    path = Path(path)
    with open(path, encoding="utf-8") as handle:
        version = handle.readline().rstrip("\n")
        if version != GCT_VERSION:
            raise ValueError(f"{path.name}: not a GCT 1.3 file (first line {version[:20]!r})")
        try:
            n_rows, n_cols, n_row_meta, n_col_meta = map(int, handle.readline().split("\t"))
        except ValueError:
            raise ValueError(f"{path.name}: the second line must give 4 dimensions") from None
        header = handle.readline().rstrip("\n").split("\t")
        if len(header) != 1 + n_row_meta + n_cols:
            raise ValueError(f"{path.name}: the header has {len(header)} fields; the dimensions say "
                             f"{1 + n_row_meta + n_cols}")
        row_fields, sample_ids = header[1:1 + n_row_meta], header[1 + n_row_meta:]
        col_meta = {}
        for _ in range(n_col_meta):
            parts = handle.readline().rstrip("\n").split("\t")
            col_meta[parts[0]] = [None if v == "na" else v for v in parts[1 + n_row_meta:]]
        names, annotations, values = [], [], []
        for _ in range(n_rows):
            parts = handle.readline().rstrip("\n").split("\t")
            if len(parts) != len(header):
                raise ValueError(f"{path.name}: a data line has {len(parts)} fields, not {len(header)} "
                                 "(the file is cut or ragged)")
            names.append(parts[0])
            annotations.append([None if v == "na" else v for v in parts[1:1 + n_row_meta]])
            values.append([float(v) for v in parts[1 + n_row_meta:]])
    data = pd.DataFrame(np.array(values, dtype=float).reshape(n_rows, n_cols).T,
                        index=pd.Index(sample_ids, name="cid"), columns=names)
    rows = pd.DataFrame(annotations, index=pd.Index(names, name="id"), columns=row_fields)
    columns = pd.DataFrame(col_meta, index=pd.Index(sample_ids, name="cid"))
    return data, rows, columns


def to_anndata(table, features=None, var: pd.DataFrame | None = None, uns: dict | None = None):
    """An AnnData: ``X`` the matrix, ``obs`` the metadata (as text), ``var`` the feature annotations,
    ``uns`` the provenance. ``table`` may be Profiles (its features and annotations are used)."""
    import anndata

    if hasattr(table, "features") and hasattr(table, "data"):
        profiles = table
        table, features = profiles.data, list(profiles.features)
        var = profiles.feature_annotations if var is None else var
        uns = {"notes": list(profiles.notes), "inputs": [dict(s) for s in profiles.sources],
               "modality": profiles.modality, **(uns or {})}
    matrix, names, metadata = split_table(table, features)
    obs = pd.DataFrame({str(c): _column(metadata[c]) for c in metadata.columns},
                       index=pd.Index([str(i) for i in range(len(table))]))
    var_frame = var.reindex(names) if var is not None else pd.DataFrame(index=pd.Index(names))
    var_frame = pd.DataFrame({str(c): _column(var_frame[c]) for c in var_frame.columns},
                             index=pd.Index([str(n) for n in names]))
    return anndata.AnnData(X=matrix, obs=obs, var=var_frame, uns=_plain(uns or {}), dtype=matrix.dtype)


def _column(series: pd.Series):
    """Numbers stay numbers; anything else becomes a categorical of text (missing stays missing)."""
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return series.to_numpy()
    text = series.astype(object).where(series.notna(), None)
    return pd.Categorical([None if v is None else str(v) for v in text])


def _plain(value):
    """uns values anndata can store: JSON-able text for anything nested."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return json.dumps(value, default=str)
    if value is None:
        return "null"
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def write_h5ad(table, path: str | os.PathLike, features=None, var=None, uns=None) -> Path:
    adata = to_anndata(table, features, var, uns)
    path = Path(path)
    adata.write_h5ad(path)
    return path
