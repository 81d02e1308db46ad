"""Write files and folders under a temporary name, then rename them into place.

An interrupted run therefore never leaves a file or folder that looks complete.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it to ``target`` on success.

    On an exception the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_directory(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; it replaces ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            old.rmdir()
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_csv_atomic(frame, path: str | os.PathLike, **kwargs) -> Path:
    """Write a DataFrame as CSV (gzip if the name ends in .gz) via a temporary name."""
    path = Path(path)
    compression = "gzip" if path.suffix == ".gz" else None
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, compression=compression, **kwargs)
    return path


def write_text_atomic(text: str, path: str | os.PathLike) -> Path:
    """Write text via a temporary name."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path
