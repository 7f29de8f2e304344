"""Read a closed LevelDB directory, and append one WriteBatch to its log the way LevelDB itself does.

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

import cramjam
import google_crc32c

from cherryconf.errors import AppRunning, StoreError, WriteFailed
from cherryconf.fsutil import fsync_dir
from cherryconf.i18n import _

__all__ = ["LevelDB", "append_batch", "lock_is_held", "locked"]

_BLOCK = 32768
_HEADER = 7  # masked crc32c LE32, length LE16, type
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4
_TYPE_CRC = [google_crc32c.value(bytes([t])) for t in range(_LAST + 1)]
_TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER = 48
_BLOCK_TRAILER = 5  # compression byte + masked crc32c
_NUM_LEVELS = 7
_MAX_SEQUENCE = (1 << 56) - 1
_COMPARATOR = b"leveldb.BytewiseComparator"
_FILE_NAME = re.compile(r"(?:MANIFEST-(\d+)|(\d+)\.(log|ldb|sst|dbtmp))")

# What to do about a damaged store, said in every refusal of one: Chromium would discard it (the app starts empty).
_RESTORE = _("; `cherryconf restore` can put an earlier backup back")
_LOCK_RETRIES, _LOCK_RETRY_S = 10, 0.05
_RUNNING = _("Cherry Studio is running (its database is locked): quit it, including from the tray, and try again.")


class _Corrupt(Exception):
    """Internal: what is wrong inside one file; open() turns it into a StoreError naming the file."""


def _mask(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(buf: bytes | bytearray | memoryview, pos: int, end: int) -> tuple[int, int]:
    result = 0
    for shift in range(0, 64, 7):
        if pos >= end:
            break
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
    raise _Corrupt(_("bad varint"))


def put_varint(value: int) -> bytes:
    """LevelDB's (and protobuf's) base-128 varint."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


# --- log files (the data logs and the MANIFEST share this format) ---------------------------------------


class _LogReader:
    """leveldb::log::Reader over a log's 32 KiB blocks, given one at a time.

    A dying writer's tail is dropped: a truncated header or payload in the file's last partial block, and a
    fragmented record cut off by the end of the file. A zero-length record of type 0 (preallocated space)
    skips the rest of its block. Blocks come one at a time so that a log holding several versions of a big
    value is never in memory whole: only the records, each as it completes.
    """

    def __init__(self) -> None:
        self.clean = True  # whether the log ends on a whole record (so appending is safe); final once read

    def records(self, blocks: Iterable[bytes]) -> Iterator[bytes | bytearray]:
        fragments: bytearray | None = None  # the record being assembled: a big one is copied once, here
        fragment_bytes = 0
        clean = True
        zeroed = False
        for block in blocks:
            size = len(block)
            last_partial = size < _BLOCK
            pos = 0
            while pos < size:
                if size - pos < _HEADER:
                    if last_partial:
                        self.clean = False
                        return
                    break  # the writer's zero trailer
                masked, length, rtype = struct.unpack_from("<IHB", block, pos)
                end = pos + _HEADER + length
                if end > size:
                    if last_partial:
                        self.clean = False
                        return
                    raise _Corrupt(_("bad record length"))
                if rtype == 0 and length == 0:
                    # Preallocated or zero-filled space: LevelDB skips the rest of the block silently. That is
                    # only a dying writer's tail when nothing but zeros follows; records after it, or bytes in what
                    # is skipped, mean records were lost, and the store is not one to write to.
                    if fragments is not None:
                        raise _Corrupt(_("error in middle of record"))
                    if any(block[pos + _HEADER :]):
                        raise _Corrupt(_("a zero-filled region hides part of a block"))
                    clean = False
                    zeroed = True
                    break
                if zeroed:
                    raise _Corrupt(_("records follow a zero-filled region"))
                if not _FULL <= rtype <= _LAST:
                    raise _Corrupt(_("unknown record type {rtype}").format(rtype=rtype))
                payload = block[pos + _HEADER : end]
                if _mask(google_crc32c.extend(_TYPE_CRC[rtype], payload)) != masked:
                    raise _Corrupt(_("checksum mismatch"))
                pos = end
                if rtype in (_FULL, _FIRST):
                    # LevelDB tolerates an empty FIRST left at a block's end before a new record starts.
                    if fragment_bytes:
                        raise _Corrupt(_("partial record without end"))
                    if rtype == _FULL:
                        fragments, fragment_bytes, clean = None, 0, True
                        yield payload
                    else:
                        fragments, fragment_bytes, clean = bytearray(payload), length, False
                else:
                    if fragments is None:
                        raise _Corrupt(_("missing start of fragmented record"))
                    fragments += payload
                    fragment_bytes += length
                    if rtype == _LAST:
                        record, fragments, fragment_bytes, clean = fragments, None, 0, True
                        yield record
        self.clean = clean and fragments is None


def _read_log(data: bytes) -> tuple[list[bytes], bool]:
    """The complete records of a log held in memory, and whether it ends on a whole record (see _LogReader)."""
    reader = _LogReader()
    records = [bytes(r) for r in reader.records(data[i : i + _BLOCK] for i in range(0, len(data), _BLOCK))]
    return records, reader.clean


def _frame(record: bytes, offset: int) -> bytes:
    """The bytes leveldb::log::Writer appends for one record to a log that is `offset` bytes long."""
    parts: list[bytes | memoryview] = []
    view = memoryview(record)  # fragments are views: the join is the only copy of a big record
    block_offset = offset % _BLOCK
    pos = 0
    left = len(record)
    begin = True
    while True:
        leftover = _BLOCK - block_offset
        if leftover < _HEADER:
            parts.append(bytes(leftover))
            block_offset = 0
        # With exactly _HEADER bytes left this emits an empty FIRST, as LevelDB's writer does.
        n = min(left, _BLOCK - block_offset - _HEADER)
        end = n == left
        rtype = (_FULL if end else _FIRST) if begin else (_LAST if end else _MIDDLE)
        fragment = view[pos : pos + n]
        crc = _mask(google_crc32c.extend(_TYPE_CRC[rtype], bytes(fragment)))  # google_crc32c takes only bytes
        parts.append(struct.pack("<IHB", crc, n, rtype))
        parts.append(fragment)
        block_offset += _HEADER + n
        pos += n
        left -= n
        begin = False
        if end:
            return b"".join(parts)


# --- MANIFEST -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _File:
    level: int
    number: int
    size: int
    smallest: tuple[bytes, int]  # internal keys as (user key, -tag): tuples sort as LevelDB's comparator does
    largest: tuple[bytes, int]


@dataclass
class _Version:
    log_number: int
    prev_log_number: int
    next_file_number: int
    last_sequence: int
    files: dict[tuple[int, int], _File]  # (level, file number) -> the file as the MANIFEST describes it


def _internal_key(key: bytes | bytearray | memoryview) -> tuple[bytes, int]:
    """An internal key (user key + 8-byte tag) as a tuple that sorts the way LevelDB's InternalKeyComparator does."""
    if len(key) < 8:
        raise _Corrupt(_("bad internal key"))
    return bytes(key[:-8]), -int.from_bytes(key[-8:], "little")


def _read_manifest(data: bytes) -> _Version:
    """Replay every VersionEdit the way VersionSet::Recover does."""
    numbers: dict[int, int] = {}  # tag -> value for the single-number tags
    files: dict[tuple[int, int], _File] = {}
    for record in _read_log(data)[0]:
        deleted: list[tuple[int, int]] = []
        added: list[_File] = []
        pos, end = 0, len(record)
        while pos < end:
            tag, pos = _varint(record, pos, end)
            if tag == 1:
                length, pos = _varint(record, pos, end)
                # Checked per edit, as VersionSet::Recover does. The name is quoted only when it looks like one:
                # damage makes it garbage.
                name = bytes(record[pos : pos + length])
                if name != _COMPARATOR:
                    shown = name.decode("ascii") if re.fullmatch(rb"[\x21-\x7e]{1,64}", name) else _("another one")
                    raise _Corrupt(_("unsupported comparator {shown}").format(shown=shown))
                pos += length
            elif tag in (2, 3, 4, 9):
                numbers[tag], pos = _varint(record, pos, end)
            elif tag == 5:
                _lvl, pos = _level(record, pos, end)
                _lkey, pos = _key(record, pos, end)
            elif tag == 6:
                level, pos = _level(record, pos, end)
                number, pos = _varint(record, pos, end)
                deleted.append((level, number))
            elif tag == 7:
                level, pos = _level(record, pos, end)
                number, pos = _varint(record, pos, end)
                file_size, pos = _varint(record, pos, end)
                smallest, pos = _key(record, pos, end)
                largest, pos = _key(record, pos, end)
                added.append(_File(level, number, file_size, smallest, largest))
            else:
                raise _Corrupt(_("unknown VersionEdit tag {tag}").format(tag=tag))
            if pos > end:
                raise _Corrupt(_("truncated VersionEdit"))
        # Within one edit LevelDB applies the deletions first.
        for key in deleted:
            files.pop(key, None)
        for f in added:
            files[f.level, f.number] = f
    for tag, what in ((3, _("next file number")), (2, _("log number")), (4, _("last sequence"))):
        if tag not in numbers:
            raise _Corrupt(_("no {what}").format(what=what))
    return _Version(
        log_number=numbers[2],
        prev_log_number=numbers.get(9, 0),
        next_file_number=numbers[3],
        last_sequence=numbers[4],
        files=files,
    )


def _key(record: bytes, pos: int, end: int) -> tuple[tuple[bytes, int], int]:
    length, pos = _varint(record, pos, end)
    if pos + length > end:
        raise _Corrupt(_("truncated VersionEdit"))
    return _internal_key(record[pos : pos + length]), pos + length


def _level(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    level, pos = _varint(buf, pos, end)
    if level >= _NUM_LEVELS:
        raise _Corrupt(_("bad level {level}").format(level=level))
    return level, pos


# --- tables -------------------------------------------------------------------------------------------

_Entries = dict[bytes, tuple[int, memoryview | None]]  # user key -> (sequence, value or None if deleted)


def _keep(entries: _Entries, key: bytes, sequence: int, value: memoryview | None) -> None:
    old = entries.get(key)
    if old is not None and sequence == old[0]:
        # LevelDB would pick one of the two by its value type, whatever their order: a writer never makes this.
        raise _Corrupt(_("two writes of one key share a sequence number"))
    if old is None or sequence > old[0]:
        entries[key] = (sequence, value)


def _read_block(data: bytes, offset: int, size: int, limit: int) -> memoryview:
    end = offset + size
    if end + _BLOCK_TRAILER > limit:
        raise _Corrupt(_("block handle out of range"))
    stored = data[offset : end + 1]  # contents + compression byte: what the crc covers
    (masked,) = struct.unpack_from("<I", data, end + 1)
    if _mask(google_crc32c.value(stored)) != masked:
        raise _Corrupt(_("block checksum mismatch"))
    compression = stored[-1]
    if compression == 0:
        return memoryview(stored)[:-1]
    if compression == 1:
        try:
            return memoryview(cramjam.snappy.decompress_raw(memoryview(stored)[:-1]))
        except cramjam.DecompressionError as e:
            raise _Corrupt(_("bad snappy block")) from e
    raise _Corrupt(_("unsupported block compression {compression}").format(compression=compression))


def _block_entries(block: memoryview) -> Iterator[tuple[bytes, memoryview]]:
    """The entries of a block, checked the way LevelDB's Block iterator relies on them.

    LevelDB starts at the first restart point and seeks by binary search over them, so a block whose restart
    array does not point at the start of entries (each with no shared key prefix), in order, from the first
    one, reads differently there than here: it is refused.
    """
    size = len(block)
    if size < 4:
        raise _Corrupt(_("bad block contents"))
    restarts = int.from_bytes(block[size - 4 :], "little")
    if restarts > (size - 4) // 4 or restarts == 0:
        raise _Corrupt(_("bad block contents"))
    limit = size - 4 - 4 * restarts
    points = struct.unpack_from(f"<{restarts}I", block, limit)
    if points[0] != 0 or any(a >= b for a, b in itertools.pairwise(points)) or points[-1] >= max(limit, 1):
        raise _Corrupt(_("bad block restart points"))
    next_point = 0  # index into points
    key = b""
    pos = 0
    while pos < limit:
        at_restart = next_point < restarts and points[next_point] == pos
        if next_point < restarts and points[next_point] < pos:
            raise _Corrupt(_("bad block restart points"))
        shared, pos = _varint(block, pos, limit)
        unshared, pos = _varint(block, pos, limit)
        value_length, pos = _varint(block, pos, limit)
        value_start = pos + unshared
        if shared > len(key) or value_start + value_length > limit or (at_restart and shared):
            raise _Corrupt(_("bad block entry"))
        next_point += at_restart
        key = key[:shared] + bytes(block[pos:value_start])
        pos = value_start + value_length
        yield key, block[value_start:pos]
    if next_point != restarts:
        raise _Corrupt(_("bad block restart points"))


@dataclass(frozen=True)
class _TableRead:
    max_sequence: int
    first: tuple[bytes, int]  # the smallest and largest internal keys in it, for the MANIFEST's ranges
    last: tuple[bytes, int]


def _read_table(data: bytes, entries: _Entries) -> _TableRead:
    """Feed every entry of one table into `entries`.

    Keys must be in strictly increasing internal-key order and each index key must separate its block from
    the next (LevelDB's merging and seeking depend on both; a full scan here would not notice otherwise).
    """
    if len(data) < _FOOTER:
        raise _Corrupt(_("file too short"))
    footer = len(data) - _FOOTER
    (magic,) = struct.unpack_from("<Q", data, len(data) - 8)
    if magic != _TABLE_MAGIC:
        raise _Corrupt(_("not an sstable (bad magic number)"))
    _offset, pos = _varint(data, footer, footer + 40)  # metaindex offset: the filter is not needed
    _offset, pos = _varint(data, pos, footer + 40)
    index_offset, pos = _varint(data, pos, footer + 40)
    index_size, pos = _varint(data, pos, footer + 40)
    max_sequence = 0
    first: tuple[bytes, int] | None = None
    previous: tuple[bytes, int] | None = None
    separator: tuple[bytes, int] | None = None  # the previous block's index key: every later key is above it
    for index_key, handle in _block_entries(_read_block(data, index_offset, index_size, footer)):
        block_separator = _internal_key(index_key)
        if separator is not None and block_separator <= separator:
            raise _Corrupt(_("index keys out of order"))
        offset, pos = _varint(handle, 0, len(handle))
        size, pos = _varint(handle, pos, len(handle))
        for key, value in _block_entries(_read_block(data, offset, size, footer)):
            internal = _internal_key(key)
            if (previous is not None and internal <= previous) or (separator is not None and internal <= separator):
                raise _Corrupt(_("keys out of order"))
            if internal > block_separator:
                raise _Corrupt(_("a key lies beyond its index entry"))
            tag = -internal[1]
            kind = tag & 0xFF
            if kind > 1:
                raise _Corrupt(_("bad value type {kind}").format(kind=kind))
            sequence = tag >> 8
            _keep(entries, internal[0], sequence, value if kind == 1 else None)
            max_sequence = max(max_sequence, sequence)
            first = first or internal
            previous = internal
        separator = block_separator
    if first is None or previous is None:
        raise _Corrupt(_("no entries"))  # LevelDB never writes an empty table
    return _TableRead(max_sequence, first, previous)


def _read_batch(record: bytes | bytearray, entries: _Entries) -> int:
    """Feed one WriteBatch into `entries`; returns its last sequence, as DBImpl::RecoverLogFile does."""
    if len(record) < 12:
        raise _Corrupt(_("log record too small"))
    sequence: int
    count: int
    sequence, count = struct.unpack_from("<QI", record)
    view = memoryview(record)
    end = len(record)
    pos = 12
    index = 0
    while pos < end:
        kind = record[pos]
        if kind > 1:
            raise _Corrupt(_("unknown WriteBatch tag {kind}").format(kind=kind))
        key_length, pos = _varint(record, pos + 1, end)
        key = bytes(record[pos : pos + key_length])
        pos += key_length
        value = None
        if kind == 1:
            value_length, pos = _varint(record, pos, end)
            value = view[pos : pos + value_length]
            pos += value_length
        if pos > end:
            raise _Corrupt(_("bad WriteBatch entry"))
        _keep(entries, key, sequence + index, value)
        index += 1
    if index != count:
        raise _Corrupt(_("WriteBatch has wrong count"))
    if sequence + count - 1 > _MAX_SEQUENCE:
        raise _Corrupt(_("sequence number out of range"))  # LevelDB would cut it to 56 bits
    return sequence + count - 1


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
    return (path / "LOCK").resolve()


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
