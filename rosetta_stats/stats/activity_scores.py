"""Activity scores: how strongly and how reproducibly a perturbation changes the profile.

Our reading of the definitions Way et al. (2022) use for the two assays:

* signature strength: the number of features (genes) whose consensus value
  is at least ``z`` (2) in absolute value; the consensus is MODZ over the
  perturbation's replicates (:func:`rosetta_stats.treatment_level`), the
  profiles being z-scores against the controls;
* replicate correlation: the pairwise Spearman correlations of the
  replicates, summarised by their median and by their 75th percentile;
* TAS (transcriptional activity score, L1000, as clue.io defines it):
  ``sqrt(max(q75 correlation, 0) * signature strength / number of genes)``;
* MAS (morphological activity score, Cell Painting): the same with the
  median correlation and the number of features.

A perturbation with one replicate has no correlation and no score.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..common.matching import control_mask
from ..common.result import Result, merged_inputs
from ..data.profiles import Profiles
from ..data.treatment_level import modz_weights
from .core.inputs import profile_inputs
from .kernels.similarity import similarity_rows


class ActivityScores(Result):
    """Per perturbation: signature strength, replicate correlations, and the activity score."""

    title = "Activity scores"


def activity_scores(profiles_or_frame, perturbation: str | None = None, features=None, modality: str | None = None,
                    controls=None, z: float = 2.0, include_controls: bool = False) -> ActivityScores:
    """Signature strength, replicate correlation (median, 75th percentile) and TAS (L1000) or MAS (Cell Painting)."""
    is_profiles = isinstance(profiles_or_frame, Profiles)
    frame, perturbation, features = profile_inputs(profiles_or_frame, perturbation, features)
    modality = modality or (profiles_or_frame.modality if is_profiles else "cp")
    if controls is not None:
        control = control_mask(frame, controls, "controls")[0]
    else:
        control = profiles_or_frame.controls if is_profiles else np.zeros(len(frame), bool)
    keep = frame[perturbation].notna().to_numpy() & (include_controls | ~control)
    matrix = frame.loc[keep, list(features)].to_numpy(dtype=float)
    codes, names = pd.factorize(frame.loc[keep, perturbation], sort=True)
    units = similarity_rows(matrix, "spearman")
    rows = []
    for g, name in enumerate(names):
        members = np.flatnonzero(codes == g)
        consensus = modz_weights(matrix[members]) @ matrix[members]
        strength = int((np.abs(consensus) >= z).sum())
        if len(members) >= 2:
            corr = (units[members] @ units[members].T)[np.triu_indices(len(members), 1)]
            median, q75 = float(np.median(corr)), float(np.quantile(corr, 0.75))
        else:
            median = q75 = np.nan
        chosen = q75 if modality == "ge" else median
        score = float(np.sqrt(max(chosen, 0.0) * strength / len(features))) if np.isfinite(chosen) else np.nan
        rows.append((name, len(members), strength, median, q75, score))
    name = "tas" if modality == "ge" else "mas"
    table = pd.DataFrame(rows, columns=["perturbation", "n_replicates", "signature_strength",
                                        "replicate_correlation_median", "replicate_correlation_q75", name])
    settings = {"modality": modality, "z": z, "score": name.upper(), "consensus": "MODZ"}
    estimates = {f"median_{name}": float(table[name].median()), "n_perturbations": int(len(table))}
    notes = (list(profiles_or_frame.notes) if is_profiles else []) + [
        f"{name.upper()} = sqrt(max({'q75' if name == 'tas' else 'median'} replicate Spearman correlation, 0) x "
        f"features with |MODZ consensus| >= {z:g} / {len(features)} features)"]
    return ActivityScores(table, settings, estimates, tuple(notes), merged_inputs(profiles_or_frame) if is_profiles
                          else ())
