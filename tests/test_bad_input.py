"""Bad input through the Python API: a ValueError that names what is wrong, never a stray exception."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs

rng = np.random.default_rng(0)
WELLS = pd.DataFrame(rng.normal(size=(12, 4)), columns=[f"Cells_{i}" for i in range(4)]).assign(
    pert=np.repeat(list("abcd"), 3))
FEATURES = ["Cells_0", "Cells_1"]
GE = WELLS.rename(columns={"Cells_0": "1_at"})[["pert", "1_at"]]

CASES = {
    "misspelled perturbation": (lambda: rs.replicate_reproducibility(WELLS, "prt", FEATURES), "'prt'"),
    "text feature": (lambda: rs.replicate_reproducibility(WELLS.assign(Cells_0="x"), "pert", FEATURES),
                     "non-numeric feature column"),
    "repeated columns": (lambda: rs.replicate_reproducibility(pd.concat([WELLS, WELLS[["Cells_0"]]], axis=1),
                                                              "pert", FEATURES), "repeats column name(s): Cells_0"),
    "all-NaN feature": (lambda: rs.replicate_reproducibility(WELLS.assign(Cells_0=np.nan), "pert", FEATURES),
                        "entirely missing"),
    "one replicate each": (lambda: rs.replicate_reproducibility(WELLS.drop_duplicates("pert"), "pert", FEATURES),
                           "2 or more distinct replicates"),
    "features not names": (lambda: rs.replicate_reproducibility(WELLS, "pert", 5), "list of them"),
    "n_null zero": (lambda: rs.replicate_reproducibility(WELLS, "pert", FEATURES, n_null=0), "n_null must be"),
    "mAP without controls": (lambda: rs.mean_average_precision(WELLS, "pert", FEATURES), "negative-control rows"),
    "no overlap": (lambda: rs.gene_predictability(WELLS.drop_duplicates("pert"), GE.assign(pert="z" + GE["pert"])
                                                  .drop_duplicates("pert"), key="pert"), "no perturbation is in both"),
    "replicate rows paired": (lambda: rs.gene_predictability(WELLS, GE, key="pert"), "treatment-level"),
    "unknown dataset": (lambda: rs.load_profiles("tarf", "cp"), "unknown dataset 'tarf'"),
    "unknown modality": (lambda: rs.load_profiles("taorf", "xx"), "choose one of: cp, ge"),
    "unknown release": (lambda: rs.load_profiles("taorf", "cp", release="parquet"), "choose one of: csv, curated"),
    "permutations without any": (lambda: rs.feature_gene_correlation(
        WELLS.drop_duplicates("pert"), GE.drop_duplicates("pert"), key="pert", method="permutation",
        n_permutations=0), "n_permutations >= 1"),
    "bad preset": (lambda: rs.replicate_reproducibility(WELLS, "pert", FEATURES, preset="papr"), "default, paper"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_named(name):
    call, needle = CASES[name]
    with pytest.raises(ValueError) as error:
        call()
    assert needle in str(error.value)
