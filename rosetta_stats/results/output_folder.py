"""Where results go: staged beside the target, moved in at the end, never over a file we did not write.

The rules (one place, used by every command and by ``write_results``):

* the target is a new folder, an empty folder, or a folder rosetta_stats
  wrote before (its ``manifest.json`` says so); a file, or a folder of
  someone else's files, is refused with a message saying why;
* a folder that already holds results (of this kind or another) is written
  only with ``overwrite=True``, which replaces or removes only the files the
  old manifest lists, each reached inside the folder without a link on the
  way; nothing else is ever touched;
* the whole folder is assembled in a staging folder beside the target and
  moved in at the end (one rename for a new folder; file by file, manifest
  last, under a lock, for an existing one), so an error, a kill or a full
  disk never leaves a folder that looks complete; the next run clears the
  staging folders that killed runs left behind;
* files and folders get the permissions the umask allows, as any other
  program's would;
* every name written is a plain relative path inside the folder.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from ..common.atomic_files import apply_umask, atomic_path
from ..common.errors import RosettaError
from ..common.safe_paths import UnsafePathError, exclusive_lock, inside, process_alive, remove_listed_file
from .manifest import MANIFEST, ManifestError, load as load_manifest

STAGING_MARK = ".rosetta-staging-"


class OutputError(RosettaError):
    """The output location cannot be written without losing or mixing someone's files."""


def safe_relative(name: str) -> str:
    """``name`` as a relative path that stays inside its folder, or an error naming it."""
    text = str(name)
    pure = PurePosixPath(text.replace("\\", "/"))
    if not text or pure.is_absolute() or any(part in ("..", "") for part in pure.parts) or text.startswith("~"):
        raise OutputError(f"{name!r} is not a plain file name inside the results folder")
    return str(pure)


def read_manifest(folder: Path) -> dict | None:
    """The folder's manifest if rosetta_stats wrote it, None if there is none; an error if it is anything else."""
    path = folder / MANIFEST
    if not path.exists() and not path.is_symlink():
        return None
    try:
        return load_manifest(folder)
    except ManifestError as exc:
        raise OutputError(f"{exc}; the folder is left alone: choose another output folder") from None


def check_target(target: Path, names: list[str], overwrite: bool) -> dict | None:
    """Refuse targets we may not write; return the old manifest when the folder is ours."""
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target} is a file; --out must name a folder (new, empty, or written by rosetta_stats)")
    if not target.exists():
        parent = target.parent
        if parent.exists() and not parent.is_dir():
            raise OutputError(f"{parent} is a file, so {target} cannot be created inside it")
        return None
    old = read_manifest(target)
    present = {str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()}
    present = {p for p in present if STAGING_MARK not in p}
    if old is None:
        if present:
            shown = ", ".join(sorted(present)[:3]) + (" ..." if len(present) > 3 else "")
            raise OutputError(f"{target} already holds files rosetta_stats did not write ({shown}); "
                              "choose a new or empty folder")
        return None
    ours = set(old.get("files", {})) | {MANIFEST}
    foreign = sorted(set(names) & (present - ours))
    if foreign:
        raise OutputError(f"{target} holds {', '.join(foreign[:3])}, which rosetta_stats did not write; "
                          "it is left alone: choose another folder or move it away")
    listed = sorted(set(old.get("files", {})) - {MANIFEST})
    if listed and not overwrite:
        kind = old.get("kind") or sorted(old.get("tables", {}))
        shown = ", ".join(map(str, kind[:3])) if kind else ", ".join(listed[:3])
        raise OutputError(f"{target} already holds results ({shown}{' ...' if len(kind or listed) > 3 else ''}); "
                          "pass overwrite=True to replace them (only the files its manifest lists)")
    return old


def check_output(target: str | os.PathLike, planned=(), overwrite: bool = False) -> None:
    """Refuse an output folder before the work starts (the same rules as when the results are moved in)."""
    target = Path(target).absolute()
    check_target(target, [safe_relative(n) for n in planned], overwrite)


    return True


def clear_stale_staging(parent: Path, name: str) -> None:
    """Remove staging folders of ``name`` that runs killed before finishing left in ``parent``."""
    if not parent.is_dir():
        return
    for leftover in parent.glob(f".{name}{STAGING_MARK}*"):
        try:
            pid = int(leftover.name.rsplit("-", 2)[-2])
        except (ValueError, IndexError):
            continue
        if not process_alive(pid):
            shutil.rmtree(leftover, ignore_errors=True)


@contextlib.contextmanager
def _lock(parent: Path, name: str) -> Iterator[None]:
    path = parent / f".{name}.rosetta-lock"
    try:
        with exclusive_lock(path):
            yield
    except UnsafePathError as exc:
        raise OutputError(str(exc)) from None
    with contextlib.suppress(OSError):
        if not path.is_symlink():
            path.unlink()


@contextlib.contextmanager
def staged_folder(target: str | os.PathLike, overwrite: bool = False, planned: list[str] | None = None
                  ) -> Iterator[Path]:
    """Yield a staging folder; on success its files become ``target``'s under the rules above.

    ``planned`` (file names the run will write) lets the target be checked
    before any work is done; the staged names are checked again at the end.
    """
    target = Path(target).absolute()
    name = target.name
    if not name or name in (".", ".."):
        raise OutputError(f"{target}: name a folder for the results")
    check_target(target, [safe_relative(n) for n in planned or []], overwrite)
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputError(f"{parent} is not a folder, so {target} cannot be created") from None
    except PermissionError:
        raise OutputError(f"cannot create {parent}: permission denied") from None
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write in {parent}: permission denied")
    clear_stale_staging(parent, name)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}{STAGING_MARK}{os.getpid()}-", dir=parent))
    try:
        yield staging
        _move_in(staging, target, overwrite)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _move_in(staging: Path, target: Path, overwrite: bool) -> None:
    names = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
    for n in names:
        safe_relative(n)
    apply_umask(staging)
    with _lock(target.parent, target.name):
        old = check_target(target, names, overwrite)
        if not target.exists():
            os.rename(staging, target)
            return
        try:
            destinations = {n: inside(target, n) for n in names}  # no link on the way, nothing outside
            stale = sorted(set((old or {}).get("files", {})) - set(names))
            for n in stale:
                inside(target, n)
        except UnsafePathError as exc:
            raise OutputError(f"{exc}; nothing was changed") from None
        manifest_last = sorted(names, key=lambda n: n == MANIFEST)
        for n in manifest_last:
            destination = destinations[n]
            destination.parent.mkdir(parents=True, exist_ok=True)
            inside(target, n)  # the folders just made are ours; check again that none became a link
            if destination.exists() and not destination.is_file():
                raise OutputError(f"{destination} is not a regular file; it is left alone")
            os.replace(staging / n, destination)
        for n in stale:
            with contextlib.suppress(UnsafePathError):  # a listed file someone replaced by a link stays
                remove_listed_file(target, n)


def write_file_output(frame_writer, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write one output file (a CSV the user named) via a temporary name; never over a file without ``overwrite``."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a folder; name a file")
    if path.exists() and not overwrite:
        raise OutputError(f"{path} exists; pass overwrite=True to replace it")
    if path.parent.exists() and not path.parent.is_dir():
        raise OutputError(f"{path.parent} is a file, so {path} cannot be created inside it")
    with atomic_path(path) as tmp:
        frame_writer(tmp)
    return path
