"""Multiple-testing control shared by every statistic: flat BH, and hierarchical FDR over families.

Hierarchical (compound -> doses): hypotheses come in families (the doses of
one compound). Stage 1 tests each family with the Simes combination of its
p-values, ``min_i m p_(i) / i``, and selects families by Benjamini-Hochberg
at level q. Stage 2 applies BH within each selected family, at a level
that says how the error is shared between the stages:

* ``stage2="half"`` (default): q / 2. Errors of the two stages add up (a null
  family that passes stage 1 brings its false doses along), so the second
  stage gets half the budget. In simulations of dose series (active
  compounds acting at 2 to 6 of 6 doses, 5 to 30 of 60 compounds) the
  false-discovery proportion stays below q and the discoveries exceed flat
  BH's; it exceeds q when every active compound acts at one dose only (then
  flat BH is the better choice: the families carry no shared signal).
* ``stage2="scaled"``: q R / m (R families selected out of m), the procedure
  of Benjamini and Bogomolov (2014): the expected average false-discovery
  proportion over the selected families is at most q, always; it makes
  fewer discoveries than flat BH when few families are selected.
* ``stage2="full"``: q, as copairs does; more discoveries, and a
  false-discovery proportion that can reach about 2q.

Why Simes and not the minimum p-value with Bonferroni: Simes' p is never
larger than Bonferroni's ``m min p`` (so it loses nothing when one dose is
active) and gains when several doses are; it is valid when the family's
statistics are positively dependent, which doses of one compound measured
against the same controls are. ``stage1="bonferroni"`` gives the choice
that is valid under any dependence. (The raw minimum p-value, without the
factor m, is not a p-value: it rejects null families far too often.)
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

STAGE1 = ("simes", "bonferroni")
STAGE2 = ("half", "scaled", "full")


def bh_qvalues(p_values) -> np.ndarray:
    """Benjamini-Hochberg q-values; NaN p-values stay NaN and do not count."""
    p = np.asarray(p_values, dtype=float)
    q = np.full_like(p, np.nan)
    finite = ~np.isnan(p)
    if finite.any():
        q[finite] = multipletests(p[finite], method="fdr_bh")[1]
    return q


def family_p_value(p_values, stage1: str = "simes") -> float:
    """One p-value for a family: Simes' combination or Bonferroni's m * min p (NaN members ignored)."""
    p = np.sort(np.asarray(p_values, dtype=float)[~np.isnan(np.asarray(p_values, dtype=float))])
    if not len(p):
        return float("nan")
    m = len(p)
    if stage1 == "bonferroni":
        return float(min(1.0, m * p[0]))
    return float(min(1.0, np.min(m * p / np.arange(1, m + 1))))


def hierarchical_fdr(p_values, families, q: float = 0.05, stage1: str = "simes",
                     stage2: str = "half") -> pd.DataFrame:
    """Two-stage FDR over families: select families (Simes or Bonferroni, then BH), then BH within them.

    Returns one row per hypothesis, in input order: family, family_p_value,
    family_q_value (BH over families), family_selected, within_q_value (BH
    within the family, divided by the stage-2 share of q), significant
    (selected family and within_q_value <= q). NaN p-values are never
    significant and do not count.
    """
    if stage1 not in STAGE1:
        raise ValueError(f"unknown stage1 {stage1!r}; choose one of: {', '.join(STAGE1)}")
    if stage2 not in STAGE2:
        raise ValueError(f"unknown stage2 {stage2!r}; choose one of: {', '.join(STAGE2)}")
    if not 0 < q < 1:
        raise ValueError(f"q must lie between 0 and 1; got {q}")
    p = np.asarray(p_values, dtype=float)
    families = pd.Series(np.asarray(families, dtype=object)).astype(str).to_numpy()
    frame = pd.DataFrame({"family": families, "p": p})
    family_p = frame.groupby("family", sort=False)["p"].apply(lambda s: family_p_value(s.to_numpy(), stage1))
    family_q = pd.Series(bh_qvalues(family_p.to_numpy()), index=family_p.index)
    tested = family_p.notna()
    m = int(tested.sum())
    selected = family_q <= q
    r = int(selected.sum())
    share = {"half": 0.5, "scaled": max(r, 1) / max(m, 1), "full": 1.0}[stage2]  # stage 2 runs at q * share
    within = np.full(len(p), np.nan)
    for family, rows in frame.groupby("family", sort=False).indices.items():
        if selected.get(family, False):
            within[rows] = np.minimum(bh_qvalues(p[rows]) / share, 1.0)
    out = pd.DataFrame({
        "family": families,
        "family_p_value": family_p.reindex(families).to_numpy(),
        "family_q_value": family_q.reindex(families).to_numpy(),
        "family_selected": selected.reindex(families).fillna(False).to_numpy(dtype=bool),
        "within_q_value": within,
    })
    out["significant"] = out["family_selected"] & (out["within_q_value"] <= q)
    return out
