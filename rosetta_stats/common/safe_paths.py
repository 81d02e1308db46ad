"""Files opened without following links, and paths that provably stay inside their folder.

Every lock, temporary, ``.part`` and cache file the package creates is opened
here with ``O_NOFOLLOW`` (and ``O_EXCL`` when it must be new), and checked to
be a regular file on the opened descriptor: a symbolic link planted where one
of them goes is an error, never a target. Paths that come from a manifest are
resolved component by component: none may be a link, none may leave the
folder.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from .errors import RosettaError


class UnsafePathError(RosettaError):
    """A path the package would write or read is a link, a non-regular file, or outside its folder."""


def _refuse_link(path: Path, exc: OSError) -> None:
    if exc.errno == errno.ELOOP or (path.is_symlink()):
        raise UnsafePathError(f"{path} is a symbolic link; refusing to follow it (remove it and retry)") from None


def open_nofollow(path: str | os.PathLike, flags: int, mode: int = 0o666) -> int:
    """``os.open`` with O_NOFOLLOW and O_CLOEXEC; the descriptor must be a regular file."""
    path = Path(path)
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    except OSError as exc:
        _refuse_link(path, exc)
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafePathError(f"{path} is not a regular file; refusing to use it")
    return fd


def open_for_append(path: str | os.PathLike):
    """A binary append handle on ``path`` (created if missing), never through a link."""
    return os.fdopen(open_nofollow(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND), "ab")


def open_new(path: str | os.PathLike, binary: bool = True):
    """A write handle on a file that must not exist yet (O_EXCL): nothing existing is ever truncated."""
    fd = open_nofollow(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    return os.fdopen(fd, "wb" if binary else "w")


def open_for_reading(path: str | os.PathLike, binary: bool = True):
    """A read handle on a regular file, not through a link (a FIFO or device is refused, so reads end)."""
    fd = open_nofollow(path, os.O_RDONLY | os.O_NONBLOCK)
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
    return os.fdopen(fd, "rb" if binary else "r")


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike, blocking: bool = True) -> Iterator[int]:
    """Hold an flock on ``path`` (created if missing, never truncated, never through a link)."""
    path = Path(path)
    fd = open_nofollow(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        yield fd
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def inside(folder: str | os.PathLike, relative: str) -> Path:
    """``folder/relative`` after checking that no component below ``folder`` is a link and that the path
    stays inside ``folder`` (it need not exist yet)."""
    folder = Path(folder)
    pure = PurePosixPath(str(relative).replace("\\", "/"))
    if not str(relative) or pure.is_absolute() or any(part in ("..", "", ".") for part in pure.parts):
        raise UnsafePathError(f"{relative!r} is not a plain path inside {folder}")
    current = folder
    for part in pure.parts:
        current = current / part
        if current.is_symlink():
            raise UnsafePathError(f"{current} is a symbolic link; refusing to follow it out of {folder}")
    return current


def remove_listed_file(folder: str | os.PathLike, relative: str) -> bool:
    """Delete ``folder/relative`` if it is a regular file reached without links; True when deleted."""
    path = inside(folder, relative)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(mode):
        raise UnsafePathError(f"{path} is not a regular file; it is left alone")
    path.unlink()
    return True


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """The hex digest of a file, streamed, read without following a link."""
    digest = hashlib.new(algorithm)
    with open_for_reading(path) as handle:
        for block in iter(lambda: handle.read(8 * 1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs (one we may not signal counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
