"""Percent matching (Way et al. 2022): does a compound's consensus profile resemble those of its MoA?

On treatment-level (consensus) profiles, one row per compound and dose: for
each row whose MoA is shared by at least ``min_compounds`` compounds at that
dose, the statistic is the median Spearman correlation with the other rows of
its MoA at that dose; its null takes the same number of rows of that dose
sharing none of its MoAs (``n_null`` draws), and
``p = (1 + #{null >= observed}) / (1 + n_null)``. A row matches when
p < 0.05; percent matching is reported per dose.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..common.result import Result, merged_inputs
from ..common.validation import check_columns
from ..data.profiles import Profiles
from .core.inputs import profile_inputs
from .core.multiple_testing import bh_qvalues
from .core.resampling import distinct_draws, permutation_p_values
from .kernels.similarity import similarity_rows

ALPHA = 0.05


class PercentMatching(Result):
    """Per compound and dose: the median correlation with its MoA, p and q; ``tables["by_dose"]``."""

    title = "Percent matching (MoA)"


def percent_matching(profiles_or_frame, moa: str = "Metadata_moa", dose: str | None = None,
                     perturbation: str | None = None, features=None, min_compounds: int = 3,
                     n_null: int = 1000, seed: int | None = 0) -> PercentMatching:
    """Per row (compound at a dose): does it match its MoA? Percent matching per dose (see the module)."""
    is_profiles = isinstance(profiles_or_frame, Profiles)
    frame, perturbation, features = profile_inputs(profiles_or_frame, perturbation, features)
    if is_profiles:
        frame = frame[~profiles_or_frame.controls]
    check_columns(frame.columns, [moa] + ([dose] if dose else []), "moa/dose")
    frame = frame.reset_index(drop=True)
    labels = [set(p.strip().lower() for p in str(v).split("|") if p.strip()) if pd.notna(v) else set()
              for v in frame[moa]]
    doses = frame[dose].to_numpy() if dose else np.zeros(len(frame))
    units = similarity_rows(frame[list(features)].to_numpy(dtype=float), "spearman")
    rng = np.random.default_rng(seed)
    rows = []
    for value in pd.unique(doses):
        at = np.flatnonzero(doses == value)
        counts: dict[str, int] = {}
        for i in at:
            for label in labels[i]:
                counts[label] = counts.get(label, 0) + 1
        for i in at:
            shared = [lab for lab in labels[i] if counts[lab] >= min_compounds]
            if not shared:
                continue
            mates = [j for j in at if j != i and labels[j] & set(shared)]
            others = np.array([j for j in at if not labels[j] & labels[i]])
            if len(mates) < 1 or len(others) < len(mates):
                continue
            observed = float(np.median(units[mates] @ units[i]))
            draws = others[distinct_draws(len(others), len(mates), int(n_null), rng)]
            null = np.median(np.einsum("nkf,f->nk", units[draws], units[i]), axis=1)
            rows.append((frame[perturbation].iloc[i], value, "|".join(sorted(labels[i])), len(mates), observed,
                         permutation_p_values(null, [observed])[0]))
    table = pd.DataFrame(rows, columns=["perturbation", "dose", "moa", "n_mates", "median_correlation",
                                        "p_value"])
    table["q_value"] = bh_qvalues(table["p_value"].to_numpy())
    table["matching"] = table["p_value"] < ALPHA
    by_dose = table.groupby("dose", sort=True).agg(n_compounds=("perturbation", "size"),
                                                   percent_matching=("matching", "mean")).reset_index()
    by_dose["percent_matching"] *= 100
    settings = {"moa": moa, "dose": dose, "min_compounds": min_compounds, "n_null": n_null, "seed": seed}
    estimates = {"percent_matching": 100 * float(table["matching"].mean()) if len(table) else float("nan"),
                 "n_scored": int(len(table))}
    return PercentMatching(table, settings, estimates, (f"MoAs with >= {min_compounds} compounds at a dose",),
                           merged_inputs(profiles_or_frame) if is_profiles else (), tables={"by_dose": by_dose})
