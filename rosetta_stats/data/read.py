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
import csv
import gzip
import mmap
import os
import threading
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from ..common.feature_matrix import feature_matrix, with_feature_block
from ..common.validation import check_choice, check_columns
from .cleaning import clean_profiles
from .controls import ControlRules, ControlSpec, resolve_controls
from .features import infer_features
from .keys import compound_dose_keys, compound_of
from .profile_cache import load_cached, store_cache
from .profiles import Profiles
from .registry import RELEASES, get_dataset

CP_LEVELS = ("augmented", "normalized", "normalized_variable_selected")
COMPOUND_COLUMN = "compound"
CSV_CHUNK_ROWS = 1_000
DECOMPRESS_BLOCK = 1 << 20  # bytes of text per write into the parser's pipe
MATCH_KEY_COLUMN = "match_key"


@contextlib.contextmanager
def _named_read_errors(path: Path):
    """Turn what pandas and gzip raise on a damaged file into errors that name it."""
    try:
        yield
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path.name} is empty") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path.name} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"{path.name} is truncated or corrupted ({exc})") from None
    except pd.errors.ParserError as exc:
        raise ValueError(f"{path.name} is not a well-formed CSV ({str(exc).strip()})") from None


def read_header(path: Path) -> list[str]:
    """The column names of a CSV as written (duplicates kept, unlike pandas' renaming)."""
    with _named_read_errors(path):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            first = next(csv.reader(handle), [])
    return first


def check_unique_header(path: Path) -> None:
    """A CSV whose header repeats a name is refused, naming the repeated names."""
    if path.suffix == ".parquet":
        return
    header = read_header(path)
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise ValueError(f"{path.name} repeats column name(s): {', '.join(repeated)}")


def _read_table(path: Path, modality: str, dtype=None) -> pd.DataFrame:
    """A CSV/CSV.gz (pandas) or parquet (R's nanoparquet) file as a DataFrame, with named errors.

    ``dtype`` (e.g. ``"float32"``) is the type the feature columns are parsed into.
    """
    if path.suffix == ".parquet":
        from ..bridge.parquet import read_parquet

        frame = read_parquet(path, infer=lambda columns: infer_features(columns, modality))
        if dtype is not None:
            features = infer_features(frame.columns, modality)
            frame = with_feature_block(frame, features, feature_matrix(frame, features, dtype=dtype))
        return frame
    check_unique_header(path)
    features = []
    with contextlib.suppress(ValueError):  # no feature columns: the error comes later, with its context
        features = infer_features(read_header(path), modality)
    types = {f: dtype for f in features} if dtype is not None else None
    with _named_read_errors(path):
        try:
            return _read_csv_in_chunks(path, features, types, dtype)
        except ValueError as exc:
            if types is None or isinstance(exc, (pd.errors.ParserError, UnicodeDecodeError)):
                raise
            named = _text_columns(path, features)
            where = f"{', '.join(named[:5])}{', ...' if len(named) > 5 else ''}: " if named else ""
            raise ValueError(f"{path.name}: a feature column holds text that is not a number ({where}{exc})") from None


def _text_columns(path: Path, features: list[str]) -> list[str]:
    """The feature columns pandas cannot read as numbers (read again on this error path only)."""
    with contextlib.suppress(Exception):
        frame = pd.read_csv(path, usecols=features, low_memory=False)
        return [c for c in features if frame[c].dtype.kind not in "fiub"]
    return []


def _read_csv_in_chunks(path: Path, features: list[str], types: dict | None, dtype) -> pd.DataFrame:
    """pandas.read_csv in chunks of rows: each chunk's features join one matrix, so the parser's
    memory stays at one chunk. A metadata column typed differently in different chunks is read again
    whole, as a single read would type it."""
    with _decompressed(path) as source:
        return _parse_chunks(path, source, features, types, dtype)


def _parse_chunks(path: Path, source, features, types, dtype) -> pd.DataFrame:
    reader = pd.read_csv(source, low_memory=False, dtype=types, chunksize=CSV_CHUNK_ROWS)
    first, blocks, metadata = None, [], []
    for chunk in reader:
        if first is None:
            first = chunk
        if features and types is None and not chunk.dtypes[features].map(lambda t: t.kind in "fiu").all():
            return pd.read_csv(path, low_memory=False)  # text among the features: read whole, checked later
        if features:
            blocks.append(_in_own_pages(feature_matrix(chunk, features, dtype=dtype)))
            metadata.append(chunk.drop(columns=features))
        else:
            metadata.append(chunk)
    if first is None:  # a header and no rows
        return pd.read_csv(path, low_memory=False, dtype=types)
    if len(metadata) == 1:  # one chunk: exactly what a single read gives
        return first
    columns = list(first.columns)
    del first
    if not features:
        return pd.concat(metadata, ignore_index=True)
    meta = pd.concat(metadata, ignore_index=True)
    mixed = [c for c in meta.columns if len({str(m[c].dtype) for m in metadata}) > 1]
    if mixed:
        whole = pd.read_csv(path, low_memory=False, usecols=mixed)
        for column in mixed:
            meta[column] = whole[column].to_numpy()
    matrix = _stack_releasing(blocks)
    frame = pd.concat([meta, pd.DataFrame(matrix, columns=features, copy=False)], axis=1, copy=False)
    return frame if list(frame.columns) == columns else frame[columns]


@contextlib.contextmanager
def _decompressed(path: Path):
    """A ``.gz`` file as a pipe that a thread fills with its text, so that zlib runs beside the parser
    (on another core: zlib releases the GIL); other files are given as they are. A damaged gzip stream
    raises its own error when the reading ends, in preference to whatever the parser made of the cut."""
    if not path.name.endswith(".gz"):
        yield path
        return
    read_end, write_end = os.pipe()
    with contextlib.suppress(OSError, AttributeError):  # a wider pipe: fewer hand-overs between threads
        import fcntl
        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, DECOMPRESS_BLOCK)
    failure = []

    def pump():
        try:
            with gzip.open(path, "rb") as packed, open(write_end, "wb") as sink:
                while block := packed.read(DECOMPRESS_BLOCK):
                    sink.write(block)
        except BrokenPipeError:  # the parser stopped reading (an error, or text among the features)
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread below
            failure.append(exc)

    thread = threading.Thread(target=pump, name=f"gunzip {path.name}", daemon=True)
    thread.start()
    source = open(read_end, "rb")
    try:
        yield source
    finally:  # closing the pipe ends a pump still writing; its failure replaces the parser's error
        source.close()
        thread.join()
        if failure:
            raise failure[0] from None


def _in_own_pages(block: np.ndarray) -> np.ndarray:
    """``block`` copied into an anonymous memory map of its own, which goes back to the system the
    moment it is dropped (chunk-sized heap blocks would stay in the process after the stacking)."""
    pages = mmap.mmap(-1, max(block.nbytes, 1))
    out = np.frombuffer(pages, dtype=block.dtype, count=block.size).reshape(block.shape)
    out[...] = block
    return out


def _stack_releasing(blocks: list[np.ndarray]) -> np.ndarray:
    """The blocks stacked by rows; each block is let go once copied, so memory holds one matrix plus one block."""
    matrix = np.empty((sum(len(b) for b in blocks), blocks[0].shape[1]), dtype=blocks[0].dtype)
    start = 0
    while blocks:
        block = blocks.pop(0)
        matrix[start:start + len(block)] = block
        start += len(block)
        del block
    return matrix


def read_profiles(
    path: str | os.PathLike,
    modality: str,
    perturbation: str | None = None,
    plate: str | None = None,
    controls=None,
    clean: bool = True,
    time_point: float | None = None,
    dtype=None,
    cache: bool = False,
    **cleaning,
) -> Profiles:
    """Read a profile file (``.csv``, ``.csv.gz`` or ``.parquet``) into ``Profiles``.

    Features are inferred (``Cells_``/``Cytoplasm_``/``Nuclei_`` for Cell
    Painting, ``*_at`` for L1000). ``controls`` names the negative controls:
    a :class:`ControlSpec`, ``{"column": "value"}`` or ``"column=value"`` (its
    column must exist and it must mark a row), or a :class:`ControlRules`
    list of fallbacks (the first that marks a row is used). The rule is kept
    on the profiles (no column is written) and a note says how many rows it
    marked. With ``clean`` the paper's cleaning runs
    (:func:`rosetta_stats.clean_profiles`; keyword arguments pass through,
    e.g. ``per_plate=True``).

    ``dtype="float32"`` parses the features as float32 (half the memory; the
    statistics keep it). ``cache=True`` keeps the table as read in
    ``<file>.rosetta-cache.npz`` beside the file and uses it while the file is
    unchanged, so a second load skips parsing (cleaning still runs).
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a profile file")
    if not path.is_file():
        raise ValueError(f"profile file not found: {path}")
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise ValueError(f"dtype must be a floating-point type such as 'float32'; got {dtype}")
    frame = load_cached(path, dtype) if cache else None
    if frame is None:
        frame = _read_table(path, modality, dtype)
        if cache and not frame.empty:
            with contextlib.suppress(ValueError):  # no features: the error below says so
                store_cache(path, frame, infer_features(frame.columns, modality), dtype)
    if frame.empty:
        raise ValueError(f"{path.name} has no rows")
    check_columns(frame.columns, [c for c in (perturbation, plate) if c], f"columns of {path.name}")
    explicit = controls is not None and not isinstance(controls, ControlRules)
    rule, control_note = resolve_controls(frame, controls, label=path.name, explicit=explicit)
    try:
        profiles = Profiles.from_frame(frame, modality, perturbation, plate, copy=False)  # the frame is ours
    except ValueError as exc:
        raise ValueError(f"{path.name}: {exc}") from None
    profiles = profiles.with_data(profiles.data, note=control_note, control_rule=rule, time_point=time_point)
    if clean:
        if modality == "ge":  # the paper filtered Cell Painting features only
            cleaning.setdefault("max_nan_fraction", None)
            cleaning.setdefault("min_std", None)
        cleaning.setdefault("inplace", True)  # nothing else holds the table just read
        profiles = clean_profiles(profiles, **cleaning)
    return profiles


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
