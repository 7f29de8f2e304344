"""Read a closed LevelDB directory, and append one WriteBatch to its log the way LevelDB itself does (the bytes
of its files are leveldb_files.py's).

Pure Python over cramjam (snappy) and google_crc32c, covering what Chromium's localStorage uses: the
bytewise comparator, uncompressed or snappy tables, LevelDB 1.x logs and MANIFEST. Where LevelDB silently
drops bytes (the incomplete tail a dying writer leaves, zero-filled regions) we drop the same bytes, so we
see what the app will see; any other damage raises StoreError, because guessing what the app would
recover is how data gets lost.
"""

from __future__ import annotations

import bisect
import errno
import itertools
import os
import re
import struct
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cherryconf.errors import AppRunning, StoreError, WriteFailed
from cherryconf.fsutil import fsync_dir, real_path
from cherryconf.i18n import _
from cherryconf.stores.v1.leveldb_files import (
    _BLOCK,
    _MAX_SEQUENCE,
    _NUM_LEVELS,
    _Corrupt,
    _Entries,
    _frame,
    _LogReader,
    _read_batch,
    _read_manifest,
    _read_table,
    _Version,
    put_varint,
)

__all__ = ["LevelDB", "append_batch", "lock_is_held", "locked", "put_varint"]

_FILE_NAME = re.compile(r"(?:MANIFEST-(\d+)|(\d+)\.(log|ldb|sst|dbtmp))")

# What to do about a damaged store, said in every refusal of one: Chromium would discard it (the app starts empty).
_RESTORE = _("; `cherryconf restore` can put an earlier backup back")
_LOCK_RETRIES, _LOCK_RETRY_S = 10, 0.05
_RUNNING = _("Cherry Studio is running (its database is locked): quit it, including from the tray, and try again.")


# --- the database -------------------------------------------------------------------------------------


def _check_levels(path: Path, version: _Version) -> None:
    """Below level 0 the tables of a level hold disjoint key ranges: LevelDB finds a key by them."""
    for level in range(1, _NUM_LEVELS):
        files = sorted((f for f in version.files.values() if f.level == level), key=lambda f: f.smallest)
        if any(a.largest >= b.smallest for a, b in itertools.pairwise(files)):
            raise StoreError(_("The LevelDB database {path} is damaged (tables of level {level} "
                               "overlap){restore}.").format(
                                 path=path, level=level, restore=_RESTORE))


@dataclass(frozen=True)
class _Log:
    path: Path
    size: int
    clean_end: bool


def _read_file(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except FileNotFoundError as e:
        raise StoreError(_("The LevelDB file {file} is missing{restore}.").format(file=file, restore=_RESTORE)) from e
    except OSError as e:
        raise StoreError(_("Cannot read the LevelDB file {file}: "
                           "{strerror}.").format(file=file, strerror=e.strerror)) from e


def _damaged(file: Path, problem: _Corrupt) -> StoreError:
    return StoreError(_("The LevelDB file {file} is damaged or unsupported ({problem}){restore}.").format(
                          file=file, problem=problem, restore=_RESTORE))


def _replay_log(file: Path, entries: _Entries) -> tuple[_Log, int]:
    """Feed one log's WriteBatches into `entries`: the log as found, and the highest sequence in it.

    The log is read a block at a time and each record replayed as it completes, so a log holding several
    versions of a big value costs about two of them in memory (what `entries` keeps of the older through its
    views, and the newer), not the whole file besides.
    """
    size = 0
    max_sequence = 0
    reader = _LogReader()
    try:
        with file.open("rb") as f:

            def blocks() -> Iterator[bytes]:
                nonlocal size
                while block := f.read(_BLOCK):
                    size += len(block)
                    yield block

            for record in reader.records(blocks()):
                max_sequence = max(max_sequence, _read_batch(record, entries))
    except FileNotFoundError as e:
        raise StoreError(_("The LevelDB file {file} is missing{restore}.").format(file=file, restore=_RESTORE)) from e
    except OSError as e:
        raise StoreError(_("Cannot read the LevelDB file {file}: "
                           "{strerror}.").format(file=file, strerror=e.strerror)) from e
    except _Corrupt as e:
        raise _damaged(file, e) from e
    return _Log(file, size, reader.clean), max_sequence


class LevelDB:
    """A read-only snapshot of a closed LevelDB directory: what LevelDB would show right after opening it."""

    def __init__(self, live: dict[bytes, bytes], max_sequence: int, logs: list[_Log], new_log: Path) -> None:
        self._live = live
        self._keys = sorted(live)
        self.max_sequence = max_sequence
        self._logs = logs  # live logs, oldest first
        self._new_log = new_log  # the name a new log must take if there is none to append to

    @classmethod
    def open(cls, path: Path) -> LevelDB:
        """What the database at `path` holds.

        A snapshot is reused while the files' names, sizes, times and inodes are still those it was read from
        (LevelDB only appends to files or adds new ones, so any write changes them), and until our own
        append_batch(): a write then reads a big store once, not once per step (the plan, the check under the
        lock, the backup's manifest, the encoding, the append).
        """
        lock = _lock_file(path)
        files = _fingerprint(path)
        cached = _snapshots.get(lock)
        if cached is not None and files is not None and cached[0] == files:
            return cached[1]
        db = cls._read(path)
        if files is not None and _fingerprint(path) == files:
            _snapshots[lock] = (files, db)
        return db

    @classmethod
    def _read(cls, path: Path) -> LevelDB:
        current_file = path / "CURRENT"
        if not current_file.is_file():
            raise StoreError(_("{path} is not a LevelDB database: it has no CURRENT file{restore}.").format(
                                 path=path, restore=_RESTORE))
        current = _read_file(current_file)
        if not re.fullmatch(rb"MANIFEST-\d+\n", current):
            raise StoreError(_("The LevelDB file {current_file} is damaged (it names no MANIFEST){restore}.").format(
                                 current_file=current_file, restore=_RESTORE))
        manifest = path / current[:-1].decode("ascii")
        try:
            version = _read_manifest(_read_file(manifest))
        except _Corrupt as e:
            raise _damaged(manifest, e) from e

        try:
            names = [child.name for child in path.iterdir()]
        except OSError as e:
            raise StoreError(_("Cannot list the LevelDB directory {path}: {strerror}.").format(
                                 path=path, strerror=e.strerror)) from e
        tables: dict[int, str] = {}
        log_numbers: list[int] = []
        highest = 0
        for name in names:
            match = _FILE_NAME.fullmatch(name)
            if not match:
                continue
            number = int(match[1] or match[2])
            highest = max(highest, number)
            if match[3] in ("ldb", "sst"):
                tables[number] = name
            elif match[3] == "log" and (number >= version.log_number or number == version.prev_log_number):
                log_numbers.append(number)

        entries: _Entries = {}
        table_sequence = 0
        # Oldest first (deepest level, then lower file numbers), as LevelDB's sources are ordered.
        for f in sorted(version.files.values(), key=lambda f: (-f.level, f.number)):
            if f.number not in tables:
                raise StoreError(
                    _("The LevelDB database {path} is damaged (table {number:06d}.ldb is missing){restore}.").format(
                        path=path, number=f.number, restore=_RESTORE))
            table = path / tables[f.number]
            data = _read_file(table)
            try:
                if len(data) != f.size:
                    raise _Corrupt(_("{n} bytes where the MANIFEST says {size}").format(n=len(data), size=f.size))
                read = _read_table(data, entries)
                # LevelDB looks a key up only in the tables whose MANIFEST range holds it.
                if read.first < f.smallest or read.last > f.largest:
                    raise _Corrupt(_("keys outside the range the MANIFEST gives it"))
                table_sequence = max(table_sequence, read.max_sequence)
            except _Corrupt as e:
                raise _damaged(table, e) from e
        _check_levels(path, version)

        logs: list[_Log] = []
        max_sequence = version.last_sequence
        for number in sorted(log_numbers):
            log, log_sequence = _replay_log(path / f"{number:06d}.log", entries)
            logs.append(log)
            max_sequence = max(max_sequence, log_sequence)
        if table_sequence > max_sequence:
            # LevelDB reads at its last sequence (the MANIFEST's, or a log's above it): it would hide such entries.
            raise StoreError(_("The LevelDB database {path} is damaged (a table holds writes newer than its "
                               "MANIFEST){restore}.").format(path=path, restore=_RESTORE))

        live = {key: bytes(value) for key, (_seq, value) in entries.items() if value is not None}
        # LevelDB marks replayed log numbers as used, so a new log numbered above every file and above the
        # MANIFEST's counters is replayed and never reused.
        new_number = max(version.next_file_number, version.log_number + 1, highest + 1)
        return cls(live, max_sequence, logs, path / f"{new_number:06d}.log")

    def get(self, key: bytes) -> bytes | None:
        return self._live.get(key)

    def items(self, prefix: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        """Live entries whose key starts with `prefix`, in bytewise key order."""
        for i in range(bisect.bisect_left(self._keys, prefix), len(self._keys)):
            key = self._keys[i]
            if not key.startswith(prefix):
                return
            yield key, self._live[key]


# --- locking ------------------------------------------------------------------------------------------

# POSIX record locks belong to the process and vanish when *any* descriptor of the file is closed, so a
# nested locked() or a lock_is_held() probe must not open LOCK again while we hold it. LevelDB keeps the
# same kind of per-process table for the same reason.
_held: dict[Path, int] = {}
# LOCK file -> (the files' fingerprint, the snapshot read from them).
_snapshots: dict[Path, tuple[frozenset[tuple[str, int, int, int]], LevelDB]] = {}


def _fingerprint(path: Path) -> frozenset[tuple[str, int, int, int]] | None:
    """Name, size, mtime and inode of every file of the database (LevelDB only appends or adds files)."""
    try:
        with os.scandir(path) as entries:
            return frozenset(
                (entry.name, st.st_size, st.st_mtime_ns, st.st_ino)
                for entry in entries
                if entry.name != "LOCK"
                for st in (entry.stat(),)
            )
    except OSError:
        return None


def _lock_file(path: Path) -> Path:
    return real_path(path / "LOCK")


def _try_lock(lock: Path, *, create: bool) -> int | None:
    """An open descriptor holding the lock, or None if another process holds it."""
    flags = os.O_RDWR | (os.O_CREAT if create else 0)
    try:
        fd = os.open(lock, flags, 0o600)
    except PermissionError as e:
        if sys.platform == "win32":  # Chromium opens LOCK without write sharing
            return None
        raise StoreError(_("Cannot open the LevelDB lock file {lock}: {strerror}.").format(
                             lock=lock, strerror=e.strerror)) from e
    except OSError as e:
        raise StoreError(_("Cannot open the LevelDB lock file {lock}: {strerror}.").format(
                             lock=lock, strerror=e.strerror)) from e
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            # lockf is fcntl(F_SETLK), the lock LevelDB and Chromium take; flock would not see it.
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        os.close(fd)
        if sys.platform == "win32" or e.errno in (errno.EACCES, errno.EAGAIN):
            return None
        raise StoreError(_("Cannot lock the LevelDB lock file {lock}: {strerror}.").format(
                             lock=lock, strerror=e.strerror)) from e
    return fd


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold LevelDB's own LOCK on the database at `path`; re-entrant within this process."""
    lock = _lock_file(path)
    if lock in _held:
        _held[lock] += 1
        try:
            yield
        finally:
            _held[lock] -= 1
        return
    if not (path / "CURRENT").is_file():
        raise StoreError(_("{path} is not a LevelDB database: it has no CURRENT file.").format(path=path))
    fd = _try_lock(lock, create=True)
    # Another cherryconf's lock_is_held() probe holds LOCK for an instant; the app holds it all the time it runs.
    for _attempt in range(_LOCK_RETRIES):
        if fd is not None:
            break
        time.sleep(_LOCK_RETRY_S)
        fd = _try_lock(lock, create=True)
    if fd is None:
        raise AppRunning(_RUNNING)
    _held[lock] = 1
    try:
        yield
    finally:
        del _held[lock]
        os.close(fd)  # closing releases the lock


def lock_is_held(path: Path) -> bool:
    """Whether another process (Cherry Studio) holds the database's LOCK."""
    lock = _lock_file(path)
    if lock in _held:
        return False
    if not lock.exists():
        return False  # LevelDB creates LOCK when it opens the database
    fd = _try_lock(lock, create=False)
    if fd is None:
        return True
    os.close(fd)
    return False


# --- appending ----------------------------------------------------------------------------------------


def _encode_batch(sequence: int, puts: Mapping[bytes, bytes], deletes: list[bytes]) -> bytes:
    parts = [struct.pack("<QI", sequence, len(puts) + len(deletes))]
    for key, value in puts.items():
        parts += (b"\x01", put_varint(len(key)), key, put_varint(len(value)), value)
    for key in deletes:
        parts += (b"\x00", put_varint(len(key)), key)
    return b"".join(parts)


def append_batch(path: Path, puts: Mapping[bytes, bytes], deletes: Iterable[bytes] = ()) -> None:
    """Append one WriteBatch (the puts, then the deletes) to the database's newest live log.

    Call it inside `locked(path)`. This is what Chromium itself does when it reopens the database with
    reuse_logs, so the next open by the app replays the batch like any of its own commits.
    """
    lock = _lock_file(path)
    if lock not in _held:
        raise RuntimeError("append_batch() must be called inside locked(path)")
    deletes = list(deletes)
    if not puts and not deletes:
        return
    db = LevelDB.open(path)
    sequence = db.max_sequence + 1
    if sequence + len(puts) + len(deletes) - 1 > _MAX_SEQUENCE:
        raise StoreError(_("The LevelDB database {path} has run out of sequence numbers.").format(path=path))
    logs, new_log = db._logs, db._new_log
    # The database is about to change: the next open must read it again. Letting the snapshot go here also
    # frees its values (a big one is as big as the batch) before the batch is encoded and framed.
    del db
    _snapshots.pop(lock, None)
    batch = _encode_batch(sequence, puts, deletes)
    if not logs:
        _append_record(new_log, batch, 0, create=True)
        return
    log = logs[-1]
    if not log.clean_end:
        raise StoreError(_("The LevelDB log {path} ends with an incomplete record (an interrupted write), so "
                           "cherryconf will not append to it; `cherryconf restore` can put an earlier backup "
                           "back.").format(path=log.path))
    _append_record(log.path, batch, log.size, create=False)


def _append_record(log: Path, record: bytes, size: int, *, create: bool) -> None:
    """Frame `record` for a log of `size` bytes, write it durably, and undo a partial write on failure."""
    data = _frame(record, size)
    flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0)
    if create:
        flags |= os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(log, flags, 0o600)  # Chromium's files are private to the user
    except OSError as e:
        raise WriteFailed(_("Cannot write the LevelDB log {log}: "
                            "{strerror}.").format(log=log, strerror=e.strerror)) from e
    try:
        if os.fstat(fd).st_size != size:
            raise StoreError(_("The LevelDB log {log} changed while cherryconf was writing it.").format(log=log))
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except BaseException as e:
            # A torn tail would make LevelDB drop the app's next commit in that block; cut it back off.
            if create:
                log.unlink()
            else:
                os.ftruncate(fd, size)
            if isinstance(e, OSError):
                raise WriteFailed(_("Cannot write the LevelDB log {log}: {strerror}.").format(
                                      log=log, strerror=e.strerror)) from e
            raise
    finally:
        os.close(fd)
    if create:
        fsync_dir(log.parent)
