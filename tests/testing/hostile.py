"""Hostile inputs, real ones: gateways that send bodies no API sends, and import sources built to cost without
bound. Shared by tests/e2e/test_hostile_input.py and scripts/fuzz_campaign.py.
"""

from __future__ import annotations

import contextlib
import functools
import json
import random
import sqlite3
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

KEY = "sk-hostile-0123456789abcdefghijklmnop"


@functools.cache
def gzip_of_zeros(megabytes: int) -> bytes:
    """A gzip member that inflates to `megabytes` MiB of zeros (about a thousandth of that on the wire)."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    return b"".join(packer.compress(block) for _ in range(megabytes)) + packer.flush()


# --- gateways ---------------------------------------------------------------------------------------------------

def _endless(write: Callable[[bytes], Any], piece: bytes) -> None:
    with contextlib.suppress(OSError):
        while True:
            write(piece)


BODIES: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}


def _body(name: str) -> Callable[[Callable[[BaseHTTPRequestHandler], None]], Callable[[BaseHTTPRequestHandler], None]]:
    def register(f: Callable[[BaseHTTPRequestHandler], None]) -> Callable[[BaseHTTPRequestHandler], None]:
        BODIES[name] = f
        return f
    return register


def _head(h: BaseHTTPRequestHandler, status: int, ctype: str, extra: dict[str, str] | None = None,
          length: int | None = None) -> None:
    h.send_response(status)
    h.send_header("Content-Type", ctype)
    for k, v in (extra or {}).items():
        h.send_header(k, v)
    if length is not None:
        h.send_header("Content-Length", str(length))
    h.send_header("Connection", "close")
    h.end_headers()


@_body("gzip bomb")
def _gzip_bomb(h: BaseHTTPRequestHandler) -> None:
    body = gzip_of_zeros(512)  # 512 MiB inflated, 0.5 MB sent
    _head(h, 200, "application/json", {"Content-Encoding": "gzip"}, len(body))
    with contextlib.suppress(OSError):
        h.wfile.write(body)


@_body("endless body")
def _endless_body(h: BaseHTTPRequestHandler) -> None:
    _head(h, 200, "application/json")
    h.wfile.write(b'{"data": [')
    _endless(h.wfile.write, b'{"id": "m"},' * 4096)


@_body("endless event line")
def _endless_line(h: BaseHTTPRequestHandler) -> None:
    if h.command == "GET":
        body = json.dumps({"data": [{"id": "m"}]}).encode()
        _head(h, 200, "application/json", length=len(body))
        h.wfile.write(body)
        return
    _head(h, 200, "text/event-stream")
    h.wfile.write(b"data: ")
    _endless(h.wfile.write, b"a" * 65536)


@_body("big error with the key")
def _big_error(h: BaseHTTPRequestHandler) -> None:
    text = ("invalid key " + KEY[:20] + " or " + KEY[-12:] + " ") * (4 * 1024 * 1024 // 64)
    body = json.dumps({"error": {"message": text}}).encode()
    _head(h, 400, "application/json", length=len(body))
    with contextlib.suppress(OSError):
        h.wfile.write(body)


@contextlib.contextmanager
def gateway(kind: str) -> Iterator[str]:
    """A loopback server answering every request with the hostile body `kind`; yields its base URL."""
    send = BODIES[kind]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            send(self)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            send(self)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def profile_for(url: str) -> str:
    return (f"version: 1\nproviders:\n  - id: hostile\n    name: Hostile\n    apiHost: {url}\n"
            f"    apiKey: {KEY}\n    models: [m]\n")


# --- import sources -----------------------------------------------------------------------------------------------

def zip_bomb(path: Path, megabytes: int = 2048) -> Path:
    """A 2.x backup zip whose database inflates to `megabytes` MiB (about 2 MB on disk for 2 GiB)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        info = zipfile.ZipInfo("Data/cherrystudio.sqlite")
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as f:
            block = bytes(1024 * 1024)
            for _ in range(megabytes):
                f.write(block)
    return path


def data_json_bomb(path: Path, megabytes: int = 2048) -> Path:
    """A 1.x backup zip whose data.json is one string of `megabytes` MiB before localStorage."""
    with (zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z,
          z.open("data.json", "w", force_zip64=True) as f):
        f.write(b'{"time": 1, "version": 5, "junk": "')
        block = b"a" * (1024 * 1024)
        for _ in range(megabytes):
            f.write(block)
        f.write(b'", "localStorage": {}}')
    return path


def recursive_view_database(path: Path) -> Path:
    """A 2.x-looking database whose user_model is a view that never ends."""
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE user_provider (provider_id TEXT PRIMARY KEY, name TEXT);
        CREATE TABLE app_state (key TEXT PRIMARY KEY, value TEXT);
        CREATE VIEW user_model AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)
            SELECT i AS id, 'p' AS provider_id, randomblob(1000) AS name FROM n ORDER BY i DESC;
    """)
    conn.close()
    return path


def zeroblob_ccswitch(path: Path) -> Path:
    """A 12 KB cc-switch database whose providers table computes a 900 MB value for each row it reads."""
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE providers (id TEXT, app_type TEXT, name TEXT, settings_config TEXT, meta TEXT,
            category TEXT, sort_index INTEGER, created_at INTEGER);
        CREATE TABLE provider_endpoints (id TEXT);
        INSERT INTO providers (id, app_type, name, settings_config, meta) VALUES ('a', 'claude', 'x', '{}', '{}');
        PRAGMA writable_schema = ON;
    """)
    # A virtual column is not stored, so the rows stay valid once the schema names one (SQLite would compute it
    # on INSERT, so it is added afterwards).
    conn.execute("UPDATE sqlite_master SET sql = replace(sql, 'created_at INTEGER)', 'created_at INTEGER, "
                 "huge BLOB GENERATED ALWAYS AS (zeroblob(900000000)) VIRTUAL)') WHERE name = 'providers'")
    conn.commit()
    conn.close()
    return path


def deep_json(path: Path, levels: int = 100_000, json5: bool = False) -> Path:
    head = "// a comment makes it JSON5\n" if json5 else ""
    path.write_text(head + '{"Providers": ' + "[" * levels + "]" * levels + "}", "utf-8")
    return path


def big_json5(path: Path, megabytes: int = 4) -> Path:
    """A claude-code-router config of `megabytes` MB that only JSON5 reads (a comment, trailing commas)."""
    entry = '{name: "p", api_base_url: "https://h.example/v1", api_key: "k", models: ["m",],},\n'
    text = "// ccr\n{Providers: [\n" + entry * (megabytes * 1024 * 1024 // len(entry)) + "]}\n"
    path.write_text(text, "utf-8")
    return path


# --- random variants, for scripts/fuzz_campaign.py -----------------------------------------------------------------

def backup_zip(path: Path, state: dict[str, str]) -> Path:
    """A 1.x backup zip the way the app writes one: data.json = {time, version, localStorage, indexedDB}."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("data.json", json.dumps({"time": 1, "version": 5, "localStorage": state, "indexedDB": {}},
                                           ensure_ascii=False))
    return path


def flip_bytes(path: Path, rng: random.Random, n: int = 8) -> None:
    data = bytearray(path.read_bytes())
    for _ in range(n):
        i = rng.randrange(len(data))
        data[i] = rng.randrange(256)
    path.write_bytes(bytes(data))


def traversal_zip(path: Path, rng: random.Random) -> Path:
    names = ["../escape.sqlite", "/abs/Data/cherrystudio.sqlite", "Local Storage/leveldb/../../../x",
             "Data/../../y", "Local Storage/leveldb/CURRENT", "Data/cherrystudio.sqlite", "C:\\\\evil"]
    with zipfile.ZipFile(path, "w") as z:
        for name in rng.sample(names, rng.randint(1, len(names))):
            z.writestr(name, rng.randbytes(rng.randint(0, 4096)))
    return path


def huge_number_export(path: Path, digits: int) -> Path:
    path.write_text(json.dumps({"version": 1, "providers": [{
        "id": "relay", "name": "Relay", "endpointConfigs": {"openai-chat-completions": {"baseUrl": "https://r.example"}},
        "apiKeys": [{"id": "a", "key": KEY, "isEnabled": True}], "isEnabled": True, "models": [],
        "settings": {"rateLimit": int("7" * digits)}}]}), "utf-8")
    return path


# Import sources by class: (make(path, rng) -> source, must it be refused).
IMPORT_CLASSES: dict[str, tuple[Callable[[Path, random.Random], Path], bool]] = {
    "deep JSON": (lambda p, r: deep_json(p / "deep.json", r.randint(65, 200_000)), True),
    "deep JSON5": (lambda p, r: deep_json(p / "deep5.json", r.randint(65, 200_000), json5=True), True),
    "big JSON5": (lambda p, r: big_json5(p / "ccr.json", r.randint(1, 6)), True),
    "recursive view": (lambda p, r: recursive_view_database(p / "view.sqlite"), True),
    "generated column": (lambda p, r: zeroblob_ccswitch(p / "cc.db"), True),
    "traversal zip": (lambda p, r: traversal_zip(p / "t.zip", r), False),
    "huge number": (lambda p, r: huge_number_export(p / "e.json", r.randint(17, 4200)), False),
    "random bytes": (lambda p, r: _write(p / "junk.json", r.randbytes(r.randint(0, 65536))), False),
    "random JSON text": (lambda p, r: _write(p / "junk.json", _random_json(r).encode()), False),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _random_json(rng: random.Random, depth: int = 0) -> str:
    atoms = ["1", "-0", "1e400", "null", "true", '"x"', '"\\ud800"', "'single'", "/* c */ 1", "NaN", "Infinity",
             "9" * rng.randint(1, 5000), '"' + "k" * rng.randint(0, 70000) + '"']
    if depth > 4 or rng.random() < 0.3:
        return rng.choice(atoms)
    if rng.random() < 0.5:
        return "[" + ",".join(_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))) + "]"
    keys = ['"Providers"', '"providers"', '"version"', '"name"', '"api_base_url"', '"models"', "unquoted"]
    return "{" + ",".join(f"{rng.choice(keys)}: {_random_json(rng, depth + 1)}" for _ in range(rng.randint(0, 4))) + "}"


def random_body(rng: random.Random) -> tuple[int, dict[str, str], bytes]:
    """A status, headers and body no gateway should send: junk, wrong codings, wrong types, a lying length."""
    status = rng.choice([200, 200, 400, 401, 429, 500, 502])
    ctype = rng.choice(["application/json", "text/event-stream", "text/html", "application/octet-stream", ""])
    body = rng.choice([rng.randbytes(rng.randint(0, 200_000)), _random_json(rng).encode(),
                       b"data: " + rng.randbytes(rng.randint(0, 5000)) + b"\n\n",
                       b"<html><title>" + b"x" * rng.randint(0, 100_000) + b"</title>"])
    headers = {"Content-Type": ctype} if ctype else {}
    coding = rng.choice(["", "", "gzip", "deflate", "br", "gzip, gzip", "identity"])
    if coding == "gzip":
        body = gzip_of_zeros(rng.randint(1, 64)) if rng.random() < 0.5 else zlib.compress(body)
    if coding:
        headers["Content-Encoding"] = coding
    return status, headers, body


@contextlib.contextmanager
def raw_gateway(status: int, headers: dict[str, str], body: bytes) -> Iterator[str]:
    """A loopback server answering every request with exactly this status, these headers and this body."""
    def send(h: BaseHTTPRequestHandler) -> None:
        _head(h, status, headers.get("Content-Type", ""), {k: v for k, v in headers.items() if k != "Content-Type"},
              len(body))
        with contextlib.suppress(OSError):
            h.wfile.write(body)

    BODIES["raw"] = send
    with gateway("raw") as url:
        yield url
