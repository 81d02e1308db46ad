"""Negative controls: one rule object, ordered fallbacks, and errors that say what the file holds.

A :class:`ControlSpec` says "rows whose ``column`` takes one of ``values`` are
negative controls". A :class:`ControlRules` is an ordered list of them: the
first rule that marks at least one row of a file is the one used (a file of
today's release is labelled ``control_type == negcon``; older layouts fall
back to their own labels). A rule set that marks no row of a non-empty file
is an error naming every rule tried and the most common values of each
column it looked at. Nothing here writes a column: profiles keep the rule
and evaluate it on their current rows.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..common.errors import RosettaError
from ..common.validation import check_columns

NEGCON = "negcon"


def _as_number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class ControlSpec:
    """Rows whose ``column`` takes one of ``values`` are negative controls.

    Values are compared as text after stripping blanks, and numerically when
    the column is numeric (so ``-666`` matches ``-666.0``).
    """

    column: str
    values: tuple = (NEGCON,)

    def __post_init__(self) -> None:
        values = (self.values,) if isinstance(self.values, (str, int, float)) else tuple(self.values)
        if not values:
            raise ValueError(f"control rule on {self.column!r} has no values")
        object.__setattr__(self, "values", values)

    def describe(self) -> str:
        shown = ", ".join(map(str, self.values))
        return f"{self.column} == {shown}" if len(self.values) == 1 else f"{self.column} in {{{shown}}}"

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows this rule marks; an error if the column is absent."""
        if self.column not in frame.columns:
            raise ValueError(f"control column {self.column!r} not found")
        column = frame[self.column]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            numbers = [n for n in map(_as_number, self.values) if n is not None]
            return column.isin(numbers).to_numpy() if numbers else np.zeros(len(frame), bool)
        text = column.astype("string").str.strip()
        return text.isin([str(v).strip() for v in self.values]).fillna(False).to_numpy(dtype=bool)


@dataclass(frozen=True)
class ControlRules:
    """Ordered control rules: the first that marks any row wins."""

    rules: tuple[ControlSpec, ...]

    def describe(self) -> str:
        return "; then ".join(r.describe() for r in self.rules)

    def resolve(self, frame: pd.DataFrame, label: str = "profiles") -> tuple[ControlSpec, str]:
        """(the rule that applies, a note saying how many rows it marked and what was tried first)."""
        tried = []
        for rule in self.rules:
            if rule.column not in frame.columns:
                tried.append(f"{rule.describe()} (no such column)")
                continue
            n = int(rule.mask(frame).sum())
            if n:
                skipped = f" after {'; '.join(tried)}" if tried else ""
                return rule, f"negative controls: {rule.describe()} marked {n} of {len(frame)} rows{skipped}"
            tried.append(f"{rule.describe()} (0 rows)")
        raise NoControlsError(_nothing_matched(frame, self.rules, label))


class NoControlsError(RosettaError):
    """No rule marked a single row of a non-empty file."""


def _common_values(series: pd.Series, n: int = 5) -> str:
    counts = series.astype("string").fillna("<NA>").value_counts().head(n)
    return ", ".join(f"{value!r} ({count})" for value, count in counts.items())


def _nothing_matched(frame: pd.DataFrame, rules: Sequence[ControlSpec], label: str) -> str:
    lines = [f"{label}: no negative-control rows among {len(frame)} rows; rules tried:"]
    for rule in rules:
        if rule.column in frame.columns:
            lines.append(f"  {rule.describe()}: 0 rows; most common values: {_common_values(frame[rule.column])}")
        else:
            lines.append(f"  {rule.describe()}: column not in the file")
    lines.append("name the controls yourself: controls={'COLUMN': 'VALUE'} (Python) or --control COLUMN=VALUE")
    return "\n".join(lines)


def as_control_rules(controls) -> ControlRules | None:
    """Accept a ControlRules, a ControlSpec, a list of them, ``{column: value(s)}`` or ``"COL=VAL[,VAL]"``."""
    if controls is None or isinstance(controls, ControlRules):
        return controls
    if isinstance(controls, ControlSpec):
        return ControlRules((controls,))
    if isinstance(controls, str):
        column, sep, values = controls.partition("=")
        if not sep or not column.strip() or not values.strip():
            raise ValueError(f"controls {controls!r}: write COLUMN=VALUE (several values: COLUMN=A,B)")
        return ControlRules((ControlSpec(column.strip(), tuple(v.strip() for v in values.split(","))),))
    if isinstance(controls, Mapping):
        if not controls:
            raise ValueError("controls={} names no column")
        return ControlRules(tuple(
            ControlSpec(str(col), (vals,) if isinstance(vals, (str, int, float)) else tuple(vals))
            for col, vals in controls.items()))
    if isinstance(controls, Sequence) and all(isinstance(c, ControlSpec) for c in controls):
        return ControlRules(tuple(controls))
    raise ValueError(f"controls must be a ControlSpec, ControlRules, a dict or 'COL=VAL'; got {controls!r}")


def resolve_controls(frame: pd.DataFrame, controls, label: str = "profiles",
                     explicit: bool = False) -> tuple[ControlSpec | None, str | None]:
    """The control rule that applies to ``frame`` and a note, or an error.

    ``explicit`` marks a rule the user named: its column must exist (no
    fallback) and it must mark at least one row of a non-empty frame.
    """
    rules = as_control_rules(controls)
    if rules is None:
        return None, None
    if explicit:
        missing = [r.column for r in rules.rules if r.column not in frame.columns]
        if missing:
            check_columns(frame.columns, missing, f"control column of {label}")
    if frame.empty:
        return rules.rules[0], None
    return rules.resolve(frame, label)
