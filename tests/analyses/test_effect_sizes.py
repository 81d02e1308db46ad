"""Effect sizes: limma's moderated t equals limma called directly in R; Cohen's d by hand; both reading ways."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs

pytestmark = pytest.mark.usefixtures("r_session")


def wells(seed=0, n_perts=6, reps=3, n_controls=8, n_features=5, effect=0.0):
    rng = np.random.default_rng(seed)
    perts = np.r_[np.repeat([f"c{i}" for i in range(n_perts)], reps), ["DMSO"] * n_controls]
    values = rng.normal(size=(len(perts), n_features))
    if effect:
        values[perts == "c0", 0] += effect  # compound c0 moves feature 0
    frame = pd.DataFrame(values, columns=[f"Cells_f{i}" for i in range(n_features)])
    frame.insert(0, "pert", perts)
    frame.insert(1, "kind", np.where(perts == "DMSO", "negcon", "trt"))
    return frame


def test_moderated_t_equals_limma_called_in_r(tmp_path):
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript not found")
    frame = wells(effect=3.0)
    ours = rs.effect_sizes(frame, "pert", controls={"kind": "negcon"})
    frame.to_csv(tmp_path / "wells.csv", index=False)
    code = """
        w <- read.csv("wells.csv", check.names = FALSE)
        g <- relevel(factor(ifelse(w$kind == "negcon", "ctrl", w$pert)), ref = "ctrl")
        design <- model.matrix(~ g)
        fit <- limma::eBayes(limma::lmFit(t(as.matrix(w[grep("^Cells_", names(w))])), design))
        keep <- colnames(design) != "(Intercept)"
        out <- data.frame(perturbation = rep(sub("^g", "", colnames(design)[keep]), each = nrow(fit$t)),
                          feature = rep(rownames(fit$t), sum(keep)),
                          effect = as.vector(fit$coefficients[, keep]), t = as.vector(fit$t[, keep]),
                          p = as.vector(fit$p.value[, keep]))
        write.csv(out, "limma.csv", row.names = FALSE)
    """
    done = subprocess.run(["Rscript", "-e", code], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    limma = pd.read_csv(tmp_path / "limma.csv").set_index(["perturbation", "feature"])
    table = ours.table.set_index(["perturbation", "feature"]).loc[limma.index]
    np.testing.assert_allclose(table["effect"], limma["effect"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(table["t"], limma["t"], rtol=1e-10)
    np.testing.assert_allclose(table["p_value"], limma["p"], rtol=1e-10)


def test_cohens_d_and_effect_by_hand_and_both_reading_ways():
    frame = wells(effect=3.0)
    result = rs.effect_sizes(frame, "pert", controls={"kind": "negcon"})
    treated = frame.loc[frame["pert"] == "c2", "Cells_f3"].to_numpy()
    controls = frame.loc[frame["kind"] == "negcon", "Cells_f3"].to_numpy()
    pooled = np.sqrt(((len(treated) - 1) * treated.var(ddof=1) + (len(controls) - 1) * controls.var(ddof=1))
                     / (len(treated) + len(controls) - 2))
    row = result.table.set_index(["perturbation", "feature"]).loc[("c2", "Cells_f3")]
    assert row["effect"] == pytest.approx(treated.mean() - controls.mean(), abs=1e-12)
    assert row["cohens_d"] == pytest.approx((treated.mean() - controls.mean()) / pooled, abs=1e-12)
    assert result.top_features("c0", n=1)["feature"].tolist() == ["Cells_f0"]
    assert result.top_perturbations("Cells_f0", n=1, by="cohens_d")["perturbation"].tolist() == ["c0"]
    profiles = rs.Profiles.from_frame(frame, "cp", "pert")  # Profiles carry feature categories into the table
    annotated = rs.effect_sizes(profiles, controls={"kind": "negcon"})
    assert annotated.table["category"].notna().all()
    with pytest.raises(ValueError, match="no perturbation 'zz'"):
        result.top_features("zz")


def test_moderated_p_values_are_calibrated_under_the_null():
    p = np.concatenate([rs.effect_sizes(wells(seed=s, n_perts=10, n_features=20), "pert",
                                        controls={"kind": "negcon"}).table["p_value"] for s in range(15)])
    rate = np.mean(p <= 0.05)
    # tests within a run share the controls: count a quarter as independent
    assert abs(rate - 0.05) <= 3 * np.sqrt(0.05 * 0.95 / (len(p) / 4)), rate


def test_too_few_controls_are_named():
    frame = wells(n_controls=1)
    with pytest.raises(ValueError, match="at least 2 negative-control rows"):
        rs.effect_sizes(frame, "pert", controls={"kind": "negcon"})


def test_image_locations_of_a_genes_top_perturbations(tmp_path):
    root = tmp_path / "data"
    rs.write_rosetta_like(root, datasets=["taorf"], seed=0)
    cp = rs.load_profiles("taorf", "cp", root=root)
    ge = rs.load_profiles("taorf", "ge", root=root)
    effects = rs.effect_sizes(ge)
    gene = effects.table["feature"].iloc[0]
    top = effects.top_perturbations(gene, n=2)["perturbation"].tolist()
    located = rs.image_locations(cp, gene=gene, effects=effects, n=2)
    expected = cp.data[cp.data[cp.perturbation].astype(str).isin(top)]
    assert len(located.table) == len(expected) and set(located.table["perturbation"]) <= set(top)
    assert set(located.table["image_set"]) == {"BBBC037"}  # TA-ORF is BBBC037
    with pytest.raises(ValueError, match="none of the perturbations"):
        rs.image_locations(cp, perturbations=["nope"])
