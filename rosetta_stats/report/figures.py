"""Figures of the report (matplotlib, Agg backend): each returns a PNG and an SVG of the same drawing.

Genes are shown by symbol, colour scales are fitted to the data (symmetric
about 0 at the largest |r| shown), the ranked R^2 plot carries its null
band, the highly-predictable line and the top genes' names.
"""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def save_figure(fig) -> dict[str, bytes]:
    """{"png": ..., "svg": ...} of one figure."""
    out = {}
    for kind in ("png", "svg"):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=kind, dpi=110, bbox_inches="tight")
        out[kind] = buffer.getvalue()
    plt.close(fig)
    return out


def _png(fig) -> bytes:
    return save_figure(fig)["png"]


def replicate_distribution(result, title: str) -> dict[str, bytes]:
    """Replicate correlations of the perturbations against the null, with the threshold line."""
    fig, ax = plt.subplots(figsize=(6, 4))
    observed = result.table["replicate_correlation"].dropna()
    bins = np.linspace(-1, 1, 61)
    ax.hist(result.null_sample, bins=bins, density=True, alpha=0.5, color="grey", label="null (random pairs)")
    ax.hist(observed, bins=bins, density=True, alpha=0.6, color="tab:blue", label="replicates")
    ax.axvline(result.threshold, color="tab:red", linestyle="--",
               label=f"{result.settings['null_percentile']:g}th percentile = {result.threshold:.3f}")
    ax.set_xlabel("mean replicate correlation")
    ax.set_ylabel("density")
    ax.set_title(f"{title}: {result.percent_replicating:.1f}% replicating")
    ax.legend(fontsize=8)
    return save_figure(fig)


def overlap_bars(sets) -> dict[str, bytes]:
    """Counts of perturbations reproducible in both modalities, one, or neither."""
    counts = sets.counts
    labels = {"both": "both", "only_cp": "only Cell Painting", "only_ge": "only L1000", "neither": "neither"}
    fig, ax = plt.subplots(figsize=(6, 3.5))
    bars = ax.bar([labels[k] for k in counts], list(counts.values()),
                  color=["tab:purple", "tab:blue", "tab:orange", "lightgrey"])
    ax.bar_label(bars)
    ax.set_ylabel("perturbations")
    ax.set_title("Reproducible across modalities")
    return save_figure(fig)


def ranked_r2(table: pd.DataFrame, alpha: float = 0.05, label: str = "symbol", n_labels: int = 10,
              title: str = "How well morphology predicts each gene") -> dict[str, bytes]:
    """Per-output cross-validated R^2, ranked: significant ones coloured, the null's 95th percentile as a
    band, the paper's highly-predictable line when computed, the best outputs named."""
    ordered = table.sort_values("r2", ascending=False).reset_index(drop=True)
    names = ordered[label] if label in ordered.columns else ordered.iloc[:, 0]
    significant = (ordered["q_value"] < alpha).to_numpy() if ordered["q_value"].notna().any() else \
        np.zeros(len(ordered), bool)
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    rank = np.arange(1, len(ordered) + 1)
    if "r2_null_q95" in ordered.columns and ordered["r2_null_q95"].notna().any():
        band = ordered["r2_null_q95"].to_numpy()
        ax.fill_between(rank, np.minimum(band, 0), band, color="lightgrey", step="mid",
                        label="permutation null (95th percentile)")
    if "r2_shuffled" in ordered.columns:
        threshold = float(np.percentile(ordered["r2_shuffled"], 99)) + 0.2
        ax.axhline(threshold, color="tab:red", linestyle="--", linewidth=1,
                   label=f"highly predictable (paper): {threshold:.2f}")
    ax.scatter(rank[~significant], ordered.loc[~significant, "r2"], s=6, color="grey",
               label=f"q >= {alpha:g}")
    ax.scatter(rank[significant], ordered.loc[significant, "r2"], s=6, color="tab:green",
               label=f"q < {alpha:g} ({int(significant.sum())})")
    for i in range(min(n_labels, len(ordered))):
        ax.annotate(str(names.iloc[i]), (rank[i], ordered["r2"].iloc[i]), fontsize=7, xytext=(4, 2 - 7 * (i % 3)),
                    textcoords="offset points")
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_xlabel("rank")
    ax.set_ylabel("cross-validated R^2")
    ax.set_title(title)
    ax.legend(fontsize=7)
    return save_figure(fig)


def correlation_heatmap(table: pd.DataFrame, n: int = 20) -> dict[str, bytes]:
    """Correlations among the features and genes of the strongest pairs (genes named by symbol)."""
    top = table.head(400)
    gene_column = "symbol" if "symbol" in table.columns else "gene"
    genes = list(dict.fromkeys(top[gene_column]))[:n]
    features = list(dict.fromkeys(top["feature"]))[:n]
    grid = (table[table[gene_column].isin(genes) & table["feature"].isin(features)]
            .pivot_table(index="feature", columns=gene_column, values="r").reindex(index=features, columns=genes))
    values = grid.to_numpy(dtype=float)
    limit = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    fig, ax = plt.subplots(figsize=(8, 6.5))
    image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(range(len(genes)), genes, rotation=90, fontsize=6)
    ax.set_yticks(range(len(features)), features, fontsize=6)
    fig.colorbar(image, ax=ax, label=f"Pearson r (scale +-{limit:.2f})")
    ax.set_title("Top feature x gene correlations")
    return save_figure(fig)


def canonical_bars(result) -> dict[str, bytes]:
    """Held-out canonical correlations against their permutation null."""
    table = result.table
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(table["component"] - 0.2, table["heldout_correlation"], width=0.4,
           yerr=table["heldout_sd"], label="held-out", color="tab:blue")
    ax.bar(table["component"] + 0.2, table["null_mean"], width=0.4, label="permutation null", color="grey")
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_xlabel("canonical component")
    ax.set_ylabel("correlation on held-out folds")
    ax.set_title("Held-out canonical correlations")
    ax.legend(fontsize=8)
    return save_figure(fig)


def category_bars(table: pd.DataFrame, n: int = 15) -> dict[str, bytes]:
    """Share of predictable features per category (the paper's Fig 3b), enriched ones marked."""
    shown = table.sort_values("ratio", ascending=False).head(n)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    colours = np.where(shown["q_value"] < 0.05, "tab:green", "grey")
    ax.barh(shown.iloc[:, 0].astype(str)[::-1], shown["ratio"][::-1], color=colours[::-1])
    ax.set_xlabel("predictable features / features in the category")
    ax.set_title("Which feature categories carry gene information")
    return save_figure(fig)


def moa_f1_bars(table: pd.DataFrame) -> dict[str, bytes]:
    """Macro F1 per modality and model, mean and spread over folds, with the chance level (as Fig 4b)."""
    order = [m for m in ["cp", "ge", "early_fusion", "late_fusion"] if m in set(table["modality"])]
    names = {"cp": "CP", "ge": "GE", "early_fusion": "early fusion", "late_fusion": "late fusion"}
    chance = table.loc[table["modality"] == "chance", "macro_f1"].mean()
    scores = table[table["modality"] != "chance"]
    models = list(dict.fromkeys(scores["model"]))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    width = 0.8 / max(len(models), 1)
    for i, model in enumerate(models):
        part = scores[scores["model"] == model].groupby("modality")["macro_f1"]
        means, sds = part.mean().reindex(order), part.std().reindex(order)
        ax.bar(np.arange(len(order)) + i * width, means, width, yerr=sds, label=model, capsize=3)
    ax.axhline(chance, color="grey", linestyle="--", label="chance")
    ax.set_xticks(np.arange(len(order)) + width * (len(models) - 1) / 2, [names[m] for m in order])
    ax.set_ylabel("macro F1 (over folds)")
    ax.legend(frameon=False)
    return save_figure(fig)


def map_vs_p(table: pd.DataFrame, alpha: float = 0.05) -> dict[str, bytes]:
    """The mAP framework's standard plot: mAP against -log10 p, significant groups coloured."""
    fig, ax = plt.subplots(figsize=(6, 4))
    p = np.clip(table["p_value"].to_numpy(float), 1e-300, 1)
    significant = (table["q_value"] < alpha).to_numpy()
    ax.scatter(table["map"][~significant], -np.log10(p[~significant]), s=10, color="grey",
               label=f"q >= {alpha:g}")
    ax.scatter(table["map"][significant], -np.log10(p[significant]), s=10, color="tab:green",
               label=f"q < {alpha:g} ({int(significant.sum())} of {len(table)})")
    ax.set_xlabel("mean average precision")
    ax.set_ylabel("-log10 p")
    ax.set_title("Retrieval of each group")
    ax.legend(fontsize=8)
    return save_figure(fig)


def rank_histogram(table: pd.DataFrame) -> dict[str, bytes]:
    """Where each perturbation's true partner ranks (as a fraction of the held-out candidates), against the
    flat line of chance, per direction."""
    fig, ax = plt.subplots(figsize=(6, 4))
    bins = np.linspace(0, 1, 21)
    for direction, part in table.groupby("direction"):
        quantile = (part["rank"] - 0.5) / part["n_candidates"]
        ax.hist(quantile, bins=bins, density=True, histtype="step", linewidth=1.5, label=direction)
    ax.axhline(1.0, color="grey", linestyle="--", label="chance")
    ax.set_xlabel("partner's rank / held-out candidates (0 = first)")
    ax.set_ylabel("density")
    ax.set_title("Cross-modal retrieval of the true partner")
    ax.legend(fontsize=8)
    return save_figure(fig)
