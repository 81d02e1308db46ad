"""Which perturbations replicate in Cell Painting, in L1000, in both or in neither (the paper's "high-rep" sets).

A perturbation is reproducible in a modality when its replicate correlation
exceeds that modality's null threshold (``criterion="above_threshold"``, the
paper's rule) or when its q-value is below ``alpha`` (``criterion="q_value"``,
which needs p-values). The paper took the intersection ("overlap",
reproducible in both) for single-gene predictability and the union for MoA
prediction; every perturbation also gets one of four categories.

Keys: the paper matched the two modalities' strings as written, so in LINCS
``BRD-K…_10.0`` (Cell Painting) never met ``BRD-K…_10`` (L1000): 1,140
perturbations reproducible in both. ``match_doses=True`` parses the doses
first (1,606). In the paper's CDRP table the two modalities are keyed
differently (sample id + dose vs compound + dose), so its CDRP overlap of 3
is an artefact of the keys, not biology; a note says so when the keys'
shapes differ.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..common.validation import check_choice
from ..data.keys import match_keys, resolve_key_rule
from ..common.result import Result, merged_inputs

_COLUMNS = {"RepCor": "replicate_correlation", "Rand90Perc": "threshold"}
CRITERIA = ("above_threshold", "q_value")
CATEGORIES = ("both", "only_cp", "only_ge", "neither")


class ReproducibleSets(Result):
    """One row per key: both modalities' replicate correlation, calls and category; the sets as properties."""

    title = "Reproducible perturbations"

    def _keys(self, mask) -> list[str]:
        return sorted(self.table.loc[mask, "perturbation"])

    @property
    def both(self) -> list[str]:
        return self._keys(self.table["cp_reproducible"] & self.table["ge_reproducible"])

    @property
    def either(self) -> list[str]:
        return self._keys(self.table["cp_reproducible"] | self.table["ge_reproducible"])

    @property
    def only_cp(self) -> list[str]:
        return self._keys(self.table["cp_reproducible"] & ~self.table["ge_reproducible"])

    @property
    def only_ge(self) -> list[str]:
        return self._keys(~self.table["cp_reproducible"] & self.table["ge_reproducible"])

    @property
    def counts(self) -> dict[str, int]:
        """Perturbations measured in both modalities, by category."""
        measured = self.table[self.table["category"].notna()]
        counts = measured["category"].value_counts()
        return {c: int(counts.get(c, 0)) for c in CATEGORIES}

    def perturbations(self, category: str) -> list[str]:
        check_choice(category, CATEGORIES, "category")
        return self.table.loc[self.table["category"] == category, "perturbation"].tolist()

    def headline(self) -> list[str]:
        e = self.estimates
        rule = ("above the null threshold" if self.settings["criterion"] == "above_threshold"
                else f"q < {self.settings['alpha']:g}")
        return [f"reproducible ({rule}): Cell Painting {e['n_cp']}, L1000 {e['n_ge']}; both {e['n_both']}, "
                f"either {e['n_either']}; keys " + ("with doses parsed" if self.settings["match_doses"]
                                                     else "matched as written")]


def _scores(result, threshold, side: str, criterion: str, alpha: float):
    """(replicate correlation by perturbation, reproducible by perturbation, the threshold if it is one number)."""
    table = result.table if hasattr(result, "table") else result
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"{side}: give a ReplicateResult or a DataFrame (perturbation, replicate_correlation)")
    table = table.rename(columns={k: v for k, v in _COLUMNS.items() if k in table.columns})
    missing = [c for c in ("perturbation", "replicate_correlation") if c not in table.columns]
    if missing:
        raise ValueError(f"{side} table lacks column(s) {missing}")
    table = table.drop_duplicates("perturbation").set_index("perturbation")
    scores = table["replicate_correlation"]
    if criterion == "q_value":
        if "q_value" not in table.columns or table["q_value"].isna().all():
            raise ValueError(f"{side}: criterion='q_value' needs q-values (a result computed with p-values)")
        return scores, (table["q_value"] < alpha), float("nan")
    if threshold is None:
        threshold = getattr(result, "estimates", {}).get("threshold") if hasattr(result, "estimates") else None
    if threshold is None and "threshold" in table.columns:  # a row-wise threshold, as in the paper's table
        per_row = table["threshold"].astype(float)
        values = per_row.dropna().unique()
        return scores, scores > per_row, float(values[0]) if len(values) == 1 else float("nan")
    if threshold is None:
        raise ValueError(f"{side}: no threshold; pass {side}_threshold=...")
    return scores, scores > float(threshold), float(threshold)


def _key_shape(key: str) -> str:
    parts = str(key).rsplit("_", 1)[0].split("-")
    return f"{len(parts)} dash-separated part(s)"


def reproducible_sets(cp, ge, cp_threshold: float | None = None, ge_threshold: float | None = None,
                      match_doses: bool = True, criterion: str = "above_threshold",
                      alpha: float = 0.05) -> ReproducibleSets:
    """Cross the reproducible perturbations of two modalities.

    ``cp`` and ``ge`` are :class:`ReplicateResult`s or tidy frames with
    ``perturbation`` and ``replicate_correlation`` (the paper's table's
    ``RepCor``/``Rand90Perc`` are understood too). Thresholds default to the
    results' own. ``match_doses`` parses trailing doses before matching keys.
    ``criterion="q_value"`` calls a perturbation reproducible when q < ``alpha``.
    The table: perturbation, cp/ge_replicate_correlation, cp/ge_reproducible,
    category (both, only_cp, only_ge, neither; empty when one side lacks it).
    """
    check_choice(criterion, CRITERIA, "criterion")
    cp_scores, cp_calls, cp_threshold = _scores(cp, cp_threshold, "cp", criterion, alpha)
    ge_scores, ge_calls, ge_threshold = _scores(ge, ge_threshold, "ge", criterion, alpha)
    rule = "dose_suffix" if match_doses else "raw"
    frames = []
    for label, scores, calls in (("cp", cp_scores, cp_calls), ("ge", ge_scores, ge_calls)):
        keys = match_keys(pd.Series(scores.index), rule).to_numpy()
        frame = pd.DataFrame({"perturbation": keys, f"{label}_replicate_correlation": scores.to_numpy(),
                              f"{label}_reproducible": calls.reindex(scores.index).fillna(False).to_numpy(bool)})
        frame = frame.groupby("perturbation", sort=True).max()  # two raw keys may meet after parsing
        frames.append(frame)
    table = frames[0].join(frames[1], how="outer").reset_index()
    measured = table["cp_replicate_correlation"].notna() & table["ge_replicate_correlation"].notna()
    if not measured.any():
        raise ValueError("no perturbation has replicates in both results; are they keyed the same way "
                         f"(e.g. {cp_scores.index[:1].tolist()} vs {ge_scores.index[:1].tolist()})?")
    for label in ("cp", "ge"):
        table[f"{label}_reproducible"] = table[f"{label}_reproducible"].fillna(False).astype(bool)
    category = np.select([table["cp_reproducible"] & table["ge_reproducible"],
                          table["cp_reproducible"] & ~table["ge_reproducible"],
                          ~table["cp_reproducible"] & table["ge_reproducible"]],
                         ["both", "only_cp", "only_ge"], "neither").astype(object)
    table["category"] = np.where(measured, category, None)
    table = table[["perturbation", "cp_replicate_correlation", "ge_replicate_correlation",
                   "cp_reproducible", "ge_reproducible", "category"]]
    notes = []
    n_cp, n_ge = int(table["cp_reproducible"].sum()), int(table["ge_reproducible"].sum())
    both = int((table["cp_reproducible"] & table["ge_reproducible"]).sum())
    if min(n_cp, n_ge) >= 50 and measured.sum() < 0.01 * min(len(cp_scores), len(ge_scores)):
        example_cp, example_ge = cp_scores.index[0], ge_scores.index[0]
        notes.append(f"only {int(measured.sum())} key(s) appear in both modalities, so 'both' ({both}) reflects "
                     f"how the keys are written, not biology: Cell Painting keys look like {example_cp!r} "
                     f"({_key_shape(example_cp)}), L1000 keys like {example_ge!r} ({_key_shape(example_ge)}); "
                     "key both sides the same way (e.g. compound + dose) before crossing them")
    settings = {"criterion": criterion, "alpha": alpha, "match_doses": match_doses,
                "cp_threshold": cp_threshold, "ge_threshold": ge_threshold}
    estimates = {"n_cp": n_cp, "n_ge": n_ge, "n_both": both,
                 "n_either": int((table["cp_reproducible"] | table["ge_reproducible"]).sum()),
                 "n_measured_in_both": int(measured.sum())}
    return ReproducibleSets(table, settings, estimates, tuple(notes), merged_inputs(cp, ge))


def compare_modalities(cp, ge, criterion: str = "above_threshold", alpha: float = 0.05,
                       match: str = "auto") -> ReproducibleSets:
    """Deprecated: :func:`reproducible_sets` with ``criterion=`` gives the same sets and categories."""
    warnings.warn("compare_modalities() is deprecated; use reproducible_sets(cp, ge, criterion=...)",
                  DeprecationWarning, stacklevel=2)
    rule = resolve_key_rule(match, cp.table["perturbation"], ge.table["perturbation"])
    return reproducible_sets(cp, ge, match_doses=rule == "dose_suffix", criterion=criterion, alpha=alpha)


ModalityComparison = ReproducibleSets
