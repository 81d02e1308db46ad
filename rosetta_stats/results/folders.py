"""Hand results to R users: every table as CSV and RDS, plus a manifest.

``write_results`` writes a folder with, for each named result, ``NAME.csv``
and ``NAME.rds`` (an R data.frame with numeric, integer, logical and
character columns) and one ``manifest.json``: package version, creation
time, the function and parameters behind each table, its row count, column
types and descriptions, the sha256 of every file, and the inputs (name and
sha256). The folder is assembled under a temporary name and renamed, so an
interrupted run leaves no complete-looking folder. ``read_results`` reads it
back (R users: ``rosettabridge::read_results``).

RDS files are written through rpy2 (imported lazily, only here and in
:mod:`rosetta_stats.bridge.cytominer`).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..common.atomic_files import atomic_directory
from ..bridge.rds import r_type, write_rds

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
    "alpha": "ridge penalty chosen by generalised cross-validation (geometric mean over folds)",
    "f_test_p_value": "analytic F-test p-value of the principal-component regression on all rows",
    "r": "Pearson correlation",
    "component": "canonical component",
    "heldout_correlation": "canonical correlation measured on held-out folds (mean over folds)",
    "heldout_sd": "standard deviation over folds",
    "null_mean": "mean under the permutation null",
    "category": "reproducible in both modalities, only one, or neither",
}


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _table_and_parameters(result) -> tuple[pd.DataFrame, str, dict]:
    if isinstance(result, pd.DataFrame):
        return result, "DataFrame", {}
    table = getattr(result, "table", None)
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"cannot hand off a {type(result).__name__}: give a DataFrame or a result with .table")
    if hasattr(result, "summary_dict"):
        parameters = result.summary_dict()
    else:
        parameters = {k: v for k, v in vars(result).items() if k != "table" and not isinstance(v, (pd.DataFrame, np.ndarray))}
    return table, type(result).__name__, json.loads(json.dumps(parameters, default=_jsonable))


def _jsonable(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def write_results(results: Mapping[str, Any], out_dir: str | os.PathLike, inputs=(), rds: bool = True,
                  extra_files: Mapping[str, bytes] | None = None) -> Path:
    """Write each result's table as CSV (+ RDS) with a manifest; return the folder.

    ``results`` maps a name (file stem) to a DataFrame or a result object with
    ``.table`` (and ``.summary_dict()`` for its parameters). ``inputs`` are
    paths whose name and sha256 go into the manifest. ``extra_files`` (name ->
    bytes) are written too and listed with their sha256 (figures, report).
    """
    if not results:
        raise ValueError("nothing to write: `results` is empty")
    for name in results:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"result name {name!r} must be a plain file stem")
    from ..version import __version__

    manifest: dict[str, Any] = {
        "package": "rosetta_stats", "version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "inputs": [{"name": Path(p).name, "sha256": sha256_file(p)} for p in inputs],
        "tables": {}, "files": {},
    }
    out_dir = Path(out_dir)
    with atomic_directory(out_dir) as tmp:
        for name, result in results.items():
            table, kind, parameters = _table_and_parameters(result)
            files = {"csv": f"{name}.csv"}
            table.to_csv(tmp / files["csv"], index=False)
            if rds:
                files["rds"] = f"{name}.rds"
                write_rds(table, tmp / files["rds"])
            manifest["tables"][name] = {
                "result": kind, "rows": int(len(table)), "files": files,
                "columns": [{"name": str(c), "type": r_type(table[c]),
                             "description": COLUMN_DESCRIPTIONS.get(str(c), "")} for c in table.columns],
                "parameters": parameters,
            }
        for name, payload in (extra_files or {}).items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_bytes(payload)
        for path in sorted(p for p in tmp.rglob("*") if p.is_file()):
            manifest["files"][str(path.relative_to(tmp))] = sha256_file(path)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out_dir


def read_results(out_dir: str | os.PathLike, verify: bool = True) -> tuple[dict[str, pd.DataFrame], dict]:
    """Read a folder written by :func:`write_results`: (tables by name, manifest).

    With ``verify`` every listed file must exist with its recorded sha256, and
    every table must have its recorded row count.
    """
    out_dir = Path(out_dir)
    manifest_path = out_dir / "manifest.json"
    if not manifest_path.is_file():
        raise ValueError(f"{out_dir} has no manifest.json; is it a rosetta_stats results folder?")
    manifest = json.loads(manifest_path.read_text())
    if verify:
        for name, digest in manifest["files"].items():
            path = out_dir / name
            if not path.is_file():
                raise ValueError(f"{name} is listed in the manifest but missing from {out_dir}")
            if sha256_file(path) != digest:
                raise ValueError(f"{name} does not match its sha256 in the manifest (changed after writing?)")
    tables = {}
    for name, entry in manifest["tables"].items():
        dtypes = {c["name"]: ("string" if c["type"] == "character" else None) for c in entry["columns"]}
        table = pd.read_csv(out_dir / entry["files"]["csv"],
                            dtype={k: "object" for k, v in dtypes.items() if v}, keep_default_na=True)
        if verify and len(table) != entry["rows"]:
            raise ValueError(f"{entry['files']['csv']} has {len(table)} rows; the manifest says {entry['rows']}")
        tables[name] = table
    return tables, manifest
