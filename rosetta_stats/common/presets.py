"""Presets: one frozen object per named set of choices, read by every function that has those choices.

``preset="paper"`` reproduces Haghighi et al. (2022) and ``"way2022"`` the
replicate definitions of Way et al. (2022); the default mode differs on
purpose, and :func:`differences` lists where, from the preset objects and
:data:`SETTINGS` (what each value does, and why). A function's arguments
default to ``None``; :meth:`Preset.pick` gives an explicit argument
precedence over the preset, so ``preset="paper", n_permutations=100`` runs
100 permutations.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from .validation import check_choice


@dataclass(frozen=True)
class Preset:
    """The values a preset gives to the arguments a caller leaves at ``None``."""

    name: str
    # cleaning and pairing
    per_plate: bool = False
    key_match: str = "auto"
    cp_level: str | None = None
    # replicate reproducibility
    replicate_null: str = "size_matched"
    include_controls: bool = False
    statistic: str = "pearson_mean"
    # predictability
    model: str = "ridge"
    fold_score: str | None = None
    n_permutations: int = 100
    shuffle_once: bool = False
    shuffled_model: str | None = None  # the model refitted for the one-shuffle null (None: the same model)
    # MoA prediction
    scalers_on: str = "train"
    # reproducible sets
    overlap_criterion: str = "q_value"

    def pick(self, value, setting: str):
        """``value`` when the caller gave one, else this preset's."""
        if value is not None:
            return value
        if setting not in {f.name for f in fields(self)}:
            raise KeyError(f"no preset setting {setting!r}")
        return getattr(self, setting)


DEFAULT = Preset("default")
PAPER = Preset("paper", per_plate=True, key_match="raw", cp_level="normalized_variable_selected",
               replicate_null="paper", include_controls=True, model="lasso_cv", fold_score="median",
               n_permutations=0, shuffle_once=True, shuffled_model="lasso", scalers_on="all",
               overlap_criterion="above_threshold")
WAY2022 = Preset("way2022", replicate_null="well_matched", statistic="spearman_median")
PRESETS = {p.name: p for p in (DEFAULT, PAPER, WAY2022)}

# setting -> (what it is, what each value does, why the default is what it is)
SETTINGS = {
    "per_plate": ("cleaning", {True: "per-plate z-scoring of both modalities (CP by Metadata_Plate, L1000 by "
                               "det_plate)", False: "no per-plate scaling"},
                  "the files are already normalised to their plates' controls; rescaling every plate to unit "
                  "variance also removes real plate-confounded biology"),
    "key_match": ("pairing keys", {"raw": "strings as written (LINCS _10.0 never meets _10)",
                                   "auto": "doses parsed and rounded"},
                  "string matching loses every 10 and 20 uM LINCS pair (6,984 pairs instead of 8,369)"),
    "cp_level": ("Cell Painting level", {"normalized_variable_selected": "normalized, variable-selected",
                                          None: "normalized (all features)"},
                 "variable selection on all perturbations leaks information into every later test"),
    "replicate_null": ("replicate p-values", {"paper": "none: the null's 90th percentile is a threshold only",
                                              "size_matched": "size-matched null, (k+1)/(n+1) p-values, BH q-values",
                                              "well_matched": "well-matched null (same well positions, same "
                                                              "replicate count), p < 0.05"},
                       "a threshold gives no error rate"),
    "include_controls": ("negative controls in replicate tables", {True: "scored like any perturbation",
                                                                   False: "left out"},
                         "controls are not perturbations; they inflate percent replicating"),
    "statistic": ("replicate statistic", {"pearson_mean": "mean pairwise Pearson correlation",
                                          "spearman_median": "median pairwise Spearman correlation"},
                  "the paper's statistic, kept as the default for comparability"),
    "model": ("gene predictability model", {"lasso_cv": "LassoCV in every outer fold",
                                            "ridge": "ridge with GCV penalties"},
              "ridge is ~50x faster at equal accuracy on these data"),
    "fold_score": ("fold score", {"median": "median of fold R^2", None: "mean of fold R^2 (median for lasso_cv)"},
                   "the mean uses every fold"),
    "n_permutations": ("predictability permutations", {0: "none", 100: "100 permutations, BH q-values"},
                       "one shuffle gives a cut-off, not an error rate"),
    "shuffle_once": ("one-shuffle rule", {True: "'highly predictable' = R^2 > 99th percentile of shuffled R^2 "
                                                "+ 0.2", False: "not computed"},
                     "permutation p-values replace it"),
    "shuffled_model": ("model of the shuffled run", {"lasso": "Lasso(alpha=0.1), each gene shuffled on its own",
                                                     None: "the model being scored"},
                       "the null should be the model being scored"),
    "scalers_on": ("MoA scalers", {"all": "fitted on all rows", "train": "fitted on each training fold"},
                   "test rows must not shape the scaling"),
    "overlap_criterion": ("reproducible in both / either", {"above_threshold": "above each modality's threshold",
                                                             "q_value": "q < 0.05 in each modality"},
                          "a threshold is not a test"),
}


def _say(setting: str, value) -> str:
    return SETTINGS[setting][1].get(value, str(value))


def differences(preset="paper") -> list[tuple[str, str, str, str]]:
    """(setting, the preset's choice, the default's, why) for every setting where they differ."""
    preset = resolve_preset(preset)
    out = []
    for f in fields(Preset):
        if f.name == "name" or getattr(preset, f.name) == getattr(DEFAULT, f.name):
            continue
        label, _, why = SETTINGS[f.name]
        out.append((label, _say(f.name, getattr(preset, f.name)), _say(f.name, getattr(DEFAULT, f.name)), why))
    return out


def resolve_preset(preset) -> Preset:
    """The Preset object for ``None`` (default), a name, or a Preset."""
    if preset is None:
        return DEFAULT
    if isinstance(preset, Preset):
        return preset
    check_choice(preset, tuple(PRESETS), "preset")
    return PRESETS[preset]


def describe_differences(preset="paper") -> str:
    """Where the default mode differs from the preset, and why, as a Markdown table (from :data:`CHOICES`)."""
    name = resolve_preset(preset).name
    lines = [f"| setting | {name} | default | why the default differs |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in differences(preset)]
    return "\n".join(lines)
