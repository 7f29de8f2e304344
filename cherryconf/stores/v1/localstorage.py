"""Chromium's localStorage layout on top of its LevelDB: key prefixes, string encoding, origin metadata."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cherryconf.errors import ReadBackFailed, StoreError
from cherryconf.i18n import _
from cherryconf.stores.v1.leveldb import LevelDB, append_batch, locked, put_varint

__all__ = [
    "FILE_ORIGIN",
    "decode",
    "encode",
    "encode_replacing",
    "encode_replacing_spans",
    "read_item",
    "read_origin",
    "read_raw",
    "splice_utf16",
    "utf16_span",
    "write_encoded",
    "write_items",
]

FILE_ORIGIN = "file://"
_UTF16, _LATIN1 = 0, 1  # the format byte in front of every stored key and value
_CHROMIUM_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)  # base::Time counts microseconds from here
_NOT_LATIN1 = re.compile("[^\x00-\xff]")
_CHUNK = 1 << 18  # characters encoded at a time when only the encoded length is wanted


def encode(s: str) -> bytes:
    """A JS string as Chromium stores it: Latin-1 when it fits, else UTF-16LE (lone surrogates kept)."""
    try:
        return b"\x01" + s.encode("latin-1")
    except UnicodeEncodeError:
        return b"\x00" + s.encode("utf-16-le", "surrogatepass")


def _check(b: bytes) -> None:
    """Refuse what decode() refuses, without decoding (a value can be megabytes)."""
    if b and not (b[0] == _LATIN1 or (b[0] == _UTF16 and len(b) % 2 == 1)):
        raise StoreError(_("A localStorage entry is damaged (an unknown string format); "
                         "`cherryconf restore` can put an earlier backup back."))


def decode(b: bytes) -> str:
    if not b:
        return ""  # Chromium reads an empty value as the empty string
    _check(b)
    payload = memoryview(b)[1:]
    if b[0] == _LATIN1:
        return str(payload, "latin-1")
    return str(payload, "utf-16-le", "surrogatepass")


def _utf16_len(text: str, start: int, end: int) -> int:
    """len(text[start:end].encode("utf-16-le", "surrogatepass")), a slice at a time (no copy of a big text)."""
    return sum(len(text[i : min(i + _CHUNK, end)].encode("utf-16-le", "surrogatepass"))
               for i in range(start, end, _CHUNK))


def utf16_span(stored: bytes, text: str, span: tuple[int, int]) -> tuple[int, int] | None:
    """Where text[start:end] lies in `stored` (text == decode(stored)), if any replacement of it stays UTF-16.

    That holds when `stored` is UTF-16 and a character outside Latin-1 remains outside the span; then
    encode(text[:start] + new + text[end:]) is the stored bytes around the span with `new` encoded in between
    (decoding UTF-16 with surrogatepass and encoding it again gives the same bytes). None otherwise.
    """
    start, end = span
    if stored[:1] != bytes([_UTF16]) or not (_NOT_LATIN1.search(text, 0, start) or _NOT_LATIN1.search(text, end)):
        return None
    cut_end = len(stored) - _utf16_len(text, end, len(text))
    return cut_end - _utf16_len(text, start, end), cut_end


def splice_utf16(stored: bytes, cut: tuple[int, int], new: str) -> bytes:
    """`stored` with the bytes at `cut` (from utf16_span) replaced by `new`, encoded."""
    view = memoryview(stored)
    return b"".join((view[: cut[0]], new.encode("utf-16-le", "surrogatepass"), view[cut[1] :]))


def encode_replacing(stored: bytes, text: str, span: tuple[int, int], new: str) -> bytes:
    """encode(text[:start] + new + text[end:]), where text == decode(stored).

    When the result stays UTF-16 the text around the span is not encoded again but taken from `stored`: a
    state of 4 M characters is then never copied as text (16 MB each time with an emoji in it).
    """
    return encode_replacing_spans(stored, text, {span: new})


def encode_replacing_spans(stored: bytes, text: str, replacements: Mapping[tuple[int, int], str]) -> bytes:
    """encode_replacing() for several spans of `text` that do not overlap."""
    order = sorted(replacements)
    if any(a[1] > b[0] for a, b in itertools.pairwise(order)):
        raise ValueError("overlapping spans")
    if stored[:1] == bytes([_UTF16]):
        # The stored bytes around the spans are kept when a character outside Latin-1 stays outside them all: the
        # result is UTF-16 then, and only the new slices are encoded.
        gaps = [(0, order[0][0]), *((a[1], b[0]) for a, b in itertools.pairwise(order)),
                (order[-1][1], len(text))]
        if any(_NOT_LATIN1.search(text, lo, hi) for lo, hi in gaps):
            view = memoryview(stored)
            pieces: list[bytes | memoryview] = [view[:1]]
            pos, at = 0, 1  # `at`: the byte offset in `stored` of text position `pos`
            for start, end in order:
                start_at = at + _utf16_len(text, pos, start)
                end_at = start_at + _utf16_len(text, start, end)
                pieces += [view[at:start_at], replacements[(start, end)].encode("utf-16-le", "surrogatepass")]
                pos, at = end, end_at
            pieces.append(view[at:])
            return b"".join(pieces)
    parts, done = [], 0
    for start, end in order:
        parts += [text[done:start], replacements[(start, end)]]
        done = end
    return encode("".join([*parts, text[done:]]))


def _data_prefix(origin: str) -> bytes:
    return b"_" + origin.encode() + b"\x00"


def _meta_keys(origin: str) -> tuple[bytes, bytes]:
    return b"METAACCESS:" + origin.encode(), b"META:" + origin.encode()


def read_origin(db: LevelDB, origin: str = FILE_ORIGIN) -> dict[str, str]:
    """Every localStorage item of `origin`."""
    prefix = _data_prefix(origin)
    return {decode(key[len(prefix) :]): decode(value) for key, value in db.items(prefix)}


def read_item(db: LevelDB, key: str, origin: str = FILE_ORIGIN) -> bytes | None:
    """The stored (encoded) value of one item of `origin`: read_origin(db, origin).get(key) before decoding.

    Every entry of the origin is checked as read_origin() checks it, but only keys are decoded.
    """
    prefix = _data_prefix(origin)
    found = None
    for stored_key, value in db.items(prefix):
        _check(value)
        if decode(stored_key[len(prefix) :]) == key:
            found = value  # as in read_origin, the last of two encodings of one key wins
    return found


def read_raw(db: LevelDB, origin: str = FILE_ORIGIN) -> dict[bytes, bytes]:
    """The origin's LevelDB entries as stored, metadata included, for byte-for-byte comparisons."""
    raw = dict(db.items(_data_prefix(origin)))
    for key in _meta_keys(origin):
        value = db.get(key)
        if value is not None:
            raw[key] = value
    return raw




def write_items(
    path: Path, items: Mapping[str, str], origin: str = FILE_ORIGIN, *, now: datetime | None = None
) -> None:
    """Set `items` in the origin's localStorage as one commit, the way Chromium writes one.

    The batch holds the data, then METAACCESS (last_accessed) and META (last_modified, size_bytes),
    Chromium's order; size_bytes is the origin's encoded keys and values after the change.
    """
    write_encoded(path, {key: encode(value) for key, value in items.items()}, origin, now=now)


def write_encoded(
    path: Path, values: Mapping[str, bytes], origin: str = FILE_ORIGIN, *, now: datetime | None = None
) -> None:
    """write_items() with the values already encode()d, so that a caller can let go of a big value's text first.

    The database is then read again from disk and must hold exactly what it held, with these puts: every key of
    every origin byte for byte, and the new values as the very bytes given (ReadBackFailed otherwise, for the
    caller to undo the write from its backup).
    """
    micros = ((now or datetime.now(UTC)).astimezone(UTC) - _CHROMIUM_EPOCH) // timedelta(microseconds=1)
    prefix = _data_prefix(origin)
    puts = {prefix + encode(key): value for key, value in values.items()}
    access_key, meta_key = _meta_keys(origin)
    with locked(path):
        db = LevelDB.open(path)
        size = sum(len(key) - len(prefix) + len(value) for key, value in puts.items())
        size += sum(len(key) - len(prefix) + len(value) for key, value in db.items(prefix) if key not in puts)
        puts[access_key] = b"\x08" + put_varint(micros)
        puts[meta_key] = b"\x08" + put_varint(micros) + b"\x10" + put_varint(size)
        # Not the old values of the keys written: a big one is as big as the batch.
        expected = {key: value for key, value in db.items() if key not in puts} | puts
        del db  # append_batch lets the snapshot go (its old values may be megabytes): so must we
        append_batch(path, puts)
        _check_written(path, expected)


def _check_written(path: Path, expected: Mapping[bytes, bytes]) -> None:
    found = dict(LevelDB.open(path).items())  # append_batch dropped the snapshot: this reads the files again
    if found == expected:
        return
    key = min(k for k in expected.keys() | found.keys() if found.get(k) != expected.get(k))
    what = _("is missing") if key not in found else "appeared" if key not in expected else "changed"
    raise ReadBackFailed(_("after writing {path}, the LevelDB entry {key} {what}: it does not read back as "
                           "written").format(
                             path=path, key=_shown(key), what=what))


def _shown(key: bytes) -> str:
    """A LevelDB key for a message: a localStorage item by its name, anything else by its bytes."""
    origin, sep, item = key.partition(b"\x00")
    if origin.startswith(b"_") and sep:
        try:
            return _("{item!r} of origin {origin}").format(item=decode(item), origin=origin[1:].decode("latin-1"))
        except (StoreError, UnicodeDecodeError):
            pass
    return repr(key[:80])
