"""Is Cell Painting more reproducible than L1000? A comparison that equalises what differs between the assays.

The two assays differ in replicate counts (CDRP-bio: a median of 8 Cell
Painting wells per compound-dose, 2 L1000 wells), and more replicates make
the same effect easier to detect. So the comparison is made on perturbations
measured in both (keys matched as pairing matches them: compound and dose
rounded), at equal replicate counts:

* ``equalize="subsample"``: for each perturbation, k = the smaller of its
  two replicate counts; the modality with more replicates is scored on k of
  them, drawn ``n_draws`` times; the share replicating (p < alpha, size-matched
  null) is reported as the mean over draws with the 2.5-97.5 percentile
  interval of the draws;
* ``equalize="normalized_map"``: the mean normalised pairwise mAP against
  the negative controls: each replicate pair scored alone (one positive
  among the controls), normalised by its chance level, averaged over every
  pair: the expected normalised mAP of two replicates, computed without
  draws (an ordinary mAP rises with the replicate count at equal effect);
* ``equalize=None``: the naive comparison, each assay with all its wells.

:func:`modality_activity` gives each perturbation a p-value for "active in
CP" and "active in L1000" at equal replicate counts (the median-aggregated
p-value of the draws, doubled: valid whatever the dependence between draws),
q-values over each modality (two-stage over the doses of a compound when the
compounds are known), and a call: both, cp_only, ge_only or neither (active
means q < alpha; "only" claims activity in one assay and no detected
activity in the other, not its absence). Across perturbations, an exact
McNemar test compares cp_only with ge_only counts: the paired test of "one
assay detects more".
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..common.result import Result, merged_inputs
from ..common.validation import check_choice
from ..data.keys import match_keys, resolve_key_rule
from ..data.profiles import Profiles
from ..stats.core.multiple_testing import bh_qvalues, hierarchical_fdr
from ..stats.replicates import replicate_reproducibility
from ..stats.retrieval.map import mean_average_precision

EQUALIZE = ("subsample", "normalized_map", None)
CALLS = ("both", "cp_only", "ge_only", "neither")


class ReproducibilityComparison(Result):
    """One row per method and modality: estimate, interval, perturbations compared."""

    title = "Reproducibility of Cell Painting and L1000, compared fairly"


class ModalityActivity(Result):
    """Per perturbation: p and q for activity in each assay, and the call."""

    title = "Where each perturbation acts"

    @property
    def counts(self) -> dict[str, int]:
        counts = self.table["call"].value_counts()
        return {c: int(counts.get(c, 0)) for c in CALLS}


def _shared(cp: Profiles, ge: Profiles, match: str):
    """(cp, ge) restricted to the perturbations both measured, their keys matched as pairing matches them."""
    rule = resolve_key_rule(match, cp.data[cp.perturbation], ge.data[ge.perturbation])
    sides = []
    for side in (cp, ge):
        keys = match_keys(side.data[side.perturbation], rule)
        sides.append(side.with_data(side.data.assign(rosetta_key_=keys.to_numpy()), perturbation="rosetta_key_"))
    cp, ge = sides
    treated = [set(s.data.loc[~s.controls, "rosetta_key_"].dropna()) for s in (cp, ge)]
    both = treated[0] & treated[1]
    if not both:
        raise ValueError("no perturbation is measured in both assays (after matching keys by compound and dose)")
    trimmed = []
    for side in (cp, ge):
        mask = side.data["rosetta_key_"].isin(both).to_numpy() | side.controls
        trimmed.append(side.with_data(side.data[mask].reset_index(drop=True)))
    return trimmed[0], trimmed[1], sorted(both), rule


def _subsample(side: Profiles, k_of: pd.Series, rng) -> Profiles:
    """Each perturbation's rows cut to ``k_of[key]`` drawn at random (controls kept whole)."""
    data = side.data
    keep = side.controls.copy()
    for key, rows in data.groupby("rosetta_key_").indices.items():
        if key in k_of.index:
            k = int(k_of[key])
            keep[rng.choice(rows, size=min(k, len(rows)), replace=False)] = True
    return side.with_data(data[keep].reset_index(drop=True))


def _equal_counts(cp, ge):
    counts = [s.data.loc[~s.controls].groupby("rosetta_key_").size() for s in (cp, ge)]
    return np.minimum(counts[0], counts[1].reindex(counts[0].index)).dropna().astype(int)


def compare_reproducibility(cp: Profiles, ge: Profiles, equalize="subsample", n_draws: int = 20,
                            n_null: int = 500, alpha: float = 0.05, match: str = "auto",
                            seed: int | None = 0) -> ReproducibilityComparison:
    """The share of perturbations replicating in each assay, naive and at equal replicate counts.

    Returns rows (method, modality, estimate, ci_low, ci_high, n_perturbations)
    for the naive comparison and the ``equalize`` method; ``estimates`` holds
    each method's CP minus L1000 difference.
    """
    check_choice(equalize, EQUALIZE, "equalize")
    cp, ge, shared, rule = _shared(cp, ge, match)
    rng = np.random.default_rng(seed)
    rows = []

    def share(side, draw_seed):
        result = replicate_reproducibility(side, n_null=n_null, seed=draw_seed)
        table = result.table[result.table["perturbation"].isin(shared)]
        scored = table["p_value"].notna()
        return float((table.loc[scored, "p_value"] < alpha).mean() * 100), int(scored.sum())

    for label, side in (("cp", cp), ("ge", ge)):
        value, n = share(side, seed)
        rows.append(("naive", label, value, value, value, n))
    if equalize == "subsample":
        k_of = _equal_counts(cp, ge)
        k_of = k_of[k_of >= 2]
        for label, side in (("cp", cp), ("ge", ge)):
            draws = [share(_subsample(side, k_of, rng), int(rng.integers(1 << 30)))[0] for _ in range(n_draws)]
            rows.append(("subsample", label, float(np.mean(draws)), float(np.percentile(draws, 2.5)),
                         float(np.percentile(draws, 97.5)), int(len(k_of))))
    elif equalize == "normalized_map":
        for label, side in (("cp", cp), ("ge", ge)):
            table = mean_average_precision(side, n_null=n_null, seed=seed, pairwise=True).table
            table = table[table["perturbation"].isin(shared)]
            values = table["normalized_pairwise_map"].dropna()
            spread = 1.96 * values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else np.nan
            rows.append(("normalized_map", label, float(values.mean()), float(values.mean() - spread),
                         float(values.mean() + spread), int(len(values))))
    table = pd.DataFrame(rows, columns=["method", "modality", "estimate", "ci_low", "ci_high", "n_perturbations"])
    wide = table.pivot(index="method", columns="modality", values="estimate")
    estimates = {f"difference_{m}": float(wide.loc[m, "cp"] - wide.loc[m, "ge"]) for m in wide.index}
    settings = {"equalize": equalize, "n_draws": n_draws, "n_null": n_null, "alpha": alpha, "keys": rule,
                "seed": seed}
    notes = (f"{len(shared)} perturbations measured in both assays (keys: {rule})",
             "percent replicating: p < alpha against the size-matched null; estimates in % (normalized_map: mean "
             "normalised mAP against the controls, 0 = random ranking)")
    return ReproducibilityComparison(table, settings, estimates, notes, merged_inputs(cp, ge))


def modality_activity(cp: Profiles, ge: Profiles, alpha: float = 0.05, n_draws: int = 10, n_null: int = 500,
                      compound: str | None = "compound", match: str = "auto",
                      seed: int | None = 0) -> ModalityActivity:
    """Per perturbation: is it active in Cell Painting, in L1000, in both? (equal replicate counts; see module)."""
    cp, ge, shared, rule = _shared(cp, ge, match)
    k_of = _equal_counts(cp, ge)
    k_of = k_of[k_of >= 2]
    if k_of.empty:
        raise ValueError("no perturbation has 2 or more replicates in both assays")
    rng = np.random.default_rng(seed)
    p = {}
    for label, side in (("cp", cp), ("ge", ge)):
        draws = []
        for _ in range(n_draws):
            result = replicate_reproducibility(_subsample(side, k_of, rng), n_null=n_null,
                                               seed=int(rng.integers(1 << 30)))
            draws.append(result.table.set_index("perturbation")["p_value"].reindex(k_of.index))
        p[label] = np.minimum(1.0, 2 * pd.concat(draws, axis=1).median(axis=1))
    table = pd.DataFrame({"perturbation": k_of.index, "n_replicates": k_of.to_numpy(),
                          "p_cp": p["cp"].to_numpy(), "p_ge": p["ge"].to_numpy()})
    families = _compounds(cp, table["perturbation"], compound)
    for label in ("cp", "ge"):
        if families is not None:
            stages = hierarchical_fdr(table[f"p_{label}"], families, q=alpha)
            table[f"q_{label}"] = stages["within_q_value"].fillna(1.0).to_numpy()
            table[f"active_{label}"] = stages["significant"].to_numpy()
        else:
            table[f"q_{label}"] = bh_qvalues(table[f"p_{label}"])
            table[f"active_{label}"] = (table[f"q_{label}"] < alpha).to_numpy()
    table["call"] = np.select([table["active_cp"] & table["active_ge"], table["active_cp"], table["active_ge"]],
                              ["both", "cp_only", "ge_only"], "neither")
    counts = table["call"].value_counts()
    only_cp, only_ge = int(counts.get("cp_only", 0)), int(counts.get("ge_only", 0))
    mcnemar = float(stats.binomtest(only_cp, only_cp + only_ge, 0.5).pvalue) if only_cp + only_ge else 1.0
    estimates = {**{f"n_{c}": int(counts.get(c, 0)) for c in CALLS}, "mcnemar_p_value": mcnemar,
                 "n_perturbations": int(len(table))}
    settings = {"alpha": alpha, "n_draws": n_draws, "n_null": n_null, "keys": rule, "seed": seed,
                "fdr": "two-stage over compounds" if families is not None else "Benjamini-Hochberg"}
    notes = (f"{len(table)} perturbations with 2 or more replicates in both assays, scored at equal counts",
             "p = 2 x median over draws of the size-matched p-value (valid under any dependence between draws)")
    return ModalityActivity(table, settings, estimates, notes, merged_inputs(cp, ge))


def _compounds(cp: Profiles, keys: pd.Series, column: str | None):
    if column is None or column not in cp.data.columns:
        return None
    lookup = cp.data.drop_duplicates("rosetta_key_").set_index("rosetta_key_")[column]
    return lookup.reindex(keys).astype(str).to_numpy()
