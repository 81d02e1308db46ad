"""Write a tidy table as an R data.frame in an RDS file (through rpy2, imported lazily)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .r_session import RSession


def r_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "logical"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_numeric_dtype(series):
        return "double"
    return "character"


def write_rds(table: pd.DataFrame, path: Path) -> None:
    ro = RSession.get().ro
    columns = {}
    for name in table.columns:
        series = table[name]
        kind = r_type(series)
        missing = series.isna().to_numpy()
        if kind == "logical":
            values = [ro.NA_Logical if m else bool(v) for v, m in zip(series, missing)]
            columns[name] = ro.BoolVector(values)
        elif kind == "integer":
            if (series.abs() >= 2**31).any():
                columns[name] = ro.FloatVector(series.astype(float).to_numpy())
            else:
                columns[name] = ro.IntVector([ro.NA_Integer if m else int(v) for v, m in zip(series, missing)])
        elif kind == "double":
            columns[name] = ro.FloatVector(series.astype(float).to_numpy())
        else:
            columns[name] = ro.StrVector([ro.NA_Character if m else str(v) for v, m in zip(series, missing)])
    frame = ro.r["data.frame"](ro.ListVector(columns), check_names=False, stringsAsFactors=False)
    frame.names = ro.StrVector(list(map(str, table.columns)))  # keep names such as 200814_at
    ro.r["saveRDS"](frame, file=str(path))
