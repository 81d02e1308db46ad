"""The paper's decision rules, stated once.

``highly_predictable``: a gene (or feature) is highly predictable when its
score exceeds the 99th percentile, over all genes, of the scores the same
cross-validation gives after shuffling the outputs once, plus a margin of
0.2. Applied to the paper's own Fig 2a scores this rule gives every count of
Fig 2b (e.g. LUAD Lasso 574, TA-ORF MLP 54).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..common.result import TableResult


class HighlyPredictableResult(TableResult):
    """One row per gene: score, threshold, highly_predictable (the paper's rule)."""

    title = "Highly predictable (the paper's rule)"


def highly_predictable(scores, shuffled_scores, margin: float = 0.2, percentile: float = 99) -> HighlyPredictableResult:
    """One row per gene: score, threshold, highly_predictable (score > percentile(shuffled) + margin).

    ``scores`` is a Series indexed by gene (or a PredictabilityResult: its r2);
    ``shuffled_scores`` the same for the shuffled run (any index; only their
    distribution matters).
    """
    def as_series(values, label):
        if hasattr(values, "table"):
            table = values.table
            return table.set_index(table.columns[0])["r2"]
        if isinstance(values, pd.DataFrame):
            raise ValueError(f"{label}: give a Series of scores indexed by gene, or a predictability result")
        return pd.Series(values)

    observed = as_series(scores, "scores").astype(float)
    shuffled = as_series(shuffled_scores, "shuffled_scores").astype(float).dropna()
    if shuffled.empty:
        raise ValueError("shuffled_scores holds no finite score")
    threshold = float(np.percentile(shuffled.to_numpy(), percentile)) + float(margin)
    table = pd.DataFrame({"gene": observed.index, "score": observed.to_numpy(), "threshold": threshold,
                          "highly_predictable": (observed > threshold).to_numpy()})
    return HighlyPredictableResult(table, {"margin": float(margin), "percentile": float(percentile)},
                                   {"threshold": threshold, "n_highly_predictable": int(table["highly_predictable"].sum())})
