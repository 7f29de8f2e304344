"""import: each source built for real, imported, applied to a 1.x and a 2.x install, and read back."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from testing import v2db
from testing.cli import fingerprint
from testing.privacy import assert_private
from testing.v1state import PERSIST_KEY, cherry_state, make_userdata, read_llm, with_llm

from cherryconf.stores import open_store
from cherryconf.stores.install import inspect

KEYS = {"deepseek": "sk-deepseek-000000000000", "mine": "sk-mine-1111111111111111,sk-mine-2222222222222222"}
MINE = "8c2a0e5e-4d7b-4f3c-9a1e-5b6c7d8e9f00"


def providers_of(data_dir: Path) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in open_store(inspect(data_dir, "test")).read().providers}


def import_to_file(run_cli: Any, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    out = tmp_path / "imported.yaml"
    result = run_cli("import", *args, "--with-keys", "-o", str(out), env=env)
    assert result.code == 0, result.err
    assert result.out == "" and "sk-" not in result.err
    assert_private(out)
    document: dict[str, Any] = yaml.safe_load(out.read_text("utf-8"))
    return document


def apply_to(run_cli: Any, target: Path, profile: Path, env: dict[str, str] | None = None) -> None:
    result = run_cli("--data-dir", str(target), "apply", str(profile), "--yes", env=env)
    assert result.code == 0, result.err


def targets(tmp_path: Path) -> list[Path]:
    """A fresh 1.x install (plyvel-written) and a fresh 2.x install (the app's DDL and seed)."""
    v1 = make_userdata(tmp_path / "target-v1", version="1.9.12")
    v2 = v2db.build(tmp_path / "target-v2", migrated_provider=False).data_dir
    return [v1, v2]


def assert_carried(target: Path, wanted: dict[str, dict[str, Any]]) -> None:
    """Every wanted provider is in the target with its host, every key, its models and its name."""
    got = providers_of(target)
    for pid, want in wanted.items():
        p = got[pid]
        assert (p["name"], p["apiHost"]) == (want["name"], want["apiHost"]), pid
        assert sorted(p["apiKey"].split(",")) == sorted(want["apiKey"].split(",")), pid
        assert [m["id"] for m in p["models"]] == want["models"], pid


# --- another install's data directory -------------------------------------------------------------------------


def test_a_1x_data_directory_is_imported_without_a_byte_changing_there(tmp_path: Path, run_cli: Any) -> None:
    source = make_userdata(tmp_path / "other-machine")
    before = fingerprint(source)
    result = run_cli("import", "--from-data-dir", str(source))
    assert result.code == 0, result.err
    assert fingerprint(source) == before  # no LOCK, nothing written there
    document = yaml.safe_load(result.out)
    by_id = {p["id"]: p for p in document["providers"]}
    # The custom gateway and the built-in holding a key; the keyless built-in openai is left out, and said so.
    assert set(by_id) == {"deepseek", MINE}
    assert by_id[MINE]["apiHost"] == "https://gw.example.cn" and by_id[MINE]["name"] == "我的网关 🚀"
    assert by_id[MINE]["apiKey"] == "${PROVIDER_8C2A0E5E_API_KEY}"  # a UUID named in Chinese: a short id form
    assert "left out 1 built-in provider without a key (--all takes it): openai" in result.err
    assert "sk-" not in result.out + result.err

    everything = yaml.safe_load(run_cli("import", "--from-data-dir", str(source), "--all").out)
    assert {p["id"] for p in everything["providers"]} == {"openai", "deepseek", MINE}


@pytest.mark.parametrize("shape", v2db.SHAPES)
def test_a_2x_data_directory_is_imported_and_applies_to_both_lines(tmp_path: Path, run_cli: Any, shape: str) -> None:
    source = v2db.build(tmp_path / "other", shape)  # type: ignore[arg-type]
    before = fingerprint(source.data_dir)
    document = import_to_file(run_cli, tmp_path, "--from-data-dir", str(source.data_dir))
    assert fingerprint(source.data_dir) == before
    relay = next(p for p in document["providers"] if p["id"] == "relay")
    assert relay["name"] == "My Relay" and relay["apiHost"] == "https://relay.example"
    assert [m if isinstance(m, str) else m["id"] for m in relay["models"]] == ["gpt-4o", "text-embedding-3-small", "o3"]
    for target in targets(tmp_path):
        apply_to(run_cli, target, tmp_path / "imported.yaml")
        got = providers_of(target)["relay"]
        assert got["apiHost"] == "https://relay.example" and got["name"] == "My Relay"
        assert "sk-on" in got["apiKey"].split(",")
        assert [m["id"] for m in got["models"]] == ["gpt-4o", "text-embedding-3-small", "o3"]


def test_a_1x_data_directory_applied_to_1x_and_2x_carries_hosts_keys_models_and_names(
        tmp_path: Path, run_cli: Any) -> None:
    source = make_userdata(tmp_path / "other")
    import_to_file(run_cli, tmp_path, "--from-data-dir", str(source))
    wanted = {"deepseek": {"name": "深度求索", "apiHost": "https://api.deepseek.com", "apiKey": KEYS["deepseek"],
                           "models": ["deepseek-chat"]},
              MINE: {"name": "我的网关 🚀", "apiHost": "https://gw.example.cn", "apiKey": KEYS["mine"],
                     "models": ["qwen3:32b"]}}
    for target in targets(tmp_path):
        apply_to(run_cli, target, tmp_path / "imported.yaml")
        assert_carried(target, wanted)


def test_built_in_providers_without_a_key_are_said_to_have_none_yet(tmp_path: Path, run_cli: Any) -> None:
    # A newest-app 2.x install as first started: its presets store neither base URL nor key (issue 27).
    fresh = v2db.first_boot(tmp_path / "fresh")
    nothing = run_cli("import", "--from-data-dir", str(fresh.data_dir))
    assert nothing.code == 2 and nothing.out == ""
    assert "holds no provider to import: its 63 built-in providers have no key yet (set one up in Cherry Studio " \
           "first" in nothing.err
    some = run_cli("import", "--from-data-dir", str(fresh.data_dir), "--all")
    assert some.code == 0, some.err
    assert [p["id"] for p in yaml.safe_load(some.out)["providers"]] == ["cherryai"]
    assert "left out 62 built-in providers that have no key yet: cherryin, " in some.err
    assert "add it to the profile with its base URL and key" in some.err
    assert "cannot call" not in some.err
    # A fresh 1.x install: its built-in providers hold base URLs, but no key either.
    fresh_v1 = make_userdata(tmp_path / "fresh-v1", with_llm(providers=[
        {"id": "openai", "name": "OpenAI", "type": "openai-response", "apiKey": "", "apiHost": "https://api.openai.com",
         "models": [], "isSystem": True, "enabled": False}]))
    nothing = run_cli("import", "--from-data-dir", str(fresh_v1))
    assert nothing.code == 2 and "holds no provider to import: its 1 built-in provider has no key yet" in nothing.err


def test_not_a_data_directory_is_one_sentence_and_exit_2(tmp_path: Path, run_cli: Any) -> None:
    (tmp_path / "empty").mkdir()
    out = tmp_path / "p.yaml"
    result = run_cli("import", "--from-data-dir", str(tmp_path / "empty"), "-o", str(out))
    assert result.code == 2 and "holds no Cherry Studio data" in result.err
    assert len(result.err.strip().splitlines()) == 1 and not out.exists()


# --- the app's import link ------------------------------------------------------------------------------------

LINKED = """\
version: 1
providers:
  - id: relay
    name: 中转 Relay
    apiHost: https://relay.example.com/v1/chat/completions
    apiKey: sk-relay-0123456789abcdef
  - id: claude-gw
    name: Claude GW
    type: anthropic
    apiHost: https://claude.example.com
    apiKey: sk-ant-relay-0123456789
"""


def test_links_from_cherryconf_link_are_imported_and_applied(tmp_path: Path, run_cli: Any) -> None:
    (tmp_path / "linked.yaml").write_text(LINKED, "utf-8")
    links = run_cli("link", str(tmp_path / "linked.yaml"))
    assert links.code == 0, links.err
    first, _second = links.out.split()
    one = run_cli("import", first)
    assert one.code == 0, one.err
    (only,) = yaml.safe_load(one.out)["providers"]
    assert only == {"id": "relay", "name": "中转 Relay", "type": "openai", "apiHost": "https://relay.example.com",
                    "apiKey": "${RELAY_API_KEY}", "models": []}
    assert "relay: an import link carries no models" in one.err

    (tmp_path / "links.txt").write_text(links.out, "utf-8")
    import_to_file(run_cli, tmp_path, str(tmp_path / "links.txt"))
    wanted = {"relay": {"name": "中转 Relay", "apiHost": "https://relay.example.com",
                        "apiKey": "sk-relay-0123456789abcdef", "models": []},
              "claude-gw": {"name": "Claude GW", "apiHost": "https://claude.example.com",
                            "apiKey": "sk-ant-relay-0123456789", "models": []}}
    for target in targets(tmp_path):
        apply_to(run_cli, target, tmp_path / "imported.yaml")
        assert_carried(target, wanted)
        assert providers_of(target)["claude-gw"]["type"] == "anthropic"


@pytest.mark.parametrize("link", [
    "cherrystudio://providers/api-keys?v=1&data=%%%notbase64",
    "cherrystudio://providers/api-keys?v=2&data=e30%3D",
    "cherrystudio://providers/api-keys?v=1&data=e30%3D",  # {}: no id, baseUrl, apiKey
    "cherrystudio://mcp/install?servers=e30%3D",
])
def test_a_damaged_or_foreign_link_is_refused(tmp_path: Path, run_cli: Any, link: str) -> None:
    out = tmp_path / "p.yaml"
    result = run_cli("import", link, "-o", str(out))
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err
    assert not out.exists()


# --- the app's backups ----------------------------------------------------------------------------------------


def app_backup(path: Path, local_storage: dict[str, str]) -> Path:
    """A 1.x backup as the app makes one (Cherry Studio 1.x, src/main/services/BackupManager.ts at 00a36a60): a
    temporary directory holding data.json (`{time, version: 5, localStorage, indexedDB}`) and Data/, zipped
    with its entries relative to that directory at deflate level 1."""
    data = {"time": 1_790_000_000_000, "version": 5, "localStorage": local_storage,
            "indexedDB": {"topics": [], "settings": [{"id": "image://avatar", "value": ""}]}}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("data.json", json.dumps(data, ensure_ascii=False))
        z.writestr("Data/", "")
        z.writestr("Data/Files/readme.txt", "a file the user attached")
    return path


def test_a_1x_backup_zip_applied_to_a_2x_install(tmp_path: Path, run_cli: Any) -> None:
    backup = app_backup(tmp_path / "cherry-studio.202612011200.zip", cherry_state())
    document = import_to_file(run_cli, tmp_path, str(backup))
    assert {p["id"] for p in document["providers"]} == {"deepseek", MINE}
    wanted = {MINE: {"name": "我的网关 🚀", "apiHost": "https://gw.example.cn", "apiKey": KEYS["mine"],
                     "models": ["qwen3:32b"]},
              "deepseek": {"name": "深度求索", "apiHost": "https://api.deepseek.com", "apiKey": KEYS["deepseek"],
                           "models": ["deepseek-chat"]}}
    for target in targets(tmp_path):
        apply_to(run_cli, target, tmp_path / "imported.yaml")
        assert_carried(target, wanted)


def test_a_2x_archive_holding_the_database_is_imported(tmp_path: Path, run_cli: Any) -> None:
    source = v2db.build(tmp_path / "src")
    archive = tmp_path / "backup.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(source.data_dir.rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(source.data_dir).as_posix())
        z.writestr("metadata.json", json.dumps({"version": 7}))
    result = run_cli("import", str(archive))
    assert result.code == 0, result.err
    assert [p["id"] for p in yaml.safe_load(result.out)["providers"]] == ["relay"]
    assert "2.x backup" in result.err


@pytest.mark.parametrize("content", [
    {"data.json": "{not json"},
    {"data.json": json.dumps({"version": 5})},
    {"data.json": json.dumps({"version": 5, "localStorage": {PERSIST_KEY: '{"llm": "{\\"providers\\": 3}"}'}})},
    {"notes.txt": "some other zip"},
])
def test_a_damaged_or_foreign_zip_is_refused(tmp_path: Path, run_cli: Any, content: dict[str, str]) -> None:
    archive = tmp_path / "b.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name, text in content.items():
            z.writestr(name, text)
    out = tmp_path / "p.yaml"
    result = run_cli("import", str(archive), "-o", str(out))
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err
    assert not out.exists()


# --- claude-code-router ---------------------------------------------------------------------------------------

# As its README documents it: JSON5 (comments), full endpoint URLs, `$VAR` keys, transformers.
CCR_CONFIG = """\
{
  "LOG": true,
  "APIKEY": "router-secret",
  "Providers": [
    {
      "name": "openrouter",
      // IMPORTANT: api_base_url must be a complete (full) URL.
      "api_base_url": "https://openrouter.ai/api/v1/chat/completions",
      "api_key": "$OPENROUTER_API_KEY",
      "models": ["google/gemini-2.5-pro-preview", "anthropic/claude-sonnet-4"],
      "transformer": {"use": ["openrouter"]}
    },
    {
      "name": "My Relay 中转",
      "api_base_url": "https://relay.example.com/v1/chat/completions",
      "api_key": "sk-relay-ccr-0123456789",
      "models": ["deepseek-chat", "deepseek-reasoner"],
      "transformer": {"use": ["deepseek", ["maxtoken", {"max_tokens": 8192}]]},
    },
    {
      "name": "claude relay",
      "api_base_url": "https://claude.example.com/v1/messages",
      "api_key": "${CLAUDE_RELAY_KEY}",
      "models": ["claude-sonnet-4-20250514"],
      "transformer": {"use": ["Anthropic"]}
    }
  ],
  "Router": {"default": "openrouter,anthropic/claude-sonnet-4"}
}
"""


def test_a_claude_code_router_config(tmp_path: Path, run_cli: Any) -> None:
    config = tmp_path / "config.json"
    config.write_text(CCR_CONFIG, "utf-8")
    result = run_cli("import", str(config))
    assert result.code == 0, result.err
    by_id = {p["id"]: p for p in yaml.safe_load(result.out)["providers"]}
    assert set(by_id) == {"openrouter-ccr", "my-relay", "claude-relay"}
    assert by_id["openrouter-ccr"]["apiHost"] == "https://openrouter.ai/api"
    assert by_id["openrouter-ccr"]["apiKey"] == "${OPENROUTER_API_KEY}"  # the variable CCR reads, kept
    assert by_id["my-relay"]["apiHost"] == "https://relay.example.com"
    assert by_id["my-relay"]["name"] == "My Relay 中转" and by_id["my-relay"]["apiKey"] == "${MY_RELAY_API_KEY}"
    assert by_id["claude-relay"]["type"] == "anthropic" and by_id["claude-relay"]["apiKey"] == "${CLAUDE_RELAY_KEY}"
    assert "maxtoken" in result.err and "router-secret" not in result.out + result.err

    env = {"OPENROUTER_API_KEY": "sk-or-0123456789", "CLAUDE_RELAY_KEY": "sk-ant-0123456789"}
    import_to_file(run_cli, tmp_path, str(config))
    wanted = {"my-relay": {"name": "My Relay 中转", "apiHost": "https://relay.example.com",
                           "apiKey": "sk-relay-ccr-0123456789", "models": ["deepseek-chat", "deepseek-reasoner"]},
              "claude-relay": {"name": "claude relay", "apiHost": "https://claude.example.com",
                               "apiKey": "sk-ant-0123456789", "models": ["claude-sonnet-4-20250514"]}}
    for target in targets(tmp_path):
        apply_to(run_cli, target, tmp_path / "imported.yaml", env=env)
        assert_carried(target, wanted)
        assert providers_of(target)["openrouter-ccr"]["apiKey"] == "sk-or-0123456789"


def test_unknown_json_is_refused(tmp_path: Path, run_cli: Any) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"mcpServers": {}}', "utf-8")
    result = run_cli("import", str(other))
    assert result.code == 2 and "does not know" in result.err


# --- Cherry Studio 2.1's provider export ----------------------------------------------------------------------

# What the app's GET /v1/export/providers returns for one custom relay (Cherry Studio 2.1,
# src/main/features/apiGateway/routes/providerExport.ts at 4018d2cd): Provider and Model entities, camelCase.
APP_EXPORT = {
    "version": 1,
    "providers": [{
        "id": "relay", "presetProviderId": None, "name": "My Relay", "logo": None, "description": None,
        "endpointConfigs": {"openai-chat-completions": {"baseUrl": "https://relay.example/v1"}},
        "defaultChatEndpoint": "openai-chat-completions", "modelListSource": None, "authMethods": None,
        "authOptional": False, "authType": "api-key",
        "apiKeys": [{"id": "6f1c9a52-3f55-4a42-9a8e-0c2b8f1f6a01", "key": "sk-on-0123456789", "isEnabled": True},
                    {"id": "0b7e2c44-8d1a-4c3e-b5f0-7a9d6e2c1b02", "key": "sk-two-0123456789", "isEnabled": True}],
        "authConfig": {"type": "api-key"}, "settings": {"rateLimit": 5, "extraHeaders": {"X-Team": "研发"}},
        "isEnabled": True,
        "models": [
            {"id": "relay::gpt-4o", "providerId": "relay", "apiModelId": "gpt-4o", "name": "GPT-4o", "group": "gpt-4o",
             "capabilities": ["function-call", "image-recognition"], "endpointTypes": ["openai-chat-completions"],
             "supportsStreaming": True, "isEnabled": True, "isHidden": False},
            {"id": "relay::o3", "providerId": "relay", "name": "o3", "capabilities": [], "supportsStreaming": True,
             "isEnabled": True, "isHidden": False},
        ],
    }],
}


def test_the_apps_provider_export_is_imported_and_applied(tmp_path: Path, run_cli: Any) -> None:
    source = tmp_path / "providers.json"
    source.write_text(json.dumps(APP_EXPORT, ensure_ascii=False), "utf-8")
    document = import_to_file(run_cli, tmp_path, str(source))
    (relay,) = document["providers"]
    assert relay["apiHost"] == "https://relay.example" and relay["rateLimit"] == 5
    wanted = {"relay": {"name": "My Relay", "apiHost": "https://relay.example",
                        "apiKey": "sk-on-0123456789,sk-two-0123456789", "models": ["gpt-4o", "o3"]}}
    for target in targets(tmp_path):
        apply_to(run_cli, target, tmp_path / "imported.yaml")
        assert_carried(target, wanted)
        caps = {c["type"] for c in providers_of(target)["relay"]["models"][0].get("capabilities", [])}
        assert {"function_calling", "vision"} <= caps


@pytest.mark.parametrize("make_source", ["v1", "v2"])
def test_export_format_cherry_round_trips_through_import(tmp_path: Path, run_cli: Any, make_source: str) -> None:
    if make_source == "v1":
        source = make_userdata(tmp_path / "src")
        wanted = {MINE: {"name": "我的网关 🚀", "apiHost": "https://gw.example.cn", "apiKey": KEYS["mine"],
                         "models": ["qwen3:32b"]}}
    else:
        source = v2db.build(tmp_path / "src").data_dir
        wanted = {"relay": {"name": "My Relay", "apiHost": "https://relay.example", "apiKey": "sk-on",
                            "models": ["gpt-4o", "text-embedding-3-small", "o3"]}}
    out = tmp_path / "providers.json"
    result = run_cli("--data-dir", str(source), "export", "--format", "cherry", "--with-keys", "-o", str(out))
    assert result.code == 0, result.err
    exported = json.loads(out.read_text("utf-8"))
    assert exported["version"] == 1
    assert_private(out)
    pid = next(iter(wanted))
    entry = next(p for p in exported["providers"] if p["id"] == pid)
    assert all(m["id"].startswith(pid + "::") for m in entry["models"])
    assert None not in entry.values() and all(None not in m.values() for m in entry["models"])
    import_to_file(run_cli, tmp_path, str(out))
    for target in targets(tmp_path):
        apply_to(run_cli, target, tmp_path / "imported.yaml")
        assert_carried(target, wanted)

    keyless = run_cli("--data-dir", str(source), "export", "--format", "cherry")
    assert keyless.code == 0 and "sk-" not in keyless.out
    assert all(p["apiKeys"] == [] for p in json.loads(keyless.out)["providers"])


@pytest.mark.parametrize("document", [
    {"version": 2, "providers": []},
    {"version": 1, "providers": {"relay": {}}},
    {"version": 1, "providers": [{"id": "relay", "name": 7, "endpointConfigs": {}}]},
    {"version": 1, "providers": [{"id": "relay", "endpointConfigs": "https://x"}]},
])
def test_a_damaged_provider_export_is_refused(tmp_path: Path, run_cli: Any, document: dict[str, Any]) -> None:
    source = tmp_path / "providers.json"
    source.write_text(json.dumps(document), "utf-8")
    out = tmp_path / "p.yaml"
    result = run_cli("import", str(source), "-o", str(out))
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err
    assert not out.exists()


# --- cc-switch ------------------------------------------------------------------------------------------------

# cc-switch's own DDL for the two provider tables (farion1231/cc-switch, src-tauri/src/database/schema.rs at 0133d004).
CCSWITCH_DDL = """
CREATE TABLE IF NOT EXISTS providers (
    id TEXT NOT NULL,
    app_type TEXT NOT NULL,
    name TEXT NOT NULL,
    settings_config TEXT NOT NULL,
    website_url TEXT,
    category TEXT,
    created_at INTEGER,
    sort_index INTEGER,
    notes TEXT,
    icon TEXT,
    icon_color TEXT,
    meta TEXT NOT NULL DEFAULT '{}',
    is_current BOOLEAN NOT NULL DEFAULT 0,
    in_failover_queue BOOLEAN NOT NULL DEFAULT 0,
    PRIMARY KEY (id, app_type)
);
CREATE TABLE IF NOT EXISTS provider_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id TEXT NOT NULL,
    app_type TEXT NOT NULL,
    url TEXT NOT NULL,
    added_at INTEGER,
    FOREIGN KEY (provider_id, app_type) REFERENCES providers(id, app_type) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT);
"""
CODEX_TOML = """\
model_provider = "packy"
model = "gpt-5-codex"

[model_providers.packy]
name = "packy"
base_url = "https://www.packyapi.com/v1"
wire_api = "responses"
"""
CCSWITCH_ROWS = [
    ("p1", "claude", "Kimi 中转", {"env": {"ANTHROPIC_BASE_URL": "https://relay.example.com/anthropic/",
                                          "ANTHROPIC_AUTH_TOKEN": "sk-kimi-0123456789",
                                          "ANTHROPIC_MODEL": "kimi-k2", "ANTHROPIC_SMALL_FAST_MODEL": "kimi-k2"}},
     {}, None),
    ("p2", "claude", "OpenRouter chat", {"env": {"ANTHROPIC_BASE_URL": "https://openrouter.ai/api/v1",
                                                 "OPENROUTER_API_KEY": "sk-or-0123456789",
                                                 "ANTHROPIC_MODEL": "anthropic/claude-sonnet-4"}},
     {"apiFormat": "openai_chat"}, None),
    ("official", "claude", "Claude Official", {"env": {}}, {}, "official"),
    ("c1", "codex", "PackyCode", {"auth": {"OPENAI_API_KEY": "sk-packy-0123456789"}, "config": CODEX_TOML}, {}, None),
    ("g1", "gemini", "Gemini relay", {"env": {"GEMINI_API_KEY": "AIza-0123456789"}}, {}, None),
]


def ccswitch_db(path: Path) -> Path:
    conn = sqlite3.connect(path)
    try:
        conn.executescript(CCSWITCH_DDL)
        for i, (pid, app, name, settings, meta, category) in enumerate(CCSWITCH_ROWS):
            conn.execute("INSERT INTO providers (id, app_type, name, settings_config, category, created_at, "
                         "sort_index, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (pid, app, name, json.dumps(settings, ensure_ascii=False), category, 1_790_000_000 + i, i,
                          json.dumps(meta)))
        conn.commit()
    finally:
        conn.close()
    return path


def test_a_cc_switch_database(tmp_path: Path, run_cli: Any) -> None:
    db = ccswitch_db(tmp_path / "cc-switch.db")
    before = fingerprint(tmp_path)
    result = run_cli("import", str(db))
    assert result.code == 0, result.err
    assert fingerprint(tmp_path) == before
    by_id = {p["id"]: p for p in yaml.safe_load(result.out)["providers"]}
    assert set(by_id) == {"kimi-claude", "openrouter-chat-claude", "packycode-codex"}
    assert (by_id["kimi-claude"]["type"], by_id["kimi-claude"]["apiHost"]) == (
        "anthropic", "https://relay.example.com/anthropic")
    assert by_id["kimi-claude"]["models"] == ["kimi-k2"]
    assert by_id["openrouter-chat-claude"]["type"] == "openai"
    assert by_id["packycode-codex"]["type"] == "openai-response"
    assert by_id["packycode-codex"]["apiHost"] == "https://www.packyapi.com"
    assert "left out gemini/Gemini relay" in result.err
    assert "without a base URL, which Cherry Studio cannot call: claude-official-claude" in result.err
    assert "sk-" not in result.out + result.err

    import_to_file(run_cli, tmp_path, str(db))
    wanted = {"kimi-claude": {"name": "Kimi 中转", "apiHost": "https://relay.example.com/anthropic",
                              "apiKey": "sk-kimi-0123456789", "models": ["kimi-k2"]},
              "openrouter-chat-claude": {"name": "OpenRouter chat", "apiHost": "https://openrouter.ai/api",
                                         "apiKey": "sk-or-0123456789", "models": ["anthropic/claude-sonnet-4"]},
              "packycode-codex": {"name": "PackyCode", "apiHost": "https://www.packyapi.com",
                                  "apiKey": "sk-packy-0123456789", "models": ["gpt-5-codex"]}}
    for target in targets(tmp_path):
        apply_to(run_cli, target, tmp_path / "imported.yaml")
        assert_carried(target, wanted)


def test_an_unknown_or_damaged_database_is_refused(tmp_path: Path, run_cli: Any) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (id INTEGER)")
    conn.close()
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    for path in (other, damaged):
        result = run_cli("import", str(path))
        assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err


def test_a_1x_store_on_its_own_and_a_gateway_in_the_built_in_openai(tmp_path: Path, run_cli: Any) -> None:
    # The built-in openai provider holding someone's gateway: Cherry Studio routes it by id, so the import makes
    # it a provider of its own, as `doctor --fix` would.
    gateway = {"apiHost": "https://vip.apiyi.com/v1", "apiKey": "sk-apiyi-0123456789", "enabled": True}
    providers = [{**p, **gateway} if p["id"] == "openai" else p for p in read_llm(cherry_state())["providers"]]
    source = make_userdata(tmp_path / "other", with_llm(providers=providers))
    store = source / "Local Storage" / "leveldb"
    result = run_cli("import", str(store))
    assert result.code == 0, result.err
    by_id = {p["id"]: p for p in yaml.safe_load(result.out)["providers"]}
    assert "openai" not in by_id and by_id["apiyi"]["apiHost"] == "https://vip.apiyi.com"
    assert [m if isinstance(m, str) else m["id"] for m in by_id["apiyi"]["models"]] == ["gpt-4o", "gpt-4.1"]
    assert "provider of its own, 'apiyi'" in result.err


def test_a_damaged_1x_store_is_refused(tmp_path: Path, run_cli: Any) -> None:
    source = make_userdata(tmp_path / "other")
    (source / "Local Storage" / "leveldb" / "CURRENT").write_bytes(b"garbage\n")
    result = run_cli("import", "--from-data-dir", str(source))
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err


def test_a_provider_given_twice_is_taken_once_the_last_one(tmp_path: Path, run_cli: Any) -> None:
    (tmp_path / "linked.yaml").write_text(LINKED, "utf-8")
    (tmp_path / "moved.yaml").write_text(LINKED.replace("relay.example.com", "relay2.example.com"), "utf-8")
    first = run_cli("link", str(tmp_path / "linked.yaml")).out.split()[0]
    moved = run_cli("link", str(tmp_path / "moved.yaml")).out.split()[0]
    (tmp_path / "links.txt").write_text(f"{first}\n{moved}\n", "utf-8")
    result = run_cli("import", str(tmp_path / "links.txt"))
    assert result.code == 0, result.err
    (relay,) = yaml.safe_load(result.out)["providers"]
    assert relay["apiHost"] == "https://relay2.example.com"
    assert "relay: given more than once; the last one is taken" in result.err


def test_a_2x_database_another_program_is_writing_is_read_without_waiting(tmp_path: Path, run_cli: Any) -> None:
    source = v2db.build(tmp_path / "other")
    writer = sqlite3.connect(source.sqlite_path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # what the running app holds while it writes
        writer.execute("UPDATE user_provider SET name = 'Renamed' WHERE provider_id = 'relay'")
        result = run_cli("import", "--from-data-dir", str(source.data_dir), timeout=20)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.code == 0, result.err
    (relay,) = yaml.safe_load(result.out)["providers"]
    assert relay["name"] == "My Relay"  # what was committed, not the write in progress
