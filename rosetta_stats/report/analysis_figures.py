"""Figures of the analyses beyond the paper's core: transfer, effect sizes, GO enrichment, MoA clustering.

Each returns PNG and SVG bytes (``{"png": ..., "svg": ...}``); genes are
labelled by symbol.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .figures import plt, save_figure


def transfer_scatter(table: pd.DataFrame, threshold: float = 0.2) -> dict[str, bytes]:
    """Each gene's test R^2 in one direction against the other, with the paper's threshold."""
    ways = list(dict.fromkeys(table["direction"]))
    fig, ax = plt.subplots(figsize=(5, 5))
    if len(ways) == 2:
        wide = table.pivot_table(index="gene", columns="direction", values="r2")
        ax.scatter(wide[ways[0]], wide[ways[1]], s=8, alpha=0.6)
        ax.set_xlabel(f"R^2, {ways[0]}")
        ax.set_ylabel(f"R^2, {ways[1]}")
        ax.axhline(threshold, color="grey", linestyle="--")
    else:
        ranked = table.sort_values("r2", ascending=False)
        ax.plot(np.arange(len(ranked)), ranked["r2"], ".", markersize=3)
        ax.set_xlabel("gene rank")
        ax.set_ylabel(f"R^2, {ways[0]}")
    ax.axvline(threshold, color="grey", linestyle="--") if len(ways) == 2 else ax.axhline(threshold, color="grey",
                                                                                        linestyle="--")
    ax.set_title(f"Leave-dataset-out transfer (R^2 > {threshold:g} dashed)")
    return save_figure(fig)


def effect_volcano(table: pd.DataFrame, alpha: float = 0.05, n_labels: int = 8) -> dict[str, bytes]:
    """Effect against -log10 p for every perturbation x feature test; the strongest labelled."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    significant = table["q_value"] < alpha
    logp = -np.log10(table["p_value"].clip(lower=1e-300))
    ax.scatter(table["effect"][~significant], logp[~significant], s=4, color="grey", alpha=0.5, label=f"q >= {alpha}")
    ax.scatter(table["effect"][significant], logp[significant], s=6, color="darkred", label=f"q < {alpha}")
    label = table.columns[2] if table.columns[2] in ("symbol", "category") else "feature"
    for _, row in table.assign(_logp=logp).nlargest(n_labels, "_logp").iterrows():
        ax.annotate(f"{row['perturbation']}: {row[label] if pd.notna(row[label]) else row['feature']}",
                    (row["effect"], row["_logp"]), fontsize=6)
    ax.set_xlabel("effect (perturbation - controls)")
    ax.set_ylabel("-log10 p (limma, moderated)")
    ax.legend(fontsize=8)
    ax.set_title("Effect sizes against the negative controls")
    return save_figure(fig)


def enrichment_bars(table: pd.DataFrame, n: int = 15) -> dict[str, bytes]:
    """The most enriched GO terms: -log10 q, with fold enrichment in the label."""
    top = table.head(n).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(top) + 1.2))
    ax.barh(np.arange(len(top)), -np.log10(top["q_value"].clip(lower=1e-300)), color="steelblue")
    ax.set_yticks(np.arange(len(top)))
    ax.set_yticklabels([f"{t[:50]} ({f:.1f}x)" for t, f in zip(top["term"], top["fold_enrichment"])], fontsize=7)
    ax.axvline(-np.log10(0.05), color="grey", linestyle="--")
    ax.set_xlabel("-log10 q")
    ax.set_title("GO enrichment (q = 0.05 dashed)")
    return save_figure(fig)


def jaccard_boxes(table: pd.DataFrame, published: pd.DataFrame | None = None) -> dict[str, bytes]:
    """Per method, the per-MoA Jaccard indices (boxes), with the medians of a published table as points."""
    methods = list(dict.fromkeys(table["method"]))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.boxplot([table.loc[table["method"] == m, "jaccard"] for m in methods], labels=methods, showfliers=False)
    if published is not None:
        for i, m in enumerate(methods):
            if m in published:
                ax.plot(i + 1, published[m], "r*", markersize=10)
    ax.set_ylabel("Jaccard index of each MoA's best cluster")
    ax.set_title("MoA clustering")
    return save_figure(fig)
