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

ETags are checked as :mod:`rosetta_stats.data.etags` explains; an ETag that
is no content hash (a mirror's) leaves the size as the check, and the
sha256 of every downloaded file is recorded in ``downloads.json``. When the
server sends neither a length nor an ETag, the end of the stream proves
nothing: a ranged request past the bytes received must be refused (416)
before the file counts as complete. A transfer slower than ``min_rate``
bytes per second over a minute, or longer than ``deadline`` seconds, stops
with an error (the bytes are kept to resume). Every ``.part``, lock and
record file is opened without following links.
"""
from __future__ import annotations

import datetime as _dt
import http.client
import json
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
from ..common.safe_paths import UnsafePathError, exclusive_lock, open_for_append, open_for_reading
from .etags import (COMMON_PART_SIZES, MIB, DownloadError, ETagMismatchError, UnverifiableETagWarning,  # noqa: F401
                    candidate_part_sizes, compute_etag, etag_kind, file_digest, verify_etag)
from .registry import BUCKET_URL, LISTING_DATE, RemoteFile, get_dataset

_TRANSIENT = (urllib.error.URLError, ConnectionError, http.client.HTTPException, socket.timeout, TimeoutError)
MIN_RATE = 1024  # bytes per second, over RATE_WINDOW seconds, below which a transfer is given up
RATE_WINDOW = 60.0


class ChangedSinceListingWarning(UserWarning):
    """The bucket's object is not the one in the 2022-02-25 listing (the bytes were verified against today's)."""


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


class _Pace:
    """The transfer's clock: an overall deadline and a minimum rate over a sliding window."""

    def __init__(self, label: str, deadline: float | None, min_rate: float, window: float | None = None):
        self.label, self.min_rate = label, float(min_rate)
        self.window = float(RATE_WINDOW if window is None else window)
        self.start = time.monotonic()
        self.deadline = None if deadline is None else self.start + float(deadline)
        self.mark, self.bytes_since = self.start, 0

    def tick(self, n: int) -> None:
        now = time.monotonic()
        self.bytes_since += n
        if self.deadline is not None and now > self.deadline:
            raise DownloadError(f"{self.label}: the download passed its deadline of "
                                f"{self.deadline - self.start:.0f} s; the bytes so far are kept to resume")
        if now - self.mark >= self.window:
            rate = self.bytes_since / (now - self.mark)
            if rate < self.min_rate:
                raise DownloadError(f"{self.label}: the server sends {rate:.0f} B/s, below the minimum of "
                                    f"{self.min_rate:.0f} B/s; the bytes so far are kept to resume")
            self.mark, self.bytes_since = now, 0


def _part_size(part: Path) -> int:
    try:
        return os.lstat(part).st_size
    except FileNotFoundError:
        return 0


def _fetch_into(url: str, part: Path, expected_size: int | None, timeout: float, bar, pace: _Pace) -> None:
    """Append the rest of ``url`` to ``part`` (Range from its current size)."""
    start = _part_size(part)
    request = urllib.request.Request(url, headers={"Range": f"bytes={start}-"} if start else {})
    with urllib.request.urlopen(request, timeout=timeout) as response, open_for_append(part) as fh:
        if start and response.status != 206:  # server ignored the range: start over
            fh.truncate(0)
            bar.reset(total=expected_size)
        read = getattr(response, "read1", response.read)
        while True:
            block = read(256 * 1024)  # whatever has arrived: a slow server is timed between blocks
            if not block:
                break
            fh.write(block)
            bar.update(len(block))
            pace.tick(len(block))


def _complete_without_length(url: str, part: Path, timeout: float, label: str) -> bool:
    """With no length and no ETag, ask for the bytes past what arrived: 416 means the file is complete,
    206 means more (False: fetch again), a 200 (ranges ignored) means it cannot be known (an error)."""
    got = _part_size(part)
    request = urllib.request.Request(url, headers={"Range": f"bytes={got}-"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if response.status == 206:
                return False
    except urllib.error.HTTPError as exc:
        if exc.code == 416:
            return True
        raise DownloadError(f"{label}: HTTP {exc.code} when checking the end of the file") from None
    raise DownloadError(f"{label}: the server sends neither a length nor an ETag and ignores ranges, so "
                        "whether the file is complete cannot be told; it is not installed (the bytes stay in "
                        f"{part.name})")


class _PartLock:
    """An exclusive lock on ``<part>.lock`` so two downloads never write the same .part file."""

    def __init__(self, part: Path):
        self.path = part.with_name(part.name + ".lock")
        self.held = None

    def __enter__(self):
        self.held = exclusive_lock(self.path, blocking=False)
        try:
            self.held.__enter__()
        except BlockingIOError:
            raise DownloadError(f"{self.path.name[:-5]} is being downloaded by another process; "
                                "wait for it or remove the stale lock") from None
        except UnsafePathError as exc:
            raise DownloadError(str(exc)) from None
        return self

    def __exit__(self, *exc):
        self.held.__exit__(*exc)
        if not self.path.is_symlink():
            self.path.unlink(missing_ok=True)


def _provenance_path(dest: Path) -> Path:
    return Path(dest) / PROVENANCE_FILE


def read_provenance(dest: str | os.PathLike) -> dict:
    """``downloads.json`` of a download root: relative path -> where the file came from."""
    path = _provenance_path(Path(dest))
    if not path.exists() and not path.is_symlink():
        return {}
    try:
        with open_for_reading(path) as fh:
            record = json.loads(fh.read(64 * MIB).decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, UnsafePathError) as exc:
        raise DownloadError(f"{path} is corrupt or unsafe ({str(exc).splitlines()[0]}); move it away to start a "
                            "new record") from None
    if not isinstance(record, dict) or not all(isinstance(v, dict) for v in record.values()):
        raise DownloadError(f"{path} is not a downloads record; move it away to start a new record")
    return record


def _record(dest: Path, remote: RemoteFile, obj: RemoteObject, changed: bool, sha256: str) -> None:
    path = _provenance_path(dest)
    try:
        lock = exclusive_lock(path.with_name(path.name + ".lock"))
        lock.__enter__()
    except UnsafePathError as exc:
        raise DownloadError(str(exc)) from None
    try:
        record = read_provenance(dest)
        record[remote.relative_path] = {
            "key": obj.url.split("/", 3)[-1], "url": obj.url, "etag": obj.etag, "size": obj.size,
            "last_modified": obj.last_modified, "release": remote.release,
            "listing_etag": remote.etag, "listing_size": remote.size,
            "changed_since_listing": changed, "sha256": sha256, "etag_kind": etag_kind(obj.etag),
            "downloaded": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(record, indent=2, sort_keys=True))
    finally:
        lock.__exit__(None, None, None)


def _matches(path: Path, size: int | None, etag: str | None, recorded: dict | None) -> bool:
    """Is the file there the object? By its size, and its ETag when that is a content hash, else by the
    sha256 recorded when this package downloaded it."""
    if path.is_symlink() or not path.is_file():
        return False
    if size is not None and path.stat().st_size != size:
        return False
    if etag_kind(etag) not in ("md5", "multipart"):
        sha256 = (recorded or {}).get("sha256")
        return sha256 is not None and (recorded or {}).get("etag") == etag and file_digest(path) == sha256
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
    deadline: float | None = None,
    min_rate: float = MIN_RATE,
) -> Path:
    """Download one file below ``dest`` (in the bucket's folder layout), verified against the bucket today.

    Returns the final path. A file already there that matches the bucket's
    object is not fetched again. A file there that does not match is
    replaced only if this package downloaded it (it is in ``downloads.json``);
    otherwise it is left alone and the download stops with an error.
    ``deadline`` (seconds, default none) bounds the whole transfer and
    ``min_rate`` (bytes per second over a minute) a trickling server.
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
    if target.is_symlink():
        raise DownloadError(f"{target} is a symbolic link; it is left alone: move it away and retry")
    record = read_provenance(dest)
    if target.exists():
        if _matches(target, size, etag, record.get(remote.relative_path)):
            _record(dest, remote, obj, changed, file_digest(target))
            return target
        if remote.relative_path not in record:
            raise DownloadError(f"{target} exists and is not the bucket's current object; it was not "
                                "downloaded by rosetta_stats, so it is left alone: move it away and retry")
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    with _PartLock(part):
        if part.is_symlink():
            raise DownloadError(f"{part} is a symbolic link; refusing to write through it (remove it and retry)")
        pace = _Pace(remote.name, deadline, min_rate)
        _transfer(obj, part, size, retries, backoff, timeout, progress, remote.name, pace)
        while size is None and etag_kind(etag) not in ("md5", "multipart") and not _complete_without_length(
                obj.url, part, timeout, remote.name):
            _transfer(obj, part, size, retries, backoff, timeout, progress, remote.name, pace)
        got = _part_size(part)
        if size is not None and got != size:
            if got > size:
                part.unlink()
                raise DownloadError(f"{remote.name}: the server sent {got} bytes where it announced {size}; "
                                    "the bytes were removed")
            raise DownloadError(f"{remote.name}: truncated download: got {got} of {size} bytes after "
                                f"{retries + 1} attempts; the partial file is kept to resume")
        if etag_kind(etag) not in ("md5", "multipart"):
            warnings.warn(f"{remote.name}: the server's ETag ({etag or 'none'}) is no content hash; the size was "
                          "checked and the sha256 recorded", UnverifiableETagWarning, stacklevel=2)
        else:
            try:
                verify_etag(part, etag, label=remote.name)
            except ETagMismatchError as exc:
                part.unlink()
                raise ETagMismatchError(f"{exc} (the bucket's ETag; bad bytes removed)") from None
        sha256 = file_digest(part)
        os.replace(part, target)
    _record(dest, remote, obj, changed, sha256)
    return target


def _transfer(obj: RemoteObject, part: Path, size: int | None, retries: int, backoff: float,
              timeout: float, progress: bool, label: str, pace: _Pace) -> None:
    """Fill ``part`` from the object, resuming and retrying; leaves whatever arrived."""
    done = _part_size(part)
    if size is not None and done > size:
        with open_for_append(part) as fh:
            fh.truncate(0)
        done = 0
    with tqdm(total=size, initial=done, unit="B", unit_scale=True, desc=label,
              disable=not progress, leave=False) as bar:
        for attempt in range(retries + 1):
            try:
                _fetch_into(obj.url, part, size, timeout, bar, pace)
            except urllib.error.HTTPError as exc:
                if exc.code == 416 and size is not None and _part_size(part) >= size:
                    return
                if exc.code not in RETRY_STATUSES:
                    raise DownloadError(f"{label}: HTTP {exc.code} from {obj.url}") from exc
            except _TRANSIENT:
                pass
            got = _part_size(part)
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
