"""Damage for stores and profiles, and the judge of what cherryconf did with it: shared by tests/test_fuzz.py
(hypothesis, bounded for CI) and scripts/fuzz_campaign.py (the long campaign).

Every mutation takes a `Chooser` (hypothesis data in the tests, a seeded random.Random in the campaign) and
returns its class and details, so a failure names what was done. The LevelDB byte layout (logs, tables,
MANIFEST) is read and written here independently of cherryconf's code, as in tests/testing/plyvel_view.py.

Classes of damage:
- 1.x, raw bytes: flips in logs, tables (data, index, footer), the MANIFEST and CURRENT; truncations; zeroed
  pages; garbage appended.
- 1.x, crafted (checksums made to match): a flipped byte in a table block or a MANIFEST record with its CRC
  recomputed; write batches with a wrong count, a bad tag, a reused, low or out-of-range sequence, a key or
  value cut short; values of the wrong shape or encoding written by plyvel (the real LevelDB).
- 2.x: flipped bytes and zeroed pages in the database, a torn or flipped WAL, a schema cherryconf does not
  know, rows of the wrong type or JSON shape, text that is not UTF-8, an unfinished migration.
- profiles: byte and character edits of valid profiles, control characters, alias bombs and cycles, deep
  nesting, huge numbers and strings, random YAML documents.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import sqlite3
import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import cramjam
import google_crc32c
import plyvel

from testing.plyvel_view import varint

T = TypeVar("T")
BLOCK = 32768
PERSIST_KEY = b"_file://\x00\x01persist:cherry-studio"
META_KEYS = (b"META:file://", b"METAACCESS:file://")


class Chooser(Protocol):
    def below(self, n: int) -> int:
        """An integer from 0 to n - 1."""
        ...


class RandomChooser:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def below(self, n: int) -> int:
        return self.rng.randrange(n)


def pick(c: Chooser, items: Sequence[T]) -> T:
    return items[c.below(len(items))]


def _mask(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _record_crc(rtype: int, payload: bytes) -> int:
    return _mask(google_crc32c.value(bytes([rtype]) + payload))


# --- LevelDB logs, written and read here ------------------------------------------------------------------


def frame(record: bytes, offset: int) -> bytes:
    """The bytes LevelDB's log writer appends for `record` to a log `offset` bytes long."""
    out = bytearray()
    pos, begin = 0, True
    while True:
        left_in_block = BLOCK - (offset + len(out)) % BLOCK
        if left_in_block < 7:
            out += bytes(left_in_block)
            left_in_block = BLOCK
        n = min(len(record) - pos, left_in_block - 7)
        end = pos + n == len(record)
        rtype = (1 if end else 2) if begin else (4 if end else 3)
        chunk = record[pos : pos + n]
        out += struct.pack("<IHB", _record_crc(rtype, chunk), n, rtype) + chunk
        pos += n
        begin = False
        if end:
            return bytes(out)


def log_records(data: bytes) -> list[tuple[int, bytes]]:
    """(offset, payload) of every whole record of a log (best effort: the log may be damaged)."""
    records: list[tuple[int, bytes]] = []
    pending = b""
    start = 0
    pos = 0
    while pos + 7 <= len(data):
        block_left = BLOCK - pos % BLOCK
        if block_left < 7:
            pos += block_left
            continue
        _, length, rtype = struct.unpack_from("<IHB", data, pos)
        if rtype == 0 or pos + 7 + length > len(data):
            break
        payload = data[pos + 7 : pos + 7 + length]
        if rtype in (1, 2):
            start, pending = pos, payload
        else:
            pending += payload
        if rtype in (1, 4):
            records.append((start, pending))
        pos += 7 + length
    return records


def _batch(sequence: int, entries: list[tuple[int, bytes, bytes]], count: int | None = None) -> bytes:
    body = b"".join(bytes([kind]) + varint(len(k)) + k + ((varint(len(v)) + v) if kind == 1 else b"")
                    for kind, k, v in entries)
    return struct.pack("<QI", sequence, len(entries) if count is None else count) + body


def _logs(d: Path) -> list[Path]:
    return sorted(d.glob("*.log"))


def _last_sequence(d: Path) -> int:
    """The last sequence number written to the newest log (0 when it holds none)."""
    logs = _logs(d)
    records = log_records(logs[-1].read_bytes()) if logs else []
    if not records:
        return 0
    sequence, count = struct.unpack_from("<QI", records[-1][1])
    return int(sequence + count - 1)


def append_batch_record(d: Path, entries: list[tuple[int, bytes, bytes]]) -> None:
    """Append a well-formed batch of (kind, key, value) entries, numbered after the newest log's last one."""
    _append(d, _batch(_last_sequence(d) + 1, entries))


def _append(d: Path, record: bytes) -> None:
    logs = _logs(d)
    if not logs:
        return
    log = logs[-1]
    data = log.read_bytes()
    log.write_bytes(data + frame(record, len(data)))


# --- LevelDB tables, read here ----------------------------------------------------------------------------


def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, pos


def table_blocks(data: bytes) -> list[tuple[str, int, int]]:
    """(what, offset, size) of a table's metaindex, index and data blocks (best effort)."""
    footer = len(data) - 48
    meta_off, p = _uvarint(data, footer)
    meta_size, p = _uvarint(data, p)
    index_off, p = _uvarint(data, p)
    index_size, p = _uvarint(data, p)
    blocks = [("metaindex", meta_off, meta_size), ("index", index_off, index_size)]
    raw = data[index_off : index_off + index_size]
    block = raw if data[index_off + index_size] == 0 else cramjam.snappy.decompress_raw(raw).read()
    restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    limit = len(block) - 4 - 4 * restarts
    pos = 0
    while pos < limit:
        _, pos = _uvarint(block, pos)
        unshared, pos = _uvarint(block, pos)
        vlen, pos = _uvarint(block, pos)
        handle = block[pos + unshared : pos + unshared + vlen]
        off, hp = _uvarint(handle, 0)
        size, _ = _uvarint(handle, hp)
        blocks.append(("data", off, size))
        pos += unshared + vlen
    return blocks


# --- 1.x mutations ----------------------------------------------------------------------------------------

Mutation = Callable[[Path, Chooser], str]


def _store_files(d: Path, pattern: str) -> list[Path]:
    return sorted(p for p in d.glob(pattern) if p.is_file() and p.stat().st_size > 0)


def _flip(path: Path, c: Chooser, start: int = 0, end: int | None = None) -> str:
    data = bytearray(path.read_bytes())
    end = len(data) if end is None else end
    i = start + c.below(max(1, end - start))
    data[i] ^= 1 << c.below(8)
    path.write_bytes(bytes(data))
    return f"{path.name}@{i}"


def flip_log(d: Path, c: Chooser) -> str:
    return _flip(pick(c, _store_files(d, "*.log")), c)


def flip_table(d: Path, c: Chooser) -> str:
    table = pick(c, _store_files(d, "*.ldb"))
    data = table.read_bytes()
    region = pick(c, [*table_blocks(data), ("footer", len(data) - 48, 48)])
    what, off, size = region
    return f"{what} " + _flip(table, c, off, off + size + (5 if what != "footer" else 0))


def flip_manifest(d: Path, c: Chooser) -> str:
    return _flip(pick(c, _store_files(d, "MANIFEST-*")), c)


def flip_current(d: Path, c: Chooser) -> str:
    return _flip(d / "CURRENT", c)


def truncate(d: Path, c: Chooser) -> str:
    path = pick(c, [*_store_files(d, "*.log"), *_store_files(d, "*.ldb"), *_store_files(d, "MANIFEST-*")])
    data = path.read_bytes()
    cut = c.below(len(data))
    path.write_bytes(data[:cut])
    return f"{path.name}[:{cut}]"


def zero_page(d: Path, c: Chooser) -> str:
    path = pick(c, [*_store_files(d, "*.log"), *_store_files(d, "*.ldb"), *_store_files(d, "MANIFEST-*")])
    data = bytearray(path.read_bytes())
    size = pick(c, [512, 4096])
    start = c.below(max(1, len(data) // size + 1)) * size
    data[start : start + size] = bytes(len(data[start : start + size]))
    path.write_bytes(bytes(data))
    return f"{path.name}[{start}:+{size}]"


def append_garbage(d: Path, c: Chooser) -> str:
    path = pick(c, [*_store_files(d, "*.log"), *_store_files(d, "MANIFEST-*")])
    garbage = bytes(c.below(256) for _ in range(1 + c.below(64)))
    with path.open("ab") as f:
        f.write(garbage)
    return f"{path.name}+{len(garbage)}"


def crafted_block(d: Path, c: Chooser) -> str:
    """A flipped byte in a table block, with the block's checksum recomputed to match."""
    table = pick(c, _store_files(d, "*.ldb"))
    data = bytearray(table.read_bytes())
    what, off, size = pick(c, table_blocks(bytes(data)))
    i = off + c.below(size + 1)  # the contents or the compression byte
    data[i] ^= 1 << c.below(8)
    crc = _mask(google_crc32c.value(bytes(data[off : off + size + 1])))
    struct.pack_into("<I", data, off + size + 1, crc)
    table.write_bytes(bytes(data))
    return f"{what} block of {table.name}@{i}"


def crafted_manifest(d: Path, c: Chooser) -> str:
    """A flipped byte in one MANIFEST record (a VersionEdit), with the record's checksum recomputed."""
    manifest = pick(c, _store_files(d, "MANIFEST-*"))
    data = bytearray(manifest.read_bytes())
    records = [(off, payload) for off, payload in log_records(bytes(data)) if off // BLOCK
               == (off + 7 + len(payload)) // BLOCK]  # whole (FULL) records only
    if not records:
        return "no record"
    off, payload = pick(c, records)
    edited = bytearray(payload)
    i = c.below(len(edited))
    edited[i] ^= 1 << c.below(8)
    data[off : off + 7 + len(payload)] = struct.pack("<IHB", _record_crc(1, bytes(edited)), len(edited), 1) + edited
    manifest.write_bytes(bytes(data))
    return f"{manifest.name} record@{off} byte {i}"


def crafted_batch(d: Path, c: Chooser) -> str:
    """A write batch with a valid record checksum but a damaged or unusual body."""
    last = _last_sequence(d)
    key = b"_file://\x00\x01fuzz-key"
    value = b"\x01fuzz-value"
    kinds = {
        "wrong count": lambda: _batch(last + 1, [(1, key, value)], count=2),
        "bad tag": lambda: _batch(last + 1, [(7, key, value)]),
        "reused sequence": lambda: _batch(last, [(1, key, value)]),
        "reused sequence, delete": lambda: _batch(last, [(0, PERSIST_KEY, b"")]),
        "low sequence": lambda: _batch(1, [(1, PERSIST_KEY, b"\x01{}")]),
        "sequence out of range": lambda: _batch((1 << 56) + 5, [(1, key, value)]),
        "cut short": lambda: _batch(last + 1, [(1, key, value)])[:-3],
        "too small": lambda: b"\x00" * 8,
        "huge length": lambda: struct.pack("<QI", last + 1, 1) + b"\x01" + varint(1 << 40) + key,
        "delete persist": lambda: _batch(last + 1, [(0, PERSIST_KEY, b"")]),
        "empty batch": lambda: _batch(last + 1, []),
    }
    name = pick(c, sorted(kinds))
    _append(d, kinds[name]())
    return name


def _persist(d: Path) -> tuple[plyvel.DB, dict[str, Any] | None]:
    db = plyvel.DB(str(d))
    raw = db.get(PERSIST_KEY)
    try:
        text = raw[1:].decode("utf-16-le") if raw and raw[0] == 0 else (raw or b"")[1:].decode("latin-1")
        outer = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        outer = None
    return db, outer if isinstance(outer, dict) else None


def llm_damage(llm: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    """Ways to damage an llm slice, by name: each makes the damaged slice."""
    providers = llm.get("providers") or [{}]
    first = dict(providers[0]) if isinstance(providers[0], dict) else {}
    model = {"id": "m", "provider": first.get("id"), "name": "m", "group": "m"}
    variants: dict[str, Callable[[], Any]] = {
        "providers not a list": lambda: {**llm, "providers": {"a": 1}},
        "provider not an object": lambda: {**llm, "providers": ["x", *providers]},
        "provider without id": lambda: {**llm, "providers": [{"name": "n"}, *providers]},
        "models not a list": lambda: {**llm, "providers": [{**first, "models": "gpt"}, *providers[1:]]},
        "models null": lambda: {**llm, "providers": [{**first, "models": None}, *providers[1:]]},
        "model not an object": lambda: {**llm, "providers": [{**first, "models": [3]}, *providers[1:]]},
        "model id a number": lambda: {**llm, "providers": [{**first, "models": [{**model, "id": 7}]}, *providers[1:]]},
        "model type a number": lambda: {**llm, "providers": [{**first, "models": [{**model, "type": 1}]},
                                                            *providers[1:]]},
        "name a number": lambda: {**llm, "providers": [{**first, "name": 5}, *providers[1:]]},
        "apiHost a list": lambda: {**llm, "providers": [{**first, "apiHost": ["h"]}, *providers[1:]]},
        "extra_headers a list": lambda: {**llm, "providers": [{**first, "extra_headers": ["h"]}, *providers[1:]]},
        "defaultModel provider a list": lambda: {**llm, "defaultModel": {**model, "provider": ["x"]}},
        "defaultModel a string": lambda: {**llm, "defaultModel": "gpt"},
        "lone surrogate in a name": lambda: {**llm, "providers": [{**first, "name": "a\ud800b"}, *providers[1:]]},
        "control characters in a name": lambda: {**llm, "providers": [{**first, "name": "a\nb\x07"}, *providers[1:]]},
        "llm a list": lambda: [1, 2],
    }
    return variants


def bad_value(d: Path, c: Chooser) -> str:
    """The app's state replaced, through plyvel, by one of the wrong shape or encoding."""
    db, outer = _persist(d)
    try:
        if outer is None:
            return "no state"
        kinds = ["shape", "shape", "odd UTF-16 length", "not JSON", "slice not JSON", "no llm", "unknown format",
                 "empty", "latin-1 form", "text after the object"]
        kind = pick(c, kinds)
        if kind == "shape":
            llm = json.loads(outer["llm"]) if isinstance(outer.get("llm"), str) else {}
            variants = llm_damage(llm if isinstance(llm, dict) else {})
            name = pick(c, sorted(variants))
            changed = variants[name]()
            text = json.dumps({**outer, "llm": json.dumps(changed, ensure_ascii=False)}, ensure_ascii=False)
            raw = b"\x00" + text.encode("utf-16-le", "surrogatepass")
            kind = f"shape: {name}"
        elif kind == "odd UTF-16 length":
            raw = (db.get(PERSIST_KEY) or b"\x00") + b"x"
        elif kind == "not JSON":
            raw = b"\x00" + '{"llm": "{"'.encode("utf-16-le")
        elif kind == "slice not JSON":
            raw = b"\x00" + json.dumps({**outer, "llm": "{nope"}).encode("utf-16-le")
        elif kind == "no llm":
            raw = b"\x00" + json.dumps({k: v for k, v in outer.items() if k != "llm"}).encode("utf-16-le")
        elif kind == "unknown format":
            raw = b"\x07" + b"abc"
        elif kind == "empty":
            raw = b""
        elif kind == "text after the object":
            raw = b"\x00" + (json.dumps(outer, ensure_ascii=False) + " x").encode("utf-16-le", "surrogatepass")
        else:
            raw = b"\x01" + json.dumps(outer, ensure_ascii=True).encode("latin-1")
        db.put(PERSIST_KEY, raw)
        return kind
    finally:
        db.close()


V1_MUTATIONS: dict[str, Mutation] = {
    "flip log": flip_log,
    "flip table": flip_table,
    "flip MANIFEST": flip_manifest,
    "flip CURRENT": flip_current,
    "truncate": truncate,
    "zero page": zero_page,
    "append garbage": append_garbage,
    "crafted block": crafted_block,
    "crafted MANIFEST": crafted_manifest,
    "crafted batch": crafted_batch,
    "bad value": bad_value,
}


def mutate_v1(d: Path, c: Chooser, classes: Sequence[str] | None = None) -> tuple[str, str]:
    """Apply 1 to 3 mutations to the LevelDB at `d`; (class of the first, details of all)."""
    names = [n for n in V1_MUTATIONS if classes is None or n in classes
             if n not in ("flip table", "crafted block") or _store_files(d, "*.ldb")]
    done = []
    first = ""
    for _ in range(1 + (c.below(4) == 0) + (c.below(8) == 0)):
        name = pick(c, names)
        first = first or name
        try:
            done.append(f"{name}: {V1_MUTATIONS[name](d, c)}")
        except (plyvel.Error, IndexError, ValueError, struct.error, cramjam.DecompressionError) as e:
            done.append(f"{name}: not applicable ({type(e).__name__})")  # an earlier mutation broke its target
    return first, "; ".join(done)


# --- 2.x mutations ----------------------------------------------------------------------------------------


def _db(ud: Path) -> Path:
    return ud / "Data" / "cherrystudio.sqlite"


def _sql(ud: Path, *statements: str) -> None:
    conn = sqlite3.connect(_db(ud), isolation_level=None)
    try:
        for s in statements:
            conn.execute(s)
    finally:
        conn.close()


def v2_flip(ud: Path, c: Chooser) -> str:
    _sql(ud, "PRAGMA wal_checkpoint(TRUNCATE)")
    return _flip(_db(ud), c)


def v2_zero_page(ud: Path, c: Chooser) -> str:
    _sql(ud, "PRAGMA wal_checkpoint(TRUNCATE)")
    path = _db(ud)
    data = bytearray(path.read_bytes())
    page = 4096
    n = c.below(len(data) // page)
    data[n * page : (n + 1) * page] = bytes(page)
    path.write_bytes(bytes(data))
    return f"page {n}"


def v2_wal(ud: Path, c: Chooser) -> str:
    """Leave a change only in the WAL (as the app does between checkpoints), then tear or flip the WAL."""
    db, wal = _db(ud), _db(ud).with_name("cherrystudio.sqlite-wal")
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("UPDATE user_provider SET name = name || ' (in the log)' WHERE rowid IN "
                     "(SELECT rowid FROM user_provider LIMIT 3)")
        # Copied while open: closing the last connection folds the WAL into the database.
        files = {db: db.read_bytes(), wal: wal.read_bytes()}
    finally:
        conn.close()
    data = bytearray(files[wal])
    how = pick(c, ["torn", "flipped"])
    if how == "torn":
        data = data[: 32 + c.below(max(1, len(data) - 32))]
    else:
        i = c.below(len(data))
        data[i] ^= 1 << c.below(8)
    db.write_bytes(files[db])
    wal.write_bytes(bytes(data))
    db.with_name("cherrystudio.sqlite-shm").unlink(missing_ok=True)
    return f"{how} WAL ({len(data)} bytes)"


def v2_schema(ud: Path, c: Chooser) -> str:
    changes = {
        "drop user_model.capabilities": "ALTER TABLE user_model DROP COLUMN capabilities",
        "rename user_provider": "ALTER TABLE user_provider RENAME TO user_provider_old",
        "required unknown column": "ALTER TABLE user_provider ADD COLUMN secret TEXT NOT NULL DEFAULT 'x'",
        "drop app_state": "DROP TABLE app_state",
        "migration unfinished": "UPDATE app_state SET value = '{\"status\":\"in_progress\"}' "
                                "WHERE key = 'migration_v2_status'",
        "migration status not JSON": "UPDATE app_state SET value = 'completed?' WHERE key = 'migration_v2_status'",
        "no preference table": "DROP TABLE preference",
    }
    name = pick(c, sorted(changes))
    _sql(ud, "PRAGMA foreign_keys = OFF", changes[name])
    return name


# Rows of the wrong type or JSON shape, or text that is not UTF-8, by name.
ROW_EDITS = {
    "api_keys numbers": "UPDATE user_provider SET api_keys = '[1,2]'",
    "api_keys object": "UPDATE user_provider SET api_keys = '{\"key\":\"k\"}'",
    "api_keys key a number": "UPDATE user_provider SET api_keys = '[{\"key\":5}]'",
    "endpoint_configs a list": "UPDATE user_provider SET endpoint_configs = '[1]'",
    "endpoint config a string": "UPDATE user_provider SET endpoint_configs = '{\"openai-chat-completions\":\"x\"}'",
    "baseUrl a number": "UPDATE user_provider SET endpoint_configs = "
                        "'{\"openai-chat-completions\":{\"baseUrl\":3}}'",
    "provider_settings a list": "UPDATE user_provider SET provider_settings = '[]'",
    "auth_config a string": "UPDATE user_provider SET auth_config = '\"x\"'",
    "not JSON": "UPDATE user_provider SET api_keys = '[{'",
    "name a number": "UPDATE user_provider SET name = 42",
    "name not UTF-8": "UPDATE user_provider SET name = CAST(X'41FF0A42' AS TEXT)",
    "model name not UTF-8": "UPDATE user_model SET name = CAST(X'C328' AS TEXT)",
    "capabilities objects": "UPDATE user_model SET capabilities = '[{\"a\":1}]'",
    "capabilities a string": "UPDATE user_model SET capabilities = '\"vision\"'",
    "endpoint_types numbers": "UPDATE user_model SET endpoint_types = '[1]'",
    "pricing sides lists": "UPDATE user_model SET pricing = '{\"input\":[],\"output\":[]}'",
    "order_key a number": "UPDATE user_provider SET order_key = 7",
    "order_key odd": "UPDATE user_provider SET order_key = '!!'",
    "model_id a number": "UPDATE user_model SET model_id = 9 WHERE rowid = (SELECT min(rowid) FROM user_model)",
    "escaped lone surrogate": "UPDATE user_provider SET api_keys = '[{\"key\":\"\\ud800\",\"isEnabled\":true}]'",
    "is_enabled text": "UPDATE user_provider SET is_enabled = 'yes'",
    "huge integer": "UPDATE user_provider SET created_at = 9223372036854775807",
    "real number": "UPDATE user_model SET supports_streaming = 0.5",
    "blob": "UPDATE user_provider SET name = X'00FF'",
}


def v2_rows(ud: Path, c: Chooser) -> str:
    """One row given a value of the wrong type or JSON shape, or text that is not UTF-8."""
    edits = ROW_EDITS
    name = pick(c, sorted(edits))
    limit = pick(c, ["", " WHERE rowid = (SELECT max(rowid) FROM user_provider)"])
    statement = edits[name]
    if limit and "user_provider" in statement:
        statement += limit
    _sql(ud, "PRAGMA foreign_keys = OFF", statement)
    return name


V2_MUTATIONS: dict[str, Mutation] = {
    "flip page": v2_flip,
    "zero page": v2_zero_page,
    "torn WAL": v2_wal,
    "schema": v2_schema,
    "rows": v2_rows,
}


def mutate_v2(ud: Path, c: Chooser, classes: Sequence[str] | None = None) -> tuple[str, str]:
    names = [n for n in V2_MUTATIONS if classes is None or n in classes]
    name = pick(c, names)
    try:
        return name, f"{name}: {V2_MUTATIONS[name](ud, c)}"
    except sqlite3.Error as e:
        return name, f"{name}: not applicable ({e})"


# --- profiles ---------------------------------------------------------------------------------------------

VALID_PROFILES = [
    """\
version: 1
providers:
  - id: gw
    name: Gateway 🚀
    apiHost: https://gw.example/v1
    apiKey: sk-gw-0123456789abcdef
    models:
      - gpt-4.1
      - id: claude-sonnet-4
        name: Claude Sonnet 4
        capabilities: [vision, function_calling]
defaultModel: gw/gpt-4.1
""",
    """\
version: 1
providers:
  - id: relay-two
    apiHost: https://relay.example
    apiKey: sk-relay-5555555555555555
    rateLimit: 10
    extra_headers: {X-Team: 研发}
    apiOptions: {isNotSupportStreamOptions: true}
    models: [qwen3:32b, deepseek-r1]
""",
]


def _alias_bomb(c: Chooser) -> str:
    levels = 3 + c.below(8)
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "version: 1\nproviders: []\n" + "\n".join(lines) + "\n"


def _random_yaml(c: Chooser, depth: int = 0) -> str:
    scalars = ["1", "-0", "0x1F", "1e400", ".nan", "~", "true", "''", '"\\u0000"', "'a: b'", "&x 1", "*x",
               "!!binary AA==", "!!python/object:os.system x", "9" * (1 + c.below(6000)),
               "'" + "k" * c.below(70000) + "'", "[]", "{}",
               "? [a]\n: 1", "|\n  x", "\t", "\x07", "\ud800", "ｷｰ", "@", "%YAML 1.1\n---", "---\n---"]
    if depth > 3 or c.below(3) == 0:
        return pick(c, scalars)
    if c.below(2):
        return "[" + ", ".join(_random_yaml(c, depth + 1) for _ in range(c.below(4))) + "]"
    keys = ["version", "providers", "id", "models", "apiHost", "apiKey", "name", "defaultModel", "type", "x"]
    return "{" + ", ".join(f"{pick(c, keys)}: {_random_yaml(c, depth + 1)}" for _ in range(c.below(4))) + "}"


def _edit(text: str, c: Chooser) -> str:
    chars = list(text)
    for _ in range(1 + c.below(4)):
        i = c.below(len(chars) + 1)
        op = c.below(3)
        junk = pick(c, [":", "-", " ", "\n", "\t", "&", "*", "[", "{", '"', "'", "#", "\x00", "\x1b", "\u2028",
                        "\ufeff", "${", "}", "é", "🚀", "9" * 30])
        if op == 0 and chars:
            del chars[min(i, len(chars) - 1)]
        elif op == 1:
            chars.insert(i, junk)
        elif chars:
            chars[min(i, len(chars) - 1)] = junk
    return "".join(chars)


def _field_damage(c: Chooser) -> str:
    values = ["12345678901234567890123", "-1", ".inf", "[1]", "{a: 1}", "null", '"a\\nb"', '"\\x07"', "'   '",
              "https://", "ftp://x", "'${NOPE}'", '"' + "x" * 70000 + '"', "2e308", "0o777", "true"]
    fields = ["id", "name", "apiHost", "apiKey", "type", "rateLimit", "enabled", "models", "notes", "apiVersion",
              "extra_headers", "apiOptions", "replaceModels"]
    field, value = pick(c, fields), pick(c, values)
    base = VALID_PROFILES[0].replace("    name: Gateway 🚀\n", "")
    return base.replace("  - id: gw\n", f"  - id: gw\n    {field}: {value}\n") if field != "id" else \
        base.replace("  - id: gw\n", f"  - id: {value}\n")


# Damage no profile may get through: refused (exit 2), never accepted.
MUST_REFUSE = frozenset({"alias bomb", "alias cycle", "deep", "huge integer", "huge string"})


def mutate_profile(c: Chooser) -> tuple[str, str]:
    """(class, text) of a damaged profile."""
    kinds: dict[str, Callable[[], str]] = {
        "edited": lambda: _edit(pick(c, VALID_PROFILES), c),
        "field": lambda: _field_damage(c),
        "alias bomb": lambda: _alias_bomb(c),
        "alias cycle": lambda: "version: 1\nproviders: &p [*p]\n",
        "deep": lambda: "version: 1\nproviders: " + "[" * (20 + c.below(2000)) + "]" * 5 + "\n",
        "random": lambda: _random_yaml(c),
        "control character": lambda: VALID_PROFILES[0].replace("Gateway", "Gate\x07way" if c.below(2) else
                                                               '"Gate\\nway\\u0007"'),
        "huge integer": lambda: VALID_PROFILES[1].replace("rateLimit: 10", "rateLimit: " + "7" * (20 + c.below(9000))),
        "huge string": lambda: VALID_PROFILES[1].replace("sk-relay-5555555555555555", "k" * (70000 + c.below(90000))),
    }
    name = pick(c, sorted(kinds))
    return name, kinds[name]()


# --- running cherryconf and judging what it did -----------------------------------------------------------

ALLOWED_READ = (0, 4)  # the store reads, or it is refused as damaged
ALLOWED_WRITE = (0, 2, 3, 4)
FUZZ_PROFILE = """\
version: 1
providers:
  - id: fuzz-gw
    name: Fuzz 网关
    apiHost: https://fuzz.example
    apiKey: sk-fuzz-0123456789abcdef
    models: [gpt-4.1]
"""


def run_main(*args: str) -> tuple[int, str, str]:
    """cherryconf's real entry point, in this process (several times faster than a subprocess): exit code, out, err.

    The environment is this process's; a test runs under conftest's isolated home.
    """
    from cherryconf.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def message_problem(code: int, err: str, allowed: Sequence[int]) -> str | None:
    """What is wrong with how a run ended, or None: an exit code it may give, and one line when it fails."""
    if code not in allowed:
        return f"exit {code}: {err.strip()[-400:]}"
    if "Traceback" in err:
        return f"a traceback: {err.strip()[-400:]}"
    if code != 0 and (len(err.splitlines()) != 1 or not err.startswith("cherryconf: ")):
        return f"not one line: {err!r}"
    return None


def plyvel_or_error(d: Path) -> dict[bytes, bytes] | Exception:
    from testing.plyvel_view import plyvel_view

    try:
        return plyvel_view(d)
    except Exception as e:  # whatever the real LevelDB says, it refused
        return e


def _slices(value: bytes) -> dict[str, Any] | None:
    try:
        text = value[1:].decode("utf-16-le", "surrogatepass") if value[:1] == b"\x00" else value[1:].decode("latin-1")
        outer = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return None
    return outer if isinstance(outer, dict) else None


def _files(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file() and p.name not in ("LOCK", "LOG")}


def judge_v1(ud: Path, profile: Path, *, apply: bool = True) -> tuple[str, str | None]:
    """(outcome, broken promise or None) for cherryconf on the 1.x store in userData `ud`."""
    from cherryconf.errors import CherryconfError
    from cherryconf.stores.v1.leveldb import LevelDB

    d = ud / "Local Storage" / "leveldb"
    theirs = plyvel_or_error(d)
    code, _, err = run_main("--data-dir", str(ud), "--json", "providers")
    problem = message_problem(code, err, ALLOWED_READ)
    if problem:
        return "read crashed", problem
    try:
        ours: dict[bytes, bytes] | None = dict(LevelDB.open(d).items())
    except CherryconfError:
        ours = None
    if ours is not None and isinstance(theirs, Exception):
        return "read", f"cherryconf read a store plyvel (paranoid) refuses: {theirs!r}"[:500]
    if ours is not None and ours != theirs:
        return "read", "cherryconf's read differs from plyvel's"
    if code != 0:
        outcome = "refused: LevelDB damaged" if ours is None else "refused: content damaged"
        if not apply:
            return outcome, None
        files = _files(d)
        code, _, err = run_main("--data-dir", str(ud), "apply", str(profile), "--yes")
        problem = message_problem(code, err, (2, 3, 4)) or (None if _files(d) == files else "apply changed a store "
                                                                                               "it refused to read")
        return outcome, problem
    if not apply:
        return "read", None
    assert isinstance(theirs, dict)
    code, _, err = run_main("--data-dir", str(ud), "apply", str(profile), "--yes")
    problem = message_problem(code, err, ALLOWED_WRITE)
    if problem:
        return "apply crashed", problem
    if code != 0:
        return f"read; apply refused (exit {code})", None
    return "read; applied", _check_v1_after(d, theirs)


def _check_v1_after(d: Path, before: dict[bytes, bytes]) -> str | None:
    after = plyvel_or_error(d)
    if isinstance(after, Exception):
        return f"plyvel cannot read the store after apply: {after!r}"[:500]
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    others = [k for k in changed if k not in (PERSIST_KEY, *META_KEYS)]
    if others:
        return f"apply changed other keys: {others[:3]}"
    old, new = _slices(before.get(PERSIST_KEY, b"")), _slices(after.get(PERSIST_KEY, b""))
    if old is None or new is None:
        return "the state does not parse after apply"
    if list(old) != list(new) or any(old[k] != new[k] for k in old if k != "llm"):
        return "apply changed another slice or the order of the slices"
    llm = json.loads(new["llm"])
    if not any(p.get("id") == "fuzz-gw" for p in llm["providers"]):
        return "the provider applied is not in the store"
    return None


def dump_v2(ud: Path) -> dict[str, list[tuple[Any, ...]]] | Exception:
    """Every row of every table as SQLite reads it (bytes for text, so damage compares too), or its refusal."""
    try:
        conn = sqlite3.connect(f"{_db(ud).as_uri()}?mode=ro", uri=True)
        try:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            conn.text_factory = bytes
            return {t: sorted((tuple(r) for r in conn.execute(f'SELECT * FROM "{t}"')), key=repr) for t in tables}
        finally:
            conn.close()
    except sqlite3.Error as e:
        return e


def integrity(ud: Path) -> str:
    try:
        conn = sqlite3.connect(f"{_db(ud).as_uri()}?mode=ro", uri=True)
        try:
            return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error as e:
        return str(e)


def judge_v2(ud: Path, profile: Path, *, apply: bool = True) -> tuple[str, str | None]:
    """(outcome, broken promise or None) for cherryconf on the 2.x store in userData `ud`."""
    code, _, err = run_main("--data-dir", str(ud), "--json", "providers")
    problem = message_problem(code, err, ALLOWED_READ)
    if problem:
        return "read crashed", problem
    outcome = "read" if code == 0 else "refused"
    if not apply:
        return outcome, None
    before = dump_v2(ud)
    damaged = integrity(ud) != "ok"
    code, _, err = run_main("--data-dir", str(ud), "apply", str(profile), "--yes")
    problem = message_problem(code, err, ALLOWED_WRITE)
    if problem:
        return f"{outcome}; apply crashed", problem
    if code != 0:
        after = dump_v2(ud)
        same = (isinstance(before, Exception) and isinstance(after, Exception)) or before == after
        return f"{outcome}; apply refused (exit {code})", None if same else "a refused apply changed the store"
    if outcome == "refused":
        return "refused; applied", "apply wrote a store that cherryconf refused to read"
    if damaged:
        return "read; applied", "apply wrote a database SQLite finds damaged"
    return "read; applied", _check_v2_after(ud, before)


def _check_v2_after(ud: Path, before: dict[str, list[tuple[Any, ...]]] | Exception) -> str | None:
    after = dump_v2(ud)
    if isinstance(after, Exception) or isinstance(before, Exception):
        return f"SQLite cannot read the database after apply: {after!r}"
    if integrity(ud) != "ok":
        return "SQLite finds the database damaged after apply"
    for table in before.keys() | after.keys():
        old, new = before.get(table, []), after.get(table, [])
        if table in ("user_provider", "user_model"):
            # Rows of the provider applied are new; every other row is byte for byte as before.
            column = 0 if table == "user_provider" else 1
            new = [r for r in new if r[column] != b"fuzz-gw"]
            if len(after[table]) == len(new):
                return f"the provider applied has no row in {table}"
        if old != new:
            return f"apply changed rows of {table} it had no business with"
    return None
