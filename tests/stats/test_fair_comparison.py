"""The fair comparison: Way et al.'s statistic and null against a brute force, equalised replicate counts, the
per-perturbation activity calls, activity scores and percent matching."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import rosetta_stats as rs


def layout(seed=0, maps=3, reps=2, compounds=12, doses=(0.1, 1.0, 10.0), effect=0.0, active=0.5, n_features=25):
    """Plate maps x replicate plates; every compound-dose sits at one well position on its map's plates."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(maps):
        for r in range(reps):
            for w, (c, d) in enumerate(itertools.product(range(compounds), doses)):
                rows.append((f"map{m}_rep{r}", f"W{w:03d}", f"BRD-K{m:02d}{c:06d}", d))
    frame = pd.DataFrame(rows, columns=["plate", "well", "compound", "dose"])
    frame["pert"] = frame["compound"] + "_" + frame["dose"].astype(str)
    shift = {p: rng.normal(size=n_features) * effect * (rng.random() < active) for p in frame["pert"].unique()}
    values = np.array([shift[p] for p in frame["pert"]]) + rng.normal(size=(len(frame), n_features))
    features = [f"Cells_f{i}" for i in range(n_features)]
    frame[features] = values
    return frame, features


def test_way2022_statistic_and_exact_well_matched_null_equal_a_brute_force():
    frame, features = layout(seed=1, effect=0.8)
    result = rs.replicate_reproducibility(frame, "pert", features, preset="way2022", well="well", n_null=1000)
    assert result.settings["statistic"] == "spearman_median" and result.settings["null"] == "well_matched"
    table = result.table.set_index("perturbation")
    for pert in list(table.index[:6]):
        rows = frame[frame["pert"] == pert]
        values = rows[features].to_numpy()
        observed = np.median([stats.spearmanr(values[i], values[j])[0]
                              for i, j in itertools.combinations(range(len(values)), 2)])
        assert table.loc[pert, "replicate_correlation"] == pytest.approx(observed, abs=1e-12)
        # every set of one profile per query well, from distinct other perturbations
        pools = [frame[(frame["well"] == w) & (frame["pert"] != pert)] for w in rows["well"]]
        null = []
        for combo in itertools.product(*[p.index for p in pools]):
            if len(set(frame.loc[list(combo), "pert"])) < len(combo):
                continue
            picked = frame.loc[list(combo), features].to_numpy()
            null.append(np.median([stats.spearmanr(picked[i], picked[j])[0]
                                   for i, j in itertools.combinations(range(len(picked)), 2)]))
        assert table.loc[pert, "p_value"] == pytest.approx(np.mean(np.asarray(null) >= observed - 1e-12), abs=1e-12)


def test_percent_replicating_per_dose_counts_only_compounds_measured_at_every_dose():
    frame, features = layout(seed=2, effect=1.0)
    frame = frame[~((frame["compound"] == "BRD-K00000000") & (frame["dose"] == 10.0))]  # one dose missing
    result = rs.replicate_reproducibility(frame, "pert", features, preset="way2022", well="well",
                                          dose="dose", compound="compound", n_null=200)
    by_dose = result.tables["by_dose"]
    table = result.table.assign(compound=lambda t: t["perturbation"].str.rsplit("_", n=1).str[0],
                                dose=lambda t: t["perturbation"].str.rsplit("_", n=1).str[1].astype(float))
    scored = table[table["p_value"].notna()]
    doses_of = scored.groupby("compound")["dose"].nunique()
    complete = scored[scored["compound"].isin(doses_of.index[doses_of == 3])]
    assert "BRD-K00000000" not in set(complete["compound"])  # it lacks a dose
    assert (by_dose["n_compounds"] == complete["compound"].nunique()).all() and complete["compound"].nunique() > 30
    expected = complete.groupby("dose")["p_value"].apply(lambda p: 100 * (p < 0.05).mean())
    np.testing.assert_allclose(by_dose.set_index("dose")["percent_replicating"], expected.to_numpy())


def test_well_matched_null_is_calibrated():
    p = []
    for seed in range(6):
        frame, features = layout(seed=10 + seed, maps=6, reps=3, compounds=10, effect=0.0)
        result = rs.replicate_reproducibility(frame, "pert", features, preset="way2022", well="well", n_null=300,
                                              seed=seed)
        p.extend(result.table["p_value"].dropna())
    p = np.asarray(p)
    sd = np.sqrt(0.05 * 0.95 / len(p))
    assert np.mean(p <= 0.05) <= 0.05 + 3 * sd


def paired_sides(cp_reps=8, ge_reps=2, n=150, effect=0.5, seed=1):
    rng = np.random.default_rng(seed)
    shift = {f"BRD-K{p:08d}_1": rng.normal(size=40) * effect * (p < n // 2) for p in range(n)}

    def side(kind, reps):
        keys = [k for k in shift for _ in range(reps)] + ["negcon"] * 16
        frame = pd.DataFrame(np.array([shift.get(k, np.zeros(40)) for k in keys]) + rng.normal(size=(len(keys), 40)),
                             columns=[f"Cells_{i}" if kind == "cp" else f"{200000 + i}_at" for i in range(40)])
        frame["pert"] = keys
        frame["compound"] = [k[:13] for k in keys]
        frame["type"] = np.where(np.array(keys) == "negcon", "control", "trt")
        profiles = rs.Profiles.from_frame(frame, kind, "pert")
        return profiles.with_data(profiles.data, control_rule=rs.ControlSpec("type", ("control",)))
    return side("cp", cp_reps), side("ge", ge_reps)


@pytest.mark.parametrize("equalize", ["subsample", "normalized_map"])
def test_equal_effects_with_unequal_replicate_counts_differ_only_naively(equalize):
    cp, ge = paired_sides()
    result = rs.compare_reproducibility(cp, ge, equalize=equalize, n_draws=10, n_null=300)
    assert result.estimates["difference_naive"] > 20  # 8 CP wells vs 2 L1000 wells: CP looks far better
    rows = result.table.set_index(["method", "modality"])
    cp_row, ge_row = rows.loc[(equalize, "cp")], rows.loc[(equalize, "ge")]
    assert cp_row["ci_low"] <= ge_row["ci_high"] and ge_row["ci_low"] <= cp_row["ci_high"]  # intervals overlap
    difference = abs(result.estimates[f"difference_{equalize}"])
    assert difference < (10 if equalize == "subsample" else 0.06)


def test_activity_calls_under_the_null_and_under_planted_signal():
    false_calls = []
    for seed in range(4):
        cp, ge = paired_sides(effect=0.0, seed=seed, n=60)
        result = rs.modality_activity(cp, ge, n_draws=3, n_null=200, seed=seed)
        false_calls.append(result.table["call"].ne("neither").mean())
    assert np.mean(false_calls) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 240)
    cp, ge = paired_sides(cp_reps=3, ge_reps=3, effect=0.7, seed=9, n=100)
    result = rs.modality_activity(cp, ge, n_draws=3, n_null=300)
    truly_active = result.table["perturbation"].map(lambda k: int(k[5:13]) < 50).to_numpy()
    for label in ("cp", "ge"):
        called = result.table[f"active_{label}"].to_numpy()
        assert called.sum() > 20 and (called & ~truly_active).sum() / max(called.sum(), 1) <= 0.05 + 0.05
    assert result.counts["both"] > 10


def test_cdrp_style_keys_pair_on_compound_and_dose_not_on_how_they_are_written():
    cp, ge = paired_sides(cp_reps=3, ge_reps=3, effect=0.7, seed=3, n=40)
    # CP keys carry the dose as 1.0, L1000 as 1: pairing parses it, so both sides meet
    cp = cp.with_data(cp.data.assign(pert=cp.data["pert"].str.replace(r"_1$", "_1.0", regex=True)))
    result = rs.modality_activity(cp, ge, n_draws=2, n_null=200)
    assert len(result.table) == 40 and result.settings["keys"] == "dose_suffix"


def test_activity_scores_by_hand():
    rng = np.random.default_rng(5)
    base = rng.normal(size=20) * 3
    values = np.vstack([base + rng.normal(size=20) for _ in range(3)] + [rng.normal(size=20)])
    frame = pd.DataFrame(values, columns=[f"{200000 + i}_at" for i in range(20)]).assign(pert=["a"] * 3 + ["b"])
    result = rs.activity_scores(rs.Profiles.from_frame(frame, "ge", "pert"))
    row = result.table.set_index("perturbation").loc["a"]
    rho = stats.spearmanr(values[:3].T).correlation[np.triu_indices(3, 1)]
    from rosetta_stats.data.treatment_level import modz_weights
    strength = int((np.abs(modz_weights(values[:3]) @ values[:3]) >= 2).sum())
    assert row["signature_strength"] == strength
    assert row["replicate_correlation_q75"] == pytest.approx(np.quantile(rho, 0.75))
    assert row["tas"] == pytest.approx(np.sqrt(max(np.quantile(rho, 0.75), 0) * strength / 20))
    assert np.isnan(result.table.set_index("perturbation").loc["b", "tas"])  # one replicate: no score


def test_percent_matching_finds_planted_moas_and_not_noise():
    rng = np.random.default_rng(6)
    centres = rng.normal(size=(4, 30)) * 2
    rows, values = [], []
    for c in range(24):
        moa = f"moa{c % 4}" if c < 16 else f"lonely{c}"
        for dose in (1.0, 10.0):
            rows.append((f"BRD-K{c:08d}", dose, moa))
            values.append((centres[c % 4] if c < 16 and dose == 10.0 else 0) + rng.normal(size=30))
    frame = pd.DataFrame(values, columns=[f"Cells_{i}" for i in range(30)])
    frame[["pert", "dose", "moa"]] = rows
    result = rs.percent_matching(frame, moa="moa", dose="dose", perturbation="pert",
                                 features=[f"Cells_{i}" for i in range(30)], n_null=500)
    by_dose = result.tables["by_dose"].set_index("dose")
    assert by_dose.loc[10.0, "percent_matching"] > 80 and by_dose.loc[1.0, "percent_matching"] < 30
    assert set(result.table["moa"]) == {"moa0", "moa1", "moa2", "moa3"}  # MoAs of one compound are not scored
