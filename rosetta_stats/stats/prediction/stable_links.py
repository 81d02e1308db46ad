"""Which Cell Painting features carry which gene: stability selection of sparse models, not one fit.

For each gene, a Lasso of the gene on every feature is fitted on many random
halves of the perturbations (whole groups when rows are doses of a
compound); a link (feature, gene) is *stable* when the feature is chosen in
at least ``threshold`` of the halves. Meinshausen & Buhlmann (2010) bound
the expected number of false links of a gene, under exchangeability of the
noise features, by ``q^2 / ((2 threshold - 1) p)``, with ``q`` the mean
number of features a half chooses and ``p`` the number of features; the
table carries that bound per gene, the selection frequency, the share of
selections with the majority sign, and the mean coefficient. Features and
genes are standardised once, so coefficients compare across genes.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso
from tqdm.auto import tqdm

from ...common.result import Result
from ..core.paired import paired_matrices
from ..kernels.regression import standardize_columns


class StableLinksResult(Result):
    """One row per (gene, feature) chosen at least once: frequency, sign consistency, stable or not."""

    title = "Stable feature-gene links"

    def headline(self) -> list[str]:
        return [f"{self.estimates['n_stable_links']} stable links over {self.estimates['n_genes_with_links']} genes "
                f"(selection in >= {self.settings['threshold']:.0%} of {self.settings['n_subsamples']} halves); "
                f"expected false links at most {self.estimates['false_links_bound']:.2f} in all"]


def subsample_groups(groups: np.ndarray, n_subsamples: int, fraction: float, rng) -> list[np.ndarray]:
    """Row indices of ``n_subsamples`` random subsets holding ``fraction`` of the groups each."""
    unique = np.unique(groups)
    size = max(1, int(round(fraction * len(unique))))
    return [np.flatnonzero(np.isin(groups, rng.choice(unique, size, replace=False))) for _ in range(n_subsamples)]


def stable_links(cp, ge=None, key: str | None = None, alpha: float = 0.05, n_subsamples: int = 100,
                 fraction: float = 0.5, threshold: float = 0.75, seed: int | None = 0, groups=None,
                 include_controls: bool = False, genes=None, progress: bool = False) -> StableLinksResult:
    """Stability selection of Lasso links from Cell Painting features to each L1000 gene.

    ``alpha``: the Lasso penalty on standardised data (the paper's one fit
    used 0.02); ``threshold``: the selection frequency that makes a link
    stable (above 0.5); ``genes``: a subset of genes (default all).
    Returns gene, symbol, feature, category, frequency, sign_consistency,
    mean_coefficient, stable, false_links_bound (of the gene).
    """
    if not 0.5 < float(threshold) <= 1:
        raise ValueError(f"threshold must be above 0.5 and at most 1; got {threshold}")
    if not 0 < float(fraction) < 1:
        raise ValueError(f"fraction must be between 0 and 1; got {fraction}")
    if int(n_subsamples) < 2:
        raise ValueError(f"n_subsamples must be at least 2; got {n_subsamples}")
    m = paired_matrices(cp, ge, key, groups, include_controls)
    gene_index = list(range(len(m.ge_names)))
    if genes is not None:
        missing = [g for g in genes if g not in m.ge_names]
        if missing:
            raise ValueError(f"gene(s) not in the profiles: {', '.join(map(str, missing[:5]))}")
        gene_index = [m.ge_names.index(g) for g in genes]
    x, y = standardize_columns(m.cp), standardize_columns(m.ge[:, gene_index])
    rng = np.random.default_rng(seed)
    halves = subsample_groups(m.groups, int(n_subsamples), float(fraction), rng)
    chosen = np.zeros((len(gene_index), x.shape[1]))
    positive = np.zeros_like(chosen)
    coefficient_sum = np.zeros_like(chosen)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for rows in tqdm(halves, desc="stability selection", disable=not progress):
            xs, ys = standardize_columns(x[rows]), standardize_columns(y[rows])
            coef = Lasso(alpha=alpha, max_iter=10_000).fit(xs, ys).coef_.reshape(len(gene_index), -1)
            nonzero = coef != 0
            chosen += nonzero
            positive += coef > 0
            coefficient_sum += coef
    n, p = len(halves), x.shape[1]
    frequency = chosen / n
    q = chosen.sum(axis=1) / n  # mean number of features chosen per half, per gene
    bound = q ** 2 / ((2 * threshold - 1) * p)
    with np.errstate(invalid="ignore", divide="ignore"):
        sign = np.where(chosen > 0, np.maximum(positive, chosen - positive) / chosen, np.nan)
        mean_coef = np.where(chosen > 0, coefficient_sum / np.maximum(chosen, 1), 0.0)
    g_idx, f_idx = np.nonzero(chosen)
    names = [m.ge_names[i] for i in gene_index]
    table = pd.DataFrame({
        "gene": np.asarray(names)[g_idx], "feature": np.asarray(m.cp_names)[f_idx],
        "frequency": frequency[g_idx, f_idx], "sign_consistency": sign[g_idx, f_idx],
        "mean_coefficient": mean_coef[g_idx, f_idx], "stable": frequency[g_idx, f_idx] >= threshold,
        "false_links_bound": bound[g_idx],
    })
    if m.ge_annotations is not None and "symbol" in m.ge_annotations.columns:
        table.insert(1, "symbol", m.ge_annotations["symbol"].reindex(table["gene"]).to_numpy())
    if m.cp_annotations is not None and "category" in m.cp_annotations.columns:
        table.insert(table.columns.get_loc("feature") + 1, "category",
                     m.cp_annotations["category"].reindex(table["feature"]).to_numpy())
    table = table.sort_values(["stable", "frequency"], ascending=[False, False], kind="stable").reset_index(drop=True)
    settings = {"alpha": alpha, "n_subsamples": int(n_subsamples), "fraction": fraction, "threshold": threshold,
                "seed": seed}
    estimates = {"n_stable_links": int(table["stable"].sum()),
                 "n_genes_with_links": int(table.loc[table["stable"], "gene"].nunique()),
                 "false_links_bound": float(bound.sum()), "mean_features_per_half": float(q.mean())}
    notes = (f"{n} subsamples of {fraction:.0%} of the groups ({len(np.unique(m.groups))} groups)",
             "false_links_bound: Meinshausen & Buhlmann's bound on the expected number of false stable links of "
             "each gene, q^2 / ((2 threshold - 1) p)") + m.notes
    return StableLinksResult(table, settings, estimates, notes, m.inputs)
