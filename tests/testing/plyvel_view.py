"""The independent reader the tests check cherryconf against: the real LevelDB (plyvel), plus Chromium's
localStorage string format and LevelDB's varint written out here rather than taken from cherryconf's code."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import plyvel

FILE_ORIGIN_PREFIX = b"_file://\x00"


def plyvel_view(path: Path) -> dict[bytes, bytes]:
    """Every key and value a real LevelDB reads, with paranoid checks, from a copy: opening rewrites files."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "db"
        shutil.copytree(path, copy)
        db = plyvel.DB(str(copy), paranoid_checks=True)
        try:
            return dict(db.iterator())
        finally:
            db.close()


def decode_string(b: bytes) -> str:
    """Chromium's localStorage string: a \\x01 tag then Latin-1, or a \\x00 tag then UTF-16LE."""
    return b[1:].decode("latin-1") if b[:1] == b"\x01" else b[1:].decode("utf-16-le", "surrogatepass")


def plyvel_items(leveldb_dir: Path) -> dict[str, str]:
    """Every file:// localStorage item as the real LevelDB reads it."""
    return {decode_string(k[len(FILE_ORIGIN_PREFIX) :]): decode_string(v)
            for k, v in plyvel_view(leveldb_dir).items() if k.startswith(FILE_ORIGIN_PREFIX)}


def varint(n: int) -> bytes:
    out = b""
    while n >= 0x80:
        out += bytes([n & 0x7F | 0x80])
        n >>= 7
    return out + bytes([n])
