"""The one result shape: a tidy ``table``, the ``settings`` that made it, its ``estimates``, ``notes``, ``inputs``.

Every public statistic returns a :class:`Result` (or a subclass named after
it). Settings are what the caller chose or the preset filled in (arguments,
seed, preset); estimates are the headline numbers the run produced; notes
say what was dropped, lost or assumed, starting with the notes of the
inputs; inputs name the files behind it (path, sha256, and the ETag when
the file was downloaded). ``tables`` holds further tidy tables (a
normalisation's parameters, a model's per-class scores); ``extras`` holds
arrays for figures, which are not written. ``summary()`` renders itself.

Settings and estimates are also readable as attributes
(``result.threshold``), and ``result.parameters`` (settings and estimates
together) is kept for code written before the split.
"""
from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np
import pandas as pd


def _shown(value) -> str:
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return str(value)
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)) and len(value) > 8:
        return f"[{', '.join(map(str, value[:8]))}, ... ({len(value)} in all)]"
    return str(value)


def _item_lines(items: Mapping[str, Any], indent: int = 2) -> list[str]:
    """``key  value`` lines, aligned; a dict value opens an indented block of its own lines."""
    width = max([len(str(k)) for k in items] + [8])
    lines = []
    for key, value in items.items():
        if isinstance(value, Mapping) and value:
            lines += [f"{' ' * indent}{key}:", *_item_lines(value, indent + 2)]
        else:
            lines.append(f"{' ' * indent}{str(key):<{width}}  {_shown(value) if value != {} else '(none)'}")
    return lines


@dataclass(frozen=True)
class Result:
    """A statistic's outcome: ``table`` plus ``settings``, ``estimates``, ``notes``, ``inputs``."""

    table: pd.DataFrame
    settings: Mapping[str, Any] = field(default_factory=dict)
    estimates: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    inputs: tuple[Mapping[str, Any], ...] = ()
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    extras: Mapping[str, Any] = field(default_factory=dict, repr=False)

    title = "Result"

    def __post_init__(self) -> None:
        if not isinstance(self.table, pd.DataFrame):
            raise TypeError(f"{type(self).__name__}.table must be a DataFrame")
        object.__setattr__(self, "settings", dict(self.settings))
        object.__setattr__(self, "estimates", dict(self.estimates))
        object.__setattr__(self, "notes", tuple(str(n) for n in self.notes))
        object.__setattr__(self, "inputs", tuple(dict(i) for i in self.inputs))
        object.__setattr__(self, "tables", dict(self.tables))
        object.__setattr__(self, "extras", dict(self.extras))

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        for part in ("estimates", "settings", "tables", "extras"):
            store = self.__dict__.get(part) or {}
            if name in store:
                return store[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    # ------------------------------------------------------------------ compatibility
    @property
    def parameters(self) -> dict:
        """Settings and estimates in one dict (how results were described before the split)."""
        return {**self.settings, **self.estimates}

    def summary_dict(self) -> dict:
        """Settings, estimates and notes as one plain dict (summary.json)."""
        return {**self.settings, **self.estimates, "notes": list(self.notes)}

    # ------------------------------------------------------------------ building
    def with_notes(self, *notes: str) -> "Result":
        return replace(self, notes=self.notes + tuple(n for n in notes if n))

    def with_inputs(self, inputs) -> "Result":
        return replace(self, inputs=tuple(inputs))

    # ------------------------------------------------------------------ rendering
    def headline(self) -> list[str]:
        """One or two sentences with the main numbers (subclasses say them in words)."""
        return []

    def summary(self) -> str:
        lines = [self.title, "=" * len(self.title), *self.headline()]
        if self.estimates:
            lines += ["estimates:", *_item_lines(self.estimates)]
        if self.settings:
            lines += ["settings:", *_item_lines(self.settings)]
        if self.inputs:
            lines.append("inputs:")
            lines += [f"  {i.get('name', i.get('path'))} (sha256 {str(i.get('sha256', ''))[:12]})"
                      for i in self.inputs]
        if self.notes:
            lines.append("notes:")
            lines += [f"  - {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


class TableResult(Result):
    """A result that used to be a bare DataFrame: DataFrame methods still reach ``table``, with a warning."""

    def __getattr__(self, name: str):
        try:
            return Result.__getattr__(self, name)
        except AttributeError:
            if name.startswith("_") or not hasattr(pd.DataFrame, name):
                raise
        warnings.warn(f"{type(self).__name__}.{name}: this result is no longer a DataFrame; use .table.{name}",
                      DeprecationWarning, stacklevel=2)
        return getattr(self.table, name)

    def __getitem__(self, key):
        warnings.warn(f"{type(self).__name__}[...]: this result is no longer a DataFrame; use .table[...]",
                      DeprecationWarning, stacklevel=2)
        return self.table[key]

    def __len__(self) -> int:
        return len(self.table)


def merged_inputs(*sources) -> tuple[dict, ...]:
    """The inputs of several profiles/results, each file once (by path and sha256)."""
    seen, out = set(), []
    for source in sources:
        for entry in getattr(source, "inputs", None) or getattr(source, "sources", None) or ():
            key = (entry.get("path"), entry.get("sha256"))
            if key not in seen:
                seen.add(key)
                out.append(dict(entry))
    return tuple(out)


def json_safe(value):
    """Plain JSON values: numpy scalars as numbers, NaN/inf as null (R's jsonlite cannot read NaN)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray, pd.Index)):
        return [json_safe(v) for v in list(value)]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


# the name of the mixin earlier versions used
ResultShape = Result
