"""The 2.x store on real SQLite databases built from the app's DDL (tests/testing/v2db.py): mapping, writing,
restoring."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from testing import v2db
from testing.privacy import assert_private
from testing.winlane import KILLED

from cherryconf.domain import plan
from cherryconf.errors import AppRunning, BadInput, StoreError
from cherryconf.formats import profile
from cherryconf.stores import v2
from cherryconf.stores.install import Install
from cherryconf.stores.v2 import V2Store

PACKAGE_ROOT = Path(v2.__file__).resolve().parents[3]  # cherryconf/stores/v2/__init__.py -> the checkout

GW = {"id": "gw", "name": "Gateway", "apiHost": "https://gw.example/v1", "apiKey": "sk-1",
      "models": ["gpt-4.1", {"id": "claude-sonnet-4", "name": "Claude Sonnet 4",
                             "capabilities": ["vision", "function_calling", "web_search"]}]}


def load(*providers: dict[str, Any], default: str | None = None) -> profile.LoadedProfile:
    data: dict[str, Any] = {"version": 1, "providers": list(providers)}
    if default:
        data["defaultModel"] = default
    return profile.parse(data, "p.yaml", env={}, app_version=(2, 0, 7))


def make_plan(store: V2Store, loaded: profile.LoadedProfile) -> plan.Plan:
    state = store.read()
    return plan.make(state.providers, loaded.providers, loaded.default_model, state.default_model, state.model_refs,
                     base=store.catalog_capabilities)


def apply(store: V2Store, loaded: profile.LoadedProfile) -> plan.Plan:
    p = make_plan(store, loaded)
    with store.exclusive():
        store.write(p)
    return p


def rows(install: Install, sql: str, *args: Any) -> list[dict[str, Any]]:
    conn = v2db.connect(install)
    try:
        return [dict(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def health(install: Install) -> tuple[str, list[Any], str, int]:
    conn = v2db.connect(install)
    try:
        return (conn.execute("PRAGMA integrity_check").fetchone()[0],
                conn.execute("PRAGMA foreign_key_check").fetchall(),
                conn.execute("PRAGMA journal_mode").fetchone()[0],
                conn.execute("SELECT count(*) FROM user_model WHERE preset_model_id IS NULL AND (name IS NULL OR "
                             "capabilities IS NULL OR supports_streaming IS NULL)").fetchone()[0])
    finally:
        conn.close()


def without(dump: dict[str, list[dict[str, Any]]], provider_id: str) -> dict[str, list[dict[str, Any]]]:
    return {t: [r for r in rs if r.get("provider_id") != provider_id] for t, rs in dump.items()}


@pytest.fixture(params=v2db.SHAPES)
def install(request: pytest.FixtureRequest, tmp_path: Path) -> Install:
    return v2db.build(tmp_path / "userData", request.param)


def shape_of(install: Install) -> str:
    cols = {r["name"] for r in rows(install, "PRAGMA table_info(user_provider)")}
    return "release" if "api_features" in cols else "later"


# --- reading --------------------------------------------------------------------------------------------------


def test_read_maps_rows_to_1x_providers_in_order(install: Install) -> None:
    state = V2Store(install).read()
    by_id = {p["id"]: p for p in state.providers}
    assert [p["id"] for p in state.providers] == ["silicon", "deepseek", "anthropic", "openai", "azure-openai",
                                                  "gemini", "cherryai", "relay"]
    openai = by_id["openai"]
    assert openai["type"] == "openai-response"  # the built-in OpenAI calls /responses, as in late 1.x
    assert (openai["apiHost"], openai["apiKey"], openai["enabled"], openai["isSystem"]) == (
        "https://api.openai.com", "", False, True)
    assert by_id["anthropic"]["type"] == "anthropic" and by_id["gemini"]["type"] == "gemini"
    assert by_id["azure-openai"]["type"] == "azure-openai"
    assert by_id["cherryai"]["enabled"] is True
    relay = by_id["relay"]
    assert relay["type"] == "openai" and relay["isSystem"] is False and relay["enabled"] is True
    assert relay["apiKey"] == "sk-on"  # the switched-off key is not part of apiKey
    assert relay["apiHost"] == "https://relay.example"
    assert relay["notes"] == "from 1.x" and relay["rateLimit"] == 5
    assert ("apiOptions" in relay) == (shape_of(install) == "release")
    gpt, emb, o3 = relay["models"]
    assert gpt == {"id": "gpt-4o", "provider": "relay", "name": "GPT-4o", "group": "gpt-4o",
                   "supported_text_delta": True,
                   "capabilities": [{"type": "function_calling", "isUserSelected": True},
                                    {"type": "vision", "isUserSelected": True}]}  # image-generation has no 1.x name
    assert emb["capabilities"] == [{"type": "embedding", "isUserSelected": True}]
    assert emb["endpoint_type"] == "openai"
    assert "capabilities" not in o3
    assert state.default_model == by_id["cherryai"]["models"][0]
    assert set(state.model_refs) == {"defaultModel", "topicNamingModel", "quickModel", "translateModel"}


def test_read_refuses_until_the_app_finished_migrating(tmp_path: Path) -> None:
    for i, status in enumerate(("running", "failed", None)):
        install = v2db.build(tmp_path / str(i), migration_status=status)
        with pytest.raises(StoreError, match=r"has not finished upgrading its data to 2\.x"):
            V2Store(install).read()


def test_an_unknown_schema_is_refused(tmp_path: Path) -> None:
    drop = "DROP INDEX user_provider_order_key_idx; ALTER TABLE user_provider DROP COLUMN order_key;"
    old = v2db.build(tmp_path / "old", migrated_provider=False, extra_sql=drop)
    with pytest.raises(StoreError, match="user_provider table lacks order_key") as e:
        V2Store(old).read()
    assert e.value.exit_code == 4

    newer = tmp_path / "newer" / "Data" / "cherrystudio.sqlite"
    newer.parent.mkdir(parents=True)
    conn = sqlite3.connect(newer)
    conn.executescript(v2db.ddl("later").replace("`name` text NOT NULL,\n\t`logo_key`",
                                                 "`name` text NOT NULL,\n\t`region` text NOT NULL,\n\t`logo_key`"))
    conn.close()
    with pytest.raises(StoreError, match="requires region"):
        V2Store(Install(newer.parent.parent, "v2", None, "test")).read()

    with pytest.raises(StoreError, match="does not exist"):
        V2Store(Install(tmp_path / "none", "v2", None, "test")).read()

    garbage = tmp_path / "garbage" / "Data" / "cherrystudio.sqlite"
    garbage.parent.mkdir(parents=True)
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="file is not a database"):
        V2Store(Install(garbage.parent.parent, "v2", None, "test")).read()


# --- writing --------------------------------------------------------------------------------------------------


def test_write_adds_a_provider_as_the_app_would(install: Install) -> None:
    store = V2Store(install)
    before = v2db.dump(install)
    first_key = min(r["order_key"] for r in before["user_provider"])
    p = apply(store, load(GW))

    (row,) = rows(install, "SELECT * FROM user_provider WHERE provider_id = 'gw'")
    assert row["preset_provider_id"] is None and row["name"] == "Gateway" and row["logo_key"] is None
    # 2.x formats the base URL the 1.6+ way (appends /v1), so it is stored without it, as the migration does.
    assert row["endpoint_configs"] == '{"openai-chat-completions":{"baseUrl":"https://gw.example"}}'
    assert row["default_chat_endpoint"] == "openai-chat-completions"
    (key,) = json.loads(row["api_keys"])
    assert key["key"] == "sk-1" and key["isEnabled"] is True and uuid.UUID(key["id"]).version == 4
    assert row["auth_config"] == '{"type":"api-key"}'
    assert row["provider_settings"] is None and row.get("api_features") is None
    assert row["is_enabled"] == 1
    assert row["order_key"] < first_key  # the top: where the app puts a provider it enables
    assert row["created_at"] == row["updated_at"] > v2db.NOW

    models = rows(install, "SELECT * FROM user_model WHERE provider_id = 'gw' ORDER BY order_key")
    assert [m["id"] for m in models] == ["gw::gpt-4.1", "gw::claude-sonnet-4"]
    gpt, claude = models
    # Both are catalog models: preset-backed rows holding only what the profile changes (claude's name), the rest
    # inherited from the catalog, as the app's add-model path stores them. Claude's vision and function calling are
    # the catalog's already: a stored list would replace the catalog's (reasoning lost), so none is stored.
    assert (gpt["model_id"], gpt["preset_model_id"], gpt["name"], gpt["group"], gpt["capabilities"]) == (
        "gpt-4.1", "gpt-4-1", None, None, None)
    assert (claude["preset_model_id"], claude["name"]) == ("claude-sonnet-4", "Claude Sonnet 4")
    assert claude["capabilities"] is None  # web_search: no 2.x name
    for m in models:
        assert m["input_modalities"] is None and m["endpoint_types"] is None and m["pricing"] is None
        assert (m["supports_streaming"], m["is_enabled"], m["is_hidden"], m["is_deprecated"]) == (None, 1, 0, 0)
        assert m.get("input_modalities_explicit", 0) == 0
    assert gpt["order_key"] < claude["order_key"]

    assert health(install) == ("ok", [], "wal", 0)
    assert without(v2db.dump(install), "gw") == before  # no row the plan did not name changed
    assert store.read().providers == p.after


def test_the_custom_model_check_is_enforced(install: Install) -> None:
    conn = v2db.connect(install)
    with pytest.raises(sqlite3.IntegrityError, match="user_model_custom_config_check"):
        conn.execute("INSERT INTO user_model (id, provider_id, model_id, order_key, created_at, updated_at) "
                     "VALUES ('relay::x', 'relay', 'x', 'a9', 1, 1)")
    conn.close()


def test_writing_the_same_profile_again_changes_nothing(install: Install) -> None:
    store = V2Store(install)
    apply(store, load(GW, default="gw/gpt-4.1"))
    after_first = v2db.dump(install)
    again = make_plan(store, load(GW, default="gw/gpt-4.1"))
    assert not again.changed
    with store.exclusive():
        store.write(again)
    assert v2db.dump(install) == after_first


def test_new_providers_keep_the_profile_order_at_the_top(install: Install) -> None:
    store = V2Store(install)
    p = apply(store, load({**GW, "id": "one"}, {**GW, "id": "two"}))
    assert [x["id"] for x in store.read().providers] == [x["id"] for x in p.after][:len(p.after)]
    assert [x["id"] for x in p.after][:3] == ["one", "two", "silicon"]


def test_updating_keeps_key_ids_and_bumps_only_rows_that_change(install: Install) -> None:
    store = V2Store(install)
    old_keys = {k["key"]: k for k in json.loads(rows(install, "SELECT api_keys FROM user_provider "
                                                          "WHERE provider_id = 'relay'")[0]["api_keys"])}
    before = v2db.dump(install)
    p = apply(store, load({"id": "relay", "apiHost": "https://relay.example", "apiKey": "sk-on,sk-new",
                           "models": ["gpt-4o", "gpt-5"]}))
    (row,) = rows(install, "SELECT * FROM user_provider WHERE provider_id = 'relay'")
    keys = json.loads(row["api_keys"])
    assert [(k["key"], k["isEnabled"]) for k in keys] == [("sk-on", True), ("sk-new", True), ("sk-off", False)]
    assert keys[0]["id"] == old_keys["sk-on"]["id"] and keys[2] == old_keys["sk-off"]
    assert uuid.UUID(keys[1]["id"]).version == 4
    assert row["updated_at"] > v2db.NOW
    # Only api_keys changed on the provider row; the migrated JSON it does not own is kept byte for byte.
    old_row = next(r for r in before["user_provider"] if r["provider_id"] == "relay")
    assert {k for k in row if row[k] != old_row[k]} == {"api_keys", "updated_at"}
    models = {m["model_id"]: m for m in rows(install, "SELECT * FROM user_model WHERE provider_id = 'relay'")}
    assert set(models) == {"gpt-4o", "text-embedding-3-small", "o3", "gpt-5"}
    old_models = {m["model_id"]: m for m in before["user_model"] if m["provider_id"] == "relay"}
    for mid, old in old_models.items():
        assert models[mid] == old  # named but unchanged (gpt-4o) or not named: untouched
    assert models["gpt-5"]["order_key"] > max(m["order_key"] for m in old_models.values())
    assert without(v2db.dump(install), "relay") == without(before, "relay")
    assert store.read().providers == p.after
    assert health(install) == ("ok", [], "wal", 0)


def test_replace_models_deletes_the_others(install: Install) -> None:
    store = V2Store(install)
    (old_row,) = rows(install, "SELECT * FROM user_provider WHERE provider_id = 'relay'")
    p = apply(store, load({"id": "relay", "apiHost": "https://relay.example", "apiKey": "sk-on",
                           "models": ["gpt-4o"], "replaceModels": True}))
    left = rows(install, "SELECT id FROM user_model WHERE provider_id = 'relay'")
    assert [m["id"] for m in left] == ["relay::gpt-4o"]
    assert rows(install, "SELECT * FROM user_provider WHERE provider_id = 'relay'") == [old_row]
    # The assistant that used a deleted model falls back to none, as the schema's ON DELETE SET NULL says.
    assert rows(install, "SELECT model_id FROM assistant") == [{"model_id": None}]
    assert health(install) == ("ok", [], "wal", 0)
    assert store.read().providers == p.after


def test_a_built_in_provider_can_be_switched_to_another_endpoint(install: Install) -> None:
    # (Not `openai` on a gateway: a profile may not give that id a type the app ignores; see routing.)
    store = V2Store(install)
    before = v2db.dump(install)
    p = apply(store, load({"id": "silicon", "type": "openai-response", "apiHost": "https://gw.example",
                           "apiKey": "sk-9", "models": ["gpt-4.1"]}))
    (row,) = rows(install, "SELECT * FROM user_provider WHERE provider_id = 'silicon'")
    assert row["preset_provider_id"] == "silicon"
    assert row["default_chat_endpoint"] == "openai-responses"
    old_row = next(r for r in before["user_provider"] if r["provider_id"] == "silicon")
    assert json.loads(row["endpoint_configs"]) == {**json.loads(old_row["endpoint_configs"]),
                                                   "openai-responses": {"baseUrl": "https://gw.example"}}
    assert row.get("api_features") == old_row.get("api_features") and row["is_enabled"] == 0
    assert store.read().providers == p.after
    assert without(v2db.dump(install), "silicon") == without(before, "silicon")


def test_relay_types_round_trip_through_their_adapter_hint(install: Install) -> None:
    store = V2Store(install)
    apply(store, load({**GW, "type": "gateway"}))
    (row,) = rows(install, "SELECT endpoint_configs FROM user_provider WHERE provider_id = 'gw'")
    assert json.loads(row["endpoint_configs"]) == {
        "openai-chat-completions": {"baseUrl": "https://gw.example", "adapterFamily": "gateway"}}
    assert next(p for p in store.read().providers if p["id"] == "gw")["type"] == "gateway"
    p = apply(store, load({**GW, "type": "openai"}))
    (row,) = rows(install, "SELECT endpoint_configs FROM user_provider WHERE provider_id = 'gw'")
    assert json.loads(row["endpoint_configs"]) == {"openai-chat-completions": {"baseUrl": "https://gw.example"}}
    assert store.read().providers == p.after


def test_a_preset_id_is_never_taken_by_a_custom_provider(install: Install) -> None:
    store = V2Store(install)
    before = v2db.dump(install)
    stale = plan.make([], load({**GW, "id": "silicon"}).providers)  # planned without the preset row
    with pytest.raises(BadInput, match="'silicon' is Cherry Studio's built-in provider"), store.exclusive():
        store.write(stale)
    with pytest.raises(BadInput, match="'zai' is the id of a provider Cherry Studio ships"):
        apply(store, load({**GW, "id": "zai"}))  # a preset id this database has no row for
    assert v2db.dump(install) == before


def test_the_default_model_preference_is_written(install: Install) -> None:
    store = V2Store(install)
    before = v2db.dump(install)
    p = apply(store, load(GW, default="gw/claude-sonnet-4"))
    prefs = {r["key"]: r for r in v2db.dump(install)["preference"]}
    assert prefs["chat.default_model_id"]["value"] == '"gw::claude-sonnet-4"'
    assert prefs["chat.default_model_id"].get("scope", "default") == "default"
    assert prefs["chat.default_model_id"]["updated_at"] > v2db.NOW
    others = {k: v for k, v in prefs.items() if k != "chat.default_model_id"}
    assert others == {r["key"]: r for r in before["preference"] if r["key"] != "chat.default_model_id"}
    state = store.read()
    assert state.default_model == p.default_model_after
    assert state.model_refs["quickModel"]["provider"] == "cherryai"


def test_what_2x_cannot_hold_is_refused_before_anything_is_written(install: Install) -> None:
    store = V2Store(install)
    before = v2db.dump(install)
    with pytest.raises(BadInput, match=r"model 'm': capabilities.*cannot be stored in Cherry Studio 2.x"):
        apply(store, load({**GW, "models": [{"id": "m", "capabilities": ["text"]}]}))
    with pytest.raises(BadInput, match="cannot set type 'azure-openai'"):
        apply(store, load({**GW, "type": "azure-openai"}))
    assert v2db.dump(install) == before


def test_write_refuses_once_migration_is_no_longer_complete(install: Install) -> None:
    store = V2Store(install)
    p = make_plan(store, load(GW))
    conn = v2db.connect(install)
    conn.execute("""UPDATE app_state SET value = '{"status":"running"}' WHERE key = 'migration_v2_status'""")
    conn.close()
    with pytest.raises(StoreError, match="has not finished upgrading"):
        store.write(p)


def test_exclusive_refuses_while_another_connection_writes(install: Install,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(v2, "BUSY_TIMEOUT_S", 0.1)
    other = v2db.connect(install)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(AppRunning, match="locked by another program"), V2Store(install).exclusive():
            pass
    finally:
        other.execute("ROLLBACK")
        other.close()
    with V2Store(install).exclusive():
        pass


# --- backup and restore ---------------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_snapshot_and_replace_with_round_trip(install: Install, tmp_path: Path) -> None:
    store = V2Store(install)
    before_state, before_dump = store.read(), v2db.dump(install)
    snap = tmp_path / "snap"
    snap.mkdir()
    store.snapshot(snap)
    assert sorted(p.name for p in snap.iterdir()) == ["cherrystudio.sqlite"]
    assert_private(snap / "cherrystudio.sqlite")
    assert V2Store(install, snap).read() == before_state
    assert sorted(p.name for p in snap.iterdir()) == ["cherrystudio.sqlite"]  # reading a snapshot leaves it alone

    apply(store, load(GW))
    assert store.read() != before_state
    with store.exclusive():
        store.replace_with(snap)
    assert sha256(install.sqlite_path) == sha256(snap / "cherrystudio.sqlite")  # what restore checks
    assert store.read() == before_state
    assert v2db.dump(install) == before_dump
    assert health(install) == ("ok", [], "wal", 0)
    assert store.recover() is None


def test_replace_with_refuses_while_a_reader_holds_the_log(install: Install, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(v2, "BUSY_TIMEOUT_S", 0.1)
    store = V2Store(install)
    snap = tmp_path / "snap"
    snap.mkdir()
    store.snapshot(snap)
    reader = v2db.connect(install)
    reader.execute("UPDATE user_provider SET name = 'Renamed' WHERE provider_id = 'relay'")
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM user_provider").fetchone()
    try:
        with pytest.raises(AppRunning, match="in use by another program"):
            store.replace_with(snap)
    finally:
        reader.execute("COMMIT")
        reader.close()
    assert not (install.sqlite_path.parent / "cherrystudio.sqlite.cherryconf-new").exists()
    assert next(p for p in store.read().providers if p["id"] == "relay")["name"] == "Renamed"


REPLACE = """
import sys
from pathlib import Path
from cherryconf.stores.install import Install
from cherryconf.stores.v2 import V2Store
V2Store(Install(Path(sys.argv[1]), "v2", None, "test")).replace_with(Path(sys.argv[2]))
"""
WRITE_AND_DIE = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("UPDATE user_provider SET name = 'Only in the log' WHERE provider_id = 'relay'")
os._exit(0)  # like a crashed app: the change stays in the WAL, never folded into the file
"""


def run(script: str, *args: str, kill_at: int | None = None) -> int:
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)}
    if kill_at is not None:
        env["CHERRYCONF_KILL_AT"] = str(kill_at)
    return subprocess.run([sys.executable, "-c", script, *args], env=env, timeout=60, check=False).returncode


@pytest.mark.parametrize("kill_at", [1, 2, 3, 4, 5])
def test_replace_with_killed_at_each_step_leaves_the_old_or_the_new(tmp_path: Path, kill_at: int) -> None:
    new_install = v2db.build(tmp_path / "new")
    apply(V2Store(new_install), load(GW))
    snap = tmp_path / "snap"
    snap.mkdir()
    V2Store(new_install).snapshot(snap)
    new_state = V2Store(new_install).read()

    install = v2db.build(tmp_path / "old")
    assert run(WRITE_AND_DIE, str(install.sqlite_path)) == 0
    wal = install.sqlite_path.with_name("cherrystudio.sqlite-wal")
    assert wal.stat().st_size > 0  # the old state is partly in its log: the case that must not meet the new file

    code = run(REPLACE, str(install.data_dir), str(snap), kill_at=kill_at)
    leftover = install.sqlite_path.with_name("cherrystudio.sqlite.cherryconf-new")
    store = V2Store(install)
    if kill_at <= 3:
        assert code == KILLED and leftover.exists()
        assert store.recover() is not None and not leftover.exists()
        providers = {p["id"]: p for p in store.read().providers}
        assert providers["relay"]["name"] == "Only in the log" and "gw" not in providers
    else:
        assert code == (KILLED if kill_at == 4 else 0) and not leftover.exists()
        assert store.recover() is None
        assert store.read() == new_state
    assert health(install)[:3] == ("ok", [], "wal")


def test_a_damaged_database_is_restored_from_a_good_backup(tmp_path: Path, run_cli: Any) -> None:
    install = v2db.build(tmp_path / "CherryStudio")
    data_dir = str(install.data_dir)
    before = run_cli("--data-dir", data_dir, "providers", "--json")
    assert before.code == 0, before.err
    profile_path = tmp_path / "p.yaml"
    profile_path.write_text("version: 1\nproviders:\n  - {id: gw, apiHost: 'https://gw.example', apiKey: sk-1}\n")
    assert run_cli("--data-dir", data_dir, "apply", str(profile_path), "--yes").code == 0
    good = run_cli("--data-dir", data_dir, "backups", "--json")
    (backup_id,) = [b["id"] for b in json.loads(good.out)["backups"]]

    db = install.sqlite_path
    damaged = bytearray(db.read_bytes())
    damaged[:100] = b"\xff" * 100  # the header: SQLite calls it "file is not a database"
    db.write_bytes(bytes(damaged))
    assert run_cli("--data-dir", data_dir, "providers").code == 4

    restored = run_cli("--data-dir", data_dir, "restore", backup_id, "--whole", "--yes")
    assert restored.code == 0, restored.err
    assert "cannot be read" in restored.out
    after = run_cli("--data-dir", data_dir, "providers", "--json")
    assert json.loads(after.out)["providers"] == json.loads(before.out)["providers"]
    # The damaged file was kept, byte for byte, in the pre-restore backup.
    listed = json.loads(run_cli("--data-dir", data_dir, "backups", "--json").out)["backups"]
    pre = next(b for b in listed if b["reason"] == "pre-restore")
    assert (Path(pre["path"]) / "files" / "cherrystudio.sqlite").read_bytes() == bytes(damaged)
