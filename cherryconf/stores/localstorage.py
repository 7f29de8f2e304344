"""Chromium's localStorage layout on top of its LevelDB: key prefixes, string encoding, origin metadata."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cherryconf.errors import StoreError
from cherryconf.stores.leveldb import LevelDB, append_batch, locked

__all__ = ["FILE_ORIGIN", "decode", "encode", "read_origin", "read_raw", "write_items"]

FILE_ORIGIN = "file://"
_UTF16, _LATIN1 = 0, 1  # the format byte in front of every stored key and value
_CHROMIUM_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)  # base::Time counts microseconds from here


def encode(s: str) -> bytes:
    """A JS string as Chromium stores it: Latin-1 when it fits, else UTF-16LE (lone surrogates kept)."""
    try:
        return b"\x01" + s.encode("latin-1")
    except UnicodeEncodeError:
        return b"\x00" + s.encode("utf-16-le", "surrogatepass")


def decode(b: bytes) -> str:
    if not b:
        return ""  # Chromium reads an empty value as the empty string
    payload = memoryview(b)[1:]
    if b[0] == _LATIN1:
        return str(payload, "latin-1")
    if b[0] == _UTF16 and len(payload) % 2 == 0:
        return str(payload, "utf-16-le", "surrogatepass")
    raise StoreError("A localStorage entry is damaged (an unknown string format).")


def _data_prefix(origin: str) -> bytes:
    return b"_" + origin.encode() + b"\x00"


def _meta_keys(origin: str) -> tuple[bytes, bytes]:
    return b"METAACCESS:" + origin.encode(), b"META:" + origin.encode()


def read_origin(db: LevelDB, origin: str = FILE_ORIGIN) -> dict[str, str]:
    """Every localStorage item of `origin`."""
    prefix = _data_prefix(origin)
    return {decode(key[len(prefix) :]): decode(value) for key, value in db.items(prefix)}


def read_raw(db: LevelDB, origin: str = FILE_ORIGIN) -> dict[bytes, bytes]:
    """The origin's LevelDB entries as stored, metadata included, for byte-for-byte comparisons."""
    raw = dict(db.items(_data_prefix(origin)))
    for key in _meta_keys(origin):
        value = db.get(key)
        if value is not None:
            raw[key] = value
    return raw


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def write_items(
    path: Path, items: Mapping[str, str], origin: str = FILE_ORIGIN, *, now: datetime | None = None
) -> None:
    """Set `items` in the origin's localStorage as one commit, the way Chromium writes one.

    The batch holds the data, then METAACCESS (last_accessed) and META (last_modified, size_bytes),
    Chromium's order; size_bytes is the origin's encoded keys and values after the change.
    """
    micros = ((now or datetime.now(UTC)).astimezone(UTC) - _CHROMIUM_EPOCH) // timedelta(microseconds=1)
    prefix = _data_prefix(origin)
    puts = {prefix + encode(key): encode(value) for key, value in items.items()}
    access_key, meta_key = _meta_keys(origin)
    with locked(path):
        db = LevelDB.open(path)
        size = sum(len(key) - len(prefix) + len(value) for key, value in puts.items())
        size += sum(len(key) - len(prefix) + len(value) for key, value in db.items(prefix) if key not in puts)
        puts[access_key] = b"\x08" + _varint(micros)
        puts[meta_key] = b"\x08" + _varint(micros) + b"\x10" + _varint(size)
        append_batch(path, puts)
