"""Presets: named sets of choices. ``"paper"`` reproduces Haghighi et al. (2022); the default mode differs on purpose.

Each entry of :data:`PAPER_DIFFERENCES` says what the paper did, what the
default does, and why; the report lists them when it runs in paper mode.
"""
from __future__ import annotations

PRESETS = ("default", "paper")

PAPER_DIFFERENCES = (
    ("cleaning", "per-plate z-scoring of both modalities (CP by Metadata_Plate, L1000 by det_plate)",
     "no per-plate scaling", "the files are already normalised to their plates' controls; rescaling every plate to "
     "unit variance also removes real plate-confounded biology"),
    ("pairing keys", "strings as written (LINCS _10.0 never meets _10)", "doses parsed and rounded",
     "string matching loses every 10 and 20 uM LINCS pair (6,984 pairs instead of 8,369)"),
    ("replicate p-values", "none: the null's 90th percentile is a threshold only",
     "size-matched null with (k+1)/(n+1) p-values and BH q-values", "a threshold gives no error rate"),
    ("negative controls in replicate tables", "scored like any perturbation", "left out",
     "controls are not perturbations; they inflate percent replicating"),
    ("gene predictability model", "LassoCV in every outer fold, median of fold R^2",
     "ridge with GCV penalties, mean of fold R^2", "ridge is ~50x faster at equal accuracy on these data"),
    ("predictability null", "one shuffle of the genes; 'highly predictable' = R^2 > 99th percentile "
     "of shuffled R^2 + 0.2", "permutation p-values and BH q-values per gene",
     "one shuffle gives a cut-off, not an error rate"),
    ("MoA scalers", "fitted on all rows", "fitted on each training fold", "test rows must not shape the scaling"),
)


def describe_differences() -> str:
    """The differences as a Markdown table."""
    lines = ["| setting | paper | default | why the default differs |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in PAPER_DIFFERENCES]
    return "\n".join(lines)
