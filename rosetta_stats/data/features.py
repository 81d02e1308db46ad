"""Which columns are features: CellProfiler measurements and L1000 genes, and which only look like them.

Cell Painting features are the columns that start with a compartment name
(``Cells_``, ``Cytoplasm_``, ``Nuclei_``) and measure the cells; columns with
those prefixes that are bookkeeping (object numbers, parent and child links,
positions in the image, execution times) are not features, and
:func:`classify_cp_columns` says why each one was set aside. L1000 landmark
genes are the columns named by Affymetrix probe id, which end in ``_at``.
Everything else is metadata.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import pandas as pd

from ..common.validation import check_choice

CP_PREFIXES = ("Cells_", "Cytoplasm_", "Nuclei_")
GE_SUFFIX = "_at"
MODALITIES = ("cp", "ge", "auto")

# (pattern on the name after the compartment, why the column is not a measurement of the cells)
BOOKKEEPING = (
    (re.compile(r"^Number_Object_Number$|ObjectNumber$|^ObjectNumber"), "object number (an identifier)"),
    (re.compile(r"^Neighbors_(First|Second)ClosestObjectNumber"), "number of the closest object (an identifier)"),
    (re.compile(r"^Parent_"), "link to the parent object"),
    (re.compile(r"^Children_.*_Count$"), "count of child objects (bookkeeping of the segmentation)"),
    (re.compile(r"^Location_"), "position in the image"),
    (re.compile(r"^AreaShape_Center_[XYZ]$"), "position in the image"),
    (re.compile(r"^AreaShape_BoundingBox(Minimum|Maximum)_[XYZ]$"), "position in the image"),
    (re.compile(r"^ExecutionTime_|^ModuleError_|^ImageNumber$|^Metadata_"), "run bookkeeping"),
)


def bookkeeping_reason(column: str) -> str | None:
    """Why a compartment-prefixed column is not a feature, or None when it is a measurement."""
    compartment, _, rest = str(column).partition("_")
    for pattern, reason in BOOKKEEPING:
        if pattern.search(rest):
            return reason
    return None


def classify_cp_columns(columns: Iterable[str], prefixes: Sequence[str] = CP_PREFIXES) -> pd.DataFrame:
    """One row per compartment-prefixed column: column, is_feature, reason (empty for features)."""
    rows = []
    for column in columns:
        if isinstance(column, str) and column.startswith(tuple(prefixes)):
            reason = bookkeeping_reason(column)
            rows.append((column, reason is None, reason or ""))
    return pd.DataFrame(rows, columns=["column", "is_feature", "reason"])


def infer_cp_features(columns: Iterable[str], prefixes: Sequence[str] = CP_PREFIXES) -> list[str]:
    """Measurement columns that start with one of ``prefixes``, in their original order (bookkeeping excluded)."""
    prefixes = tuple(prefixes)
    return [c for c in columns if isinstance(c, str) and c.startswith(prefixes) and bookkeeping_reason(c) is None]


def infer_ge_features(columns: Iterable[str]) -> list[str]:
    """Columns named like L1000 probes (ending in ``_at``), in their original order."""
    return [c for c in columns if isinstance(c, str) and c.endswith(GE_SUFFIX)]


def infer_modality(columns: Iterable[str]) -> str:
    """"cp" when the columns hold CellProfiler features, else "ge" (probe or symbol columns)."""
    return "cp" if infer_cp_features(list(columns)) else "ge"


def infer_features(columns: Iterable[str], modality: str = "auto") -> list[str]:
    """Feature columns for a modality ("cp", "ge", or "auto": whichever is present).

    Raises ``ValueError`` naming the expected patterns when none is found.
    """
    check_choice(modality, MODALITIES, "modality")
    columns = list(columns)
    if modality == "cp":
        found = infer_cp_features(columns)
    elif modality == "ge":
        found = infer_ge_features(columns)
    else:
        found = infer_cp_features(columns) or infer_ge_features(columns)
    if not found:
        raise ValueError(
            "no feature columns found: expected Cell Painting columns starting with "
            f"{', '.join(CP_PREFIXES)} or L1000 gene columns ending in '{GE_SUFFIX}' "
            f"(modality={modality!r}; first columns: {', '.join(map(str, columns[:8]))})"
        )
    return found


def parse_feature_spec(spec: str | None, columns: Sequence[str], modality: str = "auto") -> list[str]:
    """Features from a command-line spec: ``auto`` or comma-separated prefixes."""
    if spec is None or spec == "auto":
        return infer_features(columns, modality)
    prefixes = [p.strip() for p in spec.split(",") if p.strip()]
    found = infer_cp_features(columns, prefixes)
    if not found:
        raise ValueError(f"no columns start with any of: {', '.join(prefixes)}")
    return found
