"""Small filesystem primitives every writer shares: private files, fsync, atomic replace.

Private means mode 0600 (files) and 0700 (directories) on POSIX; on Windows, where modes are only the read-only
flag, a DACL for the user and SYSTEM alone (`winacl`). This module is the one place that difference lives.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import sys
import time
from pathlib import Path
from typing import BinaryIO

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600

# Windows refuses to rename a file, or a directory with a file inside, while another process holds it open
# without delete sharing: an antivirus scan, the search indexer, a sync client. They let go within moments, so a
# rename is tried again for about 5 s before cherryconf gives up.
_HELD_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.2, 1.2, 1.2)

# Set once, in `apply --all-users`' child process for one user (ops/allusers.py): the uid whose files it may read.
# That process lives for one user only; nothing else sets it.
_owner: int | None = None


def only_files_of(uid: int) -> None:
    """From now on, `open_regular` opens only files that `uid` owns (so a link a user planted to someone else's
    file is not read on that user's behalf)."""
    global _owner
    _owner = uid


def open_regular(path: Path, limit: int | None = None) -> BinaryIO:
    """`path` opened for reading, if it is a regular file of at most `limit` bytes; OSError otherwise.

    A FIFO would block the open and a device (a link to /dev/zero) would never end: the open does not wait
    (O_NONBLOCK, which changes nothing for a regular file) and what it opened is checked before it is read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if limit is not None and st.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
        if _owner is not None and st.st_uid != _owner:
            raise OSError(errno.EPERM, "not the user's own file", str(path))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


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


def real_path(path: Path) -> Path:
    """`path.resolve()`, or where the system cannot resolve it the absolute, normalised path: Windows under Wine
    fails past 260 characters (ERROR_MORE_DATA, which Python's lenient resolve does not expect)."""
    try:
        return path.resolve()
    except OSError:
        return Path(os.path.abspath(path))  # noqa: PTH100 (resolve is what failed)


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


def rename(src: Path, dst: Path) -> None:
    """Rename `src` to `dst`, replacing it; on Windows, waiting a bounded time while another process holds either.

    Gives up with a StoreError: a rename either happens whole or not at all, so nothing is lost either way.
    """
    for delay in (*_HELD_DELAYS, None):
        try:
            src.replace(dst)
            return
        except PermissionError as e:
            if sys.platform != "win32":
                raise
            if delay is None:
                from cherryconf.errors import StoreError
                from cherryconf.i18n import _

                raise StoreError(_("{path} is held open by another program (an antivirus scan, the search indexer "
                                   "or a sync client?), so cherryconf could not rename it; nothing was lost: run "
                                   "this again in a moment").format(path=e.filename or src)) from None
            time.sleep(delay)


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
        rename(Path(tmp), target)
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
