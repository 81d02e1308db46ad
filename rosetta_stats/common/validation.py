"""Argument checks shared by the public functions.

Every check raises :class:`ValueError` with a message that names what is
wrong (the column, the value, the allowed choices), never ``assert``.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import pandas as pd


def as_name_list(names: str | Iterable[str] | None, argument: str) -> list[str]:
    """Return ``names`` as a list of strings (a single string becomes a one-item list)."""
    if names is None:
        return []
    if isinstance(names, str):
        return [names]
    if not isinstance(names, Iterable):
        raise ValueError(f"`{argument}` must be a column name or a list of them; got {names!r}")
    out = list(names)
    bad = [n for n in out if not isinstance(n, str)]
    if bad:
        raise ValueError(f"`{argument}` must hold column names (strings); got {bad[:5]!r}")
    return out


def check_choice(value: object, allowed: Sequence[str], argument: str) -> str:
    """Check that ``value`` is one of ``allowed`` and return it."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(
            f"unknown {argument} {value!r}; choose one of: {', '.join(allowed)}"
        )
    return value


def check_columns(columns: Iterable[str], wanted: Sequence[str], argument: str) -> None:
    """Check that every name in ``wanted`` is among ``columns``; suggest close names."""
    available = list(columns)
    present = set(available)
    missing = [w for w in wanted if w not in present]
    if not missing:
        return
    hints = []
    for name in missing:
        close = difflib.get_close_matches(name, available, n=1, cutoff=0.8)
        hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise ValueError(f"column(s) named in `{argument}` not found: {', '.join(hints)}")


def check_unique_columns(frame: pd.DataFrame, argument: str = "the table") -> None:
    """Repeated column names make every later step ambiguous: an error that names them."""
    repeated = frame.columns[frame.columns.duplicated()].unique().tolist()
    if repeated:
        raise ValueError(f"{argument} repeats column name(s): {', '.join(map(str, repeated[:10]))}")


def check_numeric_features(frame: pd.DataFrame, features: Sequence[str]) -> None:
    """Check that the feature columns are real-valued (not text, not boolean)."""
    check_unique_columns(frame)
    dtypes = frame.dtypes  # one lookup for all columns (a column at a time costs ~10 us each)
    kinds = {dtype: pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
             for dtype in set(dtypes)}
    bad = [f for f in features if not kinds[dtypes[f]]]
    if bad:
        shown = ", ".join(f"{b!r} ({dtypes[b]})" for b in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise ValueError(f"non-numeric feature column(s): {shown}{more}")


def check_not_empty(frame: pd.DataFrame, argument: str = "population") -> None:
    """Check that a frame has at least one row."""
    if len(frame) == 0:
        raise ValueError(f"`{argument}` has no rows")
