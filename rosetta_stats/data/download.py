"""Verified, resumable downloads of the Rosetta files over plain HTTPS, checked against the bucket today.

No credentials and no AWS client are needed: the objects are public. The
bucket is asked what each object is **now** (ETag, Content-Length and
Last-Modified from a HEAD request, or from a one-byte ranged GET when HEAD
is refused); the bytes are checked against that, not against the
2022-02-25 listing (the files were rewritten after it). An object whose
ETag differs from the listing is downloaded and reported as "changed since
the 2022-02-25 listing". Bytes go to ``<file>.part`` (locked, so two
downloads into one folder never share it); an interrupted transfer resumes
with an HTTP Range request; 5xx, 429 and dropped connections are retried
with backoff. Only bytes that do not match the bucket's own ETag are
removed, with an error. ``downloads.json`` beside the files records where
each came from (key, ETag, size, Last-Modified, time).

ETags: a single-part upload's ETag is the MD5 of the bytes; a multipart
upload's is the MD5 of the concatenated binary MD5s of its parts, followed
by ``-N``. The part size is not recorded, so the common sizes that give N
parts are tried.
"""
from __future__ import annotations

import datetime as _dt
import fcntl
import hashlib
import http.client
import json
import math
import os
import socket
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from ..common.atomic_files import atomic_path
from ..common.errors import RosettaError
from .registry import BUCKET_URL, LISTING_DATE, RemoteFile, get_dataset

MIB = 1024 * 1024
COMMON_PART_SIZES = tuple(m * MIB for m in (8, 16, 5, 15, 32, 50, 64, 100, 128, 256, 512, 1024))
_TRANSIENT = (urllib.error.URLError, ConnectionError, http.client.HTTPException, socket.timeout, TimeoutError)


class DownloadError(RosettaError):
    """A file could not be fetched (not found, truncated, refused)."""


class ETagMismatchError(DownloadError):
    """The bytes arrived but their ETag is not the registry's."""


class ChangedSinceListingWarning(UserWarning):
    """The bucket's object is not the one in the 2022-02-25 listing (the bytes were verified against today's)."""


class UnverifiableETagWarning(UserWarning):
    """No part size reproduces a multipart ETag's part count; the bytes were kept unverified."""


def _md5_parts(path: Path, part_size: int) -> list[bytes]:
    digests = []
    with open(path, "rb") as fh:
        while True:
            block = fh.read(part_size)
            if not block:
                break
            digests.append(hashlib.md5(block).digest())
    return digests


def compute_etag(path: str | os.PathLike, n_parts: int | None = None, part_size: int | None = None) -> str:
    """The ETag of a file: plain MD5, or multipart ``<md5 of part md5s>-N`` for ``part_size``."""
    path = Path(path)
    if not n_parts:
        return _streamed_md5(path)
    digests = _md5_parts(path, part_size)
    return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"


def _streamed_md5(path: Path) -> str:
    md5 = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(8 * MIB), b""):
            md5.update(block)
    return md5.hexdigest()


def candidate_part_sizes(size: int, n_parts: int, limit: int = 32) -> list[int]:
    """Part sizes that split ``size`` bytes into exactly ``n_parts``: the common ones first, then every
    whole MiB in the range that gives that count (at most ``limit`` in all)."""
    found = [p for p in COMMON_PART_SIZES if math.ceil(size / p) == n_parts]
    if n_parts > 1:
        low = math.ceil(size / n_parts / MIB)  # smallest whole-MiB part giving n_parts
        high = math.ceil(size / (n_parts - 1) / MIB)  # parts this large give fewer
        for mib in range(max(low, 1), high + 1):
            part = mib * MIB
            if math.ceil(size / part) == n_parts and part not in found:
                found.append(part)
            if len(found) >= limit:
                break
    return found[:limit]


def verify_etag(path: str | os.PathLike, expected: str, label: str | None = None) -> bool:
    """True when the file's ETag equals ``expected``.

    Raises :class:`ETagMismatchError` on a mismatch; warns with
    :class:`UnverifiableETagWarning` and returns False when no common part
    size reproduces the multipart count.
    """
    path = Path(path)
    label = label or path.name
    expected = expected.strip('"')
    if "-" not in expected:
        actual = _streamed_md5(path)
        if actual != expected:
            raise ETagMismatchError(f"{label}: ETag mismatch: expected {expected}, got {actual}")
        return True
    n_parts = int(expected.rsplit("-", 1)[1])
    sizes = candidate_part_sizes(path.stat().st_size, n_parts)
    if not sizes:
        warnings.warn(
            f"{label}: cannot verify multipart ETag {expected}: no common part size gives "
            f"{n_parts} parts for {path.stat().st_size} bytes", UnverifiableETagWarning, stacklevel=2,
        )
        return False
    tried = []
    for part_size in sizes:
        actual = compute_etag(path, n_parts, part_size)
        if actual == expected:
            return True
        tried.append(f"{actual} (part size {part_size // MIB} MiB)")
    raise ETagMismatchError(f"{label}: ETag mismatch: expected {expected}, got {'; '.join(tried)}")


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
PROVENANCE_FILE = "downloads.json"


@dataclass(frozen=True)
class RemoteObject:
    """What the bucket says an object is today."""

    url: str
    size: int | None
    etag: str | None
    last_modified: str | None


def _urls(remote: RemoteFile, base_url: str, prefixes: Iterable[str] | None) -> list[str]:
    prefixes = remote.prefixes if prefixes is None else list(prefixes)
    return [f"{base_url.rstrip('/')}/{remote.key(p)}" for p in prefixes]


def _sleep(backoff: float, attempt: int) -> None:
    time.sleep(backoff * 2 ** attempt)


def _describe(url: str, headers, ranged: bool) -> RemoteObject:
    etag = headers.get("ETag")
    size = None
    if ranged and headers.get("Content-Range", "").rpartition("/")[2].isdigit():
        size = int(headers["Content-Range"].rpartition("/")[2])
    elif not ranged and headers.get("Content-Length", "").isdigit():
        size = int(headers["Content-Length"])
    return RemoteObject(url, size, etag.strip('"') if etag else None, headers.get("Last-Modified"))


def _ask(url: str, timeout: float, ranged: bool) -> RemoteObject:
    """One HEAD (or a one-byte ranged GET) for ``url``'s headers."""
    if ranged:
        request = urllib.request.Request(url, headers={"Range": "bytes=0-0"})
    else:
        request = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if ranged:
            response.read(1)
        return _describe(url, response.headers, ranged and response.status == 206)


def locate(remote: RemoteFile, base_url: str = BUCKET_URL, prefixes: Iterable[str] | None = None,
           retries: int = 5, backoff: float = 1.0, timeout: float = 60.0) -> RemoteObject:
    """The object under the first prefix that has it, with what the bucket says it is today.

    HEAD first (retried on 5xx, 429 and dropped connections); when HEAD keeps
    failing for another reason than 404, a one-byte ranged GET asks instead.
    "not found (moved?)" only after a 404 under every prefix.
    """
    failures, all_missing = [], True
    for url in _urls(remote, base_url, prefixes):
        outcome = None
        for ranged in (False, True):
            for attempt in range(retries + 1):
                try:
                    return _ask(url, timeout, ranged)
                except urllib.error.HTTPError as exc:
                    outcome = exc.code
                    if exc.code in RETRY_STATUSES and attempt < retries:
                        _sleep(backoff, attempt)
                        continue
                    break
                except _TRANSIENT as exc:
                    outcome = str(getattr(exc, "reason", exc)) or type(exc).__name__
                    if attempt < retries:
                        _sleep(backoff, attempt)
                        continue
                    break
            if outcome == 404:
                break  # a GET would say the same
        failures.append(f"{url} ({'HTTP ' + str(outcome) if isinstance(outcome, int) else outcome})")
        all_missing &= outcome == 404
    if all_missing:
        raise DownloadError(f"{remote.name}: not found (moved?); tried: " + ", ".join(failures))
    raise DownloadError(f"{remote.name}: the bucket did not answer; tried: " + ", ".join(failures))


def _fetch_into(url: str, part: Path, expected_size: int | None, timeout: float, bar) -> None:
    """Append the rest of ``url`` to ``part`` (Range from its current size)."""
    start = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={start}-"} if start else {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if start and response.status != 206:  # server ignored the range: start over
            start = 0
            part.write_bytes(b"")
            bar.reset(total=expected_size)
        with open(part, "ab") as fh:
            while True:
                block = response.read(MIB)
                if not block:
                    break
                fh.write(block)
                bar.update(len(block))


class _PartLock:
    """An exclusive lock on ``<part>.lock`` so two downloads never write the same .part file."""

    def __init__(self, part: Path):
        self.path = part.with_name(part.name + ".lock")

    def __enter__(self):
        self.handle = open(self.path, "w")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise DownloadError(f"{self.path.name[:-5]} is being downloaded by another process; "
                                "wait for it or remove the stale lock") from None
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()
        self.path.unlink(missing_ok=True)


def _provenance_path(dest: Path) -> Path:
    return Path(dest) / PROVENANCE_FILE


def read_provenance(dest: str | os.PathLike) -> dict:
    """``downloads.json`` of a download root: relative path -> where the file came from."""
    path = _provenance_path(Path(dest))
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DownloadError(f"{path} is corrupt ({exc}); move it away to start a new record") from None


def _record(dest: Path, remote: RemoteFile, obj: RemoteObject, changed: bool) -> None:
    path = _provenance_path(dest)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = read_provenance(dest)
        record[remote.relative_path] = {
            "key": obj.url.split("/", 3)[-1], "url": obj.url, "etag": obj.etag, "size": obj.size,
            "last_modified": obj.last_modified, "release": remote.release,
            "listing_etag": remote.etag, "listing_size": remote.size,
            "changed_since_listing": changed,
            "downloaded": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(record, indent=2, sort_keys=True))


def _matches(path: Path, size: int | None, etag: str | None) -> bool:
    if size is not None and path.stat().st_size != size:
        return False
    if etag is None:
        return size is not None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnverifiableETagWarning)
            return verify_etag(path, etag)
    except ETagMismatchError:
        return False


def download_file(
    remote: RemoteFile,
    dest: str | os.PathLike = ".",
    base_url: str = BUCKET_URL,
    prefixes: Iterable[str] | None = None,
    retries: int = 5,
    backoff: float = 1.0,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Download one file below ``dest`` (in the bucket's folder layout), verified against the bucket today.

    Returns the final path. A file already there that matches the bucket's
    object is not fetched again. A file there that does not match is
    replaced only if this package downloaded it (it is in ``downloads.json``);
    otherwise it is left alone and the download stops with an error.
    """
    dest = Path(dest)
    target = dest / remote.relative_path
    obj = locate(remote, base_url, prefixes, retries, backoff, timeout)
    changed = remote.etag is not None and obj.etag is not None and obj.etag != remote.etag
    if changed:
        warnings.warn(f"{remote.name}: changed since the {LISTING_DATE} listing (ETag {obj.etag}, "
                      f"{obj.size} bytes; listed {remote.etag}, {remote.size} bytes); verified against "
                      "the bucket's current ETag", ChangedSinceListingWarning, stacklevel=2)
    etag = obj.etag if obj.etag is not None else (remote.etag if obj.size in (None, remote.size) else None)
    size = obj.size if obj.size is not None else remote.size
    if target.exists():
        if _matches(target, size, etag):
            _record(dest, remote, obj, changed)
            return target
        if remote.relative_path not in read_provenance(dest):
            raise DownloadError(f"{target} exists and is not the bucket's current object; it was not "
                                "downloaded by rosetta_stats, so it is left alone: move it away and retry")
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    with _PartLock(part):
        _transfer(obj, part, size, retries, backoff, timeout, progress, remote.name)
        got = part.stat().st_size
        if size is not None and got != size:
            if got > size:
                part.unlink()
                raise DownloadError(f"{remote.name}: the server sent {got} bytes where it announced {size}; "
                                    "the bytes were removed")
            raise DownloadError(f"{remote.name}: truncated download: got {got} of {size} bytes after "
                                f"{retries + 1} attempts; the partial file is kept to resume")
        if etag is None:
            warnings.warn(f"{remote.name}: the bucket sent no ETag; only the size was checked",
                          UnverifiableETagWarning, stacklevel=2)
        else:
            try:
                verify_etag(part, etag, label=remote.name)
            except ETagMismatchError as exc:
                part.unlink()
                raise ETagMismatchError(f"{exc} (the bucket's ETag; bad bytes removed)") from None
        os.replace(part, target)
    _record(dest, remote, obj, changed)
    return target


def _transfer(obj: RemoteObject, part: Path, size: int | None, retries: int, backoff: float,
              timeout: float, progress: bool, label: str) -> None:
    """Fill ``part`` from the object, resuming and retrying; leaves whatever arrived."""
    done = part.stat().st_size if part.exists() else 0
    if size is not None and done > size:
        part.write_bytes(b"")
        done = 0
    with tqdm(total=size, initial=done, unit="B", unit_scale=True, desc=label,
              disable=not progress, leave=False) as bar:
        for attempt in range(retries + 1):
            try:
                _fetch_into(obj.url, part, size, timeout, bar)
            except urllib.error.HTTPError as exc:
                if exc.code == 416 and part.exists() and size is not None and part.stat().st_size >= size:
                    return
                if exc.code not in RETRY_STATUSES:
                    raise DownloadError(f"{label}: HTTP {exc.code} from {obj.url}") from exc
            except _TRANSIENT:
                pass
            got = part.stat().st_size if part.exists() else 0
            if size is None or got >= size:
                if size is not None or got:
                    return
            if attempt < retries:
                _sleep(backoff, attempt)


def download_dataset(
    dataset: str,
    files: Iterable[str] | None = None,
    dest: str | os.PathLike = ".",
    base_url: str = BUCKET_URL,
    progress: bool = True,
    release: str = "csv",
    **options,
) -> list[Path]:
    """Download some (by short name) or all files of a dataset's release; returns their paths."""
    ds = get_dataset(dataset)
    ds.schema("cp", release)  # an error naming the releases the dataset is in
    chosen = [ds.file(f, release=release) for f in files] if files else list(ds.files_of(release))
    return [download_file(f, dest, base_url=base_url, progress=progress, **options)
            for f in tqdm(chosen, desc=ds.short, unit="file", disable=not progress or len(chosen) < 2)]
