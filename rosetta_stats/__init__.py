"""rosetta_stats: statistics for paired Cell Painting and L1000 profiles.

The Rosetta collection pairs Cell Painting (CP, morphology) and L1000 (GE,
978 landmark genes) profiles of the same perturbations. This package gets
the data, aggregates and normalises it with the R package cytominer
(through rpy2), computes replicate reproducibility, cross-modal
correlation and single-gene predictability, and hands every result to R.
"""
from .tables import PostgresTable, SQLiteTable
from .cytominer import (
    CytominerError,
    RBackendUnavailable,
    aggregate,
    normalize,
    r_available,
    select_features,
)
from .features import infer_cp_features, infer_features, infer_ge_features
from .simulate_cells import SingleCellTruth, simulate_single_cells
from .simulate import PairedTruth, SimulatedPair, simulate_paired
from .profiles import Profiles
from .cleaning import clean_profiles, treatment_level
from .loading import PairedProfiles, load_profiles, pair, read_profiles
from .registry import DATASETS, get_dataset, list_files
from .replicates import ReplicateResult, bh_qvalues, replicate_reproducibility
from .average_precision import AveragePrecisionResult, mean_average_precision
from .modality_comparison import ModalityComparison, compare_modalities
from .predictability import PredictabilityResult, feature_predictability, gene_predictability
from .correlation import canonical_correlation, feature_gene_correlation, similarity_concordance
from .loading import read_paired
from .handoff import read_results, write_results
from .download import DownloadError, ETagMismatchError, download_dataset, download_file

__version__ = "0.1.0"

__all__ = [
    "CytominerError",
    "RBackendUnavailable",
    "PostgresTable",
    "SQLiteTable",
    "aggregate",
    "normalize",
    "r_available",
    "select_features",
    "infer_cp_features",
    "infer_features",
    "infer_ge_features",
    "SingleCellTruth",
    "simulate_single_cells",
    "PairedTruth",
    "SimulatedPair",
    "simulate_paired",
    "Profiles",
    "clean_profiles",
    "treatment_level",
    "PairedProfiles",
    "load_profiles",
    "pair",
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
    "canonical_correlation",
    "feature_gene_correlation",
    "similarity_concordance",
    "read_paired",
    "read_results",
    "write_results",
    "DownloadError",
    "ETagMismatchError",
    "download_dataset",
    "download_file",
    "__version__",
]
