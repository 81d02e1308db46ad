"""The whole public path on real profiles written by other people (``../shared/data/real/``).

BBBC021 (632 per-well CellProfiler profiles, not normalised, 103 compound-concentrations in triplicate +
330 DMSO wells, 12 MoAs) and CMEA (162 CDRP compounds profiled by Cell Painting and by L1000, consensus
level, genes named by symbol). Each number is compared with an independent computation written here:
cytominer called directly in R, numpy loops, sklearn, scipy.
"""
from __future__ import annotations

import itertools
import json
import math
import subprocess
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import average_precision_score

import rosetta_stats as rs
from rosetta_stats.cli import main
from tests.conftest import shared_file

pytestmark = pytest.mark.slow

BBBC021 = "data/real/bbbc021_per_well_annotated.csv.gz"
CONTROLS = {"Metadata_pert_type": "control"}


@pytest.fixture(scope="module")
def bbbc021():
    return rs.read_profiles(shared_file(BBBC021), "cp", "Metadata_treatment", plate="Metadata_Plate",
                            controls=CONTROLS)


@pytest.fixture(scope="module")
def normalized(bbbc021, r_session):
    result = rs.normalize(bbbc021, bbbc021.features, "Metadata_Plate", CONTROLS, operation="robustize")
    kept = [f for f in bbbc021.features if f in result.table.columns]
    profiles = rs.Profiles.from_frame(result.table, "cp", "Metadata_treatment", "Metadata_Plate", features=kept)
    return result, profiles.with_data(profiles.data, control_rule=bbbc021.control_rule)


def test_reading_sets_aside_bookkeeping_and_says_what_it_sees(bbbc021):
    raw = pd.read_csv(shared_file(BBBC021), nrows=0).columns
    compartment = [c for c in raw if c.startswith(("Cells_", "Cytoplasm_", "Nuclei_"))]
    assert len(compartment) == 516 and len(bbbc021.features) == 459
    assert not [f for f in bbbc021.features if "Location_" in f or "Number_Object" in f or "_Parent_" in f
                or "Center_" in f or "ClosestObjectNumber" in f]
    assert int(bbbc021.controls.sum()) == 330
    generic = rs.read_profiles(shared_file(BBBC021), "cp", "Metadata_treatment")
    notes = " ".join(generic.notes)
    assert "Metadata_treatment holds 'DMSO' in 330 of 632 rows" in notes and "--control" in notes
    assert "look unnormalised" in notes and "57 bookkeeping column(s) are not features" in notes


def test_normalising_in_r_equals_cytominer_called_directly(normalized, bbbc021, tmp_path):
    """632 x 459 robustized per plate against DMSO (seconds, where cytominer's per-feature loop took minutes)."""
    result, _ = normalized
    script = tmp_path / "direct.R"
    script.write_text(_r_script(shared_file(BBBC021), tmp_path, result, bbbc021.features))
    subprocess.run(["Rscript", str(script)], check=True, capture_output=True)
    direct = pd.read_csv(tmp_path / "direct.csv")
    ours = result.table.set_index(["Metadata_Plate", "Metadata_Well"])
    direct = direct.set_index(["Metadata_Plate", "Metadata_Well"]).loc[ours.index]
    assert direct.shape[1] == 457
    np.testing.assert_allclose(ours[direct.columns].to_numpy(float), direct.to_numpy(float), rtol=0, atol=1e-10)


def _r_script(path, folder, result, features) -> str:
    dropped = ", ".join(f'"{f}"' for f in result.dropped_features["feature"])
    kept = [f for f in features if f not in set(result.dropped_features["feature"])]
    (folder / "kept.txt").write_text("\n".join(kept))
    return f"""
suppressMessages(library(cytominer))
x <- read.csv(gzfile("{path}"), check.names = FALSE)
keep <- setdiff(readLines("{folder / 'kept.txt'}"), c({dropped}))
out <- cytominer::normalize(x, keep, "Metadata_Plate", x[x$Metadata_pert_type == "control", ],
                            operation = "robustize")
write.csv(as.data.frame(out)[, c("Metadata_Plate", "Metadata_Well", keep)], "{folder / 'direct.csv'}",
          row.names = FALSE)
"""


def test_replicate_correlation_equals_a_numpy_loop(normalized):
    _, profiles = normalized
    result = rs.replicate_reproducibility(profiles, n_null=200, seed=0)
    table = result.table.set_index("perturbation")
    data = profiles.data[~profiles.controls]
    for treatment in list(table.index[:5]):
        rows = data.loc[data["Metadata_treatment"] == treatment, list(profiles.features)].to_numpy(float)
        pairs = [stats.pearsonr(rows[i], rows[j])[0] for i, j in itertools.combinations(range(len(rows)), 2)]
        assert table.loc[treatment, "replicate_correlation"] == pytest.approx(np.mean(pairs), abs=1e-12)


def test_map_significance_does_not_move_with_the_seed_or_the_null_size(normalized):
    _, profiles = normalized
    shares, tables = [], []
    for seed, n_null in ((0, 200), (1, 1000), (2, 5000)):
        result = rs.mean_average_precision(profiles, n_null=n_null, seed=seed)
        shares.append(100 * result.estimates["fraction_q_below_0.05"])
        tables.append(result.table)
    assert max(shares) - min(shares) < 5
    table = tables[0].set_index("perturbation")
    perfect = table[table["map"] >= 1 - 1e-12]
    exact = [1 / math.comb(int(pos + neg), int(pos)) for pos, neg in zip(perfect["n_positives"], perfect["n_negatives"])]
    assert len(perfect) > 30 and perfect["p_value"].to_numpy() == pytest.approx(exact, rel=1e-12)
    assert (perfect["n_negatives"] == 330).all()
    # one treatment's AP, query by query, against sklearn on Pearson correlations
    name = table.index[0]
    data = profiles.data
    wells = np.flatnonzero((data["Metadata_treatment"] == name).to_numpy())
    controls = np.flatnonzero(profiles.controls)
    corr = np.corrcoef(data[list(profiles.features)].to_numpy(float))
    aps = []
    for q in wells:
        pos = [w for w in wells if w != q]
        aps.append(average_precision_score([1] * len(pos) + [0] * len(controls), corr[q, pos + list(controls)]))
    assert table.loc[name, "map"] == pytest.approx(np.mean(aps), abs=1e-12)


def test_moa_prediction_from_cell_painting_alone_on_the_command_line(normalized, tmp_path, capsys):
    result, profiles = normalized
    data = profiles.data[~profiles.controls]
    data = data.assign(compound=data["Metadata_compound"])
    path = tmp_path / "bbbc021_normalized.csv"
    data.to_csv(path, index=False)
    out = tmp_path / "moa"
    assert main(["--quiet", "moa", "--cp", str(path), "--key", "Metadata_treatment", "--modality", "cp",
                 "--moa", "Metadata_moa", "--models", "logistic", "--splits", "3", "--min-compounds", "3",
                 "--out", str(out)]) == 0
    tables, _ = rs.read_results(out)
    f1 = tables["moa_prediction"].groupby("modality")["macro_f1"].mean()
    assert set(f1.index) == {"cp", "chance"} and f1["cp"] > f1["chance"] + 0.2


def test_cmea_pairs_and_relates_the_two_assays():
    cp = rs.read_profiles(shared_file("data/real/cdrp_cmea_cp_consensus.csv.gz"), "cp", "Metadata_broad_id")
    ge = rs.read_profiles(shared_file("data/real/cdrp_cmea_l1000_consensus.csv.gz"), "ge", "pert_id")
    ge = ge.with_data(ge.data.rename(columns={"pert_id": "Metadata_broad_id"}), perturbation="Metadata_broad_id")
    paired = rs.pair(cp, ge)
    assert len(paired.cp) == 162 and not paired.lost_cp and not paired.lost_ge
    categories = rs.feature_categories(cp.features)["channel"].value_counts()
    assert categories.to_dict() == {"ER": 138, "Mito": 138, "AGP": 138, "RNA": 138, "DNA": 126}
    # consensus profiles have heavy tails: the default permutes; the t-test is checked against scipy
    assert rs.feature_gene_correlation(paired, n_permutations=19).settings["method"] == "permutation"
    correlations = rs.feature_gene_correlation(paired, method="t").table
    best = correlations.iloc[0]
    raw_cp = pd.read_csv(shared_file("data/real/cdrp_cmea_cp_consensus.csv.gz")).set_index("Metadata_broad_id")
    raw_ge = pd.read_csv(shared_file("data/real/cdrp_cmea_l1000_consensus.csv.gz")).set_index("pert_id")
    symbol_column = best["symbol"].replace("-", ".")
    keys = paired.cp.data["Metadata_broad_id"]
    r, p = stats.pearsonr(raw_cp.loc[keys, best["feature"]], raw_ge.loc[keys, symbol_column])
    assert best["r"] == pytest.approx(r, abs=1e-12) and best["p_value"] == pytest.approx(p, rel=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        genes = rs.gene_predictability(paired, n_permutations=20, seed=0)
    assert genes.table["r2"].min() > -1.5 and genes.table["symbol"].notna().all()
