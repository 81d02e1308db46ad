"""rosetta_stats: statistics for paired Cell Painting and L1000 profiles.

The Rosetta collection pairs Cell Painting (CP, morphology) and L1000 (GE,
978 landmark genes) profiles of the same perturbations. This package gets
the data, aggregates and normalises it with the R package cytominer
(through rpy2), computes replicate reproducibility, cross-modal
correlation and single-gene predictability, and hands every result to R.
"""
from .version import __version__

# data: registry, downloads, reading, controls, cleaning, treatment level, pairing, simulators
from .data.registry import DATASETS, get_dataset, list_files
from .data.download import DownloadError, ETagMismatchError, download_dataset, download_file
from .data.features import infer_cp_features, infer_features, infer_ge_features
from .data.profiles import Profiles
from .data.controls import ControlSpec
from .data.read import load_profiles, read_profiles
from .data.cleaning import clean_profiles
from .data.treatment_level import treatment_level
from .data.pairing import PairedProfiles, load_paired, pair, read_paired
from .data.keys import compound_of, normalize_dose_keys
from .data.controls import ControlRules
from .data.rosetta_like import RosettaLikeTruth, write_rosetta_like
from .data.simulate_cells import SingleCellTruth, simulate_single_cells
from .data.simulate_paired import PairedTruth, SimulatedPair, simulate_paired

# bridge: cytominer through rpy2, database tables
from .bridge.errors import CytominerError, RBackendUnavailable
from .bridge.database_tables import PostgresTable, SQLiteTable
from .bridge.cellprofiler_database import CellProfilerDatabase, cellprofiler_database
from .bridge.cytominer import aggregate, normalize, r_available, select_features
from .bridge.plate_profiles import PlateProfiles, profile_plate

# statistics
from .stats.multiple_testing import bh_qvalues
from .stats.replicates import ReplicateResult, replicate_reproducibility
from .stats.average_precision import AveragePrecisionResult, mean_average_precision
from .stats.modality_comparison import ModalityComparison, compare_modalities
from .stats.predictability import (
    PredictabilityResult,
    feature_predictability,
    gene_predictability,
    gene_predictability_by_category,
)
from .stats.category_enrichment import category_enrichment
from .data.feature_categories import feature_categories
from .stats.correlation import canonical_correlation, feature_gene_correlation, similarity_concordance
from .stats.reproducible_sets import ReproducibleSets, reproducible_sets
from .stats.paper_rules import highly_predictable
from .stats.moa_prediction import MoaPredictionResult, moa_prediction
from .data.gene_symbols import gene_symbols

# results folders
from .results.folders import read_results, write_results

__all__ = [
    "CytominerError",
    "RBackendUnavailable",
    "PostgresTable",
    "SQLiteTable",
    "CellProfilerDatabase",
    "cellprofiler_database",
    "aggregate",
    "normalize",
    "r_available",
    "select_features",
    "PlateProfiles",
    "profile_plate",
    "infer_cp_features",
    "infer_features",
    "infer_ge_features",
    "SingleCellTruth",
    "simulate_single_cells",
    "PairedTruth",
    "SimulatedPair",
    "simulate_paired",
    "Profiles",
    "ControlSpec",
    "clean_profiles",
    "treatment_level",
    "PairedProfiles",
    "load_profiles",
    "pair",
    "load_paired",
    "compound_of",
    "normalize_dose_keys",
    "ControlRules",
    "RosettaLikeTruth",
    "write_rosetta_like",
    "read_profiles",
    "DATASETS",
    "get_dataset",
    "list_files",
    "ReplicateResult",
    "bh_qvalues",
    "replicate_reproducibility",
    "AveragePrecisionResult",
    "mean_average_precision",
    "ModalityComparison",
    "compare_modalities",
    "PredictabilityResult",
    "feature_predictability",
    "gene_predictability",
    "gene_predictability_by_category",
    "category_enrichment",
    "feature_categories",
    "canonical_correlation",
    "feature_gene_correlation",
    "similarity_concordance",
    "ReproducibleSets",
    "reproducible_sets",
    "highly_predictable",
    "MoaPredictionResult",
    "moa_prediction",
    "gene_symbols",
    "read_paired",
    "read_results",
    "write_results",
    "DownloadError",
    "ETagMismatchError",
    "download_dataset",
    "download_file",
    "__version__",
]
