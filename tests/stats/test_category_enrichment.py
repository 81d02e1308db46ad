"""Feature categories, their enrichment among selected features, and predictability per category."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import rosetta_stats as rs


def test_names_parse_into_compartment_group_channel():
    table = rs.feature_categories(["Cells_Texture_Contrast_ER_5_0", "Nuclei_Intensity_MeanIntensity_OrigDNA",
                                   "Cytoplasm_Correlation_Correlation_DNA_Mito", "Cells_AreaShape_Area",
                                   "Cells_RadialDistribution_FracAtD_AGP_1of4"]).set_index("feature")
    assert table.loc["Cells_Texture_Contrast_ER_5_0", ["compartment", "group", "channel"]].tolist() == \
        ["Cells", "Texture", "ER"]
    assert table.loc["Nuclei_Intensity_MeanIntensity_OrigDNA", "channel"] == "DNA"
    assert table.loc["Cytoplasm_Correlation_Correlation_DNA_Mito", "channel"] == "DNA_Mito"
    assert table.loc["Cells_AreaShape_Area", "category"] == "Cells-AreaShape"
    assert table.loc["Cells_RadialDistribution_FracAtD_AGP_1of4", "category"] == "AGP-RadialDistribution"


def test_enrichment_is_fishers_exact_test():
    features = [f"Cells_Texture_X_DNA_{i}" for i in range(20)] + [f"Cells_Intensity_X_RNA_{i}" for i in range(30)]
    selected = pd.Series([True] * 12 + [False] * 8 + [True] * 3 + [False] * 27, index=features)
    table = rs.category_enrichment(selected).table.set_index("category")
    assert table.loc["DNA-Texture", "ratio"] == pytest.approx(12 / 20)
    expected = stats.fisher_exact([[12, 8], [3, 27]], alternative="greater")[1]
    assert table.loc["DNA-Texture", "p_value"] == pytest.approx(expected)
    assert table.index[0] == "DNA-Texture"


def test_predictability_by_category_finds_the_informative_channel():
    rng = np.random.default_rng(0)
    n = 120
    signal = rng.normal(size=(n, 2))
    dna = signal @ rng.normal(size=(2, 6)) + 0.5 * rng.normal(size=(n, 6))
    rna = rng.normal(size=(n, 6))
    cp = pd.DataFrame(np.hstack([dna, rna]), columns=[f"Cells_Texture_C_DNA_{i}" for i in range(6)] +
                      [f"Cells_Texture_C_RNA_{i}" for i in range(6)]).assign(pert=[f"t{i}" for i in range(n)])
    genes = signal @ rng.normal(size=(2, 4)) + 0.5 * rng.normal(size=(n, 4))
    ge = pd.DataFrame(genes, columns=["201000_at", "209460_at", "1_at", "2_at"]).assign(pert=cp["pert"])
    table = rs.gene_predictability_by_category(cp, ge, key="pert")
    by_category = table.groupby("category")["r2"].median()
    assert by_category["DNA-Texture"] > 0.5 > by_category["RNA-Texture"]
    assert set(table["symbol"].dropna()) >= {"AARS1", "ABAT"}
