"""Which feature categories are over-represented among predictable (or otherwise selected) features.

For each category (``channel-group``, see :func:`rosetta_stats.feature_categories`)
a one-sided Fisher's exact test on the 2 x 2 table (in the category or not,
selected or not); q-values are Benjamini-Hochberg over categories. The
``ratio`` column is the paper's Fig 3b quantity: selected / total within the category.
"""
from __future__ import annotations

import pandas as pd
from scipy import stats

from ..data.feature_categories import feature_categories
from ..common.result import TableResult
from .core.multiple_testing import bh_qvalues


class EnrichmentResult(TableResult):
    """One row per feature category: counts, ratio, odds ratio, p- and q-values (most enriched first)."""

    title = "Feature-category enrichment"


def category_enrichment(selected, by: str = "category") -> EnrichmentResult:
    """``selected``: a boolean Series indexed by feature name (True = predictable).

    Returns one row per category: category, n_selected, n_features, ratio,
    odds_ratio, p_value, q_value (most enriched first).
    """
    selected = pd.Series(selected).astype(bool)
    categories = feature_categories(selected.index).set_index("feature")[by]
    total_selected, total = int(selected.sum()), len(selected)
    rows = []
    for category, members in categories.groupby(categories, dropna=False):
        inside = selected.loc[members.index]
        a = int(inside.sum())
        b = len(inside) - a
        c = total_selected - a
        d = total - total_selected - b
        odds, p = stats.fisher_exact([[a, b], [c, d]], alternative="greater")
        rows.append((category, a, len(inside), a / len(inside), odds, p))
    table = pd.DataFrame(rows, columns=[by, "n_selected", "n_features", "ratio", "odds_ratio", "p_value"])
    table["q_value"] = bh_qvalues(table["p_value"].to_numpy())
    table = table.sort_values(["p_value", "ratio"], ascending=[True, False], kind="stable").reset_index(drop=True)
    return EnrichmentResult(table, {"by": by, "test": "Fisher's exact, one-sided"},
                            {"n_features": total, "n_selected": total_selected,
                             "n_q_below_0.05": int((table["q_value"] < 0.05).sum())})
