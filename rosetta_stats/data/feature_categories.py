"""CellProfiler feature names as categories: compartment, measurement group, channel.

``Cells_Texture_Contrast_ER_5_0`` -> compartment ``Cells``, group ``Texture``,
channel ``ER``. Channels are the five Cell Painting stains (DNA, RNA, AGP,
ER, Mito; ``OrigDNA``-style names are understood); a feature that reads two
channels (``Correlation_Correlation_DNA_Mito``) gets both, joined by ``_``;
shape and neighbour features have none. The paper's categories (Fig 2d, 3b)
are ``channel-group`` where a channel exists, else ``compartment-group``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

CHANNELS = ("DNA", "RNA", "AGP", "ER", "Mito")
COMPARTMENTS = ("Cells", "Cytoplasm", "Nuclei")
_CHANNEL = re.compile(r"^(?:Orig)?(DNA|RNA|AGP|ER|Mito)$", re.IGNORECASE)


def feature_categories(features: Iterable[str]) -> pd.DataFrame:
    """One row per feature: feature, compartment, group, channel, category."""
    rows = []
    canonical = {c.lower(): c for c in CHANNELS}
    for name in features:
        parts = str(name).split("_")
        compartment = parts[0] if parts[0] in COMPARTMENTS else None
        group = parts[1] if len(parts) > 1 else None
        found = []
        for part in parts[2:]:
            match = _CHANNEL.match(part)
            if match and canonical[match.group(1).lower()] not in found:
                found.append(canonical[match.group(1).lower()])
        channel = "_".join(found) if found else None
        category = f"{channel}-{group}" if channel else f"{compartment}-{group}"
        rows.append((name, compartment, group, channel, category))
    return pd.DataFrame(rows, columns=["feature", "compartment", "group", "channel", "category"])
