"""From a profile table and declared rules to what the retrieval engine scores: queries, pools, codes.

The rules (see :mod:`rosetta_stats.common.matching`):

* ``positives``: a pair rule; default ``same=[perturbation]``. A query's
  positives are the other non-control rows that satisfy it.
* ``negatives``: "negcon" (the reference rows, by default the negative
  controls), "others" (every non-control row outside the query's own
  group), or a pair rule (rows of the pool that satisfy it; the pool is the
  ``reference`` rows when given, else every row).
* ``multilabel``: a column whose values list labels separated by ``|``;
  a row then queries once per label, its positives are the rows that carry
  that label, and (for "others" and rule negatives) its negatives share
  none of its labels.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...common.matching import PairRule
from ...common.validation import check_columns
from .engine import Design

NEGATIVE_KINDS = ("negcon", "others")
SEPARATOR = "|"


@dataclass(frozen=True)
class Queries:
    """The queries of a design: row, group (the table row it counts for) and, with labels, its label."""

    rows: np.ndarray
    groups: np.ndarray  # group code per query
    group_names: pd.DataFrame  # one row per group code: the group's column values
    labels: np.ndarray | None = None


def label_matrix(values: pd.Series, separator: str = SEPARATOR) -> tuple[np.ndarray, list[str]]:
    """rows x labels membership from ``a|b`` cells (blank and missing cells carry no label)."""
    lists = [sorted({part.strip() for part in str(v).split(separator) if part.strip()}) if not pd.isna(v) else []
             for v in values]
    names = sorted({label for labels in lists for label in labels})
    index = {name: i for i, name in enumerate(names)}
    matrix = np.zeros((len(values), len(names)), dtype=bool)
    for row, labels in enumerate(lists):
        matrix[row, [index[label] for label in labels]] = True
    return matrix, names


def build_design(frame: pd.DataFrame, positives: PairRule, negatives, control: np.ndarray, usable: np.ndarray,
                 reference: np.ndarray | None, multilabel: str | None) -> tuple[Design, Queries]:
    """The engine's design and the queries for one table (rows already filtered to ``usable``)."""
    if isinstance(negatives, str):
        if negatives not in NEGATIVE_KINDS:
            raise ValueError(f"unknown negatives {negatives!r}; choose negcon, others or dict(same=..., different=...)")
        rule = PairRule()
    else:
        rule = PairRule.of(negatives)
    check_columns(frame.columns, list(positives.columns) + list(rule.columns), "positives/negatives")
    same_columns = [c for c in positives.same if c != multilabel]
    if multilabel is not None:
        check_columns(frame.columns, [multilabel], "multilabel")
    pos_codes = positives.codes(frame)
    if same_columns:
        pos_key = frame[same_columns].groupby(same_columns, sort=True, dropna=True).ngroup().to_numpy()
    else:
        pos_key = np.zeros(len(frame), dtype=np.int64)
    missing_key = pos_key < 0
    pos_key = np.where(missing_key, -1 - np.arange(len(frame)), pos_key)  # a missing key pairs with nothing
    neg_codes = rule.codes(frame)
    query_ok = usable & ~control & ~missing_key
    labels = None
    if negatives == "negcon":
        pool_mask = (reference if reference is not None else control) & usable
        if not pool_mask.any():
            raise ValueError("negatives='negcon' needs negative-control rows: pass controls=... "
                             "(e.g. {'Metadata_pert_type': 'control'}) or use negatives='others'")
        exclude_group = False
    elif negatives == "others":
        pool_mask = usable & ~control
        exclude_group = True
    else:
        pool_mask = (reference if reference is not None else np.ones(len(frame), bool)) & usable
        exclude_group = False
    pos_different = pos_codes.different
    if multilabel is not None:
        labels, label_names = label_matrix(frame[multilabel])
        labels &= (usable & ~control)[:, None]
    design = Design(pos_key=pos_key, pos_different=pos_different, neg_same=neg_codes.same,
                    neg_different=neg_codes.different, pool=np.flatnonzero(pool_mask), exclude_group=exclude_group,
                    labels=labels, positive_ok=usable & ~control)
    if multilabel is None:
        rows = np.flatnonzero(query_ok)
        used, group_codes = np.unique(pos_key[rows], return_inverse=True)
        first = rows[np.unique(group_codes, return_index=True)[1]]
        names = frame[same_columns].iloc[first].reset_index(drop=True) if same_columns else pd.DataFrame(index=[0])
        return design, Queries(rows, group_codes.ravel(), names)
    member_rows, member_labels = np.nonzero(labels & query_ok[:, None])
    keyed = pd.DataFrame({multilabel: np.asarray(label_names, dtype=object)[member_labels]})
    for column in same_columns:
        keyed[column] = frame[column].to_numpy()[member_rows]
    keyed = keyed[same_columns + [multilabel]]
    group_codes = keyed.groupby(list(keyed.columns), sort=True).ngroup().to_numpy()
    first = np.unique(group_codes, return_index=True)[1]
    names = keyed.iloc[first].reset_index(drop=True)
    return design, Queries(member_rows, group_codes, names, member_labels)
