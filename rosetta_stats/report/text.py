"""The report's prose: every number read from the table it summarises, every claim only where it holds.

Counts come from the tables that are written beside ``report.md`` (a test
recomputes each from the CSV): percent replicating from ``above_threshold``,
discoveries from ``q_value`` when there are p-values (and, in paper mode,
from ``highly_predictable``), categories from ``category``. Genes are named
by symbol.
"""
from __future__ import annotations

import numpy as np

from ..common.presets import describe_differences


def _replicate_rows(results) -> list[str]:
    lines = ["| modality | perturbations with replicates | threshold (null 90th pct.) | percent replicating | "
             "q < 0.05 |", "| --- | --- | --- | --- | --- |"]
    for label, key in (("Cell Painting", "cp"), ("L1000", "ge")):
        result = results.get(f"replicate_reproducibility_{key}")
        if result is None:
            continue
        table = result.table
        scored = int(table["replicate_correlation"].notna().sum())
        above = int(table["above_threshold"].sum())
        has_p = table["p_value"].notna().any()
        q = f"{int((table['q_value'] < 0.05).sum())}" if has_p else "no p-values (threshold only)"
        lines.append(f"| {label} | {scored} | {result.estimates['threshold']:.3f} | "
                     f"{100 * above / max(scored, 1):.1f}% ({above} of {scored}) | {q} |")
    return lines


def _overlap_sentence(result) -> str:
    table = result.table
    rule = ("above each modality's null threshold" if result.settings["criterion"] == "above_threshold"
            else f"q < {result.settings['alpha']:g} in each modality")
    counts = table["category"].value_counts()
    return (f"Reproducible ({rule}), among the {int(table['category'].notna().sum())} perturbations measured in "
            f"both: both {int(counts.get('both', 0))}; only Cell Painting {int(counts.get('only_cp', 0))}; only "
            f"L1000 {int(counts.get('only_ge', 0))}; neither {int(counts.get('neither', 0))}.")


def _prediction_sentence(result, what: str) -> str:
    table = result.table
    s = result.settings
    sentence = (f"{result.estimates['n_samples']} paired perturbations; {s['model']} with {s['n_splits']}-fold "
                f"grouped cross-validation. Median R^2 {table['r2'].median():.3f}.")
    if table["p_value"].notna().any():
        sentence += (f" {int((table['q_value'] < 0.05).sum())} of {len(table)} {what} predictable at q < 0.05 "
                     f"({s['n_permutations']} permutations).")
    else:
        sentence += " No permutation p-values (n_permutations = 0)."
    if "highly_predictable" in table.columns:
        sentence += (f" {int(table['highly_predictable'].sum())} of {len(table)} {what} highly predictable by the "
                     "paper's rule (R^2 above the 99th percentile of the one-shuffle scores + 0.2).")
    return sentence


def _top_genes(table, n: int = 10) -> list[str]:
    top = table.nlargest(n, "r2")
    show_q = table["q_value"].notna().any()
    lines = ["| gene | probe | R^2 | " + ("q |" if show_q else ""), "| --- | --- | --- | " + ("--- |" if show_q else "")]
    for row in top.itertuples():
        symbol = row.symbol if isinstance(getattr(row, "symbol", None), str) else row.gene
        lines.append(f"| {symbol} | {row.gene} | {row.r2:.3f} | " + (f"{row.q_value:.3g} |" if show_q else ""))
    return lines


def _figure(name: str, figures: set) -> list[str]:
    return [f"![]({name}.png) ([vector]({name}.svg))", ""] if name in figures else []


def markdown(preface: str, preset, results: dict, paired, mantel, skipped: dict, figures: set) -> str:
    lines = ["# rosetta_stats report", ""]
    if preset.name != "default":
        lines += [f"**Preset {preset.name!r}.** Where the default mode differs, and why:", "",
                  describe_differences(preset), ""]
    if preface:
        lines += [preface, ""]
    lines += ["## Replicate reproducibility", ""]
    if any(k.startswith("replicate_reproducibility") for k in results):
        lines += _replicate_rows(results) + [""]
        lines += _figure("replicate_correlation_cp", figures) + _figure("replicate_correlation_ge", figures)
    for key in ("replicates_cp", "replicates_ge", "overlap"):
        if key in skipped:
            lines += [f"Skipped ({key.replace('_', ' ')}): {skipped[key]}.", ""]
    if "replicating_definitions" in results:
        lines += ["Percent replicating under the three definitions in use (each perturbation with two or more "
                  "replicates):", "", "| modality | definition | percent replicating |", "| --- | --- | --- |"]
        lines += [f"| {row.modality} | {row.definition} | {row.percent_replicating:.1f} |"
                  for row in results["replicating_definitions"].table.itertuples()] + [""]
    if "reproducible_overlap" in results:
        lines += [_overlap_sentence(results["reproducible_overlap"]), ""] + _figure("reproducible_overlap", figures)
    lines += ["## Pairing", "", "```", paired.summary(), "```", ""]
    genes = results["single_gene_predictability"]
    lines += ["## Single-gene predictability", "", _prediction_sentence(genes, "genes"), ""]
    lines += _top_genes(genes.table) + [""] + _figure("gene_r2_ranked", figures)
    features = results["single_feature_predictability"]
    if "go_enrichment" in results:
        go = results["go_enrichment"]
        top = go.table[go.table["q_value"] < 0.05]
        lines += [f"GO terms enriched among the {go.estimates['n_selected']} predictable genes (of "
                  f"{go.estimates['n_universe']}; {go.settings['ontology']}, hypergeometric, BH): "
                  f"{len(top)} of {len(go.table)} with q < 0.05"
                  + (" (" + "; ".join(map(str, top["term"].head(5))) + ")" if len(top) else "") + ".", ""]
        lines += _figure("go_enrichment", figures)
    elif "go" in skipped:
        lines += [f"GO enrichment skipped: {skipped['go']}.", ""]
    lines += ["## The reverse direction: morphology features from the genes", "",
              _prediction_sentence(features, "features"), ""] + _figure("feature_r2_ranked", figures)
    if "feature_category_enrichment" in results:
        table = results["feature_category_enrichment"].table
        enriched = table[table["q_value"] < 0.05]
        lines += [f"Feature categories more predictable than the rest (q < 0.05; "
                  f"{results['feature_category_enrichment'].settings.get('test', 'enrichment test')}): {len(enriched)} of "
                  f"{len(table)}" + (f" ({', '.join(map(str, enriched.iloc[:5, 0]))})" if len(enriched) else "")
                  + ".", ""] + _figure("feature_categories", figures)
    lines += ["## How the modalities relate", ""]
    correlations = results["feature_gene_correlation"].table
    if len(correlations):
        best = correlations.iloc[0]
        gene = best["symbol"] if isinstance(best.get("symbol"), str) else best["gene"]
        lines += [f"Strongest feature x gene correlation: {best['feature']} with {gene}, r = {best['r']:.3f}. "
                  f"{mantel.summary().splitlines()[2]}.", ""]
    lines += _figure("top_correlations_heatmap", figures)
    cca = results["canonical_correlation"].table
    lines += ["Held-out canonical correlations: " + ", ".join(
        f"{v:.3f} (p = {p:.3g})" for v, p in zip(cca["heldout_correlation"], cca["p_value"])) + "."]
    if (cca["heldout_correlation"] < 0).any():
        lines += ["A negative held-out correlation means the direction found on the training folds does not "
                  "carry over to held-out perturbations: there is no shared signal along that component."]
    lines += [""] + _figure("canonical_correlations", figures)
    lines += ["## MoA prediction", ""]
    if "moa_prediction" in results:
        table = results["moa_prediction"].table
        means = table.groupby("modality")["macro_f1"].mean()
        lines += ["Mean macro F1 over folds: " + ", ".join(f"{m} {v:.3f}" for m, v in means.items()
                                                              if m != "chance")
                  + f"; chance {means.get('chance', np.nan):.3f}.", ""] + _figure("moa_f1", figures)
    else:
        lines += [f"Skipped: {skipped.get('moa', 'not run')}.", ""]
    if "moa_clustering" in results:
        medians = results["moa_clustering"].estimates["median_jaccard"]
        lines += ["MoA clustering (k-means into as many clusters as MoAs; Jaccard of each MoA's best cluster), "
                  "median: " + ", ".join(f"{m} {v:.3f}" for m, v in medians.items()) + ".", ""]
        lines += _figure("moa_jaccard", figures)
    lines += ["Every table is in this folder as CSV and RDS; `manifest.json` records the settings. "
              "In R: `rosettabridge::read_results(\"<this folder>\")`.", ""]
    return "\n".join(lines)
