"""Sphering against the controls, the inverse-normal transform, the generalised log, regressing a covariate out."""
from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest
from scipy import linalg, stats

import rosetta_stats as rs


def profiles(seed=0, n_controls=60, n_treated=40, n_features=6):
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(n_features, n_features))
    values = rng.normal(size=(n_controls + n_treated, n_features)) @ mixing * rng.uniform(0.5, 20, n_features)
    frame = pd.DataFrame(values + 3.0, columns=[f"Cells_f{i}" for i in range(n_features)])
    frame["type"] = ["control"] * n_controls + ["trt"] * n_treated
    frame["Metadata_Object_Count"] = rng.integers(50, 500, len(frame))
    p = rs.Profiles.from_frame(frame, "cp")
    return p.with_data(p.data, control_rule=rs.ControlSpec("type", ("control",)))


@pytest.mark.parametrize("method", ["ZCA", "ZCA-cor", "PCA"])
def test_sphered_controls_have_identity_covariance(method, r_session):
    p = profiles()
    out = rs.spherize(p, method=method, epsilon=0.0)
    controls = out.data.loc[out.controls, list(out.features)].to_numpy()
    np.testing.assert_allclose(np.cov(controls, rowvar=False), np.eye(controls.shape[1]), atol=1e-8)
    np.testing.assert_allclose(controls.mean(axis=0), 0, atol=1e-10)
    if method != "PCA":
        assert list(out.features) == list(p.features)


def test_zca_equals_the_inverse_square_root_of_the_covariance():
    p = profiles(1)
    values = p.data[list(p.features)].to_numpy()
    reference = values[p.controls]
    expected = (values - reference.mean(0)) @ linalg.inv(linalg.sqrtm(np.cov(reference, rowvar=False))).real
    out = rs.spherize(p, method="ZCA", epsilon=0.0)
    np.testing.assert_allclose(out.data[list(p.features)].to_numpy(), expected, atol=1e-8)
    sd = reference.std(0, ddof=1)
    correlation = np.corrcoef(reference, rowvar=False)
    expected_cor = ((values - reference.mean(0)) / sd) @ linalg.inv(linalg.sqrtm(correlation)).real
    np.testing.assert_allclose(rs.spherize(p, method="ZCA-cor", epsilon=0.0).data[list(p.features)].to_numpy(),
                               expected_cor, atol=1e-8)


def test_pca_sphering_equals_cytominer_whiten_called_in_r(tmp_path, r_session):
    p = profiles(2)
    p.data.to_csv(tmp_path / "x.csv", index=False)
    features = ", ".join(f'"{f}"' for f in p.features)
    script = f"""
suppressMessages(library(cytominer))
x <- read.csv("{tmp_path / 'x.csv'}")
out <- cytominer::transform(x, c({features}), operation = "whiten",
                            sample = x[x$type == "control", ], regularization_param = 0.5)
write.csv(out[, grep("^PC", names(out))], "{tmp_path / 'w.csv'}", row.names = FALSE)
"""
    subprocess.run(["Rscript", "-e", script], check=True, capture_output=True)
    direct = pd.read_csv(tmp_path / "w.csv")
    ours = rs.spherize(p, method="PCA", epsilon=0.5)
    assert list(ours.features) == list(direct.columns)
    np.testing.assert_allclose(ours.data[list(ours.features)].to_numpy(), direct.to_numpy(), atol=1e-10)
    # the numpy PCA whitening agrees up to the sign of each component (eigenvectors have no sign)
    from rosetta_stats.data.transforms import sphering_matrix

    values = p.data[list(p.features)].to_numpy()
    mean, scale, w = sphering_matrix(values[p.controls], "PCA", 0.5)
    numpy_pca = (values - mean) @ w.T
    signs = np.sign((numpy_pca * direct.to_numpy()).sum(axis=0))
    np.testing.assert_allclose(numpy_pca * signs, direct.to_numpy(), atol=1e-8)


def test_inverse_normal_generalised_log_and_regression():
    p = profiles(3)
    out = rs.inverse_normal_transform(p)
    column = p.data["Cells_f0"].to_numpy()
    expected = stats.norm.ppf((stats.rankdata(column) - 0.375) / (len(column) + 0.25))
    np.testing.assert_allclose(out.data["Cells_f0"], expected)
    logged = rs.generalized_log(p, offset=2.0)
    np.testing.assert_allclose(logged.data["Cells_f1"], np.log((p.data["Cells_f1"] + np.sqrt(p.data["Cells_f1"] ** 2
                                                                                           + 4.0)) / 2))
    residual = rs.regress_out(p, "Metadata_Object_Count")
    count = p.data["Metadata_Object_Count"].to_numpy(float)
    for f in p.features:
        slope = stats.linregress(count, residual.data[f]).slope
        assert abs(slope) < 1e-10
    with pytest.raises(ValueError, match="covariate column 'cells' not found"):
        rs.regress_out(p, "cells")
