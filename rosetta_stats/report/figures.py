"""Figures of the report (matplotlib, Agg backend); each returns PNG bytes."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def replicate_distribution(result, title: str) -> bytes:
    """Replicate correlations of the perturbations against the null, with the threshold line."""
    fig, ax = plt.subplots(figsize=(6, 4))
    observed = result.table["replicate_correlation"].dropna()
    bins = np.linspace(-1, 1, 61)
    ax.hist(result.null_sample, bins=bins, density=True, alpha=0.5, color="grey", label="null (random pairs)")
    ax.hist(observed, bins=bins, density=True, alpha=0.6, color="tab:blue", label="replicates")
    ax.axvline(result.threshold, color="tab:red", linestyle="--",
               label=f"{result.null_percentile:g}th percentile = {result.threshold:.3f}")
    ax.set_xlabel("mean replicate correlation")
    ax.set_ylabel("density")
    ax.set_title(f"{title}: {result.percent_replicating:.1f}% replicating")
    ax.legend(fontsize=8)
    return _png(fig)


def overlap_bars(comparison) -> bytes:
    """Counts of perturbations reproducible in both modalities, one, or neither."""
    counts = comparison.counts
    labels = {"both": "both", "only_cp": "only Cell Painting", "only_ge": "only L1000", "neither": "neither"}
    fig, ax = plt.subplots(figsize=(6, 3.5))
    bars = ax.bar([labels[k] for k in counts], list(counts.values()),
                  color=["tab:purple", "tab:blue", "tab:orange", "lightgrey"])
    ax.bar_label(bars)
    ax.set_ylabel("perturbations")
    ax.set_title("Reproducible across modalities")
    return _png(fig)


def ranked_r2(table: pd.DataFrame, alpha: float = 0.05) -> bytes:
    """Per-gene cross-validated R^2, ranked, coloured by q-value."""
    ordered = table.sort_values("r2", ascending=False).reset_index(drop=True)
    significant = ordered["q_value"] < alpha
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter(ordered.index[~significant], ordered.loc[~significant, "r2"], s=6, color="grey",
               label=f"q >= {alpha:g}")
    ax.scatter(ordered.index[significant], ordered.loc[significant, "r2"], s=6, color="tab:green",
               label=f"q < {alpha:g} ({int(significant.sum())})")
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_xlabel("gene rank")
    ax.set_ylabel("cross-validated R^2")
    ax.set_title("How well morphology predicts each gene")
    ax.legend(fontsize=8)
    return _png(fig)


def correlation_heatmap(table: pd.DataFrame, n: int = 20) -> bytes:
    """Correlations among the features and genes of the strongest pairs."""
    top = table.head(400)
    genes = list(dict.fromkeys(top["gene"]))[:n]
    features = list(dict.fromkeys(top["feature"]))[:n]
    grid = (table[table["gene"].isin(genes) & table["feature"].isin(features)]
            .pivot_table(index="feature", columns="gene", values="r").reindex(index=features, columns=genes))
    fig, ax = plt.subplots(figsize=(8, 6.5))
    image = ax.imshow(grid.to_numpy(dtype=float), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(len(genes)), genes, rotation=90, fontsize=6)
    ax.set_yticks(range(len(features)), features, fontsize=6)
    fig.colorbar(image, ax=ax, label="Pearson r")
    ax.set_title("Top feature x gene correlations")
    return _png(fig)


def canonical_bars(result) -> bytes:
    """Held-out canonical correlations against their permutation null."""
    table = result.table
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(table["component"] - 0.2, table["heldout_correlation"], width=0.4,
           yerr=table["heldout_sd"], label="held-out", color="tab:blue")
    ax.bar(table["component"] + 0.2, table["null_mean"], width=0.4, label="permutation null", color="grey")
    ax.set_xlabel("canonical component")
    ax.set_ylabel("correlation on held-out folds")
    ax.set_title("Held-out canonical correlations")
    ax.legend(fontsize=8)
    return _png(fig)


def moa_f1_bars(table: pd.DataFrame) -> bytes:
    """Macro F1 per modality and model, mean and spread over folds, with the chance level (as Fig 4b)."""
    order = ["cp", "ge", "early_fusion", "late_fusion"]
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
    ax.set_xticks(np.arange(len(order)) + width * (len(models) - 1) / 2, ["CP", "GE", "early fusion", "late fusion"])
    ax.set_ylabel("macro F1 (over folds)")
    ax.legend(frameon=False)
    return _png(fig)
