"""Effect sizes per perturbation against the negative controls, for every feature (or gene), both ways round.

For each perturbation and each feature: the difference of the perturbation's
mean from the controls' mean (``effect``; on log-scale L1000 data a log fold
change), limma's moderated t and its p-value (one linear model per feature
with a coefficient per perturbation against the controls, variances shrunk
by ``eBayes``; Bioconductor's limma through the R session), BH q-values over
all perturbation x feature tests, and Cohen's d (the difference over the
pooled standard deviation of the perturbation's and the controls' wells;
with a single well, the controls' sd). Cohen's d keeps ranking where
p-values tie at their floor. :meth:`EffectSizeResult.top_features` and
:meth:`EffectSizeResult.top_perturbations` read the table both ways: which
features does compound X move; which compounds move feature Y.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..bridge.limma import moderated_vs_reference
from ..common.matching import control_mask
from ..common.result import Result
from ..common.validation import check_choice
from ..stats.core.inputs import profile_inputs
from ..stats.core.multiple_testing import bh_qvalues

REFERENCE = "__negative_controls__"
RANKINGS = ("p_value", "cohens_d", "effect")


class EffectSizeResult(Result):
    """One row per (perturbation, feature): effect, moderated t, p, q, Cohen's d."""

    title = "Effect sizes against the negative controls"

    def headline(self) -> list[str]:
        return [f"{self.estimates['n_perturbations']} perturbations x {self.estimates['n_features']} features; "
                f"{self.estimates['n_q_below_0.05']} tests with q < 0.05"]

    def _ranked(self, rows: pd.DataFrame, by: str, n: int) -> pd.DataFrame:
        check_choice(by, RANKINGS, "by")
        key = rows[by] if by == "p_value" else -rows[by].abs()
        return rows.assign(_key=key.to_numpy()).sort_values("_key", kind="stable").drop(columns="_key").head(n)

    def top_features(self, perturbation, n: int = 10, by: str = "p_value") -> pd.DataFrame:
        """The features ``perturbation`` moves most (smallest p, or largest |d| or |effect|)."""
        rows = self.table[self.table["perturbation"].astype(str) == str(perturbation)]
        if rows.empty:
            raise ValueError(f"no perturbation {perturbation!r} in the table")
        return self._ranked(rows, by, n).reset_index(drop=True)

    def top_perturbations(self, feature: str, n: int = 10, by: str = "p_value") -> pd.DataFrame:
        """The perturbations that move ``feature`` most."""
        rows = self.table[self.table["feature"] == feature]
        if rows.empty:
            raise ValueError(f"no feature {feature!r} in the table")
        return self._ranked(rows, by, n).reset_index(drop=True)


def cohens_d(treated: np.ndarray, codes: np.ndarray, n_groups: int, controls: np.ndarray) -> np.ndarray:
    """(groups x features) Cohen's d of each group of ``treated`` rows (``codes``) against the ``controls``
    rows, with the pooled sd (the controls' sd alone for a group of one row)."""
    ctrl_mean, ctrl_var, n_ctrl = controls.mean(axis=0), controls.var(axis=0, ddof=1), len(controls)
    counts = np.bincount(codes, minlength=n_groups).astype(float)
    sums = np.zeros((n_groups, treated.shape[1]))
    np.add.at(sums, codes, treated)
    means = sums / counts[:, None]
    squares = np.zeros_like(sums)
    np.add.at(squares, codes, (treated - means[codes]) ** 2)
    pooled = np.where(counts[:, None] > 1,
                      (squares + (n_ctrl - 1) * ctrl_var) / (counts[:, None] - 1 + n_ctrl - 1), ctrl_var)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pooled > 0, (means - ctrl_mean) / np.sqrt(pooled), np.nan)


def effect_sizes(profiles, perturbation: str | None = None, features=None, controls=None,
                 annotate: bool = True) -> EffectSizeResult:
    """Per perturbation and feature: effect vs the negative controls, limma's moderated t, p, q, Cohen's d.

    ``profiles``: replicate-level Profiles (or a DataFrame with ``perturbation``
    and ``features``); ``controls``: the control rule (default: the
    profiles' own). Needs at least two control rows and one perturbation.
    """
    frame, perturbation, features = profile_inputs(profiles, perturbation, features)
    rule = controls if controls is not None else getattr(profiles, "control_rule", None)
    if rule is None:
        raise ValueError("name the negative controls (controls=...)")
    control, control_note = control_mask(frame, rule)
    if control.sum() < 2:
        raise ValueError(f"effect sizes need at least 2 negative-control rows; found {int(control.sum())}")
    values = frame[features].to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise ValueError("effect sizes need finite feature values (clean the profiles first)")
    labels = frame[perturbation].astype(str).to_numpy()
    groups = np.where(control, REFERENCE, labels)
    fit = moderated_vs_reference(values, groups, REFERENCE)
    levels = fit["levels"]
    if not levels:
        raise ValueError("no perturbation besides the negative controls")
    d = cohens_d(values[~control], pd.Index(levels).get_indexer(groups[~control]), len(levels), values[control])
    n_features = len(features)
    table = pd.DataFrame({
        "perturbation": np.repeat(levels, n_features), "feature": np.tile(features, len(levels)),
        "effect": fit["coefficients"].ravel(), "t": fit["t"].ravel(), "p_value": fit["p"].ravel(),
        "cohens_d": d.ravel(),
        "n_wells": np.repeat(pd.Series(groups).value_counts().reindex(levels).to_numpy(), n_features),
    })
    table.insert(5, "q_value", bh_qvalues(table["p_value"].to_numpy()))
    modality = getattr(profiles, "modality", None)
    if annotate and modality in ("cp", "ge"):
        annotations = profiles.feature_annotations
        column = "symbol" if modality == "ge" else "category"
        if column in annotations.columns:
            table.insert(2, column, np.tile(annotations[column].reindex(features).to_numpy(), len(levels)))
    settings = {"perturbation": perturbation, "method": "limma lmFit + eBayes against the controls; Cohen's d",
                "n_control_rows": int(control.sum())}
    estimates = {"n_perturbations": len(levels), "n_features": n_features,
                 "n_q_below_0.05": int((table["q_value"] < 0.05).sum()), "df_prior": fit["df_prior"]}
    notes = (control_note, "q-values: Benjamini-Hochberg over every perturbation x feature test")
    return EffectSizeResult(table, settings, estimates, notes, getattr(profiles, "inputs", ()))

