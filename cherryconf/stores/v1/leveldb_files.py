"""LevelDB's files, byte by byte: log records (the data logs and the MANIFEST share their framing), the MANIFEST's
version edits, table blocks and write batches. Pure: bytes in, records and entries out; leveldb.py opens the
database, locks it and appends to it.

Names with a leading underscore are private to the stores.v1 package.
"""

from __future__ import annotations

import itertools
import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import cramjam
import google_crc32c

from cherryconf.i18n import _

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


