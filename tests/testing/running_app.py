"""A running Cherry Studio, faked the way each platform shows it to cherryconf.

POSIX: Chromium's `SingletonLock` symlink naming a live process on this host (this one). Windows: Chromium keeps
`<userData>/lockfile` open without write sharing, and LevelDB its `LOCK` likewise; another process holds both here.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

# Opens each file with read sharing only (as Chromium does: share mode 1, FILE_SHARE_READ; 4, OPEN_ALWAYS), says
# so, then holds them until killed.
_HOLDER = """\
import _winapi, sys, time
for path in sys.argv[1:]:
    _winapi.CreateFile(path, _winapi.GENERIC_READ | _winapi.GENERIC_WRITE, 1, 0, 4, 0, 0)
print('ready', flush=True)
time.sleep(120)
"""


@contextlib.contextmanager
def app_running(data_dir: Path) -> Iterator[None]:
    if sys.platform != "win32":
        link = data_dir / "SingletonLock"
        link.symlink_to(f"{socket.gethostname()}-{os.getpid()}")
        try:
            yield
        finally:
            link.unlink()
        return
    held = [data_dir / "lockfile"]
    leveldb_lock = data_dir / "Local Storage" / "leveldb" / "LOCK"
    if leveldb_lock.parent.is_dir():
        held.append(leveldb_lock)
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, *map(str, held)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield
    finally:
        proc.kill()
        proc.wait(timeout=30)
