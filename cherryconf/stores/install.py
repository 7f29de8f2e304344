"""What a Cherry Studio install is: its userData directory, store kind, app version, and whether it runs."""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cherryconf.domain.endpoints import AppVersion, parse_version
from cherryconf.errors import AppRunning, BadInput, StoreError
from cherryconf.fsutil import open_regular, real_path
from cherryconf.i18n import _
from cherryconf.paths import Context
from cherryconf.stores.swap import NEW_SUFFIX, OLD_SUFFIX

__all__ = [
    "Install",
    "StoreKind",
    "ensure_not_running",
    "find_installs",
    "inspect",
    "resolve",
    "running_reason",
]

StoreKind = Literal["v1", "v2"]

_LEVELDB = Path("Local Storage") / "leveldb"
_SQLITE = Path("Data") / "cherrystudio.sqlite"
_SWAP_SUFFIXES = (NEW_SUFFIX, OLD_SUFFIX)

# version.log (1.7+, both lines) gets one line per launch whose version or build changed, oldest first:
# "<version>|<win|mac|linux|unknown>|<prod|dev>|<packaged|unpackaged>|<install|portable>|<ISO time>".
_VERSION_LINE = re.compile(
    r"(?P<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)"
    r"\|(?:win|mac|linux|unknown)\|(?:prod|dev)\|(?:packaged|unpackaged)\|(?:install|portable)\|\S+"
)
_VERSION_LOG_TAIL = 64 * 1024  # the file grows by ~70 bytes per upgrade; the newest line is at the end

# SingletonLock is written at start-up; a process that started later than that cannot be its owner
# (the pid was reused after a crash). Allow for the coarse start times some systems report.
_START_TIME_SLACK = 2.0


@dataclass(frozen=True)
class Install:
    data_dir: Path
    kind: StoreKind
    app_version: str | None
    found_by: str

    @property
    def version(self) -> AppVersion | None:
        """The app version, parsed: what decides the URLs the app builds and the form of a profile (None: unknown)."""
        return parse_version(self.app_version)

    @property
    def line(self) -> AppVersion | None:
        """The version to load a profile for: a 2.x store whose version.log says nothing is still the 2.x line,
        which has no web_search capability."""
        return self.version or ((2, 0, 0) if self.kind == "v2" else None)

    @property
    def leveldb_dir(self) -> Path:
        return self.data_dir / _LEVELDB

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / _SQLITE

    @property
    def key(self) -> str:
        """Stable, filesystem-safe id of this install, used to group its backups."""
        resolved = os.path.normcase(str(real_path(self.data_dir)))
        digest = hashlib.sha256(resolved.encode("utf-8")).hexdigest()[:8]
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(resolved).name).strip("._") or "install"
        return f"{name}-{digest}"


def inspect(data_dir: Path, found_by: str) -> Install:
    """Describe the install in data_dir; StoreError if it holds no Cherry Studio store."""
    data_dir = data_dir.absolute()
    if not data_dir.is_dir():
        raise StoreError((_("{data_dir} ({found_by}) is not a directory.") if data_dir.exists()
                          else _("{data_dir} ({found_by}) does not exist.")).format(data_dir=data_dir,
                                                                                      found_by=found_by))
    kind = _store_kind(data_dir)
    if kind is None:
        raise StoreError(
            _("{data_dir} ({found_by}) holds no Cherry Studio data (no {leveldb}, no {sqlite}).").format(
                data_dir=data_dir, found_by=found_by, leveldb=_LEVELDB.as_posix(), sqlite=_SQLITE.as_posix())
        )
    return Install(data_dir=data_dir, kind=kind, app_version=_app_version(data_dir), found_by=found_by)


def find_installs(ctx: Context) -> list[Install]:
    """Every install that exists, deduplicated by resolved path, in the order the app itself prefers them."""
    installs: list[Install] = []
    seen: set[str] = set()
    for data_dir, why in _candidates(ctx):
        if not data_dir.is_dir() or _store_kind(data_dir) is None:
            continue
        identity = os.path.normcase(str(real_path(data_dir)))
        if identity not in seen:
            seen.add(identity)
            installs.append(inspect(data_dir, why))
    return installs


def resolve(ctx: Context, data_dir: Path | None) -> Install:
    """The install to work on: --data-dir, then CHERRYCONF_DATA_DIR, then the only install found."""
    if data_dir is not None:
        return inspect(data_dir, "--data-dir")
    from_env = ctx.env.get("CHERRYCONF_DATA_DIR", "")
    if from_env:
        return inspect(Path(from_env), "CHERRYCONF_DATA_DIR")
    installs = find_installs(ctx)
    if len(installs) == 1:
        return installs[0]
    if installs:
        listed = "; ".join(f"{i.data_dir} ({i.found_by})" for i in installs)
        raise BadInput(_("Found {n} Cherry Studio installs ({listed}): choose one with --data-dir.").format(
                           n=len(installs), listed=listed))
    looked = ", ".join(str(path) for path, _how in _candidates(ctx))
    skipped = "".join(_("; {problem}, skipped").format(problem=p) for p in ctx.custom_dir_problems())
    raise StoreError(_("No Cherry Studio data found (looked in {looked}{skipped}): name it with --data-dir.").format(
                         looked=looked, skipped=skipped))


def running_reason(install: Install) -> str | None:
    """Why we think Cherry Studio is running on this install, or None.

    Call it before cherryconf takes the LevelDB LOCK itself: POSIX record locks belong to the process, so
    closing our probe's descriptor would also drop a lock this process already holds on that file.
    """
    return _leveldb_lock_reason(install) or _singleton_reason(install) or _process_reason(install)


def ensure_not_running(install: Install) -> None:
    """Refuse (AppRunning) to go on while Cherry Studio runs: it would overwrite or undo our write."""
    reason = running_reason(install)
    if reason is not None:
        raise AppRunning(
            _("Cherry Studio is running ({reason}): quit it, including from the tray icon, then run this "
              "again.").format(reason=reason)
        )


def _candidates(ctx: Context) -> list[tuple[Path, str]]:
    # Custom directories first: the app uses one instead of the default whenever it is configured.
    return ctx.custom_user_data_dirs() + ctx.default_user_data_dirs()


def _store_kind(data_dir: Path) -> StoreKind | None:
    # A 2.x database wins: after migration the 1.x localStorage stays behind but is no longer read.
    if (data_dir / _SQLITE).is_file():
        return "v2"
    if (data_dir / _LEVELDB).is_dir():
        return "v1"
    # A restore killed between its two renames leaves only the moved-aside and the new directory; the install
    # must still be found so that the next run can finish the swap (swap.recover).
    if any((data_dir / _LEVELDB.parent / f"{_LEVELDB.name}{suffix}").is_dir() for suffix in _SWAP_SUFFIXES):
        return "v1"
    return None


def _app_version(data_dir: Path) -> str | None:
    """The version of the app's newest launch on this data, from version.log (absent before 1.7)."""
    try:
        with open_regular(data_dir / "version.log") as log:
            size = log.seek(0, os.SEEK_END)
            log.seek(max(0, size - _VERSION_LOG_TAIL))
            tail = log.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    for line in reversed(tail.splitlines()):
        match = _VERSION_LINE.fullmatch(line.strip())
        if match:
            return match["version"]
    return None


def _leveldb_lock_reason(install: Install) -> str | None:
    from cherryconf.stores.v1.leveldb import lock_is_held

    try:
        held = lock_is_held(install.leveldb_dir)
    except StoreError:
        return None  # a LOCK we may not even open says nothing about the app; writing will refuse on its own
    return _("{leveldb}/LOCK is held").format(leveldb=_LEVELDB.as_posix()) if held else None


def _singleton_reason(install: Install) -> str | None:
    if sys.platform == "win32":
        # Chromium keeps <userData>/lockfile open without write sharing (and deletes it on close).
        try:
            fd = os.open(install.data_dir / "lockfile", os.O_RDWR)
        except PermissionError:
            return _("its lockfile is open in another process")
        except OSError:
            return None
        os.close(fd)
        return None
    link = install.data_dir / "SingletonLock"
    try:
        target = str(link.readlink())
        written = link.lstat().st_mtime
    except OSError:
        return None
    import socket  # only for a command that writes: reading providers does not check for the app

    host, _sep, pid_text = target.rpartition("-")
    if not host or not pid_text.isdigit() or host != socket.gethostname():
        return None
    pid = int(pid_text)
    import psutil  # only for a command that writes (or checks the app is closed): psutil is slow to import

    try:
        started = psutil.Process(pid).create_time()
    except psutil.Error:
        return None
    if started > written + _START_TIME_SLACK:
        return None
    return _("SingletonLock names process {pid}, which is alive").format(pid=pid)


def _is_cherry_executable(name: str) -> bool:
    # "Cherry Studio(.exe)", "CherryStudio", "Cherry Studio CN", "Cherry Studio Helper (Renderer)",
    # "cherry-studio-portable.exe"; development builds run as "electron" and are not recognised.
    return re.sub(r"[\s_-]+", "", name.lower()).startswith("cherrystudio")


def _process_reason(install: Install) -> str | None:
    data_dir = os.path.normcase(str(real_path(install.data_dir)))
    for pid, name in _processes():
        if pid == os.getpid() or not _is_cherry_executable(name):
            continue
        cmdline = _cmdline(pid)
        if len(name) == _COMM_LEN and cmdline and Path(cmdline[0]).name.startswith(name):
            name = Path(cmdline[0]).name  # the kernel's name cut short, as psutil completes it
        if _uses_data_dir(pid, cmdline, data_dir):
            return _("process {pid} ({name}) uses this data directory").format(pid=pid, name=name)
    return None


_PROC = Path("/proc")
_COMM_LEN = 15  # Linux keeps a process's name to 15 bytes (TASK_COMM_LEN - 1)


def _processes() -> Iterator[tuple[int, str]]:
    """(pid, name) of every process in sight.

    On Linux from /proc itself: importing psutil costs an apply ~30 ms, more than the scan, and it is needed only
    when a process has Cherry Studio's name. A name cut to 15 bytes still shows whether it starts like the app's.
    """
    if sys.platform.startswith("linux") and _PROC.is_dir():
        for entry in _PROC.iterdir():
            if entry.name.isdigit():
                try:
                    yield int(entry.name), os.fsdecode((entry / "comm").read_bytes().rstrip(b"\n"))
                except OSError:
                    continue  # gone meanwhile, or not ours to read
        return
    import psutil

    for proc in psutil.process_iter(["name"]):
        yield proc.pid, proc.info["name"] or ""


def _cmdline(pid: int) -> list[str]:
    if sys.platform.startswith("linux") and _PROC.is_dir():
        try:
            return [os.fsdecode(arg) for arg in (_PROC / str(pid) / "cmdline").read_bytes().split(b"\0") if arg]
        except OSError:
            return []
    import psutil

    try:
        return psutil.Process(pid).cmdline()
    except psutil.Error:
        return []


def _uses_data_dir(pid: int, cmdline: list[str], data_dir: str) -> bool:
    import psutil

    for arg in cmdline:
        if arg.startswith("--user-data-dir="):
            return _within(arg.partition("=")[2], data_dir)
    # Without the switch, the process must have a file of this directory open (the LevelDB log, the database).
    try:
        return any(_within(f.path, data_dir) for f in psutil.Process(pid).open_files())
    except psutil.Error:
        return False


def _within(path: str, data_dir: str) -> bool:
    try:
        candidate = os.path.normcase(str(real_path(Path(path))))
    except (OSError, RuntimeError):
        return False
    return candidate == data_dir or candidate.startswith(data_dir.rstrip(os.sep) + os.sep)
