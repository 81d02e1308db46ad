"""Which perturbations replicate in Cell Painting, in L1000, in both or in neither.

The paper keeps the "high-rep" perturbations (above the null threshold) of
each modality and looks at their intersection and union. Here both replicate
results are matched on perturbation and every shared perturbation gets one
of four categories.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from ..common.validation import check_choice
from ..results.base import ResultShape
from ..data.keys import match_keys, resolve_key_rule

if TYPE_CHECKING:  # a type only: statistics never import each other at run time
    from .replicates import ReplicateResult

CRITERIA = ("above_threshold", "q_value")
CATEGORIES = ("both", "only_cp", "only_ge", "neither")


@dataclass(frozen=True)
class ModalityComparison(ResultShape):
    table: pd.DataFrame  # perturbation, cp_reproducible, ge_reproducible, category
    criterion: str
    alpha: float
    unmatched_cp: tuple[str, ...]
    unmatched_ge: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def summary_dict(self) -> dict:
        return {"criterion": self.criterion, "alpha": self.alpha, **self.counts,
                "unmatched_cp": len(self.unmatched_cp), "unmatched_ge": len(self.unmatched_ge),
                "notes": list(self.notes)}

    @property
    def counts(self) -> dict[str, int]:
        counts = self.table["category"].value_counts()
        return {c: int(counts.get(c, 0)) for c in CATEGORIES}

    def perturbations(self, category: str) -> list[str]:
        check_choice(category, CATEGORIES, "category")
        return self.table.loc[self.table["category"] == category, "perturbation"].tolist()

    def summary(self) -> str:
        c = self.counts
        rule = "above the null threshold" if self.criterion == "above_threshold" else f"q < {self.alpha:g}"
        n = len(self.table)
        union = c["both"] + c["only_cp"] + c["only_ge"]
        return "\n".join([
            f"Reproducible ({rule}) across modalities, {n} shared perturbations",
            f"  both: {c['both']}   only Cell Painting: {c['only_cp']}   "
            f"only L1000: {c['only_ge']}   neither: {c['neither']}",
            f"  intersection {c['both']} / union {union}",
            f"  not in both results: {len(self.unmatched_cp)} CP-only, {len(self.unmatched_ge)} L1000-only",
        ])


def compare_modalities(cp: "ReplicateResult", ge: "ReplicateResult", criterion: str = "above_threshold",
                       alpha: float = 0.05, match: str = "auto") -> ModalityComparison:
    """Cross the reproducible sets of two replicate results.

    Perturbation names are matched as :func:`rosetta_stats.pair` matches them
    (``match="auto"`` parses a trailing dose, so ``_10.0`` meets ``_10``;
    "raw" compares the strings). Only perturbations with >= 2 replicates in
    both results are categorised.
    """
    check_choice(criterion, CRITERIA, "criterion")
    match = resolve_key_rule(match, cp.table["perturbation"], ge.table["perturbation"])

    def calls(result: "ReplicateResult") -> pd.Series:
        t = result.table[result.table["replicate_correlation"].notna()]
        t = t.assign(perturbation=match_keys(t["perturbation"], match).to_numpy()).set_index("perturbation")
        if criterion == "q_value":
            if t["q_value"].isna().all():
                raise ValueError("criterion='q_value' needs results computed with null='size_matched'")
            return t["q_value"] < alpha
        return t["above_threshold"].astype(bool)

    a, b = calls(cp), calls(ge)
    shared = a.index.intersection(b.index).sort_values()
    if len(shared) == 0:
        raise ValueError("no perturbation has replicates in both results; are they keyed the same way "
                         f"(e.g. {a.index[:1].tolist()} vs {b.index[:1].tolist()})?")
    table = pd.DataFrame({"perturbation": shared, "cp_reproducible": a.loc[shared].to_numpy(),
                          "ge_reproducible": b.loc[shared].to_numpy()})
    table["category"] = [
        {(True, True): "both", (True, False): "only_cp", (False, True): "only_ge",
         (False, False): "neither"}[(x, y)]
        for x, y in zip(table["cp_reproducible"], table["ge_reproducible"])
    ]
    return ModalityComparison(table, criterion, alpha,
                              tuple(sorted(set(a.index) - set(shared))),
                              tuple(sorted(set(b.index) - set(shared))))
