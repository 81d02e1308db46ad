"""Transforms of profiles: sphering against the controls, the inverse-normal transform, the generalised log.

Sphering (whitening) makes the reference rows (the negative controls)
uncorrelated with unit variance, so that a profile's distance from the
controls weighs every direction of control variation alike (Way et al.
2022 sphered Cell Painting before evaluation; so does JUMP's recipe). The
transform is fitted on the reference rows and applied to every row:

* ``"PCA"``: ``W = diag((lambda + epsilon)^-1/2) V'`` from the eigenvalues
  lambda and eigenvectors V of the reference covariance; the features
  become components ``PC1`` ... (what cytominer's ``whiten`` does; it runs
  through cytominer);
* ``"ZCA"``: ``V diag((lambda + epsilon)^-1/2) V'``, which keeps the
  feature names (the sphered profile stays closest to the original);
* ``"ZCA-cor"``: ZCA of the standardised features (of the correlation
  matrix), for features on different scales.

With epsilon -> 0 the reference rows' covariance becomes the identity (on
the directions where they vary); epsilon keeps directions of tiny variance
from being blown up.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..common.feature_matrix import with_feature_block
from ..common.matching import control_mask
from ..common.validation import check_choice
from .profiles import Profiles

METHODS = ("ZCA", "ZCA-cor", "PCA")


def sphering_matrix(reference: np.ndarray, method: str = "ZCA", epsilon: float = 1e-6):
    """(mean, scale, W): a row x is sphered as ``((x - mean) / scale) @ W.T``."""
    check_choice(method, METHODS, "method")
    mean = reference.mean(axis=0)
    scale = reference.std(axis=0, ddof=1) if method == "ZCA-cor" else np.ones(reference.shape[1])
    scale = np.where(scale > 0, scale, 1.0)
    covariance = np.atleast_2d(np.cov((reference - mean) / scale, rowvar=False))
    values, vectors = np.linalg.eigh(covariance)
    values, vectors = values[::-1], vectors[:, ::-1]
    inverse_root = 1.0 / np.sqrt(np.maximum(values, 0) + epsilon)
    w = inverse_root[:, None] * vectors.T  # PCA whitening
    if method != "PCA":
        w = vectors @ w  # ZCA: rotate back to the features
    return mean, scale, w


def spherize(profiles: Profiles, reference=None, method: str = "ZCA", epsilon: float = 1e-6) -> Profiles:
    """Profiles sphered against the ``reference`` rows (default: the negative controls); see the module.

    ``method="PCA"`` runs cytominer's ``whiten`` (through R) and names the
    features ``PC1`` ...; ``"ZCA"`` and ``"ZCA-cor"`` keep the feature names.
    """
    check_choice(method, METHODS, "method")
    if epsilon < 0:
        raise ValueError(f"epsilon must be >= 0; got {epsilon}")
    mask = control_mask(profiles.data, reference, "reference")[0] if reference is not None else profiles.controls
    n_reference = int(mask.sum())
    if n_reference < 2:
        raise ValueError(f"sphering needs at least 2 reference rows (the negative controls); found {n_reference}")
    features = list(profiles.features)
    note = (f"sphered ({method}, epsilon {epsilon:g}) against {n_reference} reference rows"
            + (f"; they are fewer than the {len(features)} features, so directions they do not span keep "
               "their scale times epsilon^-1/2" if n_reference <= len(features) else ""))
    if method == "PCA":
        from ..bridge.cytominer import whiten

        out = whiten(profiles.data, features, mask, regularization_param=epsilon)
        components = [c for c in out.columns if c.startswith("PC")]
        return profiles.with_data(out, features=components, note=note + " (cytominer's whiten)")
    values = profiles.data[features].to_numpy(dtype=float)
    mean, scale, w = sphering_matrix(values[mask], method, epsilon)
    sphered = ((values - mean) / scale) @ w.T
    return profiles.with_data(with_feature_block(profiles.data, features, sphered), note=note)


def inverse_normal_transform(profiles: Profiles) -> Profiles:
    """Each feature replaced by the normal quantiles of its ranks (Blom's offsets: (r - 3/8) / (n + 1/4))."""
    features = list(profiles.features)
    values = profiles.data[features].to_numpy(dtype=float)
    out = np.full_like(values, np.nan)
    for j in range(values.shape[1]):
        column = values[:, j]
        ok = np.isfinite(column)
        ranks = stats.rankdata(column[ok])
        out[ok, j] = stats.norm.ppf((ranks - 0.375) / (ok.sum() + 0.25))
    return profiles.with_data(with_feature_block(profiles.data, features, out),
                              note="inverse-normal transform of every feature (Blom)")


def generalized_log(profiles: Profiles, offset: float = 1.0) -> Profiles:
    """log((x + sqrt(x^2 + offset^2)) / 2) of every feature (cytominer's ``generalized_log``)."""
    features = list(profiles.features)
    values = profiles.data[features].to_numpy(dtype=float)
    out = np.log((values + np.sqrt(values ** 2 + offset ** 2)) / 2.0)
    return profiles.with_data(with_feature_block(profiles.data, features, out),
                              note=f"generalised log (offset {offset:g})")


def regress_out(profiles: Profiles, covariate: str = "Metadata_Object_Count") -> Profiles:
    """Each feature's linear dependence on ``covariate`` (e.g. the cell count) removed (residuals + mean)."""
    if covariate not in profiles.data.columns:
        raise ValueError(f"covariate column {covariate!r} not found")
    features = list(profiles.features)
    values = profiles.data[features].to_numpy(dtype=float)
    z = pd.to_numeric(profiles.data[covariate], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(z).all():
        raise ValueError(f"covariate {covariate!r} has missing or non-numeric values")
    design = np.column_stack([np.ones(len(z)), z - z.mean()])
    coef, *_ = np.linalg.lstsq(design, values, rcond=None)
    residual = values - design[:, 1:] @ coef[1:]
    return profiles.with_data(with_feature_block(profiles.data, features, residual),
                              note=f"regressed {covariate} out of every feature (linear)")
