"""Verified, resumable downloads of the Rosetta files over plain HTTPS.

No credentials and no AWS client are needed: the objects are public. Bytes
go to ``<file>.part``; an interrupted transfer resumes from there with an
HTTP Range request (retried with backoff when the connection drops); the
finished file is checked against the registry's size and ETag and only then
renamed to its final name. A file whose bytes do not match is deleted.

ETags: a single-part upload's ETag is the MD5 of the bytes; a multipart
upload's is the MD5 of the concatenated binary MD5s of its parts, followed
by ``-N``. The part size is not recorded, so the common sizes that give N
parts are tried.
"""
from __future__ import annotations

import hashlib
import http.client
import math
import os
import socket
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterable
from pathlib import Path

from tqdm.auto import tqdm

from .registry import BUCKET_URL, PREFIXES, RemoteFile, get_dataset

MIB = 1024 * 1024
COMMON_PART_SIZES = tuple(m * MIB for m in (8, 16, 5, 15, 32, 50, 64, 100, 128, 256, 512, 1024))
_TRANSIENT = (urllib.error.URLError, ConnectionError, http.client.HTTPException, socket.timeout, TimeoutError)


class DownloadError(ValueError):
    """A file could not be fetched (not found, truncated, refused)."""


class ETagMismatchError(DownloadError):
    """The bytes arrived but their ETag is not the registry's."""


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


def candidate_part_sizes(size: int, n_parts: int) -> list[int]:
    """Common multipart part sizes that split ``size`` bytes into exactly ``n_parts``."""
    found = [p for p in COMMON_PART_SIZES if math.ceil(size / p) == n_parts]
    if n_parts > 1:  # a size rounded up to whole MiB, as some clients choose
        guess = math.ceil(math.ceil(size / n_parts) / MIB) * MIB
        if math.ceil(size / guess) == n_parts and guess not in found:
            found.append(guess)
    return found


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


def _urls(remote: RemoteFile, base_url: str, prefixes: Iterable[str]) -> list[str]:
    return [f"{base_url.rstrip('/')}/{remote.key(p)}" for p in prefixes]


def _fetch_into(url: str, part: Path, expected_size: int, timeout: float, bar) -> None:
    """Append the rest of ``url`` to ``part`` (Range from its current size)."""
    start = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={start}-"} if start else {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if start and response.status != 206:  # server ignored the range: start over
            start = 0
            part.unlink(missing_ok=True)
            bar.reset(total=expected_size)
        with open(part, "ab") as fh:
            while True:
                block = response.read(MIB)
                if not block:
                    break
                fh.write(block)
                bar.update(len(block))


def download_file(
    remote: RemoteFile,
    dest: str | os.PathLike = ".",
    base_url: str = BUCKET_URL,
    prefixes: Iterable[str] = PREFIXES,
    retries: int = 5,
    backoff: float = 1.0,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Download one file below ``dest`` (in the bucket's folder layout) and verify it.

    Returns the final path. An already-present file of the right size and
    ETag is not fetched again.
    """
    target = Path(dest) / remote.relative_path
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and target.stat().st_size == remote.size:
        try:
            verify_etag(target, remote.etag)
            return target
        except ETagMismatchError:
            target.unlink()
    part = target.with_name(target.name + ".part")
    urls = _urls(remote, base_url, list(prefixes))
    url = _first_reachable(urls, remote, timeout)
    done = part.stat().st_size if part.exists() else 0
    if done > remote.size:
        part.unlink()
        done = 0
    with tqdm(total=remote.size, initial=done, unit="B", unit_scale=True, desc=remote.name,
              disable=not progress, leave=False) as bar:
        for attempt in range(retries + 1):
            try:
                _fetch_into(url, part, remote.size, timeout, bar)
            except urllib.error.HTTPError as exc:
                if exc.code == 416 and part.exists() and part.stat().st_size >= remote.size:
                    break
                raise DownloadError(f"{remote.name}: HTTP {exc.code} from {url}") from exc
            except _TRANSIENT:
                pass
            got = part.stat().st_size if part.exists() else 0
            if got >= remote.size:
                break
            if attempt < retries:
                time.sleep(backoff * 2**attempt)
        got = part.stat().st_size if part.exists() else 0
    if got != remote.size:
        if got > remote.size:
            part.unlink()
        raise DownloadError(
            f"{remote.name}: truncated download: got {got} of {remote.size} bytes after "
            f"{retries + 1} attempts" + ("; the partial file is kept to resume" if got < remote.size else "")
        )
    try:
        verify_etag(part, remote.etag, label=remote.name)
    except ETagMismatchError as exc:
        part.unlink()
        raise ETagMismatchError(f"{exc} (bad bytes deleted)") from None
    os.replace(part, target)
    return target


def _first_reachable(urls: list[str], remote: RemoteFile, timeout: float) -> str:
    """The first URL that answers a HEAD request; a clear error naming all when none does."""
    failures = []
    for url in urls:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
                return url
        except urllib.error.HTTPError as exc:
            failures.append(f"{url} (HTTP {exc.code})")
        except _TRANSIENT as exc:
            failures.append(f"{url} ({exc})")
    raise DownloadError(
        f"{remote.name}: not found (moved?); tried: " + ", ".join(failures)
    )


def download_dataset(
    dataset: str,
    files: Iterable[str] | None = None,
    dest: str | os.PathLike = ".",
    base_url: str = BUCKET_URL,
    progress: bool = True,
    **options,
) -> list[Path]:
    """Download some (by short name) or all files of a dataset; returns their paths."""
    ds = get_dataset(dataset)
    chosen = [ds.file(f) for f in files] if files else list(ds.files)
    return [download_file(f, dest, base_url=base_url, progress=progress, **options)
            for f in tqdm(chosen, desc=ds.short, unit="file", disable=not progress or len(chosen) < 2)]
