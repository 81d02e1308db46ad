"""rosetta_stats: statistics for paired Cell Painting and L1000 profiles.

The Rosetta collection pairs Cell Painting (CP, morphology) and L1000 (GE,
978 landmark genes) profiles of the same perturbations. This package gets
the data, aggregates and normalises it with the R package cytominer
(through rpy2), computes replicate reproducibility, retrieval (mAP),
cross-modal correlation and single-gene predictability, and hands every
result to R.

Every public name is importable from here; the module holding it is imported
on first use, so ``import rosetta_stats`` (and the command line's ``--help``)
start without loading numpy, pandas or scikit-learn.
"""
from __future__ import annotations

import importlib

from .version import __version__

# public name -> the module that defines it
_EXPORTS = {
    "CytominerError": ".bridge.errors",
    "RBackendUnavailable": ".bridge.errors",
    "PostgresTable": ".bridge.database_tables",
    "SQLiteTable": ".bridge.database_tables",
    "CellProfilerDatabase": ".bridge.cellprofiler_database",
    "cellprofiler_database": ".bridge.cellprofiler_database",
    "aggregate": ".bridge.cytominer",
    "normalize": ".bridge.cytominer",
    "r_available": ".bridge.cytominer",
    "select_features": ".bridge.cytominer",
    "PlateProfiles": ".data.plate_profiles",
    "image_locations": ".data.image_locations",
    "profile_plate": ".data.plate_profiles",
    "infer_cp_features": ".data.features",
    "infer_features": ".data.features",
    "infer_ge_features": ".data.features",
    "SingleCellTruth": ".simulate.cells",
    "simulate_single_cells": ".simulate.cells",
    "PairedTruth": ".simulate.paired",
    "SimulatedPair": ".simulate.paired",
    "simulate_paired": ".simulate.paired",
    "Profiles": ".data.profiles",
    "ControlSpec": ".common.matching",
    "clean_profiles": ".data.cleaning",
    "treatment_level": ".data.treatment_level",
    "PairedProfiles": ".data.pairing",
    "load_profiles": ".data.read",
    "pair": ".data.pairing",
    "load_paired": ".data.pairing",
    "compound_of": ".data.keys",
    "normalize_dose_keys": ".data.keys",
    "ControlRules": ".common.matching",
    "RosettaLikeTruth": ".simulate.rosetta_like",
    "write_rosetta_like": ".simulate.rosetta_like",
    "read_profiles": ".data.read",
    "DATASETS": ".data.registry",
    "get_dataset": ".data.registry",
    "list_files": ".data.registry",
    "ReplicateResult": ".stats.replicates",
    "bh_qvalues": ".stats.core.multiple_testing",
    "replicate_reproducibility": ".stats.replicates",
    "AveragePrecisionResult": ".stats.retrieval.map",
    "mean_average_precision": ".stats.retrieval.map",
    "phenotypic_activity": ".stats.retrieval.framework",
    "phenotypic_distinctiveness": ".stats.retrieval.framework",
    "phenotypic_consistency": ".stats.retrieval.framework",
    "cross_modal_retrieval": ".stats.retrieval.cross_modal",
    "compare_reproducibility": ".analyses.fair_comparison",
    "activity_scores": ".stats.activity_scores",
    "percent_matching": ".stats.moa_matching",
    "spherize": ".data.transforms",
    "inverse_normal_transform": ".data.transforms",
    "generalized_log": ".data.transforms",
    "regress_out": ".data.transforms",
    "cell_count_baseline": ".stats.prediction.predictability",
    "TransferResult": ".stats.prediction.transfer",
    "transfer_predictability": ".stats.prediction.transfer",
    "transfer_counts": ".stats.prediction.transfer",
    "StableLinksResult": ".stats.prediction.stable_links",
    "stable_links": ".stats.prediction.stable_links",
    "to_anndata": ".results.formats",
    "read_gct": ".results.formats",
    "write_gct": ".results.formats",
    "write_h5ad": ".results.formats",
    "modality_activity": ".analyses.fair_comparison",
    "EffectSizeResult": ".analyses.effect_sizes",
    "effect_sizes": ".analyses.effect_sizes",
    "GoEnrichmentResult": ".analyses.go_enrichment",
    "go_enrichment": ".analyses.go_enrichment",
    "go_annotations": ".analyses.go_enrichment",
    "MoaClusteringResult": ".analyses.moa_clustering",
    "moa_clustering": ".analyses.moa_clustering",
    "CrossModalResult": ".stats.retrieval.cross_modal",
    "ModalityComparison": ".stats.reproducible_sets",
    "compare_modalities": ".stats.reproducible_sets",
    "PredictabilityResult": ".stats.prediction.predictability",
    "feature_predictability": ".stats.prediction.predictability",
    "gene_predictability": ".stats.prediction.predictability",
    "gene_predictability_by_category": ".stats.prediction.predictability",
    "category_enrichment": ".stats.category_enrichment",
    "feature_categories": ".data.feature_categories",
    "canonical_correlation": ".stats.correlation",
    "feature_gene_correlation": ".stats.correlation",
    "similarity_concordance": ".stats.correlation",
    "ReproducibleSets": ".stats.reproducible_sets",
    "reproducible_sets": ".stats.reproducible_sets",
    "highly_predictable": ".stats.paper_rules",
    "MoaPredictionResult": ".stats.prediction.moa",
    "moa_prediction": ".stats.prediction.moa",
    "gene_symbols": ".data.gene_symbols",
    "gene_probes": ".data.gene_symbols",
    "landmark_probes": ".data.gene_symbols",
    "PairRule": ".common.matching",
    "PRESETS": ".common.presets",
    "Preset": ".common.presets",
    "Result": ".common.result",
    "hierarchical_fdr": ".stats.core.multiple_testing",
    "classify_cp_columns": ".data.features",
    "read_paired": ".data.pairing",
    "read_results": ".results.folders",
    "write_results": ".results.folders",
    "DownloadError": ".data.download",
    "ETagMismatchError": ".data.download",
    "download_dataset": ".data.download",
    "download_file": ".data.download",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
