"""The pure-Python LevelDB reader and log appender, checked against plyvel (the real LevelDB)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import google_crc32c
import plyvel
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from testing.plyvel_view import plyvel_view, varint
from testing.store_fuzz import frame, table_blocks

import cherryconf
from cherryconf.errors import AppRunning, StoreError
from cherryconf.stores.v1.leveldb import LevelDB, append_batch, lock_is_held, locked

BLOCK = 32768
# Child processes must import this checkout's cherryconf, wherever the tests run from.
CHILD_ENV = os.environ | {"PYTHONPATH": str(Path(cherryconf.__file__).parents[1])}
RUNNING = "Cherry Studio is running (its database is locked): quit it, including from the tray, and try again."


# --- helpers ------------------------------------------------------------------------------------------


def ours(path: Path) -> dict[bytes, bytes]:
    return dict(LevelDB.open(path).items())


def new_db(path: Path, items: Mapping[bytes, bytes] = {}) -> Path:
    db = plyvel.DB(str(path), create_if_missing=True)
    if items:  # even an empty batch would add a record to the log
        with db.write_batch() as batch:
            for key, value in items.items():
                batch.put(key, value)
    db.close()
    return path


def append(path: Path, puts: Mapping[bytes, bytes], deletes: list[bytes] | None = None) -> None:
    with locked(path):
        append_batch(path, puts, deletes or [])


def live_log(path: Path) -> Path:
    return max(path.glob("*.log"))


def table_files(path: Path) -> list[Path]:
    return sorted(path.glob("*.ldb"))


def fill_log_to(path: Path, size: int) -> None:
    """Append one single-record batch that brings the (empty or short) live log to exactly `size` bytes."""
    log = live_log(path)
    # header 7 + batch header 12 + tag 1 + key length 1 + key 1 + value length 3 + value
    value_length = size - log.stat().st_size - 25
    assert 16384 <= value_length <= BLOCK - 25
    append(path, {b"f": b"." * value_length})
    assert log.stat().st_size == size


@contextmanager
def child(code: str) -> Iterator[None]:
    """Run `code` in another process until the block ends (POSIX locks are per process)."""
    script = f"import sys\n{code}\nprint('ready', flush=True)\nsys.stdin.read()\n"
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=CHILD_ENV
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        assert proc.stdout.readline() == "ready\n"
        yield
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0


def probe_in_child(path: Path) -> bool:
    code = (
        "from pathlib import Path\nfrom cherryconf.stores.v1.leveldb import lock_is_held\n"
        f"print(lock_is_held(Path({str(path)!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=CHILD_ENV).stdout
    return out.strip() == "True"


# --- reading ------------------------------------------------------------------------------------------


def test_reader_agrees_with_leveldb_on_tables_and_logs(tmp_path: Path) -> None:
    path = tmp_path / "db"
    db = plyvel.DB(str(path), create_if_missing=True)
    ops = 0
    for i in range(2000):
        db.put(b"k%05d" % i, os.urandom(i % 500))
        ops += 1
    db.compact_range()  # into a deeper level
    for i in range(0, 2000, 3):
        db.put(b"k%05d" % i, b"second %d" % i)
        ops += 1
    db.close()
    db = plyvel.DB(str(path))  # the log becomes a level-0 table over the deeper one
    for i in range(0, 2000, 5):
        db.delete(b"k%05d" % i)
        ops += 1
    db.put(b"big", b"\xff" * 100_000)  # several blocks in the log
    db.delete(b"never there")
    ops += 2
    expected = dict(db.iterator())
    db.close()
    assert len(table_files(path)) >= 2

    reader = LevelDB.open(path)
    assert dict(reader.items()) == expected == plyvel_view(path)
    assert list(reader.items()) == sorted(expected.items())
    assert reader.get(b"k00001") == expected[b"k00001"]
    assert reader.get(b"k00000") is None  # deleted after being compacted
    assert reader.get(b"missing") is None
    assert reader.max_sequence == ops


def masked_crc(data: bytes) -> int:
    crc: int = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def test_a_manifest_that_moves_and_deletes_tables(tmp_path: Path) -> None:
    # Compactions log "deleted file" edits, and a trivial move deletes and adds one file in one edit.
    # LevelDB's own compactions run in the background, so write such an edit by hand.
    path = new_db(tmp_path / "db", {b"a%d" % i: b"A" for i in range(10)})  # sequences 1 to 10
    db = plyvel.DB(str(path))  # the log becomes level-0 table one
    db.put(b"b", b"B")
    db.close()
    plyvel.DB(str(path)).close()  # and table two
    one, two = table_files(path)
    edit = b"\x06\x00" + varint(int(one.stem)) + b"\x06\x00" + varint(int(two.stem))
    smallest, largest = b"a0" + struct.pack("<Q", 1 << 8 | 1), b"a9" + struct.pack("<Q", 10 << 8 | 1)
    edit += b"\x07\x01" + varint(int(one.stem)) + varint(one.stat().st_size)
    edit += bytes([len(smallest)]) + smallest + bytes([len(largest)]) + largest
    manifest = next(path.glob("MANIFEST-*"))
    assert manifest.stat().st_size + 7 + len(edit) < BLOCK
    with manifest.open("ab") as f:
        f.write(struct.pack("<IHB", masked_crc(b"\x01" + edit), len(edit), 1) + edit)
    two.unlink()
    assert ours(path) == {b"a%d" % i: b"A" for i in range(10)} == plyvel_view(path)


def test_the_newest_of_several_versions_in_one_table_wins(tmp_path: Path) -> None:
    # A memtable flushed to a level-0 table keeps every version of a key, newest first.
    path = new_db(tmp_path / "db", {b"a": b"1"})
    db = plyvel.DB(str(path))
    db.put(b"a", b"2")
    db.put(b"a", b"3")
    db.delete(b"b")
    db.put(b"b", b"4")
    db.close()
    plyvel.DB(str(path)).close()  # the log becomes a table
    assert not live_log(path).stat().st_size
    assert ours(path) == {b"a": b"3", b"b": b"4"}


def test_items_filters_by_prefix_in_key_order(tmp_path: Path) -> None:
    path = new_db(tmp_path / "db", {b"b2": b"x", b"a": b"y", b"b1": b"z", b"b": b"w", b"c": b""})
    assert list(LevelDB.open(path).items(b"b")) == [(b"b", b"w"), (b"b1", b"z"), (b"b2", b"x")]
    assert list(LevelDB.open(path).items(b"zz")) == []


def test_reads_uncompressed_tables(tmp_path: Path) -> None:
    path = tmp_path / "db"
    db = plyvel.DB(str(path), create_if_missing=True, compression=None)
    for i in range(500):
        db.put(b"%d" % i, b"v" * i)
    db.compact_range()
    db.close()
    assert table_files(path)
    assert ours(path) == plyvel_view(path)


def test_max_sequence_counts_past_the_manifest(tmp_path: Path) -> None:
    # The MANIFEST's last sequence lags behind the log: a new write must be numbered past both.
    path = new_db(tmp_path / "db", {b"a": b"1", b"b": b"2"})
    db = plyvel.DB(str(path))
    db.put(b"a", b"3")
    db.close()
    assert LevelDB.open(path).max_sequence == 3
    append(path, {b"a": b"4"})
    assert LevelDB.open(path).max_sequence == 4
    assert plyvel_view(path)[b"a"] == b"4"


# --- appending ----------------------------------------------------------------------------------------


def test_append_is_read_by_leveldb_and_leaves_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "db"
    new_db(path, {b"k%d" % i: b"v%d" % i for i in range(100)})
    before = plyvel_view(path)
    big = os.urandom(300_000)
    append(path, {b"k1": b"changed", b"new": big, b"k2": b"first"}, [b"k3", b"absent"])
    append(path, {b"k2": b"second"})
    expected = before | {b"k1": b"changed", b"new": big, b"k2": b"second"}
    del expected[b"k3"]
    assert plyvel_view(path) == expected == ours(path)


def test_a_put_and_a_delete_of_one_key_in_a_batch_delete_it(tmp_path: Path) -> None:
    # Deletes come after puts in the batch, so they win.
    path = new_db(tmp_path / "db", {b"a": b"1"})
    append(path, {b"a": b"2"}, [b"a"])
    assert plyvel_view(path) == {} == ours(path)


def test_append_after_tables_and_a_reopen(tmp_path: Path) -> None:
    path = new_db(tmp_path / "db", {b"a": b"1"})
    db = plyvel.DB(str(path))
    db.put(b"b", b"2")
    db.compact_range()
    db.close()
    append(path, {b"a": b"3"})
    db = plyvel.DB(str(path), paranoid_checks=True)  # replays our log, writes a table, starts a new log
    db.put(b"c", b"4")
    db.close()
    append(path, {b"d": b"5"})
    assert plyvel_view(path) == {b"a": b"3", b"b": b"2", b"c": b"4", b"d": b"5"} == ours(path)


def test_append_creates_a_log_when_there_is_none(tmp_path: Path) -> None:
    path = new_db(tmp_path / "db", {b"a": b"1"})
    db = plyvel.DB(str(path))  # moves the data into a table; the new log stays empty
    db.close()
    old_log = live_log(path)
    assert old_log.stat().st_size == 0
    old_log.unlink()
    numbers = [int(p.name.split(".")[0].split("-")[-1]) for p in path.iterdir() if p.name[0] in "0123456789M"]

    append(path, {b"b": b"2"})
    created = live_log(path)
    assert int(created.stem) > max(numbers)
    if sys.platform != "win32":  # mode bits: the app's folder in the Windows profile is private by inheritance
        assert created.stat().st_mode & 0o777 == 0o600
    assert plyvel_view(path) == {b"a": b"1", b"b": b"2"} == ours(path)
    append(path, {b"c": b"3"})  # the next append goes to the same new log
    assert sorted(path.glob("*.log")) == [created]
    assert plyvel_view(path) == {b"a": b"1", b"b": b"2", b"c": b"3"}


@pytest.mark.parametrize("offset", [BLOCK - 8, BLOCK - 7, BLOCK - 6, BLOCK - 1, BLOCK])
@pytest.mark.parametrize("value_length", [0, 1, 6, 100, BLOCK - 7 - 12 - 4, BLOCK, 3 * BLOCK + 5])
def test_append_at_block_edges(tmp_path: Path, offset: int, value_length: int) -> None:
    path = new_db(tmp_path / "db")
    fill_log_to(path, offset)
    value = bytes(range(256)) * (value_length // 256) + b"\x07" * (value_length % 256)
    append(path, {b"v": value})
    append(path, {b"w": b"after"})
    assert plyvel_view(path) == {b"f": b"." * (offset - 25), b"v": value, b"w": b"after"} == ours(path)


def test_an_empty_first_record_before_a_full_one_is_tolerated(tmp_path: Path) -> None:
    # Older LevelDB writers left an empty FIRST in a block's last 7 bytes and began anew in the next block.
    path = new_db(tmp_path / "db")
    fill_log_to(path, BLOCK - 7)
    batch = struct.pack("<QI", 2, 1) + b"\x01\x01w\x05after"
    with live_log(path).open("ab") as f:
        f.write(struct.pack("<IHB", masked_crc(b"\x02"), 0, 2))
        f.write(struct.pack("<IHB", masked_crc(b"\x01" + batch), len(batch), 1) + batch)
    assert ours(path) == {b"f": b"." * (BLOCK - 32), b"w": b"after"} == plyvel_view(path)
    append(path, {b"x": b"1"})
    assert ours(path)[b"x"] == plyvel_view(path)[b"x"] == b"1"


def test_an_empty_batch_writes_nothing(tmp_path: Path) -> None:
    path = new_db(tmp_path / "db", {b"a": b"1"})
    size = live_log(path).stat().st_size
    append(path, {})
    assert live_log(path).stat().st_size == size


def test_append_needs_the_lock(tmp_path: Path) -> None:
    path = new_db(tmp_path / "db")
    with pytest.raises(RuntimeError):
        append_batch(path, {b"a": b"1"})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.integers(0, 100), st.integers(32_700, 32_770), st.integers(60_000, 70_000)), max_size=4))
# A first record ending 7, 6 and 0 bytes before a block's end: the writer's empty FIRST, trailer, no trailer.
@example([32_735, 100])
@example([32_736, 5])
@example([32_742, 5])
def test_framing_is_byte_for_byte_leveldbs(tmp_path: Path, sizes: list[int]) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    base = new_db(root / "base")
    theirs, mine = shutil.copytree(base, root / "theirs"), shutil.copytree(base, root / "mine")
    db = plyvel.DB(str(theirs))  # starts an empty log, as our append finds one
    values = {b"k%d" % i: bytes([i]) * size for i, size in enumerate(sizes)}
    for key, value in values.items():
        db.put(key, value)
    db.close()
    for key, value in values.items():
        append(mine, {key: value})
    assert live_log(mine).read_bytes() == live_log(theirs).read_bytes()
    assert ours(mine) == values


# --- property tests: both directions ------------------------------------------------------------------

# Sizes where the framing changes: around one block less a header, the batch header and one entry, and
# values spanning several blocks.
EDGE = 32768 - 7
sizes = st.one_of(
    st.integers(0, 64),
    st.integers(EDGE - 40, EDGE + 8),
    st.integers(2 * EDGE - 40, 2 * EDGE + 8),
    st.integers(90_000, 110_000),
)
keys = st.binary(min_size=0, max_size=12)
batches = st.lists(
    st.tuples(st.dictionaries(keys, sizes, max_size=4), st.lists(keys, max_size=3)),
    min_size=1,
    max_size=4,
)


def value_of(key: bytes, size: int, salt: int) -> bytes:
    return (key + bytes([salt, size & 0xFF])) * (size // (len(key) + 2)) + b"!" * (size % (len(key) + 2))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lead=st.integers(0, 40_000), batches=batches)
def test_our_batches_read_by_leveldb(
    tmp_path: Path, lead: int, batches: list[tuple[dict[bytes, int], list[bytes]]]
) -> None:
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "db"
    model = {b"lead": b"L" * lead, b"keep": b"kept"}
    new_db(path, model)
    for salt, (puts, deletes) in enumerate(batches):
        values = {key: value_of(key, size, salt) for key, size in puts.items()}
        append(path, values, deletes)
        model |= values
        for key in deletes:
            model.pop(key, None)
    assert ours(path) == model
    assert plyvel_view(path) == model


ops = st.lists(
    st.one_of(
        st.tuples(st.just("put"), keys, sizes),
        st.tuples(st.just("delete"), keys, st.just(0)),
        st.tuples(st.sampled_from(["compact", "reopen"]), st.just(b""), st.just(0)),
    ),
    max_size=30,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=ops)
def test_leveldb_writes_read_by_us(tmp_path: Path, ops: list[tuple[str, bytes, int]]) -> None:
    path = str(Path(tempfile.mkdtemp(dir=tmp_path)) / "db")
    db = plyvel.DB(path, create_if_missing=True, write_buffer_size=64 * 1024)  # small: flushes to tables
    model: dict[bytes, bytes] = {}
    writes = 0
    for i, (op, key, size) in enumerate(ops):
        if op == "put":
            model[key] = value_of(key, size, i)
            db.put(key, model[key])
        elif op == "delete":
            model.pop(key, None)
            db.delete(key)
        elif op == "compact":
            db.compact_range()
        else:
            db.close()
            db = plyvel.DB(path, write_buffer_size=64 * 1024)
        writes += op in ("put", "delete")
    db.close()
    reader = LevelDB.open(Path(path))
    assert dict(reader.items()) == model
    assert reader.max_sequence == writes


# --- damage -------------------------------------------------------------------------------------------


def big_log_db(path: Path) -> Path:
    new_db(path, {b"a": b"1"})
    assert live_log(path).stat().st_size == 24
    append(path, {b"big": b"B" * 100_000})
    return path


# The log holds a 24-byte batch, then a 100 kB one as FIRST, MIDDLE, MIDDLE and LAST records.
@pytest.mark.parametrize(
    "keep",
    [24 + 3, 24 + 7 + 100, BLOCK, BLOCK + 3, 2 * BLOCK, 3 * BLOCK + 6, -1],
    ids=["in-first-header", "in-first", "after-first", "in-middle-header", "after-middle", "in-last-header", "in-last"],
)
def test_a_torn_tail_reads_as_leveldb_does_but_append_refuses(tmp_path: Path, keep: int) -> None:
    path = big_log_db(tmp_path / "db")
    log = live_log(path)
    with log.open("r+b") as f:
        f.truncate(keep if keep > 0 else log.stat().st_size + keep)
    size = log.stat().st_size
    assert ours(path) == {b"a": b"1"} == plyvel_view(path)
    with pytest.raises(StoreError, match="incomplete record"):
        append(path, {b"c": b"2"})
    assert log.stat().st_size == size


def test_a_zero_filled_tail_reads_but_append_refuses(tmp_path: Path) -> None:
    # Preallocated space that was never written: LevelDB skips it silently.
    path = new_db(tmp_path / "db", {b"a": b"1"})
    with live_log(path).open("ab") as f:
        f.write(bytes(100))
    assert ours(path) == {b"a": b"1"} == plyvel_view(path)
    with pytest.raises(StoreError, match="incomplete record"):
        append(path, {b"c": b"2"})


def test_a_checksum_mismatch_in_a_log_is_refused(tmp_path: Path) -> None:
    path = big_log_db(tmp_path / "db")
    flip(live_log(path), 40)  # inside the first batch's key "a": its checksum no longer matches
    with pytest.raises(StoreError, match="checksum mismatch"):
        LevelDB.open(path)


def flip(file: Path, offset: int) -> None:
    data = bytearray(file.read_bytes())
    data[offset] ^= 0x40
    file.write_bytes(bytes(data))


def compacted_db(path: Path) -> Path:
    db = plyvel.DB(str(path), create_if_missing=True)
    for i in range(300):
        db.put(b"key%d" % i, b"value %d" % i * 10)
    db.compact_range()
    db.close()
    return path


@pytest.mark.parametrize("where", [0.1, 0.5, -30])  # data blocks, and the index block near the end
def test_a_flipped_byte_in_a_table_is_refused(tmp_path: Path, where: float) -> None:
    path = compacted_db(tmp_path / "db")
    table = table_files(path)[0]
    size = table.stat().st_size
    flip(table, int(size * where) if where > 0 else size + int(where) - 48)
    with pytest.raises(StoreError, match=table.name):
        LevelDB.open(path)


def test_unsupported_block_compression_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db"
    db = plyvel.DB(str(path), create_if_missing=True, compression=None)
    db.put(b"a", b"1")
    db.compact_range()
    db.close()
    table = table_files(path)[0]
    data = bytearray(table.read_bytes())
    # The first data block starts at 0; its handle is the index block's first value.
    size = data.index(b"1") + 1 + 8  # the entry's value, then one restart and the restart count
    assert data[size] == 0
    data[size] = 2  # zstd: LevelDB 1.23's new type
    struct.pack_into("<I", data, size + 1, masked_crc(bytes(data[: size + 1])))
    table.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="unsupported block compression 2"):
        LevelDB.open(path)


def test_missing_pieces_are_refused(tmp_path: Path) -> None:
    path = compacted_db(tmp_path / "db")
    with pytest.raises(StoreError, match="no CURRENT"):
        LevelDB.open(tmp_path / "nowhere")

    table = table_files(path)[0]
    table.rename(table.with_suffix(".bak"))
    with pytest.raises(StoreError, match="missing"):
        LevelDB.open(path)
    table.with_suffix(".bak").rename(table)

    current = path / "CURRENT"
    current.write_bytes(current.read_bytes().rstrip(b"\n"))
    with pytest.raises(StoreError, match="names no MANIFEST"):
        LevelDB.open(path)
    current.write_bytes(current.read_bytes() + b"\n")

    manifest = next(path.glob("MANIFEST-*"))
    manifest.rename(path / "elsewhere")
    with pytest.raises(StoreError, match="missing"):
        LevelDB.open(path)
    (path / "elsewhere").rename(manifest)

    current.unlink()
    with pytest.raises(StoreError, match="no CURRENT"):
        LevelDB.open(path)
    with pytest.raises(StoreError, match="no CURRENT"), locked(path):
        pass


def test_a_truncated_table_is_refused(tmp_path: Path) -> None:
    path = compacted_db(tmp_path / "db")
    table = table_files(path)[0]
    with table.open("r+b") as f:
        f.truncate(table.stat().st_size - 1)
    with pytest.raises(StoreError, match="MANIFEST says"):
        LevelDB.open(path)


def test_another_comparator_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db"
    db = plyvel.DB(
        str(path), create_if_missing=True, comparator=lambda a, b: (a > b) - (a < b), comparator_name=b"idb_cmp1"
    )
    db.put(b"a", b"1")
    db.close()
    with pytest.raises(StoreError, match="unsupported comparator idb_cmp1"):
        LevelDB.open(path)


# --- locking ------------------------------------------------------------------------------------------


def test_a_lock_held_by_another_process_means_the_app_runs(tmp_path: Path) -> None:
    path = new_db(tmp_path / "db", {b"a": b"1"})
    lock = str(path / "LOCK")
    if sys.platform == "win32":  # LevelDB (Chromium's) opens LOCK without write sharing and locks it
        access = "_winapi.GENERIC_READ | _winapi.GENERIC_WRITE"
        code = f"import _winapi\n_winapi.CreateFile({lock!r}, {access}, 1, 0, 4, 0, 0)"
    else:
        code = f"import fcntl, os\nfd = os.open({lock!r}, os.O_RDWR)\nfcntl.lockf(fd, fcntl.LOCK_EX)"
    with child(code):
        assert lock_is_held(path)
        with pytest.raises(AppRunning) as caught, locked(path):
            pass
        assert caught.value.message == RUNNING
    assert not lock_is_held(path)
    append(path, {b"a": b"2"})


def test_an_open_leveldb_in_another_process_holds_the_lock(tmp_path: Path) -> None:
    path = new_db(tmp_path / "db", {b"a": b"1"})
    with child(f"import plyvel\ndb = plyvel.DB({str(path)!r})"):
        assert lock_is_held(path)
        with pytest.raises(AppRunning), locked(path):
            pass


def test_one_snapshot_serves_while_the_files_are_unchanged(tmp_path: Path) -> None:
    path = new_db(tmp_path / "db", {b"a": b"1"})
    first = LevelDB.open(path)
    assert LevelDB.open(path) is first  # the plan, the check under the lock, the write: one read
    # Another writer (the app) changes the files: they are read again.
    other = plyvel.DB(str(path))
    other.put(b"a", b"3")
    other.close()
    changed = LevelDB.open(path)
    assert changed is not first and changed.get(b"a") == b"3"
    with locked(path):
        assert LevelDB.open(path) is changed
        append_batch(path, {b"a": b"2"})
        again = LevelDB.open(path)
        assert again is not changed and again.get(b"a") == b"2"
        assert LevelDB.open(path) is again
        # Bytes added behind our back, not through LevelDB: read again.
        with live_log(path).open("ab") as f:
            f.write(b"\x00" * 7)
        assert LevelDB.open(path) is not again


def test_our_lock_is_leveldbs_lock_and_survives_nesting(tmp_path: Path) -> None:
    path = new_db(tmp_path / "db", {b"a": b"1"})
    assert not probe_in_child(path)
    with locked(path):
        assert probe_in_child(path)
        with locked(path):
            assert not lock_is_held(path)  # we hold it, the app does not
            append_batch(path, {b"a": b"2"})
        assert probe_in_child(path)  # the inner exit did not release it
        failed = subprocess.run([sys.executable, "-c", f"import plyvel; plyvel.DB({str(path)!r})"], capture_output=True)
        assert b"lock" in failed.stderr
    assert not probe_in_child(path)
    assert plyvel_view(path) == {b"a": b"2"}


def test_a_database_without_lock_file_is_not_held(tmp_path: Path) -> None:
    path = new_db(tmp_path / "db")
    (path / "LOCK").unlink()
    assert not lock_is_held(path)
    assert not (path / "LOCK").exists()  # a probe creates nothing


# --- size ---------------------------------------------------------------------------------------------


def test_an_8_mb_value_with_older_versions_in_tables(tmp_path: Path) -> None:
    path = tmp_path / "db"
    versions = [bytes([65 + i]) * 64 + os.urandom(1024) * (8 * 1024) for i in range(3)]
    for value in versions[:2]:
        db = plyvel.DB(str(path), create_if_missing=True)
        db.put(b"blob", value)
        db.close()  # the next open turns this log into a table
    db = plyvel.DB(str(path))
    db.put(b"blob", versions[2])
    db.close()
    assert len(table_files(path)) == 2
    reader = LevelDB.open(path)
    assert reader.get(b"blob") == versions[2]
    new = versions[0][::-1]
    append(path, {b"blob": new})
    assert plyvel_view(path) == {b"blob": new}


# --- what LevelDB reads differently, or refuses: refused (issue 13) ---------------------------------------


def manifest_edit(path: Path, edit: bytes) -> None:
    """Append one VersionEdit record to the database's MANIFEST."""
    manifest = next(path.glob("MANIFEST-*"))
    data = manifest.read_bytes()
    manifest.write_bytes(data + frame(edit, len(data)))


def plain_table_db(path: Path) -> Path:
    """A database of one uncompressed table: its blocks can be edited in place."""
    db = plyvel.DB(str(path), create_if_missing=True, compression=None)
    for i in range(100):
        db.put(b"key%03d" % i, b"value %d" % i)
    db.compact_range()
    db.close()
    return path


def edit_first_data_block(table: Path, edit: Callable[[bytearray, int, int], None]) -> None:
    """Change the first data block of `table` with `edit(data, offset, size)`, then make its checksum match."""
    data = bytearray(table.read_bytes())
    _, offset, size = next(b for b in table_blocks(bytes(data)) if b[0] == "data")
    edit(data, offset, size)
    struct.pack_into("<I", data, offset + size + 1, masked_crc(bytes(data[offset : offset + size + 1])))
    table.write_bytes(bytes(data))


def test_records_after_a_zero_filled_region_are_refused(tmp_path: Path) -> None:
    """LevelDB skips the rest of a block after zeros without a word, losing what follows; we refuse."""
    path = new_db(tmp_path / "db", {b"a": b"1"})
    log = live_log(path)
    data = log.read_bytes() + bytes(100)
    log.write_bytes(data + frame(struct.pack("<QI", 2, 1) + b"\x01\x01b\x012", len(data)))
    assert plyvel_view(path) == {b"a": b"1"}  # b is gone, silently
    with pytest.raises(StoreError, match="zero-filled region") as caught:
        LevelDB.open(path)
    assert "\n" not in caught.value.message and "cherryconf restore" in caught.value.message


def test_a_block_whose_first_restart_point_skips_entries_is_refused(tmp_path: Path) -> None:
    path = plain_table_db(tmp_path / "db")

    def second_entry_first(data: bytearray, offset: int, size: int) -> None:
        restarts = struct.unpack_from("<I", data, offset + size - 4)[0]
        first = offset + size - 4 - 4 * restarts
        struct.pack_into("<I", data, first, 10)  # the second entry's offset: LevelDB starts reading there

    edit_first_data_block(table_files(path)[0], second_entry_first)
    with pytest.raises(StoreError, match="restart points"):
        LevelDB.open(path)


def test_keys_out_of_order_in_a_table_are_refused(tmp_path: Path) -> None:
    """A block whose first key sorts after the rest: LevelDB's merge and seek would skip or repeat entries."""
    path = plain_table_db(tmp_path / "db")

    def first_key_last(data: bytearray, offset: int, size: int) -> None:
        assert data[offset + 3 : offset + 6] == b"key"  # shared 0, unshared, value length, then the key
        data[offset + 3] = ord("z")  # "zey000": the entries that share its prefix follow, then "key016"

    edit_first_data_block(table_files(path)[0], first_key_last)
    with pytest.raises(StoreError, match=r"out of order|beyond its index entry"):
        LevelDB.open(path)


def test_two_writes_sharing_a_sequence_number_are_refused(tmp_path: Path) -> None:
    path = new_db(tmp_path / "db", {b"a": b"1"})  # sequence 1
    log = live_log(path)
    data = log.read_bytes()
    log.write_bytes(data + frame(struct.pack("<QI", 1, 1) + b"\x00\x01a", len(data)))  # delete a, also at 1
    assert plyvel_view(path) == {b"a": b"1"}  # LevelDB orders the put first, whichever came last
    with pytest.raises(StoreError, match="share a sequence number"):
        LevelDB.open(path)


def test_a_sequence_beyond_56_bits_is_refused(tmp_path: Path) -> None:
    path = new_db(tmp_path / "db", {b"a": b"1"})
    log = live_log(path)
    data = log.read_bytes()
    log.write_bytes(data + frame(struct.pack("<QI", 1 << 56, 1) + b"\x01\x01b\x012", len(data)))
    with pytest.raises(StoreError, match="sequence number out of range"):
        LevelDB.open(path)


def test_a_table_newer_than_the_manifest_is_refused(tmp_path: Path) -> None:
    path = plain_table_db(tmp_path / "db")
    manifest_edit(path, b"\x04" + varint(5))  # last sequence 5: LevelDB reads at 5 and hides the rest
    assert len(plyvel_view(path)) == 5
    with pytest.raises(StoreError, match="newer than its MANIFEST"):
        LevelDB.open(path)


def test_the_comparator_is_checked_in_every_edit(tmp_path: Path) -> None:
    path = new_db(tmp_path / "db", {b"a": b"1"})
    name = b"leveldb.BytewiseComparator"
    manifest_edit(path, b"\x01" + varint(8) + b"idb_cmp1")
    manifest_edit(path, b"\x01" + varint(len(name)) + name)
    with pytest.raises(plyvel.Error):
        plyvel_view(path)
    with pytest.raises(StoreError, match="unsupported comparator idb_cmp1"):
        LevelDB.open(path)


def test_a_garbled_comparator_name_is_not_quoted(tmp_path: Path) -> None:
    path = new_db(tmp_path / "db", {b"a": b"1"})
    manifest_edit(path, b"\x01" + varint(9) + b"lev\nel\x00\xffd")
    with pytest.raises(StoreError) as caught:
        LevelDB.open(path)
    assert "unsupported comparator another one" in caught.value.message
    assert caught.value.message.isprintable()
