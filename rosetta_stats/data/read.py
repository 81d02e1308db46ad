"""Read profile files (CSV, CSV.gz, parquet) into ``Profiles``, and Rosetta files by dataset name.

``read_profiles`` reads one file whose columns you name. ``load_profiles``
reads a downloaded Rosetta file by dataset, modality, level and release and
takes everything else from the registry: the match, plate and dose columns,
the time point, and the ordered control rules (the first that marks a row
wins; none marking a row is an error that shows what the file holds). It
adds a ``compound`` column (the first 13 characters of a Broad id) for
grouped cross-validation, and for the curated release a ``match_key``
(compound + dose rounded to 2 decimals) to pair on. No column the file
already has is ever overwritten.
"""
from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..common.validation import check_choice, check_columns
from .cleaning import clean_profiles
from .csv_engine import file_sha256, read_table
from ..common.matching import ControlRules, ControlSpec, resolve_controls
from .features import (classify_cp_columns, infer_features, infer_ge_features, infer_modality,
                       parse_feature_spec)
from .gene_symbols import symbol_columns_to_probes
from .keys import compound_dose_keys, compound_of
from .profile_cache import load_cached, store_cache
from .profiles import Profiles
from .registry import RELEASES, get_dataset

CP_LEVELS = ("augmented", "normalized", "normalized_variable_selected")
COMPOUND_COLUMN = "compound"
MATCH_KEY_COLUMN = "match_key"


def read_profiles(
    path: str | os.PathLike,
    modality: str = "auto",
    perturbation: str | None = None,
    plate: str | None = None,
    controls=None,
    clean: bool = True,
    time_point: float | None = None,
    dtype=None,
    cache: bool = False,
    features=None,
    **cleaning,
) -> Profiles:
    """Read a profile file (``.csv``, ``.csv.gz`` or ``.parquet``) into ``Profiles``.

    ``modality``: "cp", "ge" or "auto" (Cell Painting when CellProfiler
    columns are present). Features are inferred (``Cells_``/``Cytoplasm_``/
    ``Nuclei_`` measurements for Cell Painting, bookkeeping columns such as
    object numbers and positions excluded; ``*_at`` probes for L1000, and
    an L1000 file whose genes are named by symbol has them renamed to probe
    ids, with a note) unless ``features`` names them (a list, or
    comma-separated prefixes). ``controls`` names the negative controls: a
    :class:`ControlSpec`, ``{"column": "value"}`` or ``"column=value"`` (its
    columns must exist and it must mark a row), or a :class:`ControlRules`
    list of fallbacks (the first that marks a row is used). The rule is kept
    on the profiles and a note says how many rows it marked; a file without
    one whose metadata hold control-like values (DMSO, negcon, ...) gets a
    note naming the column. With ``clean`` the paper's cleaning runs
    (:func:`rosetta_stats.clean_profiles`; keyword arguments pass through,
    e.g. ``per_plate=True``).

    ``dtype="float32"`` parses the features as float32 (half the memory; the
    statistics keep it). ``cache=True`` keeps the table as read in
    ``<file>.rosetta-cache.npz`` beside the file and uses it while the file is
    unchanged, so a second load skips parsing (cleaning still runs).
    The file's path and sha256 (and its ETag when the package downloaded it)
    travel with the profiles into every result as its inputs.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a profile file")
    if not path.is_file():
        raise ValueError(f"profile file not found: {path}")
    check_choice(modality, ("auto", "cp", "ge"), "modality")
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise ValueError(f"dtype must be a floating-point type such as 'float32'; got {dtype}")
    frame, digest, cache_note = load_cached(path, dtype) if cache else (None, None, None)
    if frame is None:
        frame, digest = read_table(path, modality, dtype)
        if cache and not frame.empty:
            with contextlib.suppress(ValueError):  # no features: the error below says so
                store_cache(path, frame, infer_features(frame.columns, modality), dtype, digest)
    if frame.empty:
        raise ValueError(f"{path.name} has a header but no rows")
    notes = [cache_note] if cache_note else []
    if perturbation and perturbation in frame.columns:
        frame[perturbation] = _whole_numbers_as_integers(frame[perturbation])
    if modality == "auto":
        modality = infer_modality(frame.columns)
    if modality == "ge" and not infer_ge_features(frame.columns):
        renamed = symbol_columns_to_probes(frame.columns)
        if renamed:
            frame = frame.rename(columns=renamed)
            notes.append(f"{len(renamed)} gene columns named by symbol were renamed to their L1000 probe ids")
    check_columns(frame.columns, [c for c in (perturbation, plate) if c], f"columns of {path.name}")
    explicit = controls is not None and not isinstance(controls, ControlRules)
    rule, control_note = resolve_controls(frame, controls, label=path.name, explicit=explicit)
    if features is not None and not isinstance(features, str):
        features = list(features)
        check_columns(frame.columns, features, f"features of {path.name}")
    elif isinstance(features, str):
        features = parse_feature_spec(features, list(frame.columns), modality)
    try:
        profiles = Profiles.from_frame(frame, modality, perturbation, plate, features=features, copy=False)
    except ValueError as exc:
        raise ValueError(f"{path.name}: {exc}") from None
    downloaded = _download_record(path)
    source = {"path": str(path.resolve()), "name": path.name, "sha256": digest or file_sha256(path),
              **{k: v for k, v in downloaded.items() if k != "sha256"}}
    if downloaded.get("sha256") and downloaded["sha256"] != source["sha256"]:
        raise ValueError(f"{path.name} changed since it was downloaded (its sha256 is no longer the one in "
                         "downloads.json): damaged or edited; download it again")
    profiles = profiles.with_data(profiles.data, note=control_note, control_rule=rule, time_point=time_point,
                                  sources=(source,))
    if modality == "cp":
        set_aside = classify_cp_columns(frame.columns)
        set_aside = set_aside[~set_aside["is_feature"]]
        if len(set_aside) and features is None:
            notes.append(f"{len(set_aside)} bookkeeping column(s) are not features "
                         f"({', '.join(sorted(set(set_aside['reason'])))}): "
                         f"{', '.join(set_aside['column'][:4])}{' ...' if len(set_aside) > 4 else ''}")
    if rule is None:
        notes += control_like_notes(frame, profiles.metadata_columns)
    notes += raw_feature_notes(profiles)
    for note in notes:
        profiles = profiles.with_data(profiles.data, note=note)
    if clean:
        if modality == "ge":  # the paper filtered Cell Painting features only
            cleaning.setdefault("max_nan_fraction", None)
            cleaning.setdefault("min_std", None)
        cleaning.setdefault("inplace", True)  # nothing else holds the table just read
        profiles = clean_profiles(profiles, **cleaning)
    return profiles


def _whole_numbers_as_integers(keys: pd.Series) -> pd.Series:
    """A key column read as floats only because it has a gap (1.0, 2.0, NaN) is made integers again."""
    if keys.dtype.kind == "f":
        values = keys.dropna()
        if len(values) and np.all(np.isfinite(values)) and np.all(values == np.round(values)):
            return keys.astype("Int64")
    return keys


CONTROL_LIKE = ("dmso", "negcon", "control", "ctl_vehicle", "ctl_untrt", "ctl_vector", "vehicle", "untreated",
                "mock", "empty", "-666")


def control_like_notes(frame: pd.DataFrame, metadata_columns) -> list[str]:
    """Notes naming metadata columns that hold control-like values (when no control rule was given)."""
    notes = []
    for column in metadata_columns:
        values = frame[column]
        if values.dtype.kind in "fiu":
            hits = values[values == -666]
        else:
            text = values.astype("string").str.strip().str.lower()
            hits = text[text.isin(CONTROL_LIKE)]
        if len(hits) and len(hits) < len(frame):
            value = values[hits.index[0]]
            notes.append(f"{column} holds {value!r} in {len(hits)} of {len(frame)} rows, which looks like a "
                         f"negative control; it is scored as a perturbation unless you name it: "
                         f"controls={{{column!r}: {str(value)!r}}} or --control {column}={value}")
    return notes[:3]


def raw_feature_notes(profiles: Profiles) -> list[str]:
    """A note when Cell Painting features look unnormalised (not centred on the controls, wide ranges)."""
    if profiles.modality != "cp" or len(profiles.data) < 10:
        return []
    sample = profiles.data[list(profiles.features)].iloc[:5000].to_numpy(dtype=float)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(sample, axis=0)
        spread = np.nanpercentile(sample, 75, axis=0) - np.nanpercentile(sample, 25, axis=0)
        offset = np.abs(median) > 2 * spread
    magnitude = np.abs(median[np.isfinite(median) & (median != 0)])
    wide = len(magnitude) > 1 and magnitude.max() / magnitude.min() > 1e3
    if np.mean(offset) > 0.5 or wide:
        return [f"the features look unnormalised ({np.mean(offset):.0%} sit far from 0 relative to their spread; "
                f"typical magnitudes span {magnitude.min():.3g} to {magnitude.max():.3g}): normalise them to the "
                "negative controls of each plate first (rs.normalize, or rosetta-stats normalize)"]
    return []


def _download_record(path: Path) -> dict:
    """The ETag (and address) a file had when this package downloaded it, from ``downloads.json`` above it."""
    from .download import read_provenance

    folder = path.resolve().parent
    for _ in range(6):
        if (folder / "downloads.json").is_file():
            with contextlib.suppress(Exception):
                record = read_provenance(folder).get(str(path.resolve().relative_to(folder)))
                if record:
                    return {"etag": record.get("etag"), "url": record.get("url"), "sha256": record.get("sha256")}
            return {}
        if folder.parent == folder:
            break
        folder = folder.parent
    return {}


def _short_name(modality: str, level: str | None, release: str) -> str:
    if release == "curated":
        if modality == "cp":
            if level not in (None, "augmented"):
                raise ValueError(f"the curated release has Cell Painting at the 'augmented' level only, "
                                 f"not {level!r}")
            return "cp-augmented"
        if level not in (None, "normalized", "replicate"):
            raise ValueError(f"the curated release has one L1000 file (replicate level), not {level!r}")
        return "l1k"
    if modality == "cp":
        level = level or "normalized"
        check_choice(level, CP_LEVELS, "Cell Painting level")
        return "cp-" + level.replace("_", "-")
    if level in (None, "normalized", "replicate"):
        return "l1k"
    return level


def find_downloaded(root: str | os.PathLike, remote) -> Path | None:
    """Where a downloaded file sits below ``root``: the download layout, or the bucket's own."""
    root = Path(root)
    folder = "curated_preprocessed_data" if remote.release == "curated" else "preprocessed_data"
    relative = Path(remote.inner_path)
    candidates = [root / remote.relative_path, root / relative, root / folder / relative]
    candidates += [root / remote.key(prefix) for prefix in remote.prefixes]
    if remote.name.endswith(".csv.gz"):
        candidates += [c.with_name(c.name.removesuffix(".gz")) for c in list(candidates)]
    return next((c for c in candidates if c.is_file()), None)


def load_profiles(
    dataset: str,
    modality: str,
    level: str | None = None,
    root: str | os.PathLike = ".",
    clean: bool = True,
    release: str = "csv",
    controls=None,
    dtype=None,
    cache: bool = False,
    **cleaning,
) -> Profiles:
    """Load a downloaded Rosetta file (see ``rosetta-stats datasets download``).

    ``release`` is "csv" (the paper's files) or "curated" (the 2025 parquet
    files). ``level`` for Cell Painting: "augmented", "normalized" (the csv
    default) or "normalized_variable_selected"; the curated release has
    "augmented" only. For L1000: the replicate-level file, or any of the
    dataset's L1000 short file names ("l1k-treatment", ...). ``controls``
    overrides the registry's rules (``{"column": "value"}``). ``dtype`` and
    ``cache`` are :func:`read_profiles`'s: ``dtype="float32", cache=True``
    halves the memory of a CDRP-size file and makes its second load fast.
    """
    ds = get_dataset(dataset)
    check_choice(modality, ("cp", "ge"), "modality")
    check_choice(release, RELEASES, "release")
    schema = ds.schema(modality, release)
    remote = ds.file(_short_name(modality, level, release), release=release)
    path = find_downloaded(root, remote)
    if path is None:
        raise ValueError(
            f"{Path(root) / remote.relative_path} not found; fetch it with: rosetta-stats datasets download "
            f"{ds.short} --files {remote.short} --dest {root}" + (" --release curated" if release == "curated" else "")
        )
    profiles = read_profiles(path, modality, plate=schema.plate, controls=controls or schema.controls,
                             clean=clean, time_point=schema.time_hours, dtype=dtype, cache=cache, **cleaning)
    return _with_dataset_columns(profiles, schema, path.name)


def _with_dataset_columns(profiles: Profiles, schema, label: str) -> Profiles:
    """Add the compound (and curated match key) columns, the time point, and set the perturbation column."""
    data = profiles.data
    check_columns(data.columns, [schema.match], f"match column of {label}")
    added, notes = {}, []
    source = schema.compound if schema.compound in data.columns else schema.match
    if COMPOUND_COLUMN not in data.columns:
        added[COMPOUND_COLUMN] = compound_of(data[source]).to_numpy()
    perturbation = schema.match
    if schema.key_rule == "compound_dose":
        if schema.dose:
            check_columns(data.columns, [schema.dose], f"dose column of {label}")
        if MATCH_KEY_COLUMN not in data.columns:
            doses = data[schema.dose] if schema.dose else np.full(len(data), np.nan)
            added[MATCH_KEY_COLUMN] = compound_dose_keys(data[schema.match], doses, profiles.controls).to_numpy()
            notes.append(f"match_key = compound of {schema.match}"
                         + (f" + {schema.dose} rounded to 2 decimals" if schema.dose else "")
                         + "; negative controls keyed negcon")
        perturbation = MATCH_KEY_COLUMN
    time_point = profiles.time_point
    if schema.time_column and schema.time_column in data.columns:
        observed = pd.to_numeric(data[schema.time_column], errors="coerce").dropna()
        if len(observed):
            common = float(observed.mode().iloc[0])
            if time_point is not None and common != time_point:
                notes.append(f"{schema.time_column} says {common:g} h where the registry says {time_point:g} h; "
                             f"using the file's")
            time_point = common
    if time_point is not None:
        notes.append(f"time point {time_point:g} h")
    out = profiles.with_data(data.assign(**added) if added else data, perturbation=perturbation,
                             time_point=time_point)
    for note in notes:
        out = out.with_data(out.data, note=note)
    return out


__all__ = ["read_profiles", "load_profiles", "find_downloaded", "ControlSpec", "CP_LEVELS"]
