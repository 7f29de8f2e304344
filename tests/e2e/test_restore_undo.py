"""`restore` undoes what cherryconf changed and nothing the user did since (issue 23), on real stores.

1.x: real Chromium writes the app's state, cherryconf writes (apply, doctor --fix's move, the wizard), then Chromium
writes what the app would write meanwhile (a topic renamed in the `assistants` slice, a topic added, a setting
changed in another slice, a key of the app's own); `restore --yes` must give back the providers and model settings
as they were and keep every one of those changes byte for byte, as Chromium reads them. 2.x: a database with the
app's topic and message tables, where the user chats and changes a preference after the apply.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from testing import v2db
from testing.chromium_harness import chromium_available, read_local_storage, write_local_storage
from testing.cli import RunCli
from testing.runs import P1, write_profile
from testing.v1state import PERSIST_KEY, cherry_state, stringify

needs_chromium = pytest.mark.skipif(not chromium_available(), reason="needs Debian's chromium")
GATEWAY_KEY = "sk-apiyi-0123456789abcdef0123"
MODEL_IDS = ("gpt-4.1", "claude-sonnet-4-20250514")


def _model(mid: str, provider: str) -> dict[str, Any]:
    return {"id": mid, "provider": provider, "name": mid, "group": mid.split("-")[0]}


def seed_state() -> dict[str, str]:
    """cherry_state() whose built-in OpenAI provider holds a gateway that the default model and an assistant use."""
    state = cherry_state()
    slices = json.loads(state[PERSIST_KEY])
    llm = json.loads(slices["llm"])
    openai = next(p for p in llm["providers"] if p["id"] == "openai")
    openai.update(type="openai", apiKey=GATEWAY_KEY, apiHost="https://vip.apiyi.com/v1/", enabled=True,
                  models=[_model(m, "openai") for m in MODEL_IDS])
    llm["defaultModel"] = _model("gpt-4.1", "openai")
    assistants = json.loads(slices["assistants"])
    assistants["assistants"] = [{"id": "a1", "name": "翻译", "model": _model("claude-sonnet-4-20250514", "openai"),
                                 "topics": [{"id": "t2", "name": "旧名字"}]}]
    slices["llm"], slices["assistants"] = stringify(llm), stringify(assistants)
    state[PERSIST_KEY] = stringify(slices)
    return state


def app_changes(items: dict[str, str]) -> dict[str, str]:
    """What the app writes while the user chats: two topics renamed, one added, the theme changed, a key added."""
    slices = json.loads(items[PERSIST_KEY])
    assistants = json.loads(slices["assistants"])
    assistants["defaultAssistant"]["topics"][0]["name"] = "改过的名字 ✏️"
    assistants["defaultAssistant"]["topics"].append({"id": "t9", "name": "新话题", "messages": []})
    for a in assistants["assistants"]:
        for topic in a.get("topics", []):
            topic["name"] = "Renamed in the app"
    settings = json.loads(slices["settings"])
    settings["theme"] = "dark"
    slices["assistants"], slices["settings"] = stringify(assistants), stringify(settings)
    return {**items, PERSIST_KEY: stringify(slices), "memory_lastSeen": "2026-12-07T10:00:00.000Z"}


def parts(items: dict[str, str]) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
    slices = json.loads(items[PERSIST_KEY])
    return slices, json.loads(slices["llm"]), json.loads(slices["assistants"])


def writers(tmp_path: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
    profile = write_profile(tmp_path, P1)
    return {
        "apply": (["apply", str(profile), "--yes"], {}),
        "doctor": (["doctor", "--fix", "--yes"], {}),
        "wizard": (["wizard", "--preset", "custom", "--name", "My Gateway", "--id", "mygw", "--base-url",
                    "https://gw.example/v1", "--api-key-env", "GW_KEY", "--model", "gpt-4.1", "--default-model",
                    "gpt-4.1", "--no-check", "--yes"], {"GW_KEY": "sk-gw-0123456789abcdef"}),
    }


@needs_chromium
@pytest.mark.chromium
@pytest.mark.parametrize("writer", ["apply", "doctor", "wizard"])
def test_restore_undoes_the_write_and_keeps_what_the_app_changed_since_1x(
    tmp_path: Path, run_cli: RunCli, writer: str
) -> None:
    profile = tmp_path / "chromium"
    write_local_storage(profile, seed_state())
    original = read_local_storage(profile)
    data_dir = ["--data-dir", str(profile / "Default")]
    args, env = writers(tmp_path)[writer]
    wrote = run_cli(*data_dir, *args, env=env)
    assert wrote.code in (0, 5), wrote.err  # doctor --fix exits 5 if something only the user can fix remains
    written = read_local_storage(profile)
    assert parts(written)[1] != parts(original)[1]

    user = app_changes(written)
    write_local_storage(profile, user)
    restored = run_cli(*data_dir, "restore", "--yes")
    assert restored.code == 0, restored.err
    assert "everything else stays as it is now" in restored.out and GATEWAY_KEY not in restored.out

    now = read_local_storage(profile)
    slices, llm, assistants = parts(now)
    user_slices, _user_llm, user_assistants = parts(user)
    _, original_llm, original_assistants = parts(original)
    assert llm == original_llm  # providers, default model and every model setting as before the write
    # The user's keys and the other slices byte for byte; the assistants slice as the user left it, its model
    # references back where they were.
    assert {k: v for k, v in now.items() if k != PERSIST_KEY} == {k: v for k, v in user.items() if k != PERSIST_KEY}
    assert {k: v for k, v in slices.items() if k not in ("llm", "assistants")} == {
        k: v for k, v in user_slices.items() if k not in ("llm", "assistants")}
    assert list(slices) == list(user_slices)
    expected = json.loads(json.dumps(user_assistants))
    expected["assistants"][0]["model"] = original_assistants["assistants"][0]["model"]
    assert assistants == expected
    assert [t["name"] for t in assistants["defaultAssistant"]["topics"]] == ["改过的名字 ✏️", "新话题"]

    listed = json.loads(run_cli(*data_dir, "backups", "--json").out)["backups"]
    assert listed[0]["reason"] == "pre-restore" and listed[0]["changed"].startswith("pre-restore: ")
    assert listed[1]["changed"].startswith(f"{writer}: ")  # the record of the write undone, in one line


def _v2_apply(tmp_path: Path, run_cli: RunCli) -> tuple[v2db.Install, dict[str, list[dict[str, Any]]], str]:
    install = v2db.build(tmp_path / "userdata", "later")
    original = v2db.dump(install)
    applied = run_cli("--data-dir", str(install.data_dir), "apply", str(write_profile(tmp_path, P1)), "--yes")
    assert applied.code == 0, applied.err
    backup = json.loads(run_cli("--data-dir", str(install.data_dir), "backups", "--json").out)["backups"][0]["id"]
    return install, original, backup


def _chat_and_prefer(install: v2db.Install) -> None:
    conn = sqlite3.connect(install.sqlite_path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        v2db.add_chat(conn, "topic-after", "A chat after the apply", "gw::gpt-4.1", "asst-1", at=v2db.NOW + 5)
        conn.execute("INSERT INTO preference (scope, key, value, created_at, updated_at) "
                     "VALUES ('default', 'ui.theme', '\"dark\"', 1, 1)")
        conn.execute("COMMIT")
    finally:
        conn.close()


def test_restore_undoes_the_apply_and_keeps_chats_and_preferences_2x(tmp_path: Path, run_cli: RunCli) -> None:
    install, original, backup = _v2_apply(tmp_path, run_cli)
    _chat_and_prefer(install)
    chatted = v2db.dump(install)
    data_dir = ["--data-dir", str(install.data_dir)]

    whole = run_cli(*data_dir, "restore", "--whole", "--dry-run", "--json")
    assert whole.code == 0, whole.err
    assert json.loads(whole.out)["lost"] == {"topics": 1, "messages": 3, "settings": 2, "providers": 1}
    text = run_cli(*data_dir, "restore", "--whole", "--dry-run").out
    assert "1 topic, 3 messages, 2 settings, 1 provider" in text and "pre-restore backup" in text
    assert v2db.dump(install) == chatted

    restored = run_cli(*data_dir, "restore", "--yes")
    assert restored.code == 0, restored.err
    after = v2db.dump(install)
    assert after["topic"] == chatted["topic"] and len(after["topic"]) == 1
    # The answer named the model the apply added: it goes with its provider, as the app's foreign key says.
    assert [m["model_id"] for m in after["message"]] == [None, None, None]
    assert [{k: v for k, v in m.items() if k != "model_id"} for m in after["message"]] == [
        {k: v for k, v in m.items() if k != "model_id"} for m in chatted["message"]]
    assert after["user_provider"] == original["user_provider"] and after["user_model"] == original["user_model"]
    prefs = {(p["key"], p["value"]) for p in after["preference"]}
    assert ("ui.theme", '"dark"') in prefs and ("chat.default_model_id", json.dumps(v2db.CHERRYAI_MODEL)) in prefs
    assert f"undoing {backup}" in restored.out


def test_a_field_changed_in_the_app_is_kept_and_reported_and_force_puts_it_back(
    tmp_path: Path, run_cli: RunCli
) -> None:
    install = v2db.build(tmp_path / "userdata", "later")
    data_dir = ["--data-dir", str(install.data_dir)]
    profile = write_profile(tmp_path, "version: 1\nproviders:\n  - {id: relay, apiHost: 'https://relay2.example', "
                                      "name: Relay Two, apiKey: sk-relay-two-0123456789}\n")
    assert run_cli(*data_dir, "apply", str(profile), "--yes").code == 0
    conn = v2db.connect(install)
    conn.execute("UPDATE user_provider SET name = 'Relay (mine)' WHERE provider_id = 'relay'")
    conn.close()

    shown = run_cli(*data_dir, "restore", "--dry-run", "--json")
    doc = json.loads(shown.out)
    assert doc["kept"] == ["relay.name"]
    assert [sorted(c["fields"]) for c in doc["changes"]] == [["apiHost", "apiKey"]]  # not the name
    assert doc["changes"][0]["fields"]["apiHost"] == {"before": "https://relay2.example", "after": "https://relay.example"}
    kept = run_cli(*data_dir, "restore", "--dry-run")
    assert "kept as changed in the app since cherryconf wrote it" in kept.out and "relay.name" in kept.out

    forced = run_cli(*data_dir, "restore", "--yes", "--force")
    assert forced.code == 0, forced.err
    names = {p["provider_id"]: p["name"] for p in v2db.dump(install)["user_provider"]}
    assert names["relay"] == "My Relay"


def test_an_old_backup_without_a_record_offers_whole_or_providers(tmp_path: Path, run_cli: RunCli) -> None:
    install, original, backup = _v2_apply(tmp_path, run_cli)
    record = next(Path(os.environ["CHERRYCONF_HOME"]).glob(f"backups/*/{backup}/record.json"))
    record.unlink()  # as a backup made before records were kept
    _chat_and_prefer(install)
    data_dir = ["--data-dir", str(install.data_dir)]
    before = v2db.dump(install)

    refused = run_cli(*data_dir, "restore", "--yes")
    assert refused.code == 2 and "has no record" in refused.err and "--whole" in refused.err
    assert "--providers" in refused.err and "1 topic, 3 messages" in refused.out
    assert v2db.dump(install) == before

    only = run_cli(*data_dir, "restore", "--providers", "--yes")
    assert only.code == 0, only.err
    after = v2db.dump(install)
    assert after["topic"] == before["topic"] and len(after["message"]) == 3
    assert [p["provider_id"] for p in after["user_provider"]] == [p["provider_id"] for p in original["user_provider"]]
