"""Which columns are features: CellProfiler measurements and L1000 genes.

Cell Painting features are the columns that start with a compartment name
(``Cells_``, ``Cytoplasm_``, ``Nuclei_``); L1000 landmark genes are the
columns named by Affymetrix probe id, which end in ``_at``. Everything else
is metadata.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..common.validation import check_choice

CP_PREFIXES = ("Cells_", "Cytoplasm_", "Nuclei_")
GE_SUFFIX = "_at"
MODALITIES = ("cp", "ge", "auto")


def infer_cp_features(columns: Iterable[str], prefixes: Sequence[str] = CP_PREFIXES) -> list[str]:
    """Columns that start with one of ``prefixes``, in their original order."""
    prefixes = tuple(prefixes)
    return [c for c in columns if isinstance(c, str) and c.startswith(prefixes)]


def infer_ge_features(columns: Iterable[str]) -> list[str]:
    """Columns named like L1000 probes (ending in ``_at``), in their original order."""
    return [c for c in columns if isinstance(c, str) and c.endswith(GE_SUFFIX)]


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
