"""What an ETag says about the bytes, and checking the bytes against it.

S3 gives a single-part upload the MD5 of its bytes as ETag, and a multipart
upload the MD5 of the concatenated binary MD5s of its parts followed by
``-N``; the part size is not recorded, so the common sizes that give N parts
are tried. Other servers (mirrors) send ETags that are no content hash:
nginx's ``"<mtime hex>-<size hex>"``, or weak ones (``W/"..."``). Those are
"opaque": the bytes are then checked by their size and their sha256 is
recorded, so that the next run can recognise them.
"""
from __future__ import annotations

import hashlib
import math
import os
import re
import warnings
from pathlib import Path

from ..common.errors import RosettaError
from ..common.safe_paths import file_digest, open_for_reading  # noqa: F401 (file_digest re-exported)

MIB = 1024 * 1024
COMMON_PART_SIZES = tuple(m * MIB for m in (8, 16, 5, 15, 32, 50, 64, 100, 128, 256, 512, 1024))
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_MULTIPART = re.compile(r"^[0-9a-f]{32}-[0-9]+$")


class DownloadError(RosettaError):
    """A file could not be fetched (not found, truncated, refused)."""


class ETagMismatchError(DownloadError):
    """The bytes arrived but their ETag is not the registry's."""


class UnverifiableETagWarning(UserWarning):
    """No part size reproduces a multipart ETag's part count; the bytes were kept unverified."""


def etag_kind(etag: str | None) -> str:
    """"md5", "multipart", "opaque" (weak, nginx-style or any other non-hash) or "none"."""
    if not etag:
        return "none"
    text = etag.strip()
    if text.startswith("W/"):
        return "opaque"
    text = text.strip('"').lower()
    if _MD5.match(text):
        return "md5"
    if _MULTIPART.match(text):
        return "multipart"
    return "opaque"




def _md5_parts(path: Path, part_size: int) -> list[bytes]:
    digests = []
    with open_for_reading(path) as fh:
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
    return file_digest(path, "md5")


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
    kind = etag_kind(expected)
    if kind not in ("md5", "multipart"):
        return False  # no content hash: the caller checks the size and records the sha256
    expected = expected.strip('"').lower()
    if kind == "md5":
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


