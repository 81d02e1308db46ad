"""Hand results to R users: every table as CSV and RDS, plus a manifest, written safely.

``write_results`` writes a folder with, for each named result, ``NAME.csv``
and ``NAME.rds`` (an R data.frame with numeric, integer, logical and
character columns) and one ``manifest.json``: package version, creation
time, the function, parameters and notes behind each table, its row count,
column types and descriptions, the sha256 of every file, and the inputs
(name and sha256). Where it may write, and how it stages and moves the
folder into place, is :mod:`rosetta_stats.results.output_folder`.
``read_results`` reads it back, verified (R users: ``rosettabridge::read_results``).

RDS files are written through rpy2 (:mod:`rosetta_stats.bridge.rds`).
"""
from __future__ import annotations

import datetime as _dt
import io
import json
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..bridge.rds import r_type, write_rds
from ..common.result import json_safe
from ..common.safe_paths import file_digest
from ..common.validation import check_unique_columns
from .manifest import ManifestError, load as load_manifest, read_listed, verify_file
from .output_folder import MANIFEST, safe_relative, staged_folder

COLUMN_DESCRIPTIONS = {
    "perturbation": "perturbation identifier (the match key)",
    "n_replicates": "number of replicate rows (wells) of the perturbation",
    "replicate_correlation": "mean Pearson correlation over pairs of distinct replicate rows",
    "p_value": "permutation p-value, (1 + #null >= observed) / (1 + n_null)",
    "q_value": "Benjamini-Hochberg q-value",
    "above_threshold": "replicate correlation above the null percentile (the paper's call)",
    "n_negatives": "negatives ranked against each replicate query",
    "mean_average_precision": "mean over replicate queries of the average precision",
    "gene": "L1000 landmark gene (Affymetrix probe id)",
    "feature": "Cell Painting feature",
    "r2": "cross-validated R^2, mean over folds",
    "r2_sd": "standard deviation of the fold R^2",
    "pearson_r": "Pearson correlation of out-of-fold predictions with the observed values",
    "r2_null_mean": "mean R^2 under the permutation null",
    "r2_null_q95": "95th percentile of R^2 under the permutation null",
    "alpha": "ridge penalty chosen by generalised cross-validation (geometric mean over folds)",
    "f_test_p_value": "analytic F-test p-value of the principal-component regression on all rows",
    "r": "Pearson correlation",
    "component": "canonical component",
    "heldout_correlation": "canonical correlation measured on held-out folds (mean over folds)",
    "heldout_sd": "standard deviation over folds",
    "null_mean": "mean under the permutation null",
    "category": "reproducible in both modalities, only one, or neither",
    "reason": "why the feature was dropped",
    "symbol": "current HGNC symbol of the L1000 probe",
}


def sha256_file(path: str | os.PathLike) -> str:
    return file_digest(path)


def _input_entry(entry, out_dir: Path) -> dict:
    """A manifest's description of one input file: its path relative to the results folder, sha256, ETag."""
    if isinstance(entry, (str, os.PathLike)):
        entry = {"path": os.fspath(Path(entry).resolve()), "name": Path(entry).name, "sha256": sha256_file(entry)}
    out = {k: v for k, v in dict(entry).items() if v is not None}
    if out.get("path"):
        out["path"] = os.path.relpath(os.path.abspath(out["path"]), os.path.abspath(out_dir))
    out.setdefault("name", Path(out.get("path", "")).name)
    return out


def _expand(name: str, result) -> list[tuple[str, pd.DataFrame, str, dict, dict, list, tuple]]:
    """(name, table, kind, settings, estimates, notes, inputs) for a result and each of its further tables."""
    if isinstance(result, pd.DataFrame):
        return [(name, result, "DataFrame", {}, {}, [], ())]
    table = getattr(result, "table", None)
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"cannot hand off a {type(result).__name__}: give a DataFrame or a result with .table")
    settings = dict(getattr(result, "settings", {}) or {})
    estimates = dict(getattr(result, "estimates", {}) or {})
    if not settings and not estimates and hasattr(result, "summary_dict"):
        settings = {k: v for k, v in result.summary_dict().items() if k != "notes"}
    notes = [str(n) for n in (getattr(result, "notes", ()) or ())]
    inputs = tuple(getattr(result, "inputs", ()) or ())
    kind = type(result).__name__
    out = [(name, table, kind, settings, estimates, notes, inputs)]
    for sub, frame in (getattr(result, "tables", None) or {}).items():
        out.append((sub, frame, f"{kind}.{sub}", settings, estimates, notes, inputs))
    return out


FORMATS = ("csv", "rds", "parquet", "h5ad", "gct")


class _ProfilesTable:
    """Profiles written as a table: the frame, with the profiles' notes and inputs."""

    def __init__(self, profiles):
        self.source, self.table = profiles, profiles.data
        self.notes, self.inputs = profiles.notes, profiles.sources
        self.settings = {"modality": profiles.modality, "perturbation": profiles.perturbation,
                         "n_features": len(profiles.features)}
        self.estimates = {"n_rows": len(profiles.data)}


def write_results(results: Mapping[str, Any], out_dir: str | os.PathLike, inputs=(), rds: bool = True,
                  extra_files: Mapping[str, bytes] | None = None, overwrite: bool = False,
                  notes=(), formats=None) -> Path:
    """Write each result's table as CSV (+ RDS) with a manifest; return the folder.

    ``results`` maps a name (file stem) to a DataFrame or a result object with
    ``.table`` (its settings, estimates, notes and inputs travel along, and its
    further ``.tables`` are written under their own names). ``inputs`` are
    paths whose name and sha256 go into the manifest, besides the inputs the
    results carry; paths are stored relative to the results folder. ``extra_files`` (name -> bytes) are written too and
    listed with their sha256 (figures, report, summary.json). ``notes`` are
    run-level notes (from cleaning and pairing). ``formats`` (default
    ``("csv", "rds")``) adds ``parquet`` (through R's nanoparquet), ``h5ad``
    (AnnData) and ``gct`` (GCT 1.3) twins of every table; a value that is
    Profiles is written with its features as the matrix. The folder must be new,
    empty, or one rosetta_stats wrote (then ``overwrite=True`` replaces the
    files it wrote before); nothing else is ever overwritten or deleted.
    """
    if not results:
        raise ValueError("nothing to write: `results` is empty")
    for name in results:
        if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"result name {name!r} must be a plain file stem")
    extra_files = {safe_relative(k): v for k, v in (extra_files or {}).items()}
    formats = tuple(formats) if formats is not None else (("csv", "rds") if rds else ("csv",))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or "csv" not in formats:
        raise ValueError(f"formats must include csv and may add {', '.join(FORMATS[1:])}; got {formats!r}")
    rds = "rds" in formats
    profile_features = {name: list(value.features) for name, value in results.items()
                        if hasattr(value, "features") and hasattr(value, "data")}
    results = {name: (_ProfilesTable(value) if name in profile_features else value) for name, value in results.items()}
    prepared = {}
    for name, result in results.items():
        for entry in _expand(name, result):
            if entry[0] in prepared:
                raise ValueError(f"two results would write a table named {entry[0]!r}")
            prepared[entry[0]] = entry[1:]
    planned = [f"{n}.{f}" for n in prepared for f in formats] + list(extra_files)
    planned.append(MANIFEST)
    if len(set(planned)) != len(planned):
        raise ValueError("two outputs would share a file name: " + ", ".join(sorted({p for p in planned if planned.count(p) > 1})))
    for name, (table, *_rest) in prepared.items():
        check_unique_columns(table, f"table {name!r}")
    from ..version import __version__

    out_path = Path(out_dir)
    all_inputs, seen = [], set()
    for entry in [*inputs, *(i for _, (*_r, table_inputs) in prepared.items() for i in table_inputs)]:
        described = _input_entry(entry, out_path)
        key = (described.get("name"), described.get("sha256"))
        if key not in seen:
            seen.add(key)
            all_inputs.append(described)
    manifest: dict[str, Any] = {
        "package": "rosetta_stats", "version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "inputs": all_inputs,
        "notes": [str(n) for n in notes], "tables": {}, "files": {},
        "kind": sorted(prepared),  # which results: another kind in the same folder needs overwrite=True
    }
    with staged_folder(out_dir, overwrite=overwrite, planned=planned) as tmp:
        for name, (table, kind, settings, estimates, table_notes, table_inputs) in prepared.items():
            files = {"csv": f"{name}.csv"}
            table.to_csv(tmp / files["csv"], index=False)
            if rds:
                files["rds"] = f"{name}.rds"
                write_rds(table, tmp / files["rds"])
            features = profile_features.get(name)
            if "parquet" in formats:
                from ..bridge.parquet import write_parquet

                files["parquet"] = f"{name}.parquet"
                numeric = features or [c for c in table.columns if pd.api.types.is_float_dtype(table[c])]
                write_parquet(table, tmp / files["parquet"], numeric)
            if "h5ad" in formats:
                from .formats import write_h5ad

                files["h5ad"] = f"{name}.h5ad"
                write_h5ad(results[name].source if features else table, tmp / files["h5ad"], features,
                           uns={"settings": settings, "notes": table_notes})
            if "gct" in formats:
                from .formats import write_gct

                files["gct"] = f"{name}.gct"
                annotations = results[name].source.feature_annotations if features else None
                write_gct(table, tmp / files["gct"], features, annotations)
            columns = []
            for c in table.columns:
                entry = {"name": str(c), "type": r_type(table[c]),
                         "description": COLUMN_DESCRIPTIONS.get(str(c), "")}
                if entry["type"] == "character":  # a literal "NA" or "" must not come back missing
                    entry["missing_rows"] = np.flatnonzero(table[c].isna().to_numpy()).tolist()
                columns.append(entry)
            described = [_input_entry(i, out_path) for i in table_inputs] or [
                _input_entry(i, out_path) for i in inputs]
            manifest["tables"][name] = {"result": kind, "rows": int(len(table)), "files": files,
                                        "columns": columns, "settings": json_safe(settings),
                                        "estimates": json_safe(estimates),
                                        "parameters": json_safe({**settings, **estimates}), "notes": table_notes,
                                        "inputs": described}
        for name, payload in extra_files.items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_bytes(payload)
        manifest["sizes"] = {}
        for path in sorted(p for p in tmp.rglob("*") if p.is_file()):
            manifest["files"][str(path.relative_to(tmp))] = sha256_file(path)
            manifest["sizes"][str(path.relative_to(tmp))] = path.stat().st_size
        (tmp / MANIFEST).write_text(json.dumps(json_safe(manifest), indent=2, allow_nan=False))
    return Path(out_dir)


def read_results(out_dir: str | os.PathLike, verify: bool = True) -> tuple[dict[str, pd.DataFrame], dict]:
    """Read a folder written by :func:`write_results`: (tables by name, manifest).

    The manifest is checked against its schema first (:mod:`.manifest`). With
    ``verify`` every listed file must be a regular file inside the folder,
    reached without links, with its recorded size and sha256, and every table
    must have its recorded row count. Only tables the manifest lists are read,
    and only from files it lists.
    """
    out_dir = Path(out_dir)
    manifest = load_manifest(out_dir)
    if verify:
        for name in manifest["files"]:
            verify_file(out_dir, name, manifest)
    tables = {}
    for name, entry in manifest.get("tables", {}).items():
        csv = entry["files"]["csv"]
        data = read_listed(out_dir, csv, manifest)
        text_columns = [c for c in entry.get("columns", []) if c["type"] == "character"]
        try:
            table = pd.read_csv(io.BytesIO(data), dtype={c["name"]: "object" for c in text_columns},
                                keep_default_na=False, na_values={c["name"]: [""] for c in entry.get("columns", [])
                                                                   if c["type"] != "character"})
        except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise ManifestError(f"{csv} cannot be read as the table {name!r} ({_first_line(exc)})") from None
        missing_columns = [c["name"] for c in entry.get("columns", []) if c["name"] not in table.columns]
        if missing_columns:
            raise ManifestError(f"{csv} lacks the column(s) its manifest lists: {', '.join(missing_columns[:5])}")
        for c in text_columns:
            column = table[c["name"]].astype(object)
            column[column.isna()] = ""  # an empty cell that was not missing is an empty string
            missing = c.get("missing_rows")
            if missing is None:  # an older manifest: empty cells were missing values
                missing = np.flatnonzero((table[c["name"]] == "").to_numpy()).tolist()
            column.iloc[[i for i in missing if i < len(column)]] = np.nan
            table[c["name"]] = column
        for c in entry.get("columns", []):
            if c["type"] == "logical" and table[c["name"]].dtype == object:
                table[c["name"]] = table[c["name"]].map({"True": True, "False": False, "": np.nan})
        if verify and len(table) != entry["rows"]:
            raise ManifestError(f"{csv} has {len(table)} rows; the manifest says {entry['rows']}")
        tables[name] = table
    return tables, manifest


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
