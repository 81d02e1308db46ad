"""Small files laid out and labelled like today's Rosetta release, with the truth they plant.

``write_rosetta_like(root, datasets=..., release=..., seed=...)`` writes, for
each dataset, a Cell Painting and an L1000 replicate-level file whose
columns, labels and quirks follow ``ROSETTA_FILES.md`` (see the registry):

* today's control labels (``negcon`` in the match column, ``pert_type`` of
  ``trt``/``control``, ``control_type``), plus each dataset's original ones;
* LINCS: CP keys ``BRD-K…_10.0``, L1000 keys ``BRD-K…_10``, the merge's
  ``pert_type_x``/``pert_type_y``/``pert_iname_x``/``pert_iname_y`` columns
  and a ``nearest_dose`` column of mixed types;
* CDRP / CDRP-bio: numeric plates, 977 genes, no L1000 well column, the
  unsuffixed ``Metadata_mmoles_per_liter`` at half the dose, 6 h vs 48 h;
* LUAD: lower-case CP wells (``j18``), alleles as match keys;
* TA-ORF: ``ccsbBroad304_*`` ORFs that have no L1000 partner;
* curated release: parquet with the unified ``Metadata_*`` schema, doses
  that agree only after rounding (0.041152 vs 0.0411523, 19.999 vs 20), and
  TA-ORF CP ``Metadata_pert_type == "trt"`` on every row.

The numbers come from :func:`simulate_paired` (a shared latent state per
perturbation), so replicate reproducibility and pairing can be checked
against the planted truth.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..common.atomic_files import atomic_path
from ..common.validation import check_choice
from ..common.matching import NEGCON
from ..data.keys import format_dose
from ..data.registry import RELEASES, get_dataset
from .paired import gene_names, simulate_paired

LINCS_DOSES = (0.0411523, 0.123457, 0.37037, 1.11111, 3.33333, 10.0, 20.0)
CDRP_DOSES = (1.25, 3.33, 10.0)
ALL_DATASETS = ("cdrp", "cdrp-bio", "luad", "taorf", "lincs")


@dataclass(frozen=True)
class RosettaLikeTruth:
    """What one dataset's written files contain."""

    dataset: str
    release: str
    cp_path: Path
    ge_path: Path
    cp_controls: int  # control wells in the CP file
    ge_controls: int  # control wells in the L1000 file
    pairs: tuple[str, ...]  # perturbations (normalised keys, negcon included) in both modalities
    cp_only: tuple[str, ...]  # in CP only (e.g. TA-ORF's ccsbBroad304 ORFs)
    time_points: tuple[float, float]  # (CP, L1000) hours
    reproducible_cp: tuple[str, ...]  # keys whose CP replicates share an effect
    reproducible_ge: tuple[str, ...]

    def as_dict(self) -> dict:
        out = dict(self.__dict__)
        out.update(cp_path=str(self.cp_path), ge_path=str(self.ge_path))
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in out.items()}


def _identities(short: str, n: int, rng) -> pd.DataFrame:
    """One row per simulated perturbation: compound/ORF identity and dose, per dataset."""
    if short in ("cdrp", "cdrp-bio", "lincs"):
        doses = LINCS_DOSES if short == "lincs" else CDRP_DOSES
        n_compounds = max(1, int(np.ceil(n / 2)))
        compounds = [f"BRD-K{int(x):08d}" for x in rng.choice(10**8, n_compounds, replace=False)]
        chosen = [(compounds[i // 2], doses[(i // 2 + i % 2) % len(doses)]) for i in range(n)]
        frame = pd.DataFrame(chosen, columns=["compound", "dose"])
        frame["sample"] = frame["compound"] + "-001-01-" + (np.arange(n) % 9).astype(str)
        frame["moa"] = np.array(["HDAC inhibitor", "tubulin inhibitor", "CDK inhibitor"])[np.arange(n) % 3]
        return frame
    genes = ["KRAS", "TP53", "EGFR", "PIK3CA", "BRAF", "STK11", "RAF1", "MAP3K5", "SOCS3", "JAG1", "RHEB", "ATM"]
    gene = np.array(genes)[np.arange(n) % len(genes)]
    allele = [f"{g}_p.V{100 + i}L" if i % 3 else f"{g}_WT" for i, g in enumerate(gene)]
    brdn = [f"BRDN{int(x):010d}" for x in rng.choice(10**9, n, replace=False)]
    return pd.DataFrame({"compound": brdn, "dose": np.nan, "gene": gene, "allele": allele})


def _expand(sim_frame: pd.DataFrame, match: str, ids: pd.DataFrame, perts: list[str]) -> pd.DataFrame:
    """Per well: the identity row of its perturbation (controls: all NaN) and a control flag."""
    index = pd.Series(np.arange(len(perts)), index=perts)
    is_control = (sim_frame[match] == NEGCON).to_numpy()
    position = index.reindex(sim_frame[match]).to_numpy()
    rows = ids.reindex(position).reset_index(drop=True)
    rows["is_control"] = is_control
    return rows


def _cp_dose_text(dose: float) -> str:
    """How the CP files write a dose in their keys: ``10.0`` for whole numbers, else 2 decimals."""
    if pd.isna(dose):
        return ""
    return f"{dose:.1f}" if dose == int(dose) else f"{round(dose, 2):g}"


def _wells(n: int, lower: bool = False, plates=None) -> np.ndarray:
    """384-well names in plate order; with ``plates`` (one code per row) each plate starts again at A01,
    so that well positions are shared by different perturbations on different plates, as on real plates."""
    position = np.arange(n) if plates is None else pd.Series(np.asarray(plates)).groupby(
        np.asarray(plates)).cumcount().to_numpy()
    names = np.array([f"{'ABCDEFGHIJKLMNOP'[(i // 24) % 16]}{i % 24 + 1:02d}" for i in position])
    return np.char.lower(names) if lower else names


def _csv_frames(short: str, sim, ids: pd.DataFrame, n_cp_features: int):
    """(CP metadata, L1000 metadata) in the csv release's columns."""
    perts = list(sim.truth.perturbations)
    cp_ids = _expand(sim.cp, "match", ids, perts)
    ge_ids = _expand(sim.ge, "match", ids, perts)
    ctl_cp, ctl_ge = cp_ids["is_control"].to_numpy(), ge_ids["is_control"].to_numpy()
    cp_plates = pd.factorize(sim.cp["plate"])[0]
    ge_plates = pd.factorize(sim.ge["plate"])[0]
    trt_or = lambda mask, trt, ctl: np.where(mask, ctl, trt)  # noqa: E731
    today_cp = {"pert_type": trt_or(ctl_cp, "trt", "control"), "control_type": trt_or(ctl_cp, "", NEGCON)}
    today_ge = {"pert_type": trt_or(ctl_ge, "trt", "control"), "control_type": trt_or(ctl_ge, "", NEGCON)}
    if short in ("cdrp", "cdrp-bio"):
        cp_key = cp_ids["sample"] + "_" + cp_ids["dose"].map(_cp_dose_text)
        ge_key = ge_ids["sample"] + "_" + ge_ids["dose"].map(format_dose)
        cp = pd.DataFrame({
            "Metadata_Plate": 24000 + cp_plates, "Metadata_Well": _wells(len(cp_ids), plates=cp_plates),
            "Metadata_Plate_Map_Name": "C-2113-01-D39-005",
            "Metadata_broad_sample": cp_ids["sample"].where(~ctl_cp, "DMSO"),
            "Metadata_broad_sample_type": trt_or(ctl_cp, "trt", "control"),
            "Metadata_ASSAY_WELL_ROLE": trt_or(ctl_cp, "treated", "mock"),
            "Metadata_pert_id": cp_ids["compound"].where(~ctl_cp, "DMSO"),
            "Metadata_mmoles_per_liter": (cp_ids["dose"] / 2).where(~ctl_cp, 0.0),
            "Metadata_mmoles_per_liter2": cp_ids["dose"].where(~ctl_cp, 0.0),
            "Metadata_moa": cp_ids["moa"].where(~ctl_cp, ""),
            "Metadata_Sample_Dose": cp_key.where(~ctl_cp, NEGCON),
            "Metadata_pert_type": trt_or(ctl_cp, "trt", "control"), **today_cp,
        })
        ge = pd.DataFrame({
            "pert_id": ge_ids["compound"].where(~ctl_ge, "DMSO"),
            "pert_dose": ge_ids["dose"].where(~ctl_ge, -666.0),
            "det_plate": [f"PAC{p + 1:03d}_U2OS_6H_X1_B1_UNI4445R" for p in ge_plates],
            "BROAD_CPD_ID": ge_ids["compound"].where(~ctl_ge, "DMSO"), "CPD_NAME": "cpd",
            "CPD_TYPE": "DOS", "CPD_SMILES": "CCO",
            "pert_id_dose": (ge_ids["compound"] + "_" + ge_ids["dose"].map(format_dose)).where(~ctl_ge, "DMSO_-666"),
            "pert_sample_dose": ge_key.where(~ctl_ge, NEGCON), **today_ge,
        })
        return cp, ge
    if short == "lincs":
        cp_dose = cp_ids["dose"].map(lambda d: np.nan if pd.isna(d) else round(d, 2))
        cp_key = cp_ids["compound"] + "_" + cp_dose.map(_cp_dose_text)
        ge_key = ge_ids["compound"] + "_" + ge_ids["dose"].map(format_dose)
        cp = pd.DataFrame({
            "Metadata_broad_sample": cp_ids["sample"].where(~ctl_cp, "DMSO"),
            "Metadata_pert_type": trt_or(ctl_cp, "trt", "control"),
            "Metadata_mmoles_per_liter": cp_ids["dose"].where(~ctl_cp, 0.0),
            "Metadata_moa": cp_ids["moa"].where(~ctl_cp, ""), "Metadata_target": "T",
            "Metadata_Plate": [f"SQ{15000 + p:08d}" for p in cp_plates], "Metadata_Well": _wells(len(cp_ids), plates=cp_plates),
            "Metadata_pert_iname": cp_ids["compound"].str.lower().where(~ctl_cp, "DMSO"),
            "Metadata_dose_recode": cp_dose.where(~ctl_cp, 0.0),
            "Metadata_pert_id_dose": cp_key.where(~ctl_cp, NEGCON), **today_cp,
        })
        nearest = ge_ids["dose"].map(lambda d: "-666" if pd.isna(d) else (round(d, 2) if d < 1 else format_dose(d)))
        ge = pd.DataFrame({
            "cid": [f"REP.A001_A549_24H_X1_B27:{w}" for w in _wells(len(ge_ids))],
            "pert_id": ge_ids["compound"].where(~ctl_ge, "DMSO"),
            "pert_dose": ge_ids["dose"].where(~ctl_ge, -666.0), "pert_dose_unit": "um",
            "pert_idose": ge_ids["dose"].map(lambda d: "-666" if pd.isna(d) else f"{d:g} um"),
            "nearest_dose": nearest.astype(object),
            "pert_id_dose": ge_key.where(~ctl_ge, NEGCON),
            "det_plate": [f"REP.A{p + 1:03d}_A549_24H_X1_B27" for p in ge_plates], "det_well": _wells(len(ge_ids), plates=ge_plates),
            "cell_id": "A549", "mfc_plate_name": "AB00016883", "pert_time": 24,
            "pert_mfc_id": ge_ids["sample"].where(~ctl_ge, "-666"), "x_smiles": "CCO",
            "moa": ge_ids["moa"].where(~ctl_ge, ""),
            "pert_type_x": trt_or(ctl_ge, "trt_cp", "ctl_vehicle"), "pert_type_y": trt_or(ctl_ge, "trt_cp", "ctl_vehicle"),
            "pert_iname_x": ge_ids["compound"].where(~ctl_ge, "DMSO"), "pert_iname_y": ge_ids["compound"].where(~ctl_ge, "DMSO"),
            **today_ge,
        })
        return cp, ge
    if short == "luad":
        cp = pd.DataFrame({
            "Metadata_Plate": 52600 + cp_plates, "Metadata_Well": _wells(len(cp_ids), lower=True, plates=cp_plates),
            "Metadata_Plate_Map_Name": "DOC45.46.47.48", "Symbol": cp_ids["gene"].where(~ctl_cp, "EMPTY"),
            "x_mutation_status": cp_ids["allele"].where(~ctl_cp, NEGCON), "NCBIGeneID": 3845, "Vector": "pLX317",
            "Metadata_broad_sample": cp_ids["compound"].where(~ctl_cp, "EMPTY"),
            "Metadata_broad_sample_type": trt_or(ctl_cp, "trt", "control"), **today_cp,
        })
        ge = pd.DataFrame({
            "id": [f"TA.OE014:{w}" for w in _wells(len(ge_ids))],
            "det_plate": [f"TA.OE014_A549_96H_X{p + 1}_B19" for p in ge_plates], "det_well": _wells(len(ge_ids), plates=ge_plates),
            "mfc_plate_name": "DOC45.46.47.48.A", "pert_time": 96,
            "pert_mfc_id": ge_ids["compound"].where(~ctl_ge, "TRCN0000000000"), "cell_id": "A549",
            "x_transcriptdb": "NM_002524.3:c.182A>T", "allele": ge_ids["allele"].where(~ctl_ge, NEGCON),
            **today_ge,
        })
        ge.insert(5, "pert_type", ge.pop("pert_type"))
        return cp, ge
    # taorf
    cp = pd.DataFrame({
        "Metadata_Plate": 41740 + cp_plates, "Metadata_Well": _wells(len(cp_ids), plates=cp_plates),
        "Metadata_Plate_Map_Name": "TAORF_REFERENCE_SET",
        "Metadata_broad_sample": cp_ids["compound"].where(~ctl_cp, NEGCON),
        "Metadata_pert_name": cp_ids["allele"].where(~ctl_cp, "EMPTY_"),
        "Metadata_gene_name": cp_ids["gene"].where(~ctl_cp, "EMPTY"),
        "Metadata_broad_sample_type": "trt", "Metadata_ASSAY_WELL_ROLE": trt_or(ctl_cp, "treated", "negcon"),
        **today_cp,
    })
    ge = pd.DataFrame({
        "id": [f"TA.OE005:{w}" for w in _wells(len(ge_ids))],
        "pert_id": ge_ids["compound"].where(~ctl_ge, NEGCON),
        "x_genesymbol_mutation": ge_ids["allele"].where(~ctl_ge, "EMPTY"),
        "det_plate": [f"TA.OE005_U2OS_72H_X{p + 1}_B15" for p in ge_plates], "det_well": _wells(len(ge_ids), plates=ge_plates),
        "mfc_plate_name": "DOA60.61.62.63.A", "pert_time": 72,
        "pert_mfc_id": ge_ids["compound"].where(~ctl_ge, "TRCN0000000000"), **today_ge, "cell_id": "U2OS",
    })
    ge.insert(len(ge.columns) - 1, "control_type", ge.pop("control_type"))
    return cp, ge


def _curated_frames(short: str, sim, ids: pd.DataFrame):
    """(CP metadata, L1000 metadata) in the curated release's unified schema."""
    perts = list(sim.truth.perturbations)
    cp_ids = _expand(sim.cp, "match", ids, perts)
    ge_ids = _expand(sim.ge, "match", ids, perts)
    ctl_cp, ctl_ge = cp_ids["is_control"].to_numpy(), ge_ids["is_control"].to_numpy()
    ds = get_dataset(short)
    hours_cp, hours_ge = ds.schema("cp", "curated").time_hours, ds.schema("ge", "curated").time_hours
    compounds = short in ("cdrp", "lincs")

    def cp_dose(d):  # the CP side's rounding: 0.041152, 3.3333, 19.999
        return float(f"{d:.5g}") if d != 20 else 19.999

    cp = pd.DataFrame({
        "Metadata_Plate_Map_Name": "MAP-001",
        "Metadata_Plate": 41000 + pd.factorize(sim.cp["plate"])[0],
        "Metadata_Well": _wells(len(cp_ids), plates=pd.factorize(sim.cp["plate"])[0]),
    })
    ge = pd.DataFrame({"Metadata_Plate": [f"REP.A{p + 1:03d}_{hours_ge:g}H" for p in pd.factorize(sim.ge["plate"])[0]]})
    if short != "cdrp":
        ge["Metadata_Well"] = _wells(len(ge_ids), plates=pd.factorize(sim.ge["plate"])[0])
    if compounds:
        cp["Metadata_pert_id"] = cp_ids["sample"].where(~ctl_cp, "DMSO")
        cp["Metadata_pert_type"] = np.where(ctl_cp, "control", "trt")
        cp["Metadata_pert_dose_micromolar"] = cp_ids["dose"].map(lambda d: 0.0 if pd.isna(d) else cp_dose(d))
        ge["Metadata_pert_id"] = ge_ids["sample"].where(~ctl_ge, "DMSO" if short == "cdrp" else "-666")
        if short != "cdrp":
            ge["Metadata_pert_type"] = np.where(ctl_ge, "control", "trt")
        ge["Metadata_pert_dose_micromolar"] = ge_ids["dose"].map(lambda d: -666.0 if pd.isna(d) else float(f"{d:.6g}"))
        ge["Metadata_pert_iname"] = ge_ids["compound"].where(~ctl_ge, "DMSO")
    else:
        cp["Metadata_pert_id"] = cp_ids["compound"].where(~ctl_cp, NEGCON)
        cp["Metadata_pert_type"] = "trt" if short == "taorf" else np.where(ctl_cp, "control", "trt")
        cp["Metadata_genesymbol_mutation"] = cp_ids["allele"].where(~ctl_cp, "EMPTY_")
        ge["Metadata_pert_id"] = ge_ids["compound"].where(~ctl_ge, "TRCN0000000000")
        ge["Metadata_pert_type"] = np.where(ctl_ge, "control", "trt")
    cp["Metadata_cell_id"] = ds.cell_line
    cp["Metadata_pert_timepoint"] = hours_cp
    ge["Metadata_cell_id"] = ds.cell_line
    ge["Metadata_pert_timepoint"] = hours_ge
    return cp, ge


def _with_values(meta: pd.DataFrame, sim_frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    return pd.concat([meta.reset_index(drop=True), sim_frame[features].reset_index(drop=True)], axis=1)


def write_rosetta_like(root: str | os.PathLike, datasets=ALL_DATASETS, release: str = "csv", seed: int = 0,
                       n_perturbations: int = 24, n_replicates: int = 3, n_cp_features: int = 24,
                       n_plates: int = 3, negcon_per_plate: int = 4) -> dict[str, RosettaLikeTruth]:
    """Write Rosetta-like files below ``root`` (the download layout) and return the truth per dataset.

    csv release: ``<root>/<Dataset>/CellPainting/replicate_level_cp_normalized.csv.gz`` (+ the
    ``normalized_variable_selected`` level) and ``<Dataset>/L1000/replicate_level_l1k.csv.gz``;
    curated: ``<root>/curated_preprocessed_data/<Dataset>/.../*.parquet`` (written through R).
    ``truth.json`` beside them records what was planted.
    """
    check_choice(release, RELEASES, "release")
    if isinstance(datasets, str):
        datasets = (datasets,)
    root = Path(root)
    truths: dict[str, RosettaLikeTruth] = {}
    for offset, name in enumerate(datasets):
        ds = get_dataset(name)
        ds.schema("cp", release)  # an error for CDRP-bio in the curated release
        n_genes = 977 if ds.short in ("cdrp", "cdrp-bio") and release == "csv" else 978
        sim = simulate_paired(n_perturbations=n_perturbations, n_replicates=n_replicates,
                              n_cp_features=n_cp_features, n_genes=n_genes, n_plates=n_plates,
                              negcon_per_plate=negcon_per_plate, style="generic", seed=seed + 101 * offset)
        rng = np.random.default_rng(seed + 7 + offset)
        ids = _identities(ds.short, n_perturbations, rng)
        cp_features = [c for c in sim.cp.columns if c.startswith(("Cells_", "Cytoplasm_", "Nuclei_"))]
        genes = gene_names(n_genes)
        if release == "csv":
            cp_meta, ge_meta = _csv_frames(ds.short, sim, ids, n_cp_features)
        else:
            cp_meta, ge_meta = _curated_frames(ds.short, sim, ids)
        cp = _with_values(cp_meta, sim.cp, cp_features)
        ge = _with_values(ge_meta, sim.ge, genes)
        cp_only = ()
        if ds.short == "taorf":  # ORFs of the CP reference set that L1000 never measured
            extra = cp[cp["Metadata_broad_sample" if release == "csv" else "Metadata_pert_id"] != NEGCON].head(2 * n_replicates).copy()
            orfs = [f"ccsbBroad304_{10000 + i:05d}" for i in range(2)]
            column = "Metadata_broad_sample" if release == "csv" else "Metadata_pert_id"
            extra[column] = np.repeat(orfs, n_replicates)[:len(extra)]
            cp = pd.concat([cp, extra], ignore_index=True)
            cp_only = tuple(orfs)
        truths[ds.short] = _write_pair(root, ds, release, cp, ge, cp_features, genes, sim, ids, cp_only)
    _write_truth(root, truths)
    return truths


def _paired_keys(ds, release: str, ids: pd.DataFrame, perts) -> list[str]:
    """The normalised key each simulated perturbation pairs on (as the loaders build it)."""
    if ds.short in ("cdrp", "cdrp-bio") and release == "csv":
        return list(ids["sample"] + "_" + ids["dose"].map(format_dose))
    if ds.short in ("cdrp", "lincs"):
        source = ids["compound"] if release == "curated" or ds.short == "lincs" else ids["sample"]
        return list(source + "_" + ids["dose"].map(format_dose))
    if ds.short == "luad" and release == "csv":
        return list(ids["allele"])
    return list(ids["compound"])


def _write_pair(root, ds, release, cp, ge, cp_features, genes, sim, ids, cp_only) -> RosettaLikeTruth:
    cp_file = ds.file("cp-normalized" if release == "csv" else "cp-augmented", release=release)
    ge_file = ds.file("l1k", release=release)
    cp_path, ge_path = root / cp_file.relative_path, root / ge_file.relative_path
    for path, frame, features in ((cp_path, cp, cp_features), (ge_path, ge, genes)):
        path.parent.mkdir(parents=True, exist_ok=True)
        if release == "curated":
            from ..bridge.parquet import write_parquet

            write_parquet(frame, path, features)
        else:
            with atomic_path(path) as tmp:
                _write_csv_gz(frame, tmp)
    if release == "csv":  # the variable-selected level: a subset of the features
        nvs = ds.file("cp-normalized-variable-selected", release="csv")
        keep = [c for c in cp.columns if c not in set(cp_features[len(cp_features) // 2:])]
        with atomic_path(root / nvs.relative_path) as tmp:
            _write_csv_gz(cp[keep], tmp)
    perts = list(sim.truth.perturbations)
    keys = dict(zip(perts, _paired_keys(ds, release, ids, perts)))
    schema_cp, schema_ge = ds.schema("cp", release), ds.schema("ge", release)
    return RosettaLikeTruth(
        dataset=ds.short, release=release, cp_path=cp_path, ge_path=ge_path,
        cp_controls=int((sim.cp["match"] == NEGCON).sum()), ge_controls=int((sim.ge["match"] == NEGCON).sum()),
        pairs=tuple(sorted(set(keys.values()) | {NEGCON})), cp_only=cp_only,
        time_points=(schema_cp.time_hours, schema_ge.time_hours),
        reproducible_cp=tuple(sorted(keys[p] for p in sim.truth.reproducible_cp)),
        reproducible_ge=tuple(sorted(keys[p] for p in sim.truth.reproducible_ge)),
    )


def _write_csv_gz(frame: pd.DataFrame, path) -> None:
    """Gzip level 1: at level 9 compression took 70% of writing a LINCS-size file, for 10-15% fewer bytes."""
    frame.to_csv(path, index=False, compression={"method": "gzip", "compresslevel": 1})


def _write_truth(root: Path, truths: dict[str, RosettaLikeTruth]) -> None:
    path = root / "truth.json"
    existing = json.loads(path.read_text()) if path.is_file() else {}
    for short, truth in truths.items():
        existing[f"{short}/{truth.release}"] = truth.as_dict()
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(existing, indent=2))
