"""The one matcher: which rows are negative controls, and which pairs of rows are positives or negatives.

Every entry point that names rows by their metadata goes through this
module: the readers, the statistics, cytominer's ``normalize`` and
``select_features`` (``sample=``) and the command line's ``COLUMN=VALUE``.
So a control dict marks the same rows wherever it is given.

Controls
    A :class:`ControlSpec` says "rows whose ``column`` takes one of
    ``values``". A value matches a cell when their texts agree after
    stripping blanks, or when both read as the same number (``-666`` matches
    ``-666.0`` and ``"-666"``). A dict ``{column: value(s), ...}`` is one
    rule: every column must match (AND). A :class:`ControlRules` is an
    ordered list of rules, the first that marks a row being the one used
    (the registry's fallbacks for files of different vintages). A rule the
    user named must name existing columns and mark at least one row.

Pairs (copairs' vocabulary, declared as data)
    A :class:`PairRule` ``(same=[...], different=[...])`` selects the pairs
    of rows that agree on every ``same`` column and differ on every
    ``different`` column: replicates on different plates are
    ``PairRule(same=["Metadata_broad_sample"], different=["Metadata_Plate"])``.
    It is evaluated block by block (query rows x candidate rows), never as
    an n x n matrix of the whole table.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import RosettaError
from .validation import check_columns

NEGCON = "negcon"


class NoControlsError(RosettaError):
    """No rule marked a single row of a non-empty table."""


def _as_number(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) or np.isinf(number) else None


def _value_tuple(values) -> tuple:
    if isinstance(values, (str, int, float, np.integer, np.floating)) or values is None:
        return (values,)
    return tuple(values)


def cells_matching(column: pd.Series, values) -> np.ndarray:
    """Boolean mask of the cells of ``column`` equal to one of ``values`` (text stripped, or the same number)."""
    values = _value_tuple(values)
    texts = {str(v).strip() for v in values if v is not None}
    numbers = [n for n in map(_as_number, values) if n is not None]
    if pd.api.types.is_bool_dtype(column):
        wanted = {t.lower() for t in texts}
        return column.map(lambda v: str(v).lower() in wanted).fillna(False).to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(column):
        return column.isin(numbers).to_numpy(dtype=bool) if numbers else np.zeros(len(column), bool)
    text = column.astype("string").str.strip()
    mask = text.isin(list(texts)).fillna(False).to_numpy(dtype=bool)
    if numbers and not mask.all():
        parsed = pd.to_numeric(text, errors="coerce")
        mask |= parsed.isin(numbers).fillna(False).to_numpy(dtype=bool)
    return mask


@dataclass(frozen=True)
class ControlSpec:
    """Rows whose ``column`` takes one of ``values`` are negative controls."""

    column: str
    values: tuple = (NEGCON,)

    def __post_init__(self) -> None:
        values = _value_tuple(self.values)
        if not values:
            raise ValueError(f"control rule on {self.column!r} has no values")
        object.__setattr__(self, "values", values)

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def describe(self) -> str:
        shown = ", ".join(map(str, self.values))
        return f"{self.column} == {shown}" if len(self.values) == 1 else f"{self.column} in {{{shown}}}"

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows this rule marks; an error if the column is absent."""
        if self.column not in frame.columns:
            raise ValueError(f"control column {self.column!r} not found")
        return cells_matching(frame[self.column], self.values)


@dataclass(frozen=True)
class AllOf:
    """Rows that every one of ``specs`` marks (a dict of several columns)."""

    specs: tuple[ControlSpec, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(s.column for s in self.specs)

    def describe(self) -> str:
        return " and ".join(s.describe() for s in self.specs)

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.ones(len(frame), dtype=bool)
        for spec in self.specs:
            out &= spec.mask(frame)
        return out


@dataclass(frozen=True)
class ControlRules:
    """Ordered control rules: the first that marks any row wins."""

    rules: tuple

    def describe(self) -> str:
        return "; then ".join(r.describe() for r in self.rules)

    def resolve(self, frame: pd.DataFrame, label: str = "profiles"):
        """(the rule that applies, a note saying how many rows it marked and what was tried first)."""
        tried = []
        for rule in self.rules:
            absent = [c for c in rule.columns if c not in frame.columns]
            if absent:
                tried.append(f"{rule.describe()} (no such column)")
                continue
            n = int(rule.mask(frame).sum())
            if n:
                skipped = f" after {'; '.join(tried)}" if tried else ""
                return rule, f"negative controls: {rule.describe()} marked {n} of {len(frame)} rows{skipped}"
            tried.append(f"{rule.describe()} (0 rows)")
        raise NoControlsError(_nothing_matched(frame, self.rules, label))


def _common_values(series: pd.Series, n: int = 5) -> str:
    counts = series.astype("string").fillna("<NA>").value_counts().head(n)
    return ", ".join(f"{value!r} ({count})" for value, count in counts.items())


def _nothing_matched(frame: pd.DataFrame, rules, label: str) -> str:
    lines = [f"{label}: no negative-control rows among {len(frame)} rows; rules tried:"]
    for rule in rules:
        for column in rule.columns:
            if column in frame.columns:
                lines.append(f"  {rule.describe()}: 0 rows; most common values"
                             + (f" of {column}" if len(rule.columns) > 1 else "") + f": {_common_values(frame[column])}")
            else:
                lines.append(f"  {rule.describe()}: column not in the file" if len(rule.columns) == 1 else
                             f"  {rule.describe()}: column {column!r} not in the file")
    lines.append("name the controls yourself: controls={'COLUMN': 'VALUE'} (Python) or --control COLUMN=VALUE")
    return "\n".join(lines)


def _spec_from_pair(column, values) -> ControlSpec:
    return ControlSpec(str(column), _value_tuple(values))


def as_control_rules(controls) -> ControlRules | None:
    """A ControlRules from a ControlRules, ControlSpec, list of them, ``{column: value(s)}`` or ``"COL=VAL[,VAL]"``.

    A dict is one rule (every column must match); a list is ordered fallbacks.
    """
    if controls is None or isinstance(controls, ControlRules):
        return controls
    if isinstance(controls, (ControlSpec, AllOf)):
        return ControlRules((controls,))
    if isinstance(controls, str):
        column, sep, values = controls.partition("=")
        parts = tuple(v.strip() for v in values.split(",") if v.strip())
        if not sep or not column.strip() or not parts:
            raise ValueError(f"controls {controls!r}: write COLUMN=VALUE (several values: COLUMN=A,B)")
        return ControlRules((ControlSpec(column.strip(), parts),))
    if isinstance(controls, Mapping):
        if not controls:
            raise ValueError("controls={} names no column")
        specs = tuple(_spec_from_pair(c, v) for c, v in controls.items())
        return ControlRules((specs[0] if len(specs) == 1 else AllOf(specs),))
    if isinstance(controls, Sequence) and controls and all(isinstance(c, (ControlSpec, AllOf)) for c in controls):
        return ControlRules(tuple(controls))
    raise ValueError(f"controls must be a ControlSpec, ControlRules, a dict or 'COL=VAL'; got {controls!r}")


def resolve_controls(frame: pd.DataFrame, controls, label: str = "profiles", explicit: bool | None = None):
    """(the control rule that applies to ``frame``, a note), or an error.

    ``explicit`` marks a rule the user named (default: anything but a
    ControlRules list of fallbacks): its columns must exist and it must mark
    at least one row of a non-empty frame.
    """
    rules = as_control_rules(controls)
    if rules is None:
        return None, None
    if explicit is None:
        explicit = not isinstance(controls, ControlRules)
    if explicit:
        missing = [c for r in rules.rules for c in r.columns if c not in frame.columns]
        if missing:
            check_columns(frame.columns, missing, f"control column of {label}")
    if frame.empty:
        return rules.rules[0], None
    return rules.resolve(frame, label)


def control_mask(frame: pd.DataFrame, controls, label: str = "controls") -> tuple[np.ndarray, str]:
    """Boolean mask of the control rows named by ``controls`` and a sentence saying how it was found.

    ``controls``: anything :func:`as_control_rules` takes (a named rule must
    match a row), or a boolean mask as long as the frame.
    """
    if isinstance(controls, (np.ndarray, pd.Series, list)) and not (
            isinstance(controls, list) and controls and isinstance(controls[0], (ControlSpec, AllOf))):
        mask = np.asarray(controls)
        if mask.dtype != bool or mask.shape != (len(frame),):
            raise ValueError(f"`{label}` must be a dict of column values (e.g. {{'Metadata_pert_type': 'control'}}) "
                             f"or a boolean mask of length {len(frame)}")
        return mask, f"{int(mask.sum())} rows given by a mask"
    rule, note = resolve_controls(frame, controls, label=label)
    if rule is None:
        return np.zeros(len(frame), dtype=bool), "no controls named"
    return rule.mask(frame), note or f"negative controls: {rule.describe()}"


# ----------------------------------------------------------------------------- pairs


@dataclass(frozen=True)
class PairRule:
    """Pairs of rows that agree on every ``same`` column and differ on every ``different`` column."""

    same: tuple[str, ...] = ()
    different: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "same", _names(self.same, "same"))
        object.__setattr__(self, "different", _names(self.different, "different"))
        overlap = set(self.same) & set(self.different)
        if overlap:
            raise ValueError(f"a column cannot be both same= and different=: {', '.join(sorted(overlap))}")

    @classmethod
    def of(cls, rule) -> "PairRule":
        """A PairRule from a PairRule, ``dict(same=[...], different=[...])`` or a list of same-columns."""
        if isinstance(rule, PairRule):
            return rule
        if isinstance(rule, Mapping):
            unknown = set(rule) - {"same", "different"}
            if unknown:
                raise ValueError(f"a pair rule takes same= and different=; got {', '.join(sorted(unknown))}")
            return cls(rule.get("same", ()), rule.get("different", ()))
        if isinstance(rule, (str, Sequence)):
            return cls(rule, ())
        raise ValueError(f"a pair rule is dict(same=[...], different=[...]); got {rule!r}")

    @property
    def columns(self) -> tuple[str, ...]:
        return self.same + self.different

    def describe(self) -> str:
        parts = [f"same {', '.join(self.same)}"] if self.same else []
        parts += [f"different {', '.join(self.different)}"] if self.different else []
        return "; ".join(parts) or "every pair"

    def codes(self, frame: pd.DataFrame) -> "PairCodes":
        """The columns as integer codes (missing values never equal anything, not even each other)."""
        check_columns(frame.columns, list(self.columns), "pair rule")
        return PairCodes(_code_matrix(frame, self.same), _code_matrix(frame, self.different))


def _names(names, argument) -> tuple[str, ...]:
    if names is None:
        return ()
    if isinstance(names, str):
        return (names,)
    out = tuple(names)
    if not all(isinstance(n, str) for n in out):
        raise ValueError(f"`{argument}` must name columns; got {out!r}")
    return out


def _code_matrix(frame: pd.DataFrame, columns) -> np.ndarray:
    """rows x columns integer codes; a missing value gets a code of its own per row."""
    out = np.empty((len(frame), len(columns)), dtype=np.int64)
    for j, column in enumerate(columns):
        codes, _ = pd.factorize(frame[column], sort=False)
        missing = codes < 0
        if missing.any():  # each missing cell unequal to every other cell
            codes = codes.copy()
            codes[missing] = codes.max(initial=-1) + 1 + np.arange(int(missing.sum()))
        out[:, j] = codes
    return out


@dataclass(frozen=True)
class PairCodes:
    """A PairRule's columns as codes: evaluates blocks of pairs."""

    same: np.ndarray
    different: np.ndarray

    def block(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """Boolean matrix (len(rows) x len(columns)): does pair (rows[i], columns[j]) satisfy the rule?"""
        out = np.ones((len(rows), len(columns)), dtype=bool)
        for j in range(self.same.shape[1]):
            out &= self.same[rows, j][:, None] == self.same[columns, j][None, :]
        for j in range(self.different.shape[1]):
            out &= self.different[rows, j][:, None] != self.different[columns, j][None, :]
        return out

    def group_key(self) -> np.ndarray:
        """One code per row for the ``same`` columns together (rows that may pair share it)."""
        if self.same.shape[1] == 0:
            return np.zeros(len(self.same), dtype=np.int64)
        _, key = np.unique(self.same, axis=0, return_inverse=True)
        return key.ravel()
