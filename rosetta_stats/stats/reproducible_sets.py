"""The paper's "high-rep" sets: perturbations reproducible in both modalities, in either, or in one only.

A perturbation is reproducible in a modality when its replicate correlation
exceeds that modality's null threshold (the 90th percentile of random
pairs). The paper took the intersection ("overlap", reproducible in both)
for single-gene predictability and the union for MoA prediction.

Keys: the paper matched the two modalities' strings as written, so in LINCS
``BRD-K…_10.0`` (Cell Painting) never met ``BRD-K…_10`` (L1000): 1,140
perturbations reproducible in both. ``match_doses=True`` parses the doses
first (1,606). In the paper's CDRP table the two modalities are keyed
differently (sample id + dose vs compound + dose), so its CDRP overlap of 3
is an artefact of the keys, not biology; a note says so when the keys'
shapes differ.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.keys import match_keys
from ..results.base import ResultShape

_COLUMNS = {"RepCor": "replicate_correlation", "Rand90Perc": "threshold"}


@dataclass(frozen=True)
class ReproducibleSets(ResultShape):
    """Keys reproducible in both modalities, either, CP only, GE only; ``table`` has one row per key."""

    table: pd.DataFrame  # perturbation, cp_replicate_correlation, ge_replicate_correlation, cp_reproducible, ge_reproducible
    cp_threshold: float
    ge_threshold: float
    match_doses: bool
    notes: tuple[str, ...] = ()

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

    def summary_dict(self) -> dict:
        return {"cp_threshold": self.cp_threshold, "ge_threshold": self.ge_threshold,
                "match_doses": self.match_doses, "n_cp": int(self.table["cp_reproducible"].sum()),
                "n_ge": int(self.table["ge_reproducible"].sum()), "n_both": len(self.both),
                "n_either": len(self.either), "notes": list(self.notes)}

    def summary(self) -> str:
        s = self.summary_dict()
        lines = [
            "Reproducible perturbations (replicate correlation above the null threshold)",
            f"  Cell Painting {s['n_cp']} (threshold {self.cp_threshold:.4f}); "
            f"L1000 {s['n_ge']} (threshold {self.ge_threshold:.4f})",
            f"  both: {s['n_both']}; either: {s['n_either']}; keys "
            + ("with doses parsed" if self.match_doses else "matched as written"),
        ]
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


def _scores(result, threshold, side: str) -> tuple[pd.Series, pd.Series, float]:
    """(replicate correlation by perturbation, each one's threshold, the threshold if it is one number)."""
    table = result.table if hasattr(result, "table") else result
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"{side}: give a ReplicateResult or a DataFrame (perturbation, replicate_correlation)")
    table = table.rename(columns={k: v for k, v in _COLUMNS.items() if k in table.columns})
    missing = [c for c in ("perturbation", "replicate_correlation") if c not in table.columns]
    if missing:
        raise ValueError(f"{side} table lacks column(s) {missing}")
    if threshold is None:
        threshold = getattr(result, "threshold", None)
    table = table.drop_duplicates("perturbation")
    scores = table.set_index("perturbation")["replicate_correlation"]
    if threshold is None and "threshold" in table.columns:  # a row-wise threshold, as in the paper's table
        per_row = table.set_index("perturbation")["threshold"].astype(float)
        values = per_row.dropna().unique()
        return scores, per_row, float(values[0]) if len(values) == 1 else float("nan")
    if threshold is None:
        raise ValueError(f"{side}: no threshold; pass {side}_threshold=...")
    return scores, pd.Series(float(threshold), index=scores.index), float(threshold)


def _key_shape(key: str) -> str:
    parts = str(key).rsplit("_", 1)[0].split("-")
    return f"{len(parts)} dash-separated part(s)"


def reproducible_sets(cp, ge, cp_threshold: float | None = None, ge_threshold: float | None = None,
                      match_doses: bool = True) -> ReproducibleSets:
    """Cross the reproducible perturbations of two modalities.

    ``cp`` and ``ge`` are :class:`ReplicateResult`s or tidy frames with
    ``perturbation`` and ``replicate_correlation`` (the paper's table's
    ``RepCor``/``Rand90Perc`` are understood too). Thresholds default to the
    results' own. ``match_doses`` parses trailing doses before matching keys.
    """
    cp_scores, cp_each, cp_threshold = _scores(cp, cp_threshold, "cp")
    ge_scores, ge_each, ge_threshold = _scores(ge, ge_threshold, "ge")
    rule = "dose_suffix" if match_doses else "raw"
    frames = []
    for label, scores, each in (("cp", cp_scores, cp_each), ("ge", ge_scores, ge_each)):
        keys = match_keys(pd.Series(scores.index), rule).to_numpy()
        frame = pd.DataFrame({"perturbation": keys, f"{label}_replicate_correlation": scores.to_numpy(),
                              f"{label}_reproducible": (scores > each).to_numpy()})
        frame = frame.groupby("perturbation", sort=True).max()  # two raw keys may meet after parsing
        frames.append(frame)
    table = frames[0].join(frames[1], how="outer").reset_index()
    for label in ("cp", "ge"):
        table[f"{label}_reproducible"] = table[f"{label}_reproducible"].fillna(False).astype(bool)
    table = table[["perturbation", "cp_replicate_correlation", "ge_replicate_correlation",
                   "cp_reproducible", "ge_reproducible"]]
    notes = []
    n_cp, n_ge = int(table["cp_reproducible"].sum()), int(table["ge_reproducible"].sum())
    both = int((table["cp_reproducible"] & table["ge_reproducible"]).sum())
    shared_keys = np.isfinite(table["cp_replicate_correlation"]) & np.isfinite(table["ge_replicate_correlation"])
    if min(n_cp, n_ge) >= 50 and shared_keys.sum() < 0.01 * min(len(cp_scores), len(ge_scores)):
        example_cp, example_ge = cp_scores.index[0], ge_scores.index[0]
        notes.append(f"only {int(shared_keys.sum())} key(s) appear in both modalities, so 'both' ({both}) reflects "
                     f"how the keys are written, not biology: Cell Painting keys look like {example_cp!r} "
                     f"({_key_shape(example_cp)}), L1000 keys like {example_ge!r} ({_key_shape(example_ge)}); "
                     "key both sides the same way (e.g. compound + dose) before crossing them")
    return ReproducibleSets(table, cp_threshold, ge_threshold, match_doses, tuple(notes))
