"""Small filesystem primitives every writer shares: private files, fsync, atomic replace.

Private means mode 0600 (files) and 0700 (directories) on POSIX; on Windows, where modes are only the read-only
flag, a DACL for the user and SYSTEM alone (`winacl`). This module is the one place that difference lives.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def _restrict(fd: int, path: Path | str, mode: int) -> None:
    """Give the open file `fd` (at `path`) `mode`; on Windows, a private DACL when the mode is private."""
    if sys.platform == "win32":
        if not mode & 0o077:
            from cherryconf import winacl

            winacl.make_private(Path(path))
    else:
        os.fchmod(fd, mode)


def create_private(path: Path) -> None:
    """Create the empty file `path`, which must not exist yet, private from the start."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        _restrict(fd, path, PRIVATE_FILE)
    finally:
        os.close(fd)


def private_file(path: Path) -> None:
    """Make the existing file `path` private to the user (0600, or a private DACL on Windows)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        _restrict(fd, path, PRIVATE_FILE)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Flush `path`'s content to disk (opened for writing: Windows refuses to flush a read-only handle)."""
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in `path` durable (a no-op where directories cannot be opened)."""
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) and make the leaf 0700; returns it."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    if sys.platform == "win32":
        from cherryconf import winacl

        winacl.make_private(path, directory=True)
    else:
        path.chmod(PRIVATE_DIR)
    return path


def atomic_write(target: Path, data: bytes, mode: int = PRIVATE_FILE) -> None:
    """Write `data` to a temporary file beside `target`, fsync it, then rename it over `target`."""
    import tempfile  # (and the random module it loads) only for a command that writes

    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            _restrict(f.fileno(), tmp, mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        Path(tmp).replace(target)
        fsync_dir(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp).unlink()


def copy_file(src: Path, dst: Path, mode: int = PRIVATE_FILE) -> None:
    """Copy bytes (not metadata), give the copy `mode`, and fsync it."""
    with src.open("rb") as fin, dst.open("xb") as fout:
        _restrict(fout.fileno(), dst, mode)
        shutil.copyfileobj(fin, fout, 1024 * 1024)
        fout.flush()
        os.fsync(fout.fileno())
