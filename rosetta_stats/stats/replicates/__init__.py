"""Replicate reproducibility: the paper's statistic and null, size-matched p-values, and Way et al.'s
well-matched null with the median Spearman statistic."""
from .reproducibility import NULLS, ReplicateResult, replicate_reproducibility

__all__ = ["NULLS", "ReplicateResult", "replicate_reproducibility"]
