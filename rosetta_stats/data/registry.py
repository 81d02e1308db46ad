"""The five Rosetta datasets: their files, sizes, ETags and how CP and GE pair.

Every object of the public collection is listed with its size in bytes and
its ETag (MD5 of the bytes, or for multipart uploads the MD5 of the parts'
MD5s followed by ``-<number of parts>``), so downloads can be verified.

The bucket has been reorganised since the paper: objects once under
``rosetta/broad/workspace/preprocessed_data/`` now live under
``cpg0003-rosetta/broad/workspace/preprocessed_data/``. Both prefixes are
tried, the current one first.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .controls import ControlSpec

BUCKET_URL = "https://cellpainting-gallery.s3.amazonaws.com"
PREFIXES = (
    "cpg0003-rosetta/broad/workspace/preprocessed_data/",
    "rosetta/broad/workspace/preprocessed_data/",
)
MODALITY_FOLDERS = {"cp": "CellPainting", "ge": "L1000"}
NEGCON = "negcon"
L1000_CONTROL_TYPES = ("ctl_vehicle", "ctl_vector", "ctl_untrt")


@dataclass(frozen=True)
class RemoteFile:
    """One object of the collection."""

    dataset: str  # folder name, e.g. "TA-ORF-BBBC037-Rohban"
    modality: str  # "cp" or "ge"
    name: str  # file name, e.g. "replicate_level_l1k.csv.gz"
    size: int
    etag: str  # without quotes

    @property
    def short(self) -> str:
        """The name users type: ``cp-normalized``, ``l1k``, ``l1k-treatment``, ..."""
        stem = self.name.removesuffix(".csv.gz")
        if stem.startswith("treatment_level_"):
            stem = stem.removeprefix("treatment_level_") + "_treatment"
        stem = stem.removeprefix("replicate_level_")
        if not stem.startswith(("cp", "l1k")):
            stem = "l1k_" + stem
        return stem.replace("_", "-").lower()

    def key(self, prefix: str = PREFIXES[0]) -> str:
        return f"{prefix}{self.dataset}/{MODALITY_FOLDERS[self.modality]}/{self.name}"

    @property
    def relative_path(self) -> str:
        """Where the file goes below a download root (the bucket's layout)."""
        return f"{self.dataset}/{MODALITY_FOLDERS[self.modality]}/{self.name}"


@dataclass(frozen=True)
class Dataset:
    """A Rosetta dataset: files and the columns that matter for pairing."""

    name: str
    short: str
    cell_line: str
    cp_match: str
    ge_match: str
    cp_controls: ControlSpec
    ge_controls: ControlSpec
    cp_plate: str = "Metadata_Plate"
    ge_plate: str = "det_plate"
    files: tuple[RemoteFile, ...] = field(default_factory=tuple, repr=False)

    def file(self, short: str) -> RemoteFile:
        """The file with this short name (``cp-normalized``, ``l1k``, ...)."""
        for f in self.files:
            if f.short == short.lower():
                return f
        raise ValueError(
            f"unknown file {short!r} for dataset {self.short}; valid: "
            + ", ".join(f.short for f in self.files)
        )

    def match_column(self, modality: str) -> str:
        return self.cp_match if modality == "cp" else self.ge_match

    def plate_column(self, modality: str) -> str:
        return self.cp_plate if modality == "cp" else self.ge_plate

    def controls(self, modality: str) -> ControlSpec:
        return self.cp_controls if modality == "cp" else self.ge_controls


# (dataset folder, modality, file name, size in bytes, ETag) as listed by the bucket.
_OBJECTS = [
    ("CDRP-BBBC047-Bray", "cp", "replicate_level_cp_augmented.csv.gz", 2183033139, "8367b77b245035279d21e083fb57564e-261"),
    ("CDRP-BBBC047-Bray", "cp", "replicate_level_cp_normalized.csv.gz", 2277911750, "572869293e0cfacdd8882c2b758fac00-272"),
    ("CDRP-BBBC047-Bray", "cp", "replicate_level_cp_normalized_variable_selected.csv.gz", 1098352960, "510f9c5a93436c8af2f36f0308c78be0-131"),
    ("CDRP-BBBC047-Bray", "ge", "replicate_level_l1k.csv.gz", 262406281, "40e1f7285238c5381b9d9fdeebb5a026-32"),
    ("CDRP-BBBC047-Bray", "ge", "replicate_level_l1k_pclfc.csv.gz", 258651159, "630b98d69d185f530acfb0c272e82031-31"),
    ("CDRP-BBBC047-Bray", "ge", "replicate_level_l1k_pczscore.csv.gz", 603440498, "5ad1f4b412c8ea9b9abb55a254a7ebbe-72"),
    ("CDRP-BBBC047-Bray", "ge", "replicate_level_l1k_vczscore.csv.gz", 605293966, "b58b4d31e96964f28165f048bdfd60c8-73"),
    ("CDRP-BBBC047-Bray", "ge", "treatment_level_l1k.csv.gz", 107934871, "e695e3d5f520553f516516ab8719719f-13"),
    ("CDRPBIO-BBBC036-Bray", "cp", "replicate_level_cp_augmented.csv.gz", 298941736, "3e199aeba5209250e0d2c5948f5bd522-36"),
    ("CDRPBIO-BBBC036-Bray", "cp", "replicate_level_cp_normalized.csv.gz", 311539701, "0b86065f8840aff626d64c6f52a8caf4-38"),
    ("CDRPBIO-BBBC036-Bray", "cp", "replicate_level_cp_normalized_variable_selected.csv.gz", 117242590, "bffd9db9578fcc70bbd7d72e0dfff773-14"),
    ("CDRPBIO-BBBC036-Bray", "ge", "replicate_level_l1k.csv.gz", 26842289, "5b45e5cb94f0466a2abb11fbac8a655e-4"),
    ("LINCS-Pilot1", "cp", "replicate_level_cp_augmented.csv.gz", 296762474, "9bde4d7112c06ffa1849fbfa4efa22f1-36"),
    ("LINCS-Pilot1", "cp", "replicate_level_cp_normalized.csv.gz", 299683743, "f42af6b4109ef9ed110004def49f6c2c-36"),
    ("LINCS-Pilot1", "cp", "replicate_level_cp_normalized_variable_selected.csv.gz", 94527797, "33783625dc59b0de2bf16c299f5380dd-12"),
    ("LINCS-Pilot1", "ge", "level_3.csv.gz", 89725093, "8491fe32e9b0b040f10c7d51225d6111-11"),
    ("LINCS-Pilot1", "ge", "level_4.csv.gz", 78596325, "14679d4b4cae5e12a4e7be8255bd22ff-10"),
    ("LINCS-Pilot1", "ge", "level_4W.csv.gz", 140912507, "370607c1f148942263037a7e26018303-17"),
    ("LINCS-Pilot1", "ge", "level_5_modz.csv.gz", 3631, "5967bd8a92d2c57242436330950f1cd2"),
    ("LINCS-Pilot1", "ge", "level_5_rank.csv.gz", 3631, "83c8146ea2f8a2a6392643b3c4472727"),
    ("LINCS-Pilot1", "ge", "replicate_level_l1k.csv.gz", 78596337, "872c318560ba21c9d36e805fb97992a4-10"),
    ("LUAD-BBBC041-Caicedo", "cp", "replicate_level_cp_augmented.csv.gz", 85105940, "11a0a26d299f09452455e0c7e44c571c-11"),
    ("LUAD-BBBC041-Caicedo", "cp", "replicate_level_cp_normalized.csv.gz", 88273100, "f91d40a978c96834973f24b96b8a3b02-11"),
    ("LUAD-BBBC041-Caicedo", "cp", "replicate_level_cp_normalized_variable_selected.csv.gz", 16570136, "1ba6936ab1188268850a798e30c4823f-2"),
    ("LUAD-BBBC041-Caicedo", "ge", "replicate_level_l1k.csv.gz", 11448027, "c1b8cabef1934d213baf797b80c4c32c-2"),
    ("LUAD-BBBC041-Caicedo", "ge", "replicate_level_l1k_Juan.csv.gz", 25582111, "587d00f75c5fa6164929e3592bf96080-4"),
    ("LUAD-BBBC041-Caicedo", "ge", "treatment_level_l1k.csv.gz", 4575373, "c7f285af2a39efc64a4c8d57854d6a0e"),
    ("TA-ORF-BBBC037-Rohban", "cp", "replicate_level_cp_augmented.csv.gz", 27548449, "9707bd02924cda850ed6f1e7eba33d9a-4"),
    ("TA-ORF-BBBC037-Rohban", "cp", "replicate_level_cp_normalized.csv.gz", 27482072, "736ef2b85bf5406f27239153f3772218-4"),
    ("TA-ORF-BBBC037-Rohban", "cp", "replicate_level_cp_normalized_variable_selected.csv.gz", 1106334, "1315c2fd175b265d10e929e51d9dfef0"),
    ("TA-ORF-BBBC037-Rohban", "ge", "replicate_level_l1k.csv.gz", 2022367, "1e643bb1182555a8e7699230a0ea98d1"),
    ("TA-ORF-BBBC037-Rohban", "ge", "replicate_level_l1k_QNORM.csv.gz", 1782302, "8ffb9c82772442cbbd138a6ab05a9a97"),
    ("TA-ORF-BBBC037-Rohban", "ge", "replicate_level_l1k_ZSPCQNORM.csv.gz", 1997953, "36783d73bb48bec466aeda707384c7e5"),
]

_GE_CONTROLS = ControlSpec("pert_type", L1000_CONTROL_TYPES)
_DATASETS = [
    # name, short, cell line, CP match, GE match, CP controls
    ("CDRP-BBBC047-Bray", "cdrp", "U2OS", "Metadata_Sample_Dose", "pert_sample_dose",
     ControlSpec("Metadata_broad_sample", ("DMSO",))),
    ("CDRPBIO-BBBC036-Bray", "cdrp-bio", "U2OS", "Metadata_Sample_Dose", "pert_sample_dose",
     ControlSpec("Metadata_broad_sample", ("DMSO",))),
    ("LUAD-BBBC041-Caicedo", "luad", "A549", "x_mutation_status", "allele",
     ControlSpec("Metadata_pert_type", ("control", "negcon"))),
    ("TA-ORF-BBBC037-Rohban", "taorf", "U2OS", "Metadata_broad_sample", "pert_id",
     ControlSpec("Metadata_pert_type", ("control", "negcon"))),
    ("LINCS-Pilot1", "lincs", "A549", "Metadata_pert_id_dose", "pert_id_dose",
     ControlSpec("Metadata_pert_type", ("control", "negcon"))),
]

DATASETS: dict[str, Dataset] = {
    short: Dataset(
        name=name, short=short, cell_line=line, cp_match=cp_match, ge_match=ge_match,
        cp_controls=cp_controls, ge_controls=_GE_CONTROLS,
        files=tuple(RemoteFile(*o) for o in _OBJECTS if o[0] == name),
    )
    for name, short, line, cp_match, ge_match, cp_controls in _DATASETS
}


def get_dataset(name: str) -> Dataset:
    """A dataset by short name (``taorf``) or folder name (``TA-ORF-BBBC037-Rohban``)."""
    if isinstance(name, Dataset):
        return name
    wanted = str(name).lower()
    for dataset in DATASETS.values():
        if wanted in (dataset.short, dataset.name.lower()):
            return dataset
    raise ValueError(
        f"unknown dataset {name!r}; valid: "
        + ", ".join(f"{d.short} ({d.name})" for d in DATASETS.values())
    )


def all_files() -> list[RemoteFile]:
    return [f for d in DATASETS.values() for f in d.files]


def human_size(n_bytes: int) -> str:
    """1536 -> '1.5 KiB'."""
    size = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def list_files(dataset: str | None = None) -> pd.DataFrame:
    """A tidy table of the collection's files (one row per file)."""
    datasets = [get_dataset(dataset)] if dataset else list(DATASETS.values())
    rows = [
        {"dataset": d.short, "modality": f.modality, "file": f.short, "name": f.name,
         "size": f.size, "human_size": human_size(f.size), "etag": f.etag, "key": f.key()}
        for d in datasets for f in d.files
    ]
    return pd.DataFrame(rows)
