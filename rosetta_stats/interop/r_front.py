"""The Python half of the R front end: rosettabridge calls :func:`call` through reticulate.

Data frames cross in parts, never column by column through reticulate's own
conversion: every double column in one numeric matrix, integer and logical
columns as doubles (NaN for NA) with their type named, text columns as
strings with a mask of missing values, and the column names and order as a
list, so that ``201000_at`` stays ``201000_at`` and an R ``NA`` arrives as a
missing value (not ``"NA"``, not -2147483648). Results go back the same way:
the table and further tables in parts, settings and estimates as JSON, notes
as text and the summary the result renders. Objects R cannot hold as data
(Profiles, PairedProfiles) go back as references R passes on unchanged.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

FRAME_TAG = "__rosetta_frame__"
# what R may call: the public statistics and loaders, by name (anything else is refused)
CALLABLE = frozenset({
    "replicate_reproducibility", "mean_average_precision", "phenotypic_activity", "phenotypic_distinctiveness",
    "phenotypic_consistency", "cross_modal_retrieval", "reproducible_sets", "gene_predictability",
    "feature_predictability", "feature_gene_correlation", "canonical_correlation", "similarity_concordance",
    "moa_prediction", "load_profiles", "load_paired", "pair", "treatment_level", "read_profiles",
    "compare_reproducibility", "modality_activity", "category_enrichment", "hierarchical_fdr",
    "transfer_predictability", "effect_sizes", "stable_links", "go_enrichment", "moa_clustering",
    "image_locations",
})


def frame_from_parts(parts: dict) -> pd.DataFrame:
    """The DataFrame R sent: ``names`` (order), ``matrix`` + ``matrix_names`` (doubles), ``columns``
    (name -> {type, values, missing})."""
    names = [str(n) for n in _as_list(parts["names"])]
    data: dict[str, object] = {}
    matrix_names = [str(n) for n in _as_list(parts.get("matrix_names", []))]
    if matrix_names:
        matrix = np.asarray(parts["matrix"], dtype=float).reshape(-1, len(matrix_names), order="F")
        for j, name in enumerate(matrix_names):
            data[name] = matrix[:, j]
    for name, column in dict(parts.get("columns", {})).items():
        kind = str(column["type"])
        missing = np.asarray(column["missing"], dtype=bool).reshape(-1)
        if kind == "character":
            values = np.array(_as_list(column["values"]), dtype=object).reshape(-1)
            values[missing] = np.nan
            data[str(name)] = values
        elif kind == "integer":
            values = np.asarray(column["values"], dtype=float).reshape(-1)
            data[str(name)] = pd.array(np.where(missing, 0, values).astype(np.int64), dtype="Int64")
            data[str(name)][missing] = pd.NA
            if not missing.any():
                data[str(name)] = np.asarray(data[str(name)], dtype=np.int64)
        elif kind == "logical":
            values = np.asarray(column["values"], dtype=float).reshape(-1) > 0
            data[str(name)] = values if not missing.any() else pd.array(
                [None if m else bool(v) for v, m in zip(values, missing)], dtype="boolean")
        else:
            raise ValueError(f"column {name!r}: unknown type {kind!r} from R")
    missing_names = [n for n in names if n not in data]
    if missing_names:
        raise ValueError(f"the frame from R lacks column(s) {missing_names[:5]}")
    n_rows = int(parts.get("n_rows", len(next(iter(data.values()))) if data else 0))
    return pd.DataFrame({n: data[n] for n in names}, index=pd.RangeIndex(n_rows))


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, np.ndarray):
        return value.reshape(-1).tolist()
    return [value]


def _argument(value):
    """An argument from R: frames rebuilt, whole numbers as int, lists and dicts walked."""
    if isinstance(value, dict):
        if value.get(FRAME_TAG):
            return frame_from_parts(value)
        return {k: _argument(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_argument(v) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "fiub" and value.size:
        return [_argument(v.item()) for v in value]
    return value


def call(name: str, arguments: dict, positional=()):
    """Run ``rosetta_stats.<name>(*positional, **arguments)`` with R's arguments converted; return what R
    can take."""
    import rosetta_stats

    if name not in CALLABLE or not hasattr(rosetta_stats, name):
        raise ValueError(f"{name}() cannot be called from R")
    args = [_argument(v) for v in _as_list(positional)]
    kwargs = {str(k): _argument(v) for k, v in dict(arguments or {}).items() if v is not None}
    return to_r(getattr(rosetta_stats, name)(*args, **kwargs))


def frame_parts(frame: pd.DataFrame) -> dict:
    """A DataFrame for R: float columns as one matrix, the others typed, with missing masks."""
    frame = frame.reset_index(drop=True)
    names = [str(c) for c in frame.columns]
    doubles = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    columns = {}
    for c in frame.columns:
        if c in doubles:
            continue
        series = frame[c]
        missing = series.isna().to_numpy(dtype=bool)
        if pd.api.types.is_bool_dtype(series) or str(series.dtype) == "boolean":
            values = series.astype("float").to_numpy(dtype=float, na_value=np.nan)
            columns[str(c)] = {"type": "logical", "values": values, "missing": missing}
        elif pd.api.types.is_integer_dtype(series):
            values = series.astype("float").to_numpy(dtype=float, na_value=np.nan)
            big = np.nanmax(np.abs(values)) if len(values) and not missing.all() else 0
            columns[str(c)] = {"type": "integer" if big < 2 ** 31 else "double", "values": values,
                               "missing": missing}
        else:
            text = ["" if m else str(v) for v, m in zip(series.to_numpy(dtype=object), missing)]
            columns[str(c)] = {"type": "character", "values": text, "missing": missing}
    matrix = frame[doubles].to_numpy(dtype=float) if doubles else np.zeros((len(frame), 0))
    return {"names": names, "n_rows": len(frame), "matrix": np.asfortranarray(matrix),
            "matrix_names": [str(c) for c in doubles], "columns": columns}


def to_r(value):
    """What a call returns, for R: results in parts, objects as references."""
    from ..common.result import Result, json_safe
    from ..data.pairing import PairedProfiles
    from ..data.profiles import Profiles

    if isinstance(value, Result):
        return {"kind": "result", "class": type(value).__name__, "title": getattr(value, "title", ""),
                "object": value,
                "table": frame_parts(value.table),
                "tables": {k: frame_parts(v) for k, v in value.tables.items() if isinstance(v, pd.DataFrame)},
                "settings": json.dumps(json_safe(dict(value.settings))),
                "estimates": json.dumps(json_safe(dict(value.estimates))),
                "notes": [str(n) for n in value.notes], "summary": value.summary()}
    if isinstance(value, pd.DataFrame):
        return {"kind": "frame", "table": frame_parts(value)}
    if isinstance(value, (Profiles, PairedProfiles)):
        table = value.data if isinstance(value, Profiles) else None
        return {"kind": "object", "class": type(value).__name__, "object": value,
                "table": frame_parts(table) if table is not None else None,
                "summary": value.summary() if hasattr(value, "summary") else repr(value)}
    if hasattr(value, "_asdict") or hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict, is_dataclass
        fields = asdict(value) if is_dataclass(value) else value._asdict()
        return {"kind": "value", "json": json.dumps(json_safe(fields))}
    return {"kind": "value", "json": json.dumps(json_safe(value))}
