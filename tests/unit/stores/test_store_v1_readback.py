"""The read-back after a 1.x write: it reads the store from disk again and, when the value there is the one just
written, takes the slices' places from the write instead of decoding and scanning megabytes of state again."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from testing.plyvel_view import plyvel_items
from testing.v1state import PERSIST_KEY, cherry_state, make_userdata

from cherryconf.stores import install
from cherryconf.stores.v1 import V1Store, localstorage, persist


def ascii_state() -> dict[str, str]:
    """cherry_state() with every slice's JSON escaped to ASCII: the value is stored as Latin-1."""
    items = cherry_state(padding=2000)
    outer = json.loads(items[PERSIST_KEY])
    slices = {k: json.dumps(json.loads(v)) for k, v in outer.items()}
    items[PERSIST_KEY] = json.dumps(slices)
    return items


def plan(providers: list[dict[str, Any]], moved: dict[tuple[str, str], str] | None = None) -> Any:
    # What V1Store.write reads of a Plan.
    return SimpleNamespace(after=providers, default_model_after=None, moved=moved or {})


def extra(pid: str) -> dict[str, Any]:
    return {"id": pid, "type": "openai", "name": "名前 " + pid, "apiKey": "k", "apiHost": "https://h", "models": []}


@pytest.mark.parametrize("state", ["utf-16", "latin-1"])
@pytest.mark.parametrize("moved", [False, True])
def test_read_back_after_a_write_reads_what_a_fresh_read_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              state: str, moved: bool) -> None:
    items = cherry_state(padding=2000) if state == "utf-16" else ascii_state()
    ud = make_userdata(tmp_path, items)
    store = V1Store(install.inspect(ud, "test"))
    before = store.read()
    renamed = {("nobody", "none"): "gw"} if moved else None
    store.write(plan([extra("gw"), *before.providers], renamed))

    scans: list[int] = []
    real = persist.slice_spans
    monkeypatch.setattr(persist, "slice_spans", lambda blob: scans.append(1) or real(blob))
    assert store.read() == V1Store(install.inspect(ud, "test")).read()
    assert len(scans) == 1  # the fresh store's: the written one's read-back scanned nothing

    # A second write from the remembered places gives what a fresh store's would.
    store.write(plan([extra("gw2"), *store.read().providers], renamed))
    fresh = V1Store(install.inspect(ud, "test"))
    assert store.read() == fresh.read()
    assert [p["id"] for p in fresh.read().providers][:2] == ["gw2", "gw"]
    blob = plyvel_items(ud / "Local Storage" / "leveldb")[PERSIST_KEY]  # as the real LevelDB reads it
    assert json.loads(blob).keys() == json.loads(items[PERSIST_KEY]).keys()  # every other slice kept
    assert {k: v for k, v in json.loads(blob).items() if k != "llm"} == \
        {k: v for k, v in json.loads(items[PERSIST_KEY]).items() if k != "llm"}


def test_a_value_changed_on_disk_is_read_in_full(tmp_path: Path) -> None:
    ud = make_userdata(tmp_path, cherry_state(padding=2000))
    store = V1Store(install.inspect(ud, "test"))
    store.write(plan([extra("gw"), *store.read().providers]))
    items = cherry_state(padding=2000)
    localstorage.write_items(ud / "Local Storage" / "leveldb", {PERSIST_KEY: items[PERSIST_KEY]})
    assert "gw" not in [p["id"] for p in store.read().providers]
