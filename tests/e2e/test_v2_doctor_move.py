"""The seed's case on 2.x, through the real CLI on real SQLite: a gateway in the OpenAI preset, moved by `doctor --fix`.

Through 2.1.4 the OpenAI preset sends its preset models to the responses endpoint whatever its default chat
endpoint says (app issue 19688; facts file, section 8), so the fix is again a provider of its own, with every
row that names a moved model (preferences, assistants) re-pointed in the same transaction.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from testing import v2db

from cherryconf.stores.install import Install

KEY = "sk-apiyi-0123456789abcdef0123"
MODEL_IDS = ("gpt-4.1", "claude-sonnet-4-20250514", "gemini-2.5-pro")
VERSIONS = {"release": "2.0.8", "later": "2.1.4"}


def seed_case(tmp_path: Path, shape: v2db.Shape) -> Install:
    """A 2.x database whose OpenAI preset holds a gateway, used by the default and quick models and an assistant."""
    install = v2db.build(tmp_path / "CherryStudio", shape)
    (install.data_dir / "version.log").write_text(
        f"{VERSIONS[shape]}|linux|prod|packaged|install|2026-11-01T00:00:00.000Z\n", encoding="utf-8")
    conn = v2db.connect(install)
    try:
        conn.execute("BEGIN")
        conn.execute(
            "UPDATE user_provider SET endpoint_configs = ?, api_keys = ?, is_enabled = 1 WHERE provider_id = 'openai'",
            (json.dumps({"openai-responses": {"adapterFamily": "openai", "baseUrl": "https://vip.apiyi.com/v1"}}),
             json.dumps([{"id": "0d1e7c1a-5b7e-4b4e-9a49-1d0f0e6a2b11", "key": KEY, "isEnabled": True}])))
        for n, mid in enumerate(MODEL_IDS):
            cols = {r[1] for r in conn.execute("PRAGMA table_info(user_model)")}
            row = {"id": f"openai::{mid}", "provider_id": "openai", "model_id": mid, "name": mid.upper(),
                   "capabilities": "[]", "input_modalities": '["text"]', "supports_streaming": 1, "is_enabled": 1,
                   "order_key": f"a{n}", "created_at": v2db.NOW, "updated_at": v2db.NOW}
            row = {c: v for c, v in row.items() if c in cols}
            conn.execute(f"INSERT INTO user_model ({','.join(row)}) VALUES ({','.join('?' * len(row))})",
                         list(row.values()))
        conn.execute("UPDATE preference SET value = ? WHERE key IN ('chat.default_model_id', 'topic.naming.model_id')",
                     (json.dumps("openai::gpt-4.1"),))
        conn.execute("UPDATE preference SET value = ? WHERE key = 'feature.quick_assistant.model_id'",
                     (json.dumps("openai::claude-sonnet-4-20250514"),))
        conn.execute("INSERT INTO assistant (id, name, emoji, model_id, settings, order_key, created_at, updated_at) "
                     "VALUES ('asst-2', '翻译', '🈯', 'openai::gemini-2.5-pro', '{}', 'a1', ?, ?)",
                     (v2db.NOW, v2db.NOW))
        conn.execute("COMMIT")
    finally:
        conn.close()
    return install


def one(install: Install, sql: str, *args: Any) -> Any:
    conn = v2db.connect(install)
    try:
        return conn.execute(sql, args).fetchone()
    finally:
        conn.close()


@pytest.mark.parametrize("shape", v2db.SHAPES)
def test_doctor_fix_moves_the_gateway_out_of_the_openai_preset(tmp_path: Path, run_cli: Any,
                                                                shape: v2db.Shape) -> None:
    install = seed_case(tmp_path, shape)
    data_dir = str(install.data_dir)
    original = v2db.dump(install)

    found = run_cli("--data-dir", data_dir, "doctor", "--json")
    assert found.code == 5, found.err
    codes = {(f["provider"], f["code"]) for f in json.loads(found.out)["findings"]}
    assert ("openai", "gateway-in-built-in") in codes
    listed = json.loads(run_cli("--data-dir", data_dir, "providers", "--json").out)
    openai = next(p for p in listed["providers"] if p["id"] == "openai")
    assert openai["url"] == "https://vip.apiyi.com/v1/responses" and openai["routed_by_id"]

    fixed = run_cli("--data-dir", data_dir, "doctor", "--fix", "--yes")
    assert fixed.code == 0, fixed.err + fixed.out
    assert KEY not in fixed.out + fixed.err

    provider = one(install, "SELECT * FROM user_provider WHERE provider_id = 'apiyi'")
    assert provider["preset_provider_id"] is None and provider["is_enabled"] == 1
    assert provider["default_chat_endpoint"] == "openai-chat-completions"
    assert json.loads(provider["endpoint_configs"])["openai-chat-completions"]["baseUrl"] == "https://vip.apiyi.com"
    assert [k["key"] for k in json.loads(provider["api_keys"])] == [KEY]
    conn = v2db.connect(install)
    try:
        models = [r[0] for r in conn.execute("SELECT model_id FROM user_model WHERE provider_id = 'apiyi' "
                                             "ORDER BY order_key")]
        prefs = {r[0]: json.loads(r[1]) for r in conn.execute("SELECT key, value FROM preference")}
        assistants = {r[0]: r[1] for r in conn.execute("SELECT id, model_id FROM assistant")}
        left = conn.execute("SELECT * FROM user_provider WHERE provider_id = 'openai'").fetchone()
        left_models = conn.execute("SELECT count(*) FROM user_model WHERE provider_id = 'openai'").fetchone()[0]
        health = (conn.execute("PRAGMA integrity_check").fetchone()[0],
                  conn.execute("PRAGMA foreign_key_check").fetchall())
    finally:
        conn.close()
    assert models == list(MODEL_IDS)
    assert prefs["chat.default_model_id"] == prefs["topic.naming.model_id"] == "apiyi::gpt-4.1"
    assert prefs["feature.quick_assistant.model_id"] == "apiyi::claude-sonnet-4-20250514"
    assert prefs["feature.translate.model_id"] == v2db.CHERRYAI_MODEL  # it named no moved model
    assert assistants == {"asst-1": "relay::o3", "asst-2": "apiyi::gemini-2.5-pro"}
    assert left["is_enabled"] == 0 and json.loads(left["api_keys"] or "[]") == [] and left_models == 0
    assert "api.openai.com" in left["endpoint_configs"]
    assert health == ("ok", [])
    # Every row cherryconf did not mean to change is as it was.
    after = v2db.dump(install)
    for table in ("app_state",):
        assert after[table] == original[table]
    untouched = [p for p in original["user_provider"] if p["provider_id"] != "openai"]
    assert [p for p in after["user_provider"] if p["provider_id"] not in ("openai", "apiyi")] == untouched

    again = run_cli("--data-dir", data_dir, "doctor", "--json")
    assert again.code == 0, again.out
    listed = json.loads(run_cli("--data-dir", data_dir, "providers", "--json").out)
    apiyi = next(p for p in listed["providers"] if p["id"] == "apiyi")
    assert apiyi["url"] == "https://vip.apiyi.com/v1/chat/completions" and not apiyi["routed_by_id"]

    backups = json.loads(run_cli("--data-dir", data_dir, "backups", "--json").out)["backups"]
    restored = run_cli("--data-dir", data_dir, "restore", backups[0]["id"], "--whole", "--yes")
    assert restored.code == 0, restored.err
    assert v2db.dump(install) == original
