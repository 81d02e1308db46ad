"""Today's Rosetta layout end to end: written files -> local bucket -> download -> load -> pair -> replicates.

The files come from ``write_rosetta_like`` (formats of ROSETTA_FILES.md); the
checks compare with the truth it planted, not with anything the loaders share.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs
from rosetta_stats.cli import main
from rosetta_stats.data import download as dl
from rosetta_stats.common.matching import NoControlsError
from rosetta_stats.data.registry import get_dataset

from tests.helpers.bucket_server import BucketServer

CASES = [("csv", d) for d in ("cdrp", "cdrp-bio", "luad", "taorf", "lincs")] + \
        [("curated", d) for d in ("cdrp", "luad", "taorf", "lincs")]


@pytest.fixture(scope="module")
def bucket(tmp_path_factory):
    """Rosetta-like files of both releases, served by a loopback server under the bucket's keys."""
    source = tmp_path_factory.mktemp("bucket-files")
    truths = {("csv", k): v for k, v in rs.write_rosetta_like(source, release="csv", seed=3).items()}
    try:
        from rosetta_stats.bridge.parquet import _session_with_nanoparquet
        _session_with_nanoparquet()
        curated = rs.write_rosetta_like(source, datasets=("cdrp", "luad", "taorf", "lincs"),
                                        release="curated", seed=3)
        truths.update({("curated", k): v for k, v in curated.items()})
    except rs.RBackendUnavailable as exc:
        import os
        if os.environ.get("CI"):
            raise
        warnings.warn(f"curated release not tested: {exc}")
    server = BucketServer()
    for (release, short), truth in truths.items():
        ds = get_dataset(short)
        for remote in ds.files_of(release):
            local = source / remote.relative_path
            if local.is_file():
                server.objects[remote.key()] = local.read_bytes()
    yield server, truths
    server.close()


@pytest.fixture(scope="module")
def downloaded(bucket, tmp_path_factory):
    server, truths = bucket
    root = tmp_path_factory.mktemp("downloads")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dl.ChangedSinceListingWarning)  # every csv object differs from 2022
        for (release, short) in truths:
            files = ["cp-normalized", "cp-normalized-variable-selected", "l1k"] if release == "csv" \
                else ["cp-augmented", "l1k"]
            dl.download_dataset(short, files, dest=root, base_url=server.url, progress=False, release=release)
    return root, truths


@pytest.mark.parametrize("release,short", CASES)
def test_every_planted_control_and_pair_is_found(downloaded, release, short):
    root, truths = downloaded
    if (release, short) not in truths:
        pytest.skip("the curated release needs R's nanoparquet")
    truth = truths[(release, short)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the time-point warning is checked below
        cp = rs.load_profiles(short, "cp", root=root, release=release)
        ge = rs.load_profiles(short, "ge", root=root, release=release)
        paired = rs.load_paired(short, root, release=release)
    assert int(cp.controls.sum()) == truth.cp_controls
    assert int(ge.controls.sum()) == truth.ge_controls
    assert any(n.startswith("negative controls:") for n in cp.notes + ge.notes)
    assert sorted(paired.cp.data[paired.key]) == sorted(truth.pairs)
    assert (paired.cp.data[paired.key].to_numpy() == paired.ge.data[paired.key].to_numpy()).all()
    assert set(paired.lost_cp) == set(truth.cp_only) and not paired.lost_ge
    cp_hours, ge_hours = truth.time_points
    assert paired.time_points == (cp_hours, ge_hours)
    if cp_hours != ge_hours:
        assert f"{cp_hours:g} h vs {ge_hours:g} h" in paired.summary()
        assert any(f"{cp_hours:g} h vs {ge_hours:g} h" in n for n in paired.notes)
    else:
        assert "time points differ" not in paired.summary()
    assert paired.losses["n_paired"].sum() == len(truth.pairs)
    assert "compound" in paired.cp.data.columns
    # replicate reproducibility on the loaded wells: planted-reproducible keys score above the others
    result = rs.replicate_reproducibility(cp, n_null=200, seed=0)
    table = result.table.set_index("perturbation")["replicate_correlation"]
    keys = rs.normalize_dose_keys(table.index) if release == "csv" else pd.Series(table.index)
    scores = pd.Series(table.to_numpy(), index=keys.to_numpy())
    planted = scores[scores.index.isin(truth.reproducible_cp)].mean()
    other = scores[~scores.index.isin(truth.reproducible_cp) & (scores.index != "negcon")].mean()
    assert planted > other + 0.2


def test_downloads_are_recorded_and_changes_since_the_listing_reported(bucket, tmp_path):
    server, truths = bucket
    with pytest.warns(dl.ChangedSinceListingWarning, match="changed since the 2022-02-25 listing"):
        rs.download_dataset("lincs", ["l1k"], dest=tmp_path, base_url=server.url, progress=False)
    record = dl.read_provenance(tmp_path)
    (entry,) = record.values()
    assert entry["changed_since_listing"] and entry["listing_etag"] != entry["etag"]
    assert entry["key"].startswith("cpg0003-rosetta/broad/workspace/preprocessed_data/LINCS-Pilot1/L1000/")


def test_lincs_dose_suffixes_pair_only_when_parsed(downloaded):
    root, truths = downloaded
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        parsed = rs.load_paired("lincs", root)
        raw = rs.load_paired("lincs", root, match="raw")
    losses = raw.losses.set_index("dose")
    assert losses.loc[10.0, "n_paired"] == 0 and losses.loc[20.0, "n_paired"] == 0  # _10.0 vs _10
    assert losses.loc[10.0, "only_cp"] == losses.loc[10.0, "only_ge"] > 0
    assert len(parsed.cp) > len(raw.cp)
    assert parsed.losses["only_cp"].sum() == parsed.losses["only_ge"].sum() == 0


def test_dataset_aware_commands(downloaded, tmp_path, capsys):
    root, _ = downloaded
    assert main(["--quiet", "replicates", "--dataset", "lincs", "--modality", "cp", "--root", str(root),
                 "--n-null", "100", "--out", str(tmp_path / "reps")]) == 0
    table = pd.read_csv(tmp_path / "reps" / "replicate_reproducibility.csv")
    assert table["perturbation"].str.endswith("_10.0").any()
    assert main(["--quiet", "predict-genes", "--dataset", "taorf", "--root", str(root), "--permutations", "5",
                 "--out", str(tmp_path / "genes")]) == 0
    out = capsys.readouterr().out
    assert "2 perturbations had no L1000 match" in out
    assert main(["datasets", "info", "lincs"]) == 0
    info = capsys.readouterr().out
    assert "time points differ: 48 h (CP) vs 24 h (L1000)" in info
    assert "control_type == negcon; then Metadata_pert_id_dose == negcon; then pert_type == control" in info
    assert main(["datasets", "list", "--release", "curated"]) == 0
    assert "8 files (sizes and ETags not published)" in capsys.readouterr().out


def test_a_file_without_controls_names_the_rules_and_what_it_holds(tmp_path):
    frame = pd.DataFrame({"pert_id": ["a", "a", "b", "b"], "pert_type": ["trt"] * 4,
                          "det_plate": ["p1"] * 4, "200814_at": [1.0, 2.0, 3.0, 4.0]})
    path = tmp_path / "TA-ORF-BBBC037-Rohban" / "L1000" / "replicate_level_l1k.csv.gz"
    path.parent.mkdir(parents=True)
    frame.to_csv(path, index=False)
    with pytest.raises(NoControlsError) as error:
        rs.load_profiles("taorf", "ge", root=tmp_path)
    message = str(error.value)
    assert "no negative-control rows among 4 rows" in message
    assert "control_type == negcon: column not in the file" in message
    assert "pert_type == control: 0 rows; most common values: 'trt' (4)" in message
    assert "pert_id == negcon: 0 rows; most common values: 'a' (2), 'b' (2)" in message
    assert main(["replicates", "--dataset", "taorf", "--modality", "ge", "--root", str(tmp_path),
                 "--out", str(tmp_path / "o")]) == 2
    # an explicit rule replaces the registry's; a misspelled column is an error, not a warning
    profiles = rs.load_profiles("taorf", "ge", root=tmp_path, controls={"pert_id": "b"})
    assert profiles.controls.tolist() == [False, False, True, True]
    with pytest.raises(ValueError, match="'pert_typ' \\(did you mean 'pert_type'\\?\\)"):
        rs.load_profiles("taorf", "ge", root=tmp_path, controls={"pert_typ": "control"})


def test_the_files_own_control_column_is_never_overwritten(tmp_path):
    frame = pd.DataFrame({"pert": ["a", "a", "DMSO", "DMSO"], "control_type": ["x", "y", "z", "w"],
                          "Cells_a": [1.0, 2.0, 3.0, 5.0]})
    path = tmp_path / "cp.csv"
    frame.to_csv(path, index=False)
    profiles = rs.read_profiles(path, "cp", "pert", controls={"pert": "DMSO"})
    assert profiles.data["control_type"].tolist() == ["x", "y", "z", "w"]
    assert profiles.controls.tolist() == [False, False, True, True]
    treated = rs.treatment_level(profiles)  # sorted: DMSO, a
    assert treated.data["pert"].tolist() == ["DMSO", "a"] and treated.controls.tolist() == [True, False]


def test_keys_and_compounds():
    keys = rs.normalize_dose_keys(["BRD-K12345678_10.0", "BRD-K12345678_10", "negcon", "KRAS_p.G12V",
                                   "ccsbBroad304_00123", "X_0.041152", "X_19.999"]).tolist()
    assert keys == ["BRD-K12345678_10", "BRD-K12345678_10", "negcon", "KRAS_p.G12V", "ccsbBroad304_123",
                    "X_0.04", "X_20"]
    assert rs.compound_of(["BRD-K12345678-001-01-1", "BRD-A01636364-003-15-1_3.33", "BRDN0000464920",
                           "DMSO"]).tolist() == ["BRD-K12345678", "BRD-A01636364", "BRDN0000464920", "DMSO"]
    # "auto" leaves ORF ids alone: they carry no decimal dose
    cp = rs.Profiles.from_frame(pd.DataFrame({"k": ["ccsbBroad304_00123", "b"], "Cells_a": [1.0, 2.0]}), "cp", "k")
    ge = rs.Profiles.from_frame(pd.DataFrame({"k": ["ccsbBroad304_00123", "b"], "1_at": [1.0, 2.0]}), "ge", "k")
    assert rs.pair(cp, ge).cp.data["perturbation"].tolist() == ["b", "ccsbBroad304_00123"]


def test_every_dataset_describes_both_releases():
    for short in ("cdrp", "cdrp-bio", "luad", "taorf", "lincs"):
        ds = get_dataset(short)
        text = ds.describe()
        assert f"paper's CV folds: {ds.cv_folds}" in text
        assert ds.schema("cp").controls.rules[0] == rs.ControlSpec("control_type", ("negcon",))
    assert {d: get_dataset(d).cv_folds for d in ("luad", "taorf", "lincs", "cdrp-bio", "cdrp")} == \
        {"luad": 9, "taorf": 5, "lincs": 25, "cdrp-bio": 6, "cdrp": 40}
    assert get_dataset("cdrp").schema("ge").time_hours == 6 and get_dataset("cdrp").schema("ge").well is None
    with pytest.raises(ValueError, match="cdrp-bio is not in the curated release"):
        get_dataset("cdrp-bio").schema("cp", "curated")


def test_a_parquet_file_with_text_in_a_feature_column_is_refused_by_name(tmp_path, r_session):
    from rosetta_stats.bridge.parquet import write_parquet
    frame = pd.DataFrame({"pert": [f"p{i % 4}" for i in range(12)], "Cells_a": np.arange(12.0),
                          "Cells_b": [str(i) for i in range(11)] + ["n/a"]})
    write_parquet(frame, tmp_path / "wells.parquet", ["Cells_a"])
    with pytest.raises(ValueError, match="feature column\\(s\\) stored as text, not numbers: Cells_b"):
        rs.read_profiles(tmp_path / "wells.parquet", "cp", perturbation="pert")
