"""The table engine: a CSV, CSV.gz or parquet file into a DataFrame, its features as one matrix, errors named.

A CSV is parsed in chunks of rows whose features join one matrix (memory
stays at one chunk beyond the matrix); a ``.gz`` file is decompressed on a
thread into a pipe beside the parser, and its sha256 is taken from the same
bytes. Parquet goes through R's nanoparquet (Debian ships no pyarrow).
A damaged file is an error that names it and says what is wrong with it.
"""
from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import mmap
import os
import threading
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from ..common.feature_matrix import feature_matrix, with_feature_block
from .features import infer_features
from ..common.safe_paths import file_digest

CSV_CHUNK_ROWS = 1_000
DECOMPRESS_BLOCK = 1 << 20  # bytes of text per write into the parser's pipe


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


def file_sha256(path: str | os.PathLike) -> str:
    return file_digest(path)


def read_table(path: Path, modality: str, dtype=None) -> tuple[pd.DataFrame, str]:
    """(a CSV/CSV.gz (pandas) or parquet (R's nanoparquet) file as a DataFrame, the file's sha256).

    ``dtype`` (e.g. ``"float32"``) is the type the feature columns are parsed into.
    """
    if path.suffix == ".parquet":
        from ..bridge.parquet import read_parquet

        frame = read_parquet(path, infer=lambda columns: infer_features(columns, modality))
        if dtype is not None:
            features = infer_features(frame.columns, modality)
            frame = with_feature_block(frame, features, feature_matrix(frame, features, dtype=dtype))
        return frame, file_sha256(path)
    digest: list[str] = []
    frame = _read_csv(path, modality, dtype, digest)
    return frame, digest[0] if digest else file_sha256(path)


def _read_csv(path: Path, modality: str, dtype, digest: list) -> pd.DataFrame:
    check_unique_header(path)
    features = []
    with contextlib.suppress(ValueError):  # no feature columns: the error comes later, with its context
        features = infer_features(read_header(path), modality)
    types = {f: dtype for f in features} if dtype is not None else None
    with _named_read_errors(path):
        try:
            return _read_csv_in_chunks(path, features, types, dtype, digest)
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


def _read_csv_in_chunks(path: Path, features: list[str], types: dict | None, dtype, digest: list) -> pd.DataFrame:
    """pandas.read_csv in chunks of rows: each chunk's features join one matrix, so the parser's
    memory stays at one chunk. A metadata column typed differently in different chunks is read again
    whole, as a single read would type it. A row with fewer fields than the header (a cut or ragged
    file) is an error naming its line."""
    with _piped(path, digest) as (source, ending):
        frame = _parse_chunks(path, source, features, types, dtype)
    _check_row_lengths(path, frame, ending)
    return frame


def _check_row_lengths(path: Path, frame: pd.DataFrame, ending: list) -> None:
    """pandas fills a short row with NaN: rows whose last cell is missing are counted again with csv."""
    if frame.empty or not len(frame.columns):
        return
    suspects = np.flatnonzero(frame.iloc[:, -1].isna().to_numpy())
    if not len(suspects) and (not ending or ending[0] in (b"\n", b"\r")):
        return
    width = len(frame.columns)
    wanted = set((suspects + 2).tolist()) | {len(frame) + 1}  # line numbers (the header is line 1)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        for row in reader:
            line = reader.line_num
            if line in wanted and len(row) < width and any(cell != "" for cell in row):
                raise ValueError(f"{path.name}: line {line} has {len(row)} of the header's {width} fields "
                                 "(the file is cut short or ragged)")


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


class _Hashing:
    """A binary file that hashes what is read from it."""

    def __init__(self, raw):
        self.raw, self.digest, self.last = raw, hashlib.sha256(), b""

    def read(self, size=-1):
        block = self.raw.read(size)
        self.digest.update(block)
        if block:
            self.last = block[-1:]
        return block

    def readinto(self, buffer):
        n = self.raw.readinto(buffer)
        if n:
            view = memoryview(buffer)[:n]
            self.digest.update(view)
            self.last = bytes(view[-1:])
        return n

    def readable(self):
        return True

    def close(self):
        self.raw.close()

    @property
    def closed(self):
        return self.raw.closed


@contextlib.contextmanager
def _piped(path: Path, digest: list):
    """(a pipe that a thread fills with the file's text, the file's last byte when read whole).

    A ``.gz`` file is decompressed there, so that zlib runs beside the parser
    (zlib releases the GIL); the file's sha256 is taken from the bytes read,
    and appended to ``digest`` when the whole file went through. A damaged
    gzip stream raises its own error when the reading ends, in preference to
    whatever the parser made of the cut.
    """
    read_end, write_end = os.pipe()
    with contextlib.suppress(OSError, AttributeError):  # a wider pipe: fewer hand-overs between threads
        import fcntl
        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, DECOMPRESS_BLOCK)
    failure, ending = [], []

    def pump():
        hashing = _Hashing(open(path, "rb"))
        try:
            packed = gzip.GzipFile(fileobj=hashing, mode="rb") if path.name.endswith(".gz") else hashing
            with open(write_end, "wb") as sink:
                last = b""
                while block := packed.read(DECOMPRESS_BLOCK):
                    sink.write(block)
                    last = block[-1:]
            while hashing.read(DECOMPRESS_BLOCK):  # bytes after the gzip stream still count
                pass
            digest.append(hashing.digest.hexdigest())
            ending.append(last)
        except BrokenPipeError:  # the parser stopped reading (an error, or text among the features)
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread below
            failure.append(exc)
        finally:
            hashing.close()

    thread = threading.Thread(target=pump, name=f"read {path.name}", daemon=True)
    thread.start()
    source = open(read_end, "rb")
    try:
        yield source, ending
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
