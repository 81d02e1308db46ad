"""The end-to-end report: reproducibility, overlap, predictability both ways, correlation, MoA, figures.

``build_report(cp, ge, out_dir)`` takes replicate-level (or consensus) Profiles
of the two modalities, runs every analysis the data allow, and writes one
folder through :func:`rosetta_stats.results.folders.write_results`: CSV + RDS
tables, ``manifest.json``, each figure as PNG and SVG, and ``report.md``. A
section the data cannot support (replicates of consensus profiles, MoA
prediction without MoA labels) is skipped, and the report says why. Every
number in the prose is read from the table it summarises
(:mod:`rosetta_stats.report.text`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

import pandas as pd

from . import analysis_figures as analysis_plots
from . import figures as plots
from .text import markdown
from ..common.presets import resolve_preset
from ..common.result import Result
from ..data.pairing import pair
from ..data.profiles import Profiles
from ..data.read import read_profiles
from ..data.treatment_level import treatment_level
from ..results.folders import write_results
from ..results.output_folder import check_output
from ..stats.category_enrichment import category_enrichment
from ..stats.correlation import canonical_correlation, feature_gene_correlation, similarity_concordance
from ..stats.prediction.moa import moa_prediction
from ..stats.prediction.predictability import feature_predictability, gene_predictability
from ..stats.replicates import replicate_reproducibility
from ..stats.reproducible_sets import reproducible_sets

TABLES = ("replicate_reproducibility_cp", "replicate_reproducibility_ge", "replicating_definitions",
          "reproducible_overlap", "single_gene_predictability", "single_feature_predictability",
          "feature_category_enrichment", "go_enrichment", "feature_gene_correlation", "canonical_correlation",
          "moa_prediction", "moa_per_class_f1", "moa_comparisons", "moa_clustering", "moa_clustering_by_run")
FIGURES = ("replicate_correlation_cp", "replicate_correlation_ge", "reproducible_overlap", "gene_r2_ranked",
           "feature_r2_ranked", "feature_categories", "go_enrichment", "top_correlations_heatmap",
           "canonical_correlations", "moa_f1", "moa_jaccard")
WELL_COLUMNS = ("Metadata_Well", "Metadata_well", "det_well")


@dataclass(frozen=True)
class Report:
    out_dir: Path
    text: str
    results: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)  # section -> why it was not run


def _replicates(profiles: Profiles, label: str, n_null: int, seed: int, preset, skipped: dict, client=None):
    """The modality's replicate result, or None (and why) when it has no replicates."""
    counts = profiles.data[profiles.perturbation][~profiles.controls].value_counts()
    if not (counts >= 2).any():
        skipped[f"replicates_{label}"] = (f"{'Cell Painting' if label == 'cp' else 'L1000'} has one row per "
                                          "perturbation (consensus profiles): there are no replicates to compare")
        return None
    return replicate_reproducibility(profiles, n_null=n_null, seed=seed, preset=preset, client=client)


def _definitions(profiles: Profiles | None, result, label: str, n_null: int, seed: int) -> list[tuple]:
    """Percent replicating of one modality under the three definitions (paper, ours, Way et al. 2022)."""
    if result is None:
        return []
    table = result.table[result.table["n_replicates"] >= 2]
    rows = [(label, "paper: mean Pearson above the null's 90th percentile", 100.0 * table["above_threshold"].mean()),
            (label, "ours: size-matched null, q < 0.05", 100.0 * (table["q_value"] < 0.05).mean())]
    well = next((c for c in WELL_COLUMNS if c in profiles.data.columns), None)
    if well is not None:
        way = replicate_reproducibility(profiles, preset="way2022", well=well, n_null=min(n_null, 500), seed=seed)
        rows.append((label, "Way et al. 2022: median Spearman, well-matched null, p < 0.05",
                     float(way.estimates["percent_replicating"])))
    return rows


def _go(genes, skipped: dict):
    """GO enrichment of the predictable genes, or None (and why)."""
    from ..analyses.go_enrichment import go_enrichment
    from ..bridge.errors import RBackendUnavailable

    table = genes.table
    called = table["q_value"] < 0.05 if table["q_value"].notna().any() else table.get("highly_predictable")
    if called is None or not called.any():
        skipped["go"] = "no gene is predictable (q < 0.05, or the paper's call): nothing to test"
        return None
    try:
        return go_enrichment(list(table["gene"][called.astype(bool)]), universe=list(table["gene"]))
    except (RBackendUnavailable, ValueError) as exc:
        skipped["go"] = str(exc)
        return None


def _clusters(paired, moa: str | None, seed: int, skipped: dict):
    from ..analyses.moa_clustering import moa_clustering

    column = moa or next((c for c in ("Metadata_moa", "moa") if c in paired.cp.data.columns), None)
    if column is None:
        skipped["moa_clustering"] = "no MoA column on the Cell Painting side"
        return None
    try:
        return moa_clustering(paired, moa=column, n_runs=3, seed=seed)
    except ValueError as exc:
        skipped["moa_clustering"] = str(exc)
        return None


def _moa(paired, moa: str | None, seed: int, skipped: dict, progress: bool = False):
    column = moa or next((c for c in ("Metadata_moa", "moa") if c in paired.cp.data.columns
                          or c in paired.ge.data.columns), None)
    if column is None:
        skipped["moa"] = "no MoA column (Metadata_moa or moa) on either side"
        return None
    try:
        return moa_prediction(paired, moa=column, models=("logistic",), seed=seed, n_permutations=200,
                              progress=progress)
    except ValueError as exc:
        skipped["moa"] = str(exc)
        return None


def build_report(cp: Profiles, ge: Profiles, out_dir: str | os.PathLike, n_null: int = 1000,
                 n_permutations: int | None = None, seed: int = 0, model: str | None = None, inputs=(),
                 progress: bool = True, preface: str = "", overwrite: bool = False,
                 preset=None, moa: str | None = None, client=None) -> Report:
    """Run every analysis the profiles support and write the report folder.

    The output folder is checked before any work starts (new, empty, or an
    earlier report with ``overwrite=True``). ``preset`` and
    ``n_permutations`` reach every step they apply to; ``client`` (a
    ``dask.distributed.Client``) runs the nulls and permutations on its
    workers, with the same numbers as without it.
    """
    planned = ([f"{t}.{ext}" for t in TABLES for ext in ("csv", "rds")]
               + [f"{f}.{ext}" for f in FIGURES for ext in ("png", "svg")] + ["report.md", "manifest.json"])
    check_output(out_dir, planned, overwrite)
    preset = resolve_preset(preset)
    steps = tqdm(total=7, desc="report", disable=not progress)
    skipped: dict[str, str] = {}

    def step(name: str) -> None:
        steps.set_postfix_str(name)
        steps.update()

    rep_cp = _replicates(cp, "cp", n_null, seed, preset, skipped, client)
    rep_ge = _replicates(ge, "ge", n_null, seed, preset, skipped, client)
    definitions = None
    rows = _definitions(cp, rep_cp, "Cell Painting", n_null, seed) + _definitions(ge, rep_ge, "L1000", n_null, seed)
    if rows:
        definitions = Result(pd.DataFrame(rows, columns=["modality", "definition", "percent_replicating"]),
                             {"n_null": n_null, "seed": seed})
    step("replicates")
    paired = pair(treatment_level(cp), treatment_level(ge), match=preset.key_match)
    overlap = None
    if rep_cp is not None and rep_ge is not None:
        overlap = reproducible_sets(rep_cp, rep_ge, match_doses=preset.key_match != "raw",
                                    criterion=preset.overlap_criterion, alpha=0.05)
    else:
        skipped["overlap"] = "needs replicates in both modalities"
    step("pairing")
    genes = gene_predictability(paired, model=model, n_permutations=n_permutations, seed=seed,
                                progress=progress, preset=preset, client=client)
    go = _go(genes, skipped)
    step("gene predictability")
    features = feature_predictability(paired, model="ridge", n_permutations=min(genes.n_permutations, 100),
                                      seed=seed, client=client, progress=progress)
    enrichment = None
    if features.table["q_value"].notna().any():
        enrichment = category_enrichment(features)  # tested by the permutations, which keep feature correlations
    else:
        skipped["feature_categories"] = "no permutation p-values (n_permutations=0): nothing to call predictable"
    step("feature predictability")
    correlations = feature_gene_correlation(paired, progress=progress, client=client)
    cca = canonical_correlation(paired, n_permutations=min(genes.n_permutations or 100, 100), seed=seed,
                                client=client, progress=progress)
    mantel = similarity_concordance(paired, n_permutations=999, seed=seed, client=client, progress=progress)
    step("correlation")
    moa_result = _moa(paired, moa, seed, skipped, progress)
    clusters = _clusters(paired, moa, seed, skipped)
    step("MoA prediction")
    results = {"replicate_reproducibility_cp": rep_cp, "replicate_reproducibility_ge": rep_ge,
               "replicating_definitions": definitions,
               "reproducible_overlap": overlap, "single_gene_predictability": genes,
               "single_feature_predictability": features, "feature_category_enrichment": enrichment,
               "go_enrichment": go, "feature_gene_correlation": correlations, "canonical_correlation": cca,
               "moa_prediction": moa_result, "moa_clustering": clusters}
    results = {k: v for k, v in results.items() if v is not None}
    figures = _figures(results, correlations, features)
    text = markdown(preface, preset, results, paired, mantel, skipped, set(figures))
    files = {f"{name}.{kind}": payload for name, drawing in figures.items() for kind, payload in drawing.items()}
    written = dict(results)
    written["feature_gene_correlation"] = correlations.table.groupby("gene", sort=False).head(10)
    out = write_results(written, out_dir, inputs=inputs, overwrite=overwrite, notes=paired.notes,
                        extra_files={**files, "report.md": text.encode()})
    step("writing")
    steps.close()
    return Report(out, text, results, skipped)


def _figures(results: dict, correlations, features) -> dict[str, dict[str, bytes]]:
    out = {}
    for label, title in (("cp", "Cell Painting"), ("ge", "L1000")):
        if f"replicate_reproducibility_{label}" in results:
            out[f"replicate_correlation_{label}"] = plots.replicate_distribution(
                results[f"replicate_reproducibility_{label}"], title)
    if "reproducible_overlap" in results:
        out["reproducible_overlap"] = plots.overlap_bars(results["reproducible_overlap"])
    out["gene_r2_ranked"] = plots.ranked_r2(results["single_gene_predictability"].table)
    out["feature_r2_ranked"] = plots.ranked_r2(features.table, label="feature", n_labels=5,
                                               title="How well the genes predict each morphology feature")
    if "feature_category_enrichment" in results:
        out["feature_categories"] = plots.category_bars(results["feature_category_enrichment"].table)
    out["top_correlations_heatmap"] = plots.correlation_heatmap(correlations.table)
    out["canonical_correlations"] = plots.canonical_bars(results["canonical_correlation"])
    if "moa_prediction" in results:
        out["moa_f1"] = plots.moa_f1_bars(results["moa_prediction"].table)
    if "go_enrichment" in results:
        out["go_enrichment"] = analysis_plots.enrichment_bars(results["go_enrichment"].table)
    if "moa_clustering" in results:
        out["moa_jaccard"] = analysis_plots.jaccard_boxes(results["moa_clustering"].table)
    return out


def demo_report(out_dir, seed: int = 0, progress: bool = True, overwrite: bool = False, preset=None,
                n_permutations: int | None = None, client=None) -> Report:
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
                        progress=progress, preface=preface, overwrite=overwrite, preset=preset, client=client)


def dataset_report(dataset: str, root, out_dir, release: str = "csv", level: str | None = None,
                   cp_controls=None, ge_controls=None, preset=None, **options) -> Report:
    """The report on a downloaded Rosetta dataset (keys, controls and plates from the registry)."""
    from ..data.read import load_profiles

    chosen = resolve_preset(preset)
    cleaning = {"per_plate": True} if chosen.per_plate else {}
    level = chosen.pick(level, "cp_level") if release == "csv" else level
    cp = load_profiles(dataset, "cp", level, root, release=release, controls=cp_controls, **cleaning)
    ge = load_profiles(dataset, "ge", None, root, release=release, controls=ge_controls, **cleaning)
    preface = f"Rosetta dataset {dataset} ({release} release).\n\n"
    return build_report(cp, ge, out_dir, preface=preface, preset=preset, **options)


def file_report(cp_path, ge_path, cp_perturbation: str, ge_perturbation: str, out_dir, cp_controls=None,
                ge_controls=None, clean: bool = True, **options) -> Report:
    """The report on two profile files (replicate level or consensus)."""
    cp = read_profiles(cp_path, "cp", cp_perturbation, controls=cp_controls, clean=clean)
    ge = read_profiles(ge_path, "ge", ge_perturbation, controls=ge_controls, clean=clean)
    return build_report(cp, ge, out_dir, **options)
