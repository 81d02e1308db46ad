"""The five Rosetta datasets as they are today: files, columns, controls, doses, time points.

Two releases:

* ``csv``: ``preprocessed_data/`` (the paper's files, rewritten on 2022-04-25
  with ``negcon`` control labels, a ``pert_type`` of ``trt``/``control`` and a
  ``control_type`` column). The sizes and ETags below are the 2022-02-25
  listing: the rewrite changed the bytes, so they are a reference, not the
  check (downloads verify against what the bucket says today).
* ``curated``: ``curated_preprocessed_data/`` (2025, parquet, one
  ``Metadata_*`` schema, no CDRP-bio, CP at the ``augmented`` level only, no
  published sizes or ETags).

For each dataset and modality a :class:`ModalitySchema` names the match,
plate, well, dose and MoA columns, the time point, and the ordered control
rules. Objects once under ``rosetta/broad/workspace/`` now live under
``cpg0003-rosetta/broad/workspace/``; both prefixes are tried.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..common.matching import NEGCON, ControlRules, ControlSpec

BUCKET_URL = "https://cellpainting-gallery.s3.amazonaws.com"
PREFIXES = (
    "cpg0003-rosetta/broad/workspace/preprocessed_data/",
    "rosetta/broad/workspace/preprocessed_data/",
)
CURATED_PREFIXES = ("cpg0003-rosetta/broad/workspace/curated_preprocessed_data/",)
RELEASES = ("csv", "curated")
LISTING_DATE = "2022-02-25"
MODALITY_FOLDERS = {"cp": "CellPainting", "ge": "L1000"}
L1000_CONTROL_TYPES = ("ctl_vehicle", "ctl_vector", "ctl_untrt")


@dataclass(frozen=True)
class RemoteFile:
    """One object of the collection."""

    dataset: str  # folder name, e.g. "TA-ORF-BBBC037-Rohban"
    modality: str  # "cp" or "ge"
    name: str  # file name, e.g. "replicate_level_l1k.csv.gz"
    size: int | None  # bytes in the 2022-02-25 listing (None: not published)
    etag: str | None  # ETag in that listing, without quotes (None: not published)
    release: str = "csv"

    @property
    def short(self) -> str:
        """The name users type: ``cp-normalized``, ``l1k``, ``l1k-treatment``, ..."""
        stem = self.name.removesuffix(".csv.gz").removesuffix(".parquet")
        if stem.startswith("treatment_level_"):
            stem = stem.removeprefix("treatment_level_") + "_treatment"
        stem = stem.removeprefix("replicate_level_")
        if not stem.startswith(("cp", "l1k")):
            stem = "l1k_" + stem
        return stem.replace("_", "-").lower()

    @property
    def prefixes(self) -> tuple[str, ...]:
        return CURATED_PREFIXES if self.release == "curated" else PREFIXES

    def key(self, prefix: str | None = None) -> str:
        prefix = self.prefixes[0] if prefix is None else prefix
        return f"{prefix}{self.dataset}/{MODALITY_FOLDERS[self.modality]}/{self.name}"

    @property
    def inner_path(self) -> str:
        """``<dataset>/<CellPainting|L1000>/<file>``: the path below the release's folder."""
        return f"{self.dataset}/{MODALITY_FOLDERS[self.modality]}/{self.name}"

    @property
    def relative_path(self) -> str:
        """Where the file goes below a download root (the bucket's layout; curated files in their own folder)."""
        folder = "curated_preprocessed_data/" if self.release == "curated" else ""
        return folder + self.inner_path


@dataclass(frozen=True)
class ModalitySchema:
    """What the columns of one modality's files mean, in one release."""

    match: str  # the column that pairs CP with L1000 (see ``key_rule``)
    plate: str
    well: str | None
    controls: ControlRules  # ordered: the first rule that marks a row wins
    dose: str | None = None
    dose_unit: str | None = None
    time_hours: float | None = None
    time_column: str | None = None  # a column holding the time point, when the file has one
    moa: str | None = None
    target: str | None = None
    compound: str | None = None  # column whose Broad id (first 13 characters) names the compound
    key_rule: str = "raw"  # "raw", "dose_suffix" (ID_DOSE: dose parsed, rounded) or "compound_dose"


@dataclass(frozen=True)
class Dataset:
    """A Rosetta dataset: its files and what their columns mean in each release."""

    name: str
    short: str
    cell_line: str
    cv_folds: int  # the paper's GroupKFold k for predictability
    schemas: dict = field(repr=False)  # (release, modality) -> ModalitySchema
    files: tuple[RemoteFile, ...] = field(default_factory=tuple, repr=False)
    notes: tuple[str, ...] = ()

    @property
    def releases(self) -> tuple[str, ...]:
        return tuple(r for r in RELEASES if (r, "cp") in self.schemas)

    def schema(self, modality: str, release: str = "csv") -> ModalitySchema:
        if release not in RELEASES:
            raise ValueError(f"unknown release {release!r}; choose one of: {', '.join(RELEASES)}")
        if (release, modality) not in self.schemas:
            raise ValueError(f"{self.short} is not in the {release} release (it has: {', '.join(self.releases)})")
        return self.schemas[(release, modality)]

    def file(self, short: str, release: str | None = None) -> RemoteFile:
        """The file with this short name (``cp-normalized``, ``l1k``, ``cp-augmented`` ...)."""
        candidates = [f for f in self.files if release is None or f.release == release]
        for f in candidates:
            if f.short == short.lower():
                return f
        raise ValueError(
            f"unknown file {short!r} for dataset {self.short}"
            + (f" ({release} release)" if release else "") + "; valid: "
            + ", ".join(f.short for f in candidates)
        )

    def files_of(self, release: str = "csv") -> tuple[RemoteFile, ...]:
        return tuple(f for f in self.files if f.release == release)

    # the csv release's columns, as earlier versions exposed them
    @property
    def cp_match(self) -> str:
        return self.schema("cp").match

    @property
    def ge_match(self) -> str:
        return self.schema("ge").match

    @property
    def cp_plate(self) -> str:
        return self.schema("cp").plate

    @property
    def ge_plate(self) -> str:
        return self.schema("ge").plate

    def match_column(self, modality: str, release: str = "csv") -> str:
        return self.schema(modality, release).match

    def plate_column(self, modality: str, release: str = "csv") -> str:
        return self.schema(modality, release).plate

    def controls(self, modality: str, release: str = "csv") -> ControlRules:
        return self.schema(modality, release).controls

    def describe(self) -> str:
        """A readable page: files, columns, controls, doses and time points of both releases."""
        lines = [f"{self.short}: {self.name} ({self.cell_line}); paper's CV folds: {self.cv_folds}"]
        for release in self.releases:
            lines.append(f"  release {release}: " + ", ".join(f.short for f in self.files_of(release)))
            for modality, label in (("cp", "Cell Painting"), ("ge", "L1000")):
                s = self.schema(modality, release)
                lines += [
                    f"    {label}:",
                    f"      match column: {s.match} (keys: {s.key_rule})",
                    f"      plate / well: {s.plate} / {s.well or '(none)'}",
                    f"      dose: {s.dose or '(none)'}" + (f" [{s.dose_unit}]" if s.dose_unit else ""),
                    f"      time point: {s.time_hours:g} h" if s.time_hours is not None else "      time point: not known",
                    f"      MoA / target: {s.moa or '(none)'} / {s.target or '(none)'}",
                    f"      compound: first 13 characters of {s.compound}" if s.compound else
                    "      compound: the perturbation itself",
                    f"      controls (first that matches): {s.controls.describe()}",
                ]
            cp_t, ge_t = self.schema("cp", release).time_hours, self.schema("ge", release).time_hours
            if cp_t is not None and ge_t is not None and cp_t != ge_t:
                lines.append(f"    time points differ: {cp_t:g} h (CP) vs {ge_t:g} h (L1000)")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


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

def _rules(*pairs) -> ControlRules:
    return ControlRules(tuple(ControlSpec(c, v if isinstance(v, tuple) else (v,)) for c, v in pairs))


def _csv_rules(match: str, *fallbacks) -> ControlRules:
    """Today's labels first (the 2022-04-25 rewrite), then the dataset's original ones."""
    return _rules(("control_type", NEGCON), (match, NEGCON), ("pert_type", "control"), *fallbacks)


_OLD_L1000 = ("pert_type", L1000_CONTROL_TYPES)
_CURATED_RULES = _rules(("Metadata_pert_type", "control"),
                        ("Metadata_pert_id", ("DMSO", "-666", "TRCN0000000000", NEGCON)))
_CURATED_TARGETS = dict(plate="Metadata_Plate", well="Metadata_Well", dose_unit="uM",
                        time_column="Metadata_pert_timepoint", controls=_CURATED_RULES)


def _curated(cp_hours, ge_hours, compounds: bool, ge_well: bool = True):
    """The curated schema: keys are compound (+ dose rounded to 2 decimals); controls become negcon."""
    dose = dict(dose="Metadata_pert_dose_micromolar") if compounds else {}
    dose.update(compound="Metadata_pert_id", key_rule="compound_dose")
    base = {k: v for k, v in _CURATED_TARGETS.items()}
    ge = dict(base, well="Metadata_Well" if ge_well else None)
    return {
        ("curated", "cp"): ModalitySchema("Metadata_pert_id", time_hours=cp_hours, **base, **dose),
        ("curated", "ge"): ModalitySchema("Metadata_pert_id", time_hours=ge_hours, **ge, **dose),
    }


def _cdrp_csv():
    return {
        ("csv", "cp"): ModalitySchema(
            "Metadata_Sample_Dose", "Metadata_Plate", "Metadata_Well",
            _csv_rules("Metadata_Sample_Dose", ("Metadata_broad_sample", "DMSO"),
                       ("Metadata_ASSAY_WELL_ROLE", "mock"), ("Metadata_broad_sample_type", "control")),
            dose="Metadata_mmoles_per_liter2", dose_unit="uM", time_hours=48, moa="Metadata_moa",
            target="Metadata_target", compound="Metadata_broad_sample", key_rule="dose_suffix"),
        ("csv", "ge"): ModalitySchema(
            "pert_sample_dose", "det_plate", None,
            _csv_rules("pert_sample_dose", ("pert_id", "DMSO"), ("pert_dose", "-666"), _OLD_L1000),
            dose="pert_dose", dose_unit="uM", time_hours=6, compound="pert_id", key_rule="dose_suffix"),
    }


_SCHEMAS = {
    "cdrp": {**_cdrp_csv(), **_curated(48, 6, compounds=True, ge_well=False)},
    "cdrp-bio": _cdrp_csv(),
    "luad": {
        ("csv", "cp"): ModalitySchema(
            "x_mutation_status", "Metadata_Plate", "Metadata_Well",
            _csv_rules("x_mutation_status", ("Metadata_broad_sample_type", "control")), time_hours=96),
        ("csv", "ge"): ModalitySchema(
            "allele", "det_plate", "det_well", _csv_rules("allele", _OLD_L1000), time_hours=96,
            time_column="pert_time"),
        **_curated(96, 96, compounds=False),
    },
    "taorf": {
        ("csv", "cp"): ModalitySchema(
            "Metadata_broad_sample", "Metadata_Plate", "Metadata_Well",
            _csv_rules("Metadata_broad_sample", ("Metadata_ASSAY_WELL_ROLE", ("negcon", "mock", "control"))),
            time_hours=72),
        ("csv", "ge"): ModalitySchema(
            "pert_id", "det_plate", "det_well",
            _csv_rules("pert_id", _OLD_L1000, ("pert_mfc_id", "TRCN0000000000")), time_hours=72,
            time_column="pert_time"),
        **_curated(72, 72, compounds=False),
    },
    "lincs": {
        ("csv", "cp"): ModalitySchema(
            "Metadata_pert_id_dose", "Metadata_Plate", "Metadata_Well",
            _csv_rules("Metadata_pert_id_dose", ("Metadata_pert_type", "control"),
                       ("Metadata_broad_sample", "DMSO")),
            dose="Metadata_dose_recode", dose_unit="uM", time_hours=48, moa="Metadata_moa",
            target="Metadata_target", compound="Metadata_broad_sample", key_rule="dose_suffix"),
        ("csv", "ge"): ModalitySchema(
            "pert_id_dose", "det_plate", "det_well",
            _csv_rules("pert_id_dose", ("pert_type_x", "ctl_vehicle"), ("pert_id", "DMSO"), _OLD_L1000),
            dose="nearest_dose", dose_unit="uM", time_hours=24, time_column="pert_time", moa="moa",
            compound="pert_id", key_rule="dose_suffix"),
        **_curated(48, 24, compounds=True),
    },
}

_DATASETS = [
    # folder, short, cell line, paper's CV folds, notes
    ("CDRP-BBBC047-Bray", "cdrp", "U2OS", 40, (
        "L1000 was measured at 6 h and Cell Painting at 48 h.",
        "CP Metadata_mmoles_per_liter is half the dose; Metadata_mmoles_per_liter2 is the dose.",
        "The CDRP L1000 file has no well column.")),
    ("CDRPBIO-BBBC036-Bray", "cdrp-bio", "U2OS", 6, (
        "L1000 was measured at 6 h and Cell Painting at 48 h.", "Not in the curated release.")),
    ("LUAD-BBBC041-Caicedo", "luad", "A549", 9, ("Cell Painting wells are lower case (j18).",)),
    ("TA-ORF-BBBC037-Rohban", "taorf", "U2OS", 5, (
        "Only the BRDN ids pair; ccsbBroad304_* ORFs have no L1000 profile.",
        "Curated CP Metadata_pert_type is 'trt' everywhere; controls are Metadata_pert_id == negcon.")),
    ("LINCS-Pilot1", "lincs", "A549", 25, (
        "L1000 was measured at 24 h and Cell Painting at 48 h.",
        "Match keys differ in their dose suffix (CP _10.0, L1000 _10): doses are parsed before matching.")),
]

# curated parquet objects (2025): names only, no published size or ETag
_CURATED_OBJECTS = [
    (folder, modality, name, None, None, "curated")
    for folder in ("CDRP-BBBC047-Bray", "LINCS-Pilot1", "LUAD-BBBC041-Caicedo", "TA-ORF-BBBC037-Rohban")
    for modality, name in (("cp", "replicate_level_cp_augmented.parquet"), ("ge", "replicate_level_l1k.parquet"))
]

DATASETS: dict[str, Dataset] = {
    short: Dataset(
        name=name, short=short, cell_line=line, cv_folds=folds, schemas=_SCHEMAS[short],
        files=tuple(RemoteFile(*o) for o in _OBJECTS + _CURATED_OBJECTS if o[0] == name), notes=notes,
    )
    for name, short, line, folds, notes in _DATASETS
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


def all_files(release: str = "csv") -> list[RemoteFile]:
    return [f for d in DATASETS.values() for f in d.files_of(release)]


def human_size(n_bytes: int | None) -> str:
    """1536 -> '1.5 KiB'; unknown sizes are 'not published'."""
    if n_bytes is None:
        return "not published"
    size = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def list_files(dataset: str | None = None, release: str = "csv") -> pd.DataFrame:
    """A tidy table of a release's files (one row per file; sizes and ETags as listed on 2022-02-25)."""
    if release not in RELEASES:
        raise ValueError(f"unknown release {release!r}; choose one of: {', '.join(RELEASES)}")
    datasets = [get_dataset(dataset)] if dataset else list(DATASETS.values())
    rows = [
        {"dataset": d.short, "modality": f.modality, "file": f.short, "name": f.name, "release": f.release,
         "size": f.size, "human_size": human_size(f.size), "etag": f.etag, "key": f.key()}
        for d in datasets for f in d.files_of(release)
    ]
    return pd.DataFrame(rows)
