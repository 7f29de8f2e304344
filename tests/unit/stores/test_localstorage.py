"""Chromium's localStorage layout: string encoding, origins, and the commit write_items appends."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import plyvel
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from testing.plyvel_view import plyvel_view, varint

from cherryconf.errors import AppRunning, StoreError
from cherryconf.stores.v1.leveldb import LevelDB, locked
from cherryconf.stores.v1.localstorage import (
    FILE_ORIGIN,
    decode,
    encode,
    encode_replacing,
    encode_replacing_spans,
    read_item,
    read_origin,
    read_raw,
    write_encoded,
    write_items,
)

DEV_ORIGIN = "http://localhost:5173"
NOW = datetime(2025, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)
NOW_MICROS = 13_393_252_800_123_456  # NOW in microseconds since 1601-01-01 UTC


def data_key(key: str, origin: str = FILE_ORIGIN) -> bytes:
    return b"_" + origin.encode() + b"\x00" + encode(key)


def proto_fields(message: bytes) -> dict[int, int]:
    """Decode a protobuf of varint fields only, as META and METAACCESS are."""
    fields: dict[int, int] = {}
    pos = 0
    while pos < len(message):
        tag = message[pos]
        assert tag & 7 == 0
        pos += 1
        value = shift = 0
        while True:
            byte = message[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        fields[tag >> 3] = value
    return fields


def size_of(items: Mapping[str, str]) -> int:
    return sum(len(encode(k)) + len(encode(v)) for k, v in items.items())


def chromium_db(path: Path, items: Mapping[str, str], dev_items: Mapping[str, str] = {}) -> Path:
    """A closed LevelDB laid out as Chromium's localStorage, written by the real LevelDB."""
    db = plyvel.DB(str(path), create_if_missing=True)
    db.put(b"VERSION", b"1")
    for origin, entries in ((FILE_ORIGIN, items), (DEV_ORIGIN, dev_items)):
        for key, value in entries.items():
            db.put(data_key(key, origin), encode(value))
        db.put(b"METAACCESS:" + origin.encode(), b"\x08" + varint(NOW_MICROS - 10**9))
        db.put(b"META:" + origin.encode(), b"\x08" + varint(NOW_MICROS - 10**9) + b"\x10" + varint(size_of(entries)))
    db.close()
    return path


# --- encoding -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("", b"\x01"),
        ("persist:cherry-studio", b"\x01persist:cherry-studio"),
        ("café ÿ", b"\x01caf\xe9 \xff"),
        ("中", b"\x00\x2d\x4e"),
        ("aĀ", b"\x00a\x00\x00\x01"),
        ("😀", b"\x00\x3d\xd8\x00\xde"),  # a surrogate pair, as in a JS string
        ("\ud800x", b"\x00\x00\xd8x\x00"),  # a lone surrogate survives
    ],
)
def test_encoding_is_chromiums(text: str, stored: bytes) -> None:
    assert encode(text) == stored
    assert decode(stored) == text


def test_an_empty_value_reads_as_empty_like_chromium() -> None:
    assert decode(b"") == ""


@pytest.mark.parametrize("stored", [b"\x02abc", b"\x00abc", b"\xff"])
def test_undecodable_strings_are_refused(stored: bytes) -> None:
    with pytest.raises(StoreError):
        decode(stored)


# JS strings are UTF-16 code units, lone surrogates included.
js_chars = st.one_of(st.characters(), st.characters(categories=["Cs"]))
SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


@given(st.text(js_chars))
def test_every_string_round_trips(text: str) -> None:
    stored = encode(text)
    assert encode(decode(stored)) == stored
    if not SURROGATE_PAIR.search(text):  # Python keeps a pair as two characters until it is decoded
        assert decode(stored) == text


@given(st.binary().filter(lambda b: len(b) % 2 == 0))
def test_every_stored_utf16_string_round_trips(payload: bytes) -> None:
    text = decode(b"\x00" + payload)
    assert decode(encode(text)) == text
    if any(ord(c) > 0xFF for c in text):  # else Chromium too would store it as Latin-1
        assert encode(text) == b"\x00" + payload


# Texts that mix Latin-1, CJK, emoji and lone surrogates, so that both stored formats and the splice occur.
mixed_text = st.text(st.sampled_from(["a", "é", "ÿ", "中", "😀", "\ud800", "\udc00", '"', "\\"]), max_size=12)


@given(text=mixed_text, new=mixed_text, cut=st.tuples(st.integers(0, 12), st.integers(0, 12)), utf16=st.booleans())
def test_encode_replacing_is_encoding_the_replaced_text(text: str, new: str, cut: tuple[int, int], utf16: bool) -> None:
    stored = b"\x00" + text.encode("utf-16-le", "surrogatepass") if utf16 else encode(text)
    text = decode(stored)  # a stored string is whatever decode() makes of it (pairs joined)
    start, end = sorted(min(c, len(text)) for c in cut)
    assert encode_replacing(stored, text, (start, end), new) == encode(text[:start] + new + text[end:])


@given(text=mixed_text, news=st.lists(mixed_text, min_size=1, max_size=3),
       cuts=st.lists(st.integers(0, 12), min_size=6, max_size=6), utf16=st.booleans())
def test_encode_replacing_spans_is_encoding_the_replaced_text(text: str, news: list[str], cuts: list[int],
                                                               utf16: bool) -> None:
    stored = b"\x00" + text.encode("utf-16-le", "surrogatepass") if utf16 else encode(text)
    text = decode(stored)
    bounds = sorted(min(c, len(text)) for c in cuts[: 2 * len(news)])
    spans = list(zip(bounds[::2], bounds[1::2], strict=True))  # sorted, so they do not overlap
    assume(len(set(spans)) == len(spans))  # one replacement per span
    expected, done = "", 0
    for (start, end), new in zip(spans, news, strict=True):
        expected, done = expected + text[done:start] + new, end
    replaced = encode_replacing_spans(stored, text, dict(zip(spans, news, strict=True)))
    assert replaced == encode(expected + text[done:])


# --- reading ------------------------------------------------------------------------------------------


def test_read_origin_and_raw(tmp_path: Path) -> None:
    items = {"persist:cherry-studio": '{"llm":"{}"}', "中文键": "值 😀", "i18nextLng": "zh-CN"}
    path = chromium_db(tmp_path / "db", items, {"dev": "only"})
    db = LevelDB.open(path)
    assert read_origin(db) == items
    assert read_origin(db, DEV_ORIGIN) == {"dev": "only"}
    raw = read_raw(db)
    assert set(raw) == {data_key(k) for k in items} | {b"META:file://", b"METAACCESS:file://"}
    assert raw[data_key("中文键")] == encode("值 😀")
    assert proto_fields(raw[b"META:file://"]) == {1: NOW_MICROS - 10**9, 2: size_of(items)}
    assert read_origin(LevelDB.open(chromium_db(tmp_path / "empty", {}))) == {}
    for key, value in items.items():
        assert read_item(db, key) == encode(value)
    assert read_item(db, "dev") is None
    assert read_item(db, "dev", DEV_ORIGIN) == encode("only")


def test_read_item_checks_the_origin_as_read_origin_does(tmp_path: Path) -> None:
    path = chromium_db(tmp_path / "db", {"persist:cherry-studio": "{}"})
    db = plyvel.DB(str(path))
    db.put(data_key("damaged"), b"\x02?")
    db.put(b"_file://\x00\x00" + "persist:cherry-studio".encode("utf-16-le"), encode("UTF-16 key"))
    db.close()
    with pytest.raises(StoreError, match="damaged"):
        read_item(LevelDB.open(path), "persist:cherry-studio")
    db = plyvel.DB(str(path))
    db.delete(data_key("damaged"))
    db.close()
    # Two encodings of one key: the one read_origin keeps (the last in key order) is the one read.
    reader = LevelDB.open(path)
    assert read_item(reader, "persist:cherry-studio") == encode(read_origin(reader)["persist:cherry-studio"])


# --- writing ------------------------------------------------------------------------------------------


def test_write_items_is_one_chromium_commit(tmp_path: Path) -> None:
    before = {"persist:cherry-studio": "old", "other": "kept"}
    path = chromium_db(tmp_path / "db", before, {"dev": "only"})
    untouched = {k: v for k, v in plyvel_view(path).items() if not k.startswith((b"_file://", b"META:file", b"METAA"))}
    log = max(path.glob("*.log"))
    start = log.stat().st_size

    write_items(path, {"persist:cherry-studio": "新的 state", "added": "x"}, now=NOW)

    after = {"persist:cherry-studio": "新的 state", "other": "kept", "added": "x"}
    stored = plyvel_view(path)
    assert read_origin(LevelDB.open(path)) == after
    assert {k: v for k, v in stored.items() if k.startswith(b"_file://")} == {
        data_key(k): encode(v) for k, v in after.items()
    }
    assert proto_fields(stored[b"META:file://"]) == {1: NOW_MICROS, 2: size_of(after)}
    assert proto_fields(stored[b"METAACCESS:file://"]) == {1: NOW_MICROS}
    assert {k: v for k, v in stored.items() if k in untouched} == untouched  # VERSION, the other origin
    assert read_raw(LevelDB.open(path)) == {
        k: v for k, v in stored.items() if k.startswith(b"_file://") or k.endswith(b":file://")
    }
    # One batch, in Chromium's order: data, then METAACCESS, then META.
    tail = log.read_bytes()[start:]
    data_at = tail.index(data_key("persist:cherry-studio"))
    assert data_at < tail.index(data_key("added")) < tail.index(b"METAACCESS:file://") < tail.index(b"META:file://")
    assert tail.count(b"file://") == 4


def test_write_items_in_another_origin_counts_only_that_origin(tmp_path: Path) -> None:
    path = chromium_db(tmp_path / "db", {"a": "1"}, {"dev": "only"})
    write_items(path, {"dev": "changed"}, DEV_ORIGIN, now=NOW)
    stored = plyvel_view(path)
    assert proto_fields(stored[b"META:" + DEV_ORIGIN.encode()])[2] == size_of({"dev": "changed"})
    assert proto_fields(stored[b"META:file://"])[2] == size_of({"a": "1"})


def test_write_items_into_a_store_without_metadata(tmp_path: Path) -> None:
    path = tmp_path / "db"
    plyvel.DB(str(path), create_if_missing=True).close()
    write_items(path, {"k": "v"}, now=datetime(1601, 1, 1, 0, 0, 1, tzinfo=UTC))
    stored = plyvel_view(path)
    assert stored == {
        data_key("k"): b"\x01v",
        b"METAACCESS:file://": b"\x08\xc0\x84\x3d",
        b"META:file://": stored[b"META:file://"],
    }
    assert proto_fields(stored[b"META:file://"]) == {1: 1_000_000, 2: 4}


def test_write_items_defaults_to_now(tmp_path: Path) -> None:
    path = chromium_db(tmp_path / "db", {})
    before = datetime.now(UTC)
    write_items(path, {"k": "v"})
    stamp = proto_fields(plyvel_view(path)[b"META:file://"])[1]
    written = datetime(1601, 1, 1, tzinfo=UTC) + timedelta(microseconds=stamp)
    assert before <= written <= datetime.now(UTC)


def test_write_items_refuses_while_the_app_runs(tmp_path: Path) -> None:
    path = chromium_db(tmp_path / "db", {"a": "1"})
    script = f"import plyvel, sys\ndb = plyvel.DB({str(path)!r})\nprint('ready', flush=True)\nsys.stdin.read()"
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        assert proc.stdout.readline() == "ready\n"
        with pytest.raises(AppRunning):
            write_items(path, {"a": "2"})
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
    assert read_origin(LevelDB.open(path)) == {"a": "1"}


def test_write_items_inside_a_held_lock(tmp_path: Path) -> None:
    path = chromium_db(tmp_path / "db", {"a": "1"})
    with locked(path):
        write_items(path, {"a": "2"}, now=NOW)
        write_items(path, {"b": "3"}, now=NOW)
    assert read_origin(LevelDB.open(path)) == {"a": "2", "b": "3"}
    assert proto_fields(plyvel_view(path)[b"META:file://"])[2] == size_of({"a": "2", "b": "3"})


strings = st.one_of(
    st.text(st.characters(max_codepoint=0xFF), max_size=20),
    st.text(max_size=20),
    st.text(st.sampled_from("中文😀é\ud800"), max_size=20000),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.dictionaries(strings, strings, max_size=4), change=st.dictionaries(strings, strings, max_size=4))
def test_written_items_read_back_everywhere(tmp_path: Path, before: dict[str, str], change: dict[str, str]) -> None:
    path = chromium_db(Path(tempfile.mkdtemp(dir=tmp_path)) / "db", before)
    write_items(path, change, now=NOW)
    after = before | change
    assert read_origin(LevelDB.open(path)) == after
    stored = plyvel_view(path)
    assert {k: v for k, v in stored.items() if k.startswith(b"_file://")} == {
        data_key(k): encode(v) for k, v in after.items()
    }
    assert proto_fields(stored[b"META:file://"])[2] == size_of(after)


def test_write_encoded_is_write_items(tmp_path: Path) -> None:
    first = chromium_db(tmp_path / "a", {"persist:cherry-studio": "old", "other": "kept"})
    second = chromium_db(tmp_path / "b", {"persist:cherry-studio": "old", "other": "kept"})
    write_items(first, {"persist:cherry-studio": "新的 😀"}, now=NOW)
    write_encoded(second, {"persist:cherry-studio": encode("新的 😀")}, now=NOW)
    assert plyvel_view(first) == plyvel_view(second)


def test_an_8_mb_value(tmp_path: Path) -> None:
    blob = "配置" * (2 * 1024 * 1024)  # 4 M UTF-16 code units: 8 MB stored
    path = chromium_db(tmp_path / "db", {"persist:cherry-studio": "x" + blob[1:]})
    write_items(path, {"persist:cherry-studio": blob}, now=NOW)
    assert read_origin(LevelDB.open(path)) == {"persist:cherry-studio": blob}
    assert plyvel_view(path)[data_key("persist:cherry-studio")] == encode(blob)
