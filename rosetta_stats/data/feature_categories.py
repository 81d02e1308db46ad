"""CellProfiler feature names as categories: compartment, measurement group, channel.

``Cells_Texture_Contrast_ER_5_0`` -> compartment ``Cells``, group ``Texture``,
channel ``ER``. Channels are the five Cell Painting stains (DNA, RNA, AGP,
ER, Mito), whatever a pipeline called them: ``OrigDNA``/``CorrDNA``, and the
older CDRP names ``Hoechst`` (DNA), ``Syto`` (RNA) and ``Ph_golgi`` (AGP);
``DAPI`` is DNA. Other stains keep their own name (BBBC021's ``CorrActin`` is
``Actin``). A feature that reads two channels
(``Correlation_Correlation_DNA_Mito``) gets both, joined by ``_``; shape and
neighbour features have none. The paper's categories (Fig 2d, 3b) are
``channel-group`` where a channel exists, else ``compartment-group``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

CHANNELS = ("DNA", "RNA", "AGP", "ER", "Mito")
COMPARTMENTS = ("Cells", "Cytoplasm", "Nuclei")
# a stain's names in pipelines of different vintages (lower case, Orig/Corr prefix removed) -> the channel
CHANNEL_ALIASES = {"dna": "DNA", "hoechst": "DNA", "dapi": "DNA", "rna": "RNA", "syto": "RNA",
                   "agp": "AGP", "ph_golgi": "AGP", "phgolgi": "AGP", "er": "ER", "mito": "Mito"}
OTHER_STAINS = ("Actin", "Tub", "Tubulin")  # stains of non-Cell-Painting sets, kept by name
_PREFIX = re.compile(r"^(?:Orig|Corr)(?=[A-Z])")


def _channel(token: str) -> str | None:
    bare = _PREFIX.sub("", token)
    if bare.lower() in CHANNEL_ALIASES:
        return CHANNEL_ALIASES[bare.lower()]
    if bare in OTHER_STAINS and bare != token:  # CorrActin, CorrTub: a stain, not a word of the measurement
        return "Tubulin" if bare == "Tub" else bare
    return None


def feature_categories(features: Iterable[str]) -> pd.DataFrame:
    """One row per feature: feature, compartment, group, channel, category."""
    rows = []
    for name in features:
        parts = str(name).split("_")
        compartment = parts[0] if parts[0] in COMPARTMENTS else None
        group = parts[1] if len(parts) > 1 else None
        tokens = parts[2:]
        found = []
        i = 0
        while i < len(tokens):
            pair = f"{tokens[i]}_{tokens[i + 1]}" if i + 1 < len(tokens) else None
            channel = _channel(pair) if pair else None  # two-word names (Ph_golgi)
            step = 2 if channel else 1
            channel = channel or _channel(tokens[i])
            if channel and channel not in found:
                found.append(channel)
            i += step
        channel = "_".join(found) if found else None
        category = f"{channel}-{group}" if channel else f"{compartment}-{group}"
        rows.append((name, compartment, group, channel, category))
    return pd.DataFrame(rows, columns=["feature", "compartment", "group", "channel", "category"])
