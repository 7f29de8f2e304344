"""The Chromium harness itself: what it writes, Chromium reads back, and the disk holds what the facts say.

These tests check the harness with a real headless Chromium and, independently of cherryconf's own
LevelDB code, with plyvel and a small SSTable scan, so that end-to-end tests can trust it.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cramjam
import pytest

try:  # tests/ as a package, or as a plain directory that pytest puts on sys.path
    from tests import chromium_harness as ch
except ImportError:
    from testing import chromium_harness as ch

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(not ch.chromium_available(), reason="chromium is not installed"),
]

# Chromium's META:/METAACCESS: timestamps count microseconds from 1601-01-01 (Windows FILETIME epoch).
_EPOCH_1601_TO_1970_US = 11_644_473_600 * 1_000_000


def enc(s: str) -> bytes:
    """Chromium's localStorage encoding, as the facts file states it (the thing under test)."""
    if all(ord(c) <= 0xFF for c in s):
        return b"\x01" + s.encode("latin-1")
    return b"\x00" + s.encode("utf-16-le", "surrogatepass")


def data_key(key: str) -> bytes:
    return b"_file://\x00" + enc(key)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _protobuf_varints(buf: bytes) -> dict[int, int]:
    """Fields of a protobuf message made only of varint fields (wire type 0)."""
    fields: dict[int, int] = {}
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        assert tag & 7 == 0, f"field {tag >> 3} is not a varint"
        fields[tag >> 3], pos = _varint(buf, pos)
    return fields


def _block_entries(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Entries of an SSTable block: prefix-compressed keys, then the restart array."""
    (restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    end = len(block) - 4 - 4 * restarts
    pos, key = 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        value_len, pos = _varint(block, pos)
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        yield key, block[pos : pos + value_len]
        pos += value_len


def table_entries(path: Path) -> Iterator[tuple[bytes, int, int, bytes, int]]:
    """(user key, sequence, type, value, block compression) of every entry of an .ldb table.

    A deliberately small SSTable reader, independent of cherryconf's, to see the versions that LevelDB's
    own API (plyvel) hides: it only ever shows the newest.
    """
    data = path.read_bytes()
    assert data[-8:] == struct.pack("<Q", 0xDB4775248B80FB57), "not a LevelDB table"
    footer = data[-48:]
    _, pos = _varint(footer, 0)  # metaindex offset
    _, pos = _varint(footer, pos)  # metaindex size
    index_offset, pos = _varint(footer, pos)
    index_size, _ = _varint(footer, pos)

    def block(offset: int, size: int) -> tuple[bytes, int]:
        raw, compression = data[offset : offset + size], data[offset + size]
        if compression == 1:
            return bytes(cramjam.snappy.decompress_raw(raw)), compression
        assert compression == 0, f"unknown block compression {compression}"
        return raw, compression

    index, _ = block(index_offset, index_size)
    for _, handle in _block_entries(index):
        offset, pos = _varint(handle, 0)
        size, _ = _varint(handle, pos)
        contents, compression = block(offset, size)
        for internal_key, value in _block_entries(contents):
            (tag,) = struct.unpack("<Q", internal_key[-8:])
            yield internal_key[:-8], tag >> 8, tag & 0xFF, value, compression


def plyvel_snapshot(profile_dir: Path, tmp_path: Path) -> dict[bytes, bytes]:
    """Every key/value LevelDB itself sees, read with plyvel from a copy (never the live directory)."""
    plyvel = pytest.importorskip("plyvel")
    copy = tmp_path / "leveldb-copy"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(ch.profile_leveldb(profile_dir), copy)
    db = plyvel.DB(str(copy))
    try:
        return dict(db.iterator())
    finally:
        db.close()


def test_round_trip_small_items(tmp_path: Path) -> None:
    items = {
        "persist:cherry-studio": '{"llm":"{\\"providers\\":[]}","_persist":"{\\"version\\":180}"}',
        "latin1": "café ÿ ñ \x80\xa0\xff",  # every character <= U+00FF: Latin-1 on disk
        "cjk": "中文 日本語 한국어",
        "emoji": "😀🎉 astral 𝄞",
        "键": "a CJK key",
        "lone surrogates": "a\ud800b\udfffc",  # not valid Unicode, but a valid JavaScript string
        "controls": "nul\x00 tab\t nl\n ls\u2028 ps\u2029",
        "markup": "<!-- --> </script> & HARNESS@@--> <!--@@HARNESS ",
        "__proto__": "a key JavaScript objects treat specially",
        "": "the empty key",
        "empty value": "",
    }
    ch.write_local_storage(tmp_path, items)
    assert ch.read_local_storage(tmp_path) == items

    ch.write_local_storage(tmp_path, {"added": "1"}, remove=["cjk", "not there"])
    expected = {k: v for k, v in items.items() if k != "cjk"} | {"added": "1"}
    assert ch.read_local_storage(tmp_path) == expected

    ch.write_local_storage(tmp_path, {"only": "this"}, clear=True)
    assert ch.read_local_storage(tmp_path) == {"only": "this"}


@pytest.mark.slow
def test_round_trip_8_mb_value(tmp_path: Path) -> None:
    # 4 M UTF-16 code units = 8 MB in Chromium's encoding, near the 10 MiB origin quota, as a large
    # Cherry Studio state would be; the pattern mixes CJK, astral emoji (surrogate pairs) and ASCII.
    pattern = "中文配置 provider 😀 ümlaut 日本語🎉 apiHost https://example.com/v1 "
    units = len(pattern.encode("utf-16-le")) // 2
    big = pattern * (4_000_000 // units)
    assert 7_900_000 < len(enc(big)) <= 8_000_001
    items = {"persist:cherry-studio": big, "small": "s"}

    started = time.monotonic()
    ch.write_local_storage(tmp_path, items)
    assert ch.read_local_storage(tmp_path) == items
    assert time.monotonic() - started < 60

    on_disk = plyvel_snapshot(tmp_path, tmp_path)
    assert on_disk[data_key("persist:cherry-studio")] == enc(big)


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(["first 中文", "second 😀", "third café"], id="small-values-with-filler"),
        pytest.param(["A" * 70_000, "B" * 70_000], id="values-over-64KiB"),
    ],
)
def test_compact_history_leaves_versions_in_tables(tmp_path: Path, values: list[str]) -> None:
    ch.write_local_storage(tmp_path, {"other": "kept"})
    ch.compact_history(tmp_path, "hist", values)

    leveldb = ch.profile_leveldb(tmp_path)
    tables = sorted(leveldb.glob("*.ldb"))
    assert tables, sorted(p.name for p in leveldb.iterdir())
    entries = [entry for table in tables for entry in table_entries(table)]
    versions = [(seq, value) for key, seq, kind, value, _ in entries if key == data_key("hist") and kind == 1]
    # Every version is in a table, in the order written (sequence numbers rise).
    assert [value for _, value in sorted(versions)] == [enc(v) for v in values]
    # Snappy is on, but LevelDB keeps a block raw when snappy saves less than 1/8: readers meet both.
    compressions = {compression for *_, compression in entries}
    assert compressions <= {0, 1}
    assert 1 in compressions or values[0] != "first 中文", "the 100 000-byte filler compresses"

    assert ch.read_local_storage(tmp_path) == {"other": "kept", "hist": values[-1]}
    # A newer version on top of the tables goes to the log, and Chromium shows it.
    ch.write_local_storage(tmp_path, {"hist": "newest"})
    assert ch.read_local_storage(tmp_path) == {"other": "kept", "hist": "newest"}


def _lockf_probe(lock: Path) -> int:
    """Exit status of the probe cherryconf uses (lockf LOCK_EX | LOCK_NB), from a separate process.

    POSIX record locks belong to a process: probed from this one, a success would leave the lock held
    until some unrelated close of the file. A child releases it when it exits.
    """
    code = "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR); fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)"
    return subprocess.run([sys.executable, "-c", code, str(lock)], capture_output=True, check=False).returncode


def test_running_chromium_holds_the_lock(tmp_path: Path) -> None:
    ch.write_local_storage(tmp_path, {"k": "v"})
    lock = ch.profile_leveldb(tmp_path) / "LOCK"
    assert _lockf_probe(lock) == 0

    with ch.running_chromium(tmp_path) as proc:
        assert proc.poll() is None
        holder = ch.leveldb_lock_holder(tmp_path)
        assert holder is not None and os.getpgid(holder) == proc.pid
        assert _lockf_probe(lock) != 0

    assert proc.returncode == 0, "SIGTERM is a clean shutdown for Chromium"
    assert ch.leveldb_lock_holder(tmp_path) is None
    assert _lockf_probe(lock) == 0
    assert ch.read_local_storage(tmp_path) == {"k": "v"}


def test_on_disk_format_matches_the_facts(tmp_path: Path) -> None:
    """Section 2 of shared/cherry-studio-format.md, checked on what Chromium wrote, read with plyvel."""
    items = {"persist:cherry-studio": '{"llm":"配置 😀"}', "latin": "café", "键": "v", "lone": "a\ud800b"}
    before_us = int(time.time() * 1e6) + _EPOCH_1601_TO_1970_US
    ch.write_local_storage(tmp_path, items)
    after_us = int(time.time() * 1e6) + _EPOCH_1601_TO_1970_US

    db = plyvel_snapshot(tmp_path, tmp_path)
    assert db[b"VERSION"] == b"1"
    assert {k for k in db if k.startswith(b"_")} == {data_key(k) for k in items}
    for key, value in items.items():
        assert db[data_key(key)] == enc(value)
    # Latin-1 key, UTF-16 value; Latin-1 key and value; UTF-16 key.
    assert data_key("persist:cherry-studio").startswith(b"_file://\x00\x01persist")
    assert db[data_key("persist:cherry-studio")][:1] == b"\x00"
    assert db[data_key("latin")] == b"\x01caf\xe9"
    assert data_key("键") == b"_file://\x00\x00" + "键".encode("utf-16-le")
    # A lone surrogate is stored as the UTF-16 code unit it is.
    assert db[data_key("lone")] == b"\x00a\x00\x00\xd8b\x00"

    meta = _protobuf_varints(db[b"META:file://"])
    assert set(meta) == {1, 2}
    assert meta[2] == sum(len(enc(k)) + len(enc(v)) for k, v in items.items())
    # The read-back session leaves META alone (it changes nothing), so this is the write's time.
    assert before_us - 10_000_000 <= meta[1] <= after_us
    access = _protobuf_varints(db[b"METAACCESS:file://"])
    assert set(access) == {1}
    assert before_us - 10_000_000 <= access[1] <= after_us + 10_000_000

    # Files are private to the user, as Chromium creates them.
    for path in ch.profile_leveldb(tmp_path).iterdir():
        if path.is_file():
            assert path.stat().st_mode & 0o777 == 0o600, path.name
