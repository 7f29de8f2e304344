"""One cherryconf at a time per install: a lock of cherryconf's own, held from planning to read-back.

Two runs that plan against the same state and write one after the other lose the first one's write (and a
failed check that then puts its backup back would wipe the other's). So every run that writes an install holds
`<CHERRYCONF_HOME>/locks/<install key>.lock` from before it reads the store for its plan until it has read the
write back; another run waits for it (CHERRYCONF_LOCK_WAIT seconds, default 30), then plans on what it finds.
The kernel releases the lock when its process ends, so a killed run never leaves it held.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from cherryconf.errors import BadInput, Busy, StoreError
from cherryconf.fsutil import private_dir
from cherryconf.i18n import _

if TYPE_CHECKING:
    from cherryconf.paths import Context
    from cherryconf.stores.install import Install

__all__ = ["hold", "try_hold"]

DEFAULT_WAIT_S = 30.0
_POLL_S = 0.05
# Lock file -> (its descriptor, how many hold() calls of this process are inside it): a lock is taken once per
# process, so that a nested hold() (apply.write inside the command's own) neither blocks nor releases it early.
_held: dict[Path, list[int]] = {}


def _path(ctx: Context, install: Install) -> Path:
    return ctx.cherryconf_home / "locks" / f"{install.key}.lock"


def _wait(ctx: Context) -> float:
    text = ctx.env.get("CHERRYCONF_LOCK_WAIT", "")
    if not text:
        return DEFAULT_WAIT_S
    try:
        wait = float(text)
    except ValueError:
        wait = -1.0
    if not 0 <= wait <= 86400:
        raise BadInput(_("CHERRYCONF_LOCK_WAIT must be a number of seconds from 0 to 86400, not {text!r}").format(
                           text=text))
    return wait


def _try_lock(path: Path) -> int | None:
    """An open descriptor holding the lock, or None while another process holds it."""
    try:
        private_dir(path.parent)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise StoreError(_("cannot open cherryconf's lock file {path} ({strerror})").format(
                             path=path, strerror=e.strerror)) from None
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    # Who holds it, for the message another run shows while it waits in vain.
    with contextlib.suppress(OSError):  # only informative: a full disk must not stop the run
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
    return fd


def _holder(path: Path) -> str:
    try:
        pid = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return " " + _("(process {pid})").format(pid=pid) if pid.isdigit() else ""


@contextlib.contextmanager
def _keep(path: Path, fd: int) -> Iterator[None]:
    _held[path] = [fd, 1]
    try:
        yield
    finally:
        del _held[path]
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def _nested(path: Path) -> Iterator[None]:
    _held[path][1] += 1
    try:
        yield
    finally:
        _held[path][1] -= 1


@contextlib.contextmanager
def hold(ctx: Context, install: Install) -> Iterator[None]:
    """Hold the install's lock, waiting for another cherryconf that holds it; Busy if it is not let go in time."""
    path = _path(ctx, install)
    if path in _held:
        with _nested(path):
            yield
        return
    deadline = time.monotonic() + _wait(ctx)
    while (fd := _try_lock(path)) is None:
        if time.monotonic() >= deadline:
            raise Busy(_("another cherryconf{holder} is writing to {data_dir}; wait for it to finish, then run this "
                         "again").format(holder=_holder(path), data_dir=install.data_dir))
        time.sleep(_POLL_S)
    with _keep(path, fd):
        yield


@contextlib.contextmanager
def try_hold(ctx: Context, install: Install) -> Iterator[bool]:
    """Hold the install's lock if nobody else does, without waiting; yields whether it is held."""
    path = _path(ctx, install)
    if path in _held:
        with _nested(path):
            yield True
        return
    fd = _try_lock(path)
    if fd is None:
        yield False
        return
    with _keep(path, fd):
        yield True
