"""The 'highly predictable' rule reproduces every Fig 2b count from the Fig 2a scores."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs

from tests.conftest import shared_file


def test_fig2b_counts_from_fig2a_scores():
    scores = pd.read_csv(shared_file("reference/paper_figures/fig2a_single_gene_scores.csv"))
    published = pd.read_csv(shared_file("reference/paper_figures/fig2b_highly_predictable_counts.csv"))
    for row in published.itertuples():
        fitted = scores[(scores["Dataset"] == row.dataset) & (scores["Model"] == row.model)]
        shuffled = scores[(scores["Dataset"] == row.dataset) & (scores["Model"] == f"{row.model}-random")]
        calls = rs.highly_predictable(fitted.set_index("gene")["r2"], shuffled["r2"]).table
        assert int(calls["highly_predictable"].sum()) == row.n_highly_predictable, row
        assert calls["threshold"].iloc[0] == pytest.approx(fitted["rand99th"].iloc[0] + 0.2, abs=1e-9)


def test_the_rule_by_hand():
    calls = rs.highly_predictable(pd.Series([0.1, 0.35, 0.5], index=["a", "b", "c"]), np.linspace(0, 0.1, 101)).table
    assert calls["threshold"].iloc[0] == pytest.approx(0.099 + 0.2)
    assert calls["highly_predictable"].tolist() == [False, True, True]
