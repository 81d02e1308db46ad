"""The end-to-end report: reproducibility, overlap, predictability, correlation, figures.

``build_report(cp, ge, out_dir)`` takes replicate-level Profiles of the two
modalities (perturbation columns set; negative controls marked), runs every
analysis, and writes one folder through :func:`rosetta_stats.results.folders.write_results`:
CSV + RDS tables, ``manifest.json``, PNG figures and ``report.md``.
``demo_report`` does the same on simulated data (``rosetta-stats report --demo``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from . import figures as plots
from ..data.treatment_level import treatment_level
from ..stats.correlation import canonical_correlation, feature_gene_correlation, similarity_concordance
from ..common.presets import describe_differences, resolve_preset
from ..results.folders import write_results
from ..results.output_folder import check_output
from ..data.pairing import pair
from ..data.read import read_profiles
from ..stats.reproducible_sets import reproducible_sets
from ..stats.prediction.predictability import gene_predictability
from ..data.profiles import Profiles
from ..stats.replicates import replicate_reproducibility

FIGURES = ("replicate_correlation_cp.png", "replicate_correlation_ge.png", "reproducible_overlap.png",
           "gene_r2_ranked.png", "top_correlations_heatmap.png", "canonical_correlations.png")
TABLES = ("replicate_reproducibility_cp", "replicate_reproducibility_ge", "reproducible_overlap",
          "single_gene_predictability", "feature_gene_correlation", "canonical_correlation")


@dataclass(frozen=True)
class Report:
    out_dir: Path
    text: str


def build_report(cp: Profiles, ge: Profiles, out_dir: str | os.PathLike, n_null: int = 1000,
                 n_permutations: int | None = None, seed: int = 0, model: str | None = None, inputs=(),
                 progress: bool = True, preface: str = "", overwrite: bool = False,
                 preset: str | None = None) -> Report:
    """Run every analysis on replicate-level CP and GE profiles and write the report folder.

    The output folder is checked before any work starts (new, empty, or an
    earlier report with ``overwrite=True``).
    """
    planned = [f"{t}.{ext}" for t in TABLES for ext in ("csv", "rds")] + ["report.md", "manifest.json"]
    check_output(out_dir, planned, overwrite)
    preset = resolve_preset(preset)
    steps = tqdm(total=6, desc="report", disable=not progress)
    rep_cp = replicate_reproducibility(cp, n_null=n_null, seed=seed, preset=preset)
    rep_ge = replicate_reproducibility(ge, n_null=n_null, seed=seed, preset=preset)
    steps.update()
    paired = pair(treatment_level(cp), treatment_level(ge), match=preset.key_match)
    overlap = reproducible_sets(rep_cp, rep_ge, match_doses=preset.key_match != "raw",
                                criterion=preset.overlap_criterion, alpha=0.05)
    steps.update()
    genes = gene_predictability(paired, model=model, n_permutations=n_permutations, seed=seed,
                                progress=progress, preset=preset)
    steps.update()
    all_correlations = feature_gene_correlation(paired).table
    correlations = all_correlations.groupby("gene", sort=False).head(10).reset_index(drop=True)
    cca = canonical_correlation(paired, n_permutations=min(genes.n_permutations or 100, 100), seed=seed)
    mantel = similarity_concordance(paired, n_permutations=999, seed=seed)
    steps.update()
    figures = {
        "replicate_correlation_cp.png": plots.replicate_distribution(rep_cp, "Cell Painting"),
        "replicate_correlation_ge.png": plots.replicate_distribution(rep_ge, "L1000"),
        "reproducible_overlap.png": plots.overlap_bars(overlap),
        "gene_r2_ranked.png": plots.ranked_r2(genes.table),
        "top_correlations_heatmap.png": plots.correlation_heatmap(all_correlations),
        "canonical_correlations.png": plots.canonical_bars(cca),
    }
    steps.update()
    if preset.name != "default":
        preface += (f"Preset {preset.name!r}: where the default mode differs, and why:\n\n"
                    + describe_differences(preset) + "\n\n")
    text = _markdown(preface, rep_cp, rep_ge, overlap, paired, genes, correlations, cca, mantel)
    results = dict(zip(TABLES, (rep_cp, rep_ge, overlap, genes, correlations, cca)))
    out = write_results(results, out_dir, inputs=inputs, overwrite=overwrite,
                        notes=paired.notes,
                        extra_files={**figures, "report.md": text.encode()})
    steps.update()
    steps.close()
    return Report(out, text)


def _markdown(preface, rep_cp, rep_ge, overlap, paired, genes, correlations, cca, mantel) -> str:
    top_genes = genes.table.nlargest(10, "r2")
    c = overlap.counts
    lines = [
        "# rosetta_stats report", "",
        *([preface, ""] if preface else []),
        "## Replicate reproducibility", "",
        "| modality | perturbations | threshold (null 90th pct.) | percent replicating | q < 0.05 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, r in (("Cell Painting", rep_cp), ("L1000", rep_ge)):
        lines.append(f"| {label} | {r.n_perturbations} | {r.threshold:.3f} | {r.percent_replicating:.1f}% | "
                     f"{int((r.table['q_value'] < 0.05).sum())} |")
    lines += ["", "![](replicate_correlation_cp.png)", "![](replicate_correlation_ge.png)", "",
              f"Reproducible (q < 0.05) in both modalities: {c['both']}; only Cell Painting: {c['only_cp']}; "
              f"only L1000: {c['only_ge']}; neither: {c['neither']}.", "", "![](reproducible_overlap.png)", "",
              "## Pairing", "", "```", paired.summary(), "```", "",
              "## Single-gene predictability", "",
              f"{len(paired.cp)} paired perturbations; {genes.model} with {genes.n_splits}-fold grouped "
              f"cross-validation and {genes.n_permutations} permutations. Median R^2 "
              f"{genes.table['r2'].median():.3f}; {int((genes.table['q_value'] < 0.05).sum())} of "
              f"{len(genes.table)} genes predictable at q < 0.05.", "",
              "| gene | R^2 | q |", "| --- | --- | --- |",
              *[f"| {g} | {r:.3f} | {q:.3g} |" for g, r, q in zip(top_genes["gene"], top_genes["r2"], top_genes["q_value"])],
              "", "![](gene_r2_ranked.png)", "",
              "## How the modalities relate", "",
              f"Strongest feature x gene correlation: {correlations['feature'].iloc[0]} with "
              f"{correlations['gene'].iloc[0]}, r = {correlations['r'].iloc[0]:.3f}. "
              f"{mantel.summary()}.", "",
              "![](top_correlations_heatmap.png)", "",
              "Held-out canonical correlations: " + ", ".join(
                  f"{v:.3f} (p = {p:.3g})" for v, p in zip(cca.table["heldout_correlation"], cca.table["p_value"])),
              "", "![](canonical_correlations.png)", "",
              "Every table is in this folder as CSV and RDS; `manifest.json` records the parameters. "
              "In R: `rosettabridge::read_results(\"<this folder>\")`.", ""]
    return "\n".join(lines)


def demo_report(out_dir, seed: int = 0, progress: bool = True, overwrite: bool = False, preset=None,
                n_permutations: int | None = None) -> Report:
    """The report on simulated paired data, preceded by the single-cell cytominer step."""
    from .demo import run_cytominer_demo
    from ..simulate.paired import simulate_paired

    cells = run_cytominer_demo(seed=seed, progress=progress)
    sim = simulate_paired(n_perturbations=300, n_replicates=3, n_cp_features=80, n_genes=150,
                          seed=seed)
    cp, ge = sim.to_profiles()
    preface = ("Simulated data (rosetta_stats.simulate_paired, TA-ORF layout, 300 perturbations x 3 "
               "replicates; planted: "
               f"{len(sim.truth.reproducible_cp)} reproducible in Cell Painting, "
               f"{len(sim.truth.reproducible_ge)} in L1000, {len(sim.truth.linear_genes)} linearly "
               "predictable genes).\n\n" + cells)
    return build_report(cp, ge, out_dir, n_null=1000, n_permutations=n_permutations, seed=seed,
                        progress=progress, preface=preface, overwrite=overwrite, preset=preset)


def dataset_report(dataset: str, root, out_dir, release: str = "csv", level: str | None = None,
                   cp_controls=None, ge_controls=None, preset: str | None = None, **options) -> Report:
    """The report on a downloaded Rosetta dataset (keys, controls and plates from the registry)."""
    from ..data.read import load_profiles

    cleaning = {"per_plate": True} if resolve_preset(preset).per_plate else {}
    cp = load_profiles(dataset, "cp", level, root, release=release, controls=cp_controls, **cleaning)
    ge = load_profiles(dataset, "ge", None, root, release=release, controls=ge_controls, **cleaning)
    preface = f"Rosetta dataset {dataset} ({release} release).\n\n"
    return build_report(cp, ge, out_dir, preface=preface, preset=preset, **options)


def file_report(cp_path, ge_path, cp_perturbation: str, ge_perturbation: str, out_dir, cp_controls=None,
                ge_controls=None, clean: bool = True, **options) -> Report:
    """The report on two profile files (replicate level)."""
    cp = read_profiles(cp_path, "cp", cp_perturbation, controls=cp_controls, clean=clean)
    ge = read_profiles(ge_path, "ge", ge_perturbation, controls=ge_controls, clean=clean)
    return build_report(cp, ge, out_dir, **options)
