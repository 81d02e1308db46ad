"""The registry against the seed's own bucket listing, and the datasets CLI."""
from __future__ import annotations

import json
import re

import pytest

from rosetta_stats.data import registry
from rosetta_stats.cli import main

from tests.conftest import shared_file


def seed_listing():
    text = shared_file("seed/rosetta-dataset-readme.md").read_text()
    start = text.index('{\n    "Contents"')
    end = text.index("```", start)
    return json.loads(text[start:end])["Contents"]


def test_registry_matches_the_seed_listing():
    listed = {o["Key"]: (o["Size"], o["ETag"].strip('"')) for o in seed_listing()}
    assert len(listed) == 33
    ours = {f.key(registry.PREFIXES[1]): (f.size, f.etag) for f in registry.all_files()}
    assert ours == listed


def test_short_names_are_unique_and_resolvable():
    for dataset in registry.DATASETS.values():
        for release in dataset.releases:
            shorts = [f.short for f in dataset.files_of(release)]
            assert len(shorts) == len(set(shorts))
            for short in shorts:
                assert dataset.file(short, release=release).short == short
                assert dataset.file(short, release=release).release == release
    assert registry.get_dataset("TA-ORF-BBBC037-Rohban") is registry.get_dataset("taorf")


def test_match_columns_of_the_issue():
    assert registry.get_dataset("cdrp").cp_match == "Metadata_Sample_Dose"
    assert registry.get_dataset("cdrp-bio").ge_match == "pert_sample_dose"
    assert (registry.get_dataset("taorf").cp_match, registry.get_dataset("taorf").ge_match) == (
        "Metadata_broad_sample", "pert_id")
    assert registry.get_dataset("luad").ge_match == "allele"
    assert registry.get_dataset("lincs").cp_match == "Metadata_pert_id_dose"


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="unknown dataset 'ta-orf'.*taorf.*lincs"):
        registry.get_dataset("ta-orf")
    with pytest.raises(ValueError, match="unknown file 'cp-normalised'.*cp-normalized"):
        registry.get_dataset("taorf").file("cp-normalised")


def test_datasets_list_prints_all_33_files(capsys):
    assert main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    assert "33 files" in out
    etags = set(re.findall(r"\b[0-9a-f]{32}(?:-\d+)?\b", out))
    assert etags == {f.etag for f in registry.all_files()}


def test_human_size():
    assert registry.human_size(512) == "512 B"
    assert registry.human_size(1536) == "1.5 KiB"
    assert registry.human_size(3 * 1024**3) == "3.0 GiB"
