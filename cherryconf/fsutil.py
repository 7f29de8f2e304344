"""Small filesystem primitives every writer shares: private files, fsync, atomic replace."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def _chmod(fd: int, mode: int) -> None:
    if hasattr(os, "fchmod"):  # POSIX only; Windows files are private to the user's profile already
        os.fchmod(fd, mode)


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
    path.chmod(PRIVATE_DIR)
    return path


def atomic_write(target: Path, data: bytes, mode: int = PRIVATE_FILE) -> None:
    """Write `data` to a temporary file beside `target`, fsync it, then rename it over `target`."""
    import tempfile  # (and the random module it loads) only for a command that writes

    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            _chmod(f.fileno(), mode)
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
        _chmod(fout.fileno(), mode)
        shutil.copyfileobj(fin, fout, 1024 * 1024)
        fout.flush()
        os.fsync(fout.fileno())
