"""What the newest app keeps (issue 24), on 2.x databases built as the app's own migrations and seeders build them
(tests/testing/v2db.first_boot: the first-boot rows of ousugo/cherry-studio 564c9eac, `local-embedding` included),
through the real CLI."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from testing import v2db
from testing.gateway import Gateway, ModelSpec, running
from testing.v1state import make_userdata, with_provider

from cherryconf.formats import deeplink
from cherryconf.stores.install import Install


@pytest.fixture
def fresh(tmp_path: Path) -> Install:
    return v2db.first_boot(tmp_path / "userData")


def dd(install: Install) -> list[str]:
    return ["--data-dir", str(install.data_dir)]


def write(tmp_path: Path, text: str, name: str = "profile.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def model_rows(install: Install, provider_id: str) -> dict[str, dict[str, Any]]:
    conn = v2db.connect(install)
    try:
        return {r["model_id"]: dict(r) for r in conn.execute("SELECT * FROM user_model WHERE provider_id = ?",
                                                              (provider_id,))}
    finally:
        conn.close()


def test_doctor_passes_a_fresh_install_of_the_newest_app(fresh: Install, run_cli: Any) -> None:
    # local-embedding is seeded enabled, with a model, and with no host and no key: the app runs it in-process.
    held = {r["provider_id"] for r in v2db.dump(fresh)["user_provider"]}
    assert {"cherryai", "local-embedding", "openai"} <= held and "github" not in held
    found = run_cli(*dd(fresh), "doctor", "--json")
    assert found.code == 0, found.out + found.err
    assert json.loads(found.out)["findings"] == []
    fixed = run_cli(*dd(fresh), "doctor", "--fix", "--yes")
    assert fixed.code == 0 and "no problems found" in fixed.out


def test_a_fresh_1x_install_passes_doctor(tmp_path: Path, run_cli: Any) -> None:
    # 1.x: the default, quick and translate models point at the runtime CherryAI provider, which is never stored.
    qwen = {"id": "Qwen/Qwen3-8B", "provider": "cherryai", "name": "Qwen3-8B", "group": "qwen"}
    data_dir = make_userdata(tmp_path / "v1", with_provider(
        {"id": "ollama", "name": "Ollama", "type": "ollama", "apiKey": "", "apiHost": "http://localhost:11434",
         "models": [], "isSystem": True, "enabled": False},
        defaultModel=qwen, quickModel=qwen, translateModel=qwen), version="1.9.12")
    found = run_cli("--data-dir", str(data_dir), "doctor", "--json")
    codes = [f["code"] for f in json.loads(found.out)["findings"]]
    # The seed's own custom gateway sends a CJK header value; nothing else is flagged.
    assert codes == ["header-value"], found.out


def test_catalog_capabilities_are_kept_and_added_to(fresh: Install, tmp_path: Path, run_cli: Any) -> None:
    profile = write(tmp_path, """version: 1
providers:
  - id: relay
    name: Relay
    apiHost: https://relay.example
    apiKey: sk-relay-000000000000
    models:
      - id: gpt-4.1
        capabilities: [vision]
      - id: deepseek-r1
        capabilities: [function_calling]
      - id: claude-sonnet-4-20250514
        capabilities: [vision, embedding]
""")
    preview = run_cli(*dd(fresh), "apply", str(profile), "--dry-run")
    assert preview.code == 0, preview.err
    assert "relay/gpt-4.1: Cherry Studio will offer function_calling, vision (its catalog's" in preview.out
    assert "relay/claude-sonnet-4-20250514: Cherry Studio will offer function_calling, reasoning, vision, " \
           "embedding (its catalog's, and embedding from the profile)" in preview.out
    assert run_cli(*dd(fresh), "apply", str(profile), "--yes").code == 0
    rows = model_rows(fresh, "relay")
    # NULL: the app inherits the catalog's list (gpt-4-1: function-call, image-recognition, ...; deepseek-r1:
    # function-call, reasoning, ...), which a stored list would replace.
    assert rows["gpt-4.1"]["capabilities"] is None and rows["deepseek-r1"]["capabilities"] is None
    assert json.loads(rows["claude-sonnet-4-20250514"]["capabilities"]) == [
        "function-call", "reasoning", "image-recognition", "file-input", "embedding"]
    again = run_cli(*dd(fresh), "apply", str(profile), "--check")
    assert again.code == 0, again.out


def test_a_retired_id_is_refused_in_one_sentence(fresh: Install, tmp_path: Path, run_cli: Any) -> None:
    before = v2db.dump(fresh)
    for pid in ("cephalon", "tokenflux"):
        profile = write(tmp_path, f"version: 1\nproviders:\n  - id: {pid}\n    apiHost: https://gw.example\n"
                                  "    apiKey: sk-1\n    models: [gpt-4.1]\n")
        done = run_cli(*dd(fresh), "apply", str(profile), "--yes")
        assert done.code == 2 and "retired the provider id" in done.err and "Traceback" not in done.err
        assert len(done.err.strip().splitlines()) == 1
    assert v2db.dump(fresh) == before


def test_doctor_moves_a_provider_under_a_retired_id(fresh: Install, run_cli: Any) -> None:
    conn = v2db.connect(fresh)
    conn.execute("INSERT INTO user_provider (provider_id, name, endpoint_configs, default_chat_endpoint, api_keys, "
                 "is_enabled, order_key, created_at, updated_at) VALUES ('tokenflux', 'TokenFlux relay', "
                 "'{\"openai-chat-completions\":{\"baseUrl\":\"https://tokenflux.example\"}}', "
                 "'openai-chat-completions', '[{\"id\":\"k\",\"key\":\"sk-tf-0000000000\",\"isEnabled\":true}]', 1, "
                 "'a0V', 1, 1)")
    conn.execute("INSERT INTO user_model (id, provider_id, model_id, name, capabilities, supports_streaming, "
                 "order_key, created_at, updated_at) VALUES ('tokenflux::m1', 'tokenflux', 'm1', 'M1', '[]', 1, 'a0', "
                 "1, 1)")
    conn.close()
    found = run_cli(*dd(fresh), "doctor", "--json")
    assert found.code == 5
    assert [f["code"] for f in json.loads(found.out)["findings"]] == ["retired-provider-id"]
    fixed = run_cli(*dd(fresh), "doctor", "--fix", "--yes")
    assert fixed.code == 0, fixed.out + fixed.err
    own = model_rows(fresh, "tokenflux-2")
    assert list(own) == ["m1"] and model_rows(fresh, "tokenflux") == {}


def test_a_1x_backup_imported_into_2x_updates_the_gateway_it_already_holds(
        fresh: Install, tmp_path: Path, run_cli: Any) -> None:
    gw = {"id": "8c2a0e5e-0000-4000-8000-000000000001", "name": "My Relay", "type": "openai",
          "apiKey": "sk-relay-1111111111", "apiHost": "https://relay.example/v1/", "enabled": True,
          "isSystem": False, "models": [{"id": "gpt-4.1", "provider": "8c2a0e5e-0000-4000-8000-000000000001",
                                         "name": "gpt-4.1", "group": "gpt-4.1"}]}
    # The same gateway is already in the 2.x store, under another id (the migration kept it; the backup is older).
    first = write(tmp_path, "version: 1\nproviders:\n  - id: relay\n    name: My Relay\n"
                            "    apiHost: https://relay.example\n    apiKey: sk-relay-1111111111\n")
    assert run_cli(*dd(fresh), "apply", str(first), "--yes").code == 0
    old = make_userdata(tmp_path / "old", with_provider(gw))
    imported = run_cli(*dd(fresh), "import", "--from-data-dir", str(old), "--with-keys", "-o",
                       str(tmp_path / "imported.yaml"))
    assert imported.code == 0, imported.err
    assert "already holds this gateway as relay (same host https://relay.example, same name and same key)" \
           in imported.err
    # A profile written elsewhere under another id: apply matches it too, and says so.
    other = write(tmp_path, "version: 1\nproviders:\n  - id: from-laptop\n    name: My Relay\n"
                            "    apiHost: https://relay.example/v1\n    apiKey: sk-relay-1111111111\n"
                            "    models: [gpt-4.1]\n", "other.yaml")
    preview = run_cli(*dd(fresh), "apply", str(other), "--dry-run")
    assert "the profile's from-laptop is the gateway the store holds as relay" in preview.out
    for profile in (tmp_path / "imported.yaml", other):
        assert run_cli(*dd(fresh), "apply", str(profile), "--yes").code == 0
    names = [r["name"] for r in v2db.dump(fresh)["user_provider"]]
    assert names.count("My Relay") == 1


def test_non_ascii_header_values(fresh: Install, tmp_path: Path, run_cli: Any) -> None:
    profile = write(tmp_path, "version: 1\nproviders:\n  - id: team\n    apiHost: https://gw.example\n"
                              "    apiKey: sk-1\n    extra_headers: {X-Team: 研发}\n")
    refused = run_cli(*dd(fresh), "apply", str(profile), "--dry-run")
    assert refused.code == 2 and "X-Team" in refused.err and "Traceback" not in refused.err
    # Held by the store (written by the app or an older cherryconf): doctor flags it, verify gives that provider a
    # row of its own and still checks the others.
    with running(Gateway({"m": ModelSpec()})) as gw:
        for pid, headers in (("bad", {"X-Team": "研发"}), ("good", {})):
            conn = v2db.connect(fresh)
            conn.execute(
                "INSERT INTO user_provider (provider_id, name, endpoint_configs, default_chat_endpoint, api_keys, "
                "provider_settings, is_enabled, order_key, created_at, updated_at) VALUES (?, ?, ?, "
                "'openai-chat-completions', ?, ?, 1, ?, 1, 1)",
                (pid, pid, json.dumps({"openai-chat-completions": {"baseUrl": gw.url}}),
                 json.dumps([{"id": pid, "key": gw.key, "isEnabled": True}]),
                 json.dumps({"extraHeaders": headers}) if headers else None, "Z" + pid))
            conn.execute("INSERT INTO user_model (id, provider_id, model_id, name, capabilities, supports_streaming, "
                         "order_key, created_at, updated_at) VALUES (?, ?, 'm', 'm', '[]', 1, 'a0', 1, 1)",
                         (f"{pid}::m", pid))
            conn.close()
        doctor = run_cli(*dd(fresh), "doctor", "--json")
        assert [(f["provider"], f["code"]) for f in json.loads(doctor.out)["findings"]] == [("bad", "header-value")]
        verified = run_cli(*dd(fresh), "verify", "--json", "--endpoint", "chat")
        document = json.loads(verified.out)
        assert "Traceback" not in verified.err
        assert "X-Team" in document["not_checked"]["bad"]
        assert [r["provider_id"] for r in document["reports"]] == ["good"]
        assert all(r.headers.get("authorization") == f"Bearer {gw.key}" for r in gw.requests)


def _asar(path: Path, files: dict[str, bytes]) -> None:
    """An asar archive as Electron packs one: pickled header size, the JSON index, then the files."""
    index, body, offset = {"files": {}}, b"", 0
    for name, data in files.items():
        index["files"][name] = {"size": len(data), "offset": str(offset)}
        body += data
        offset += len(data)
    header = json.dumps(index).encode()
    padded = header + b"\0" * (-len(header) % 4)
    pickle = struct.pack("<2I", len(padded) + 4, len(header)) + padded
    path.write_bytes(struct.pack("<2I", 4, len(pickle)) + pickle + body)


def test_a_china_edition_install_gets_its_own_link_scheme(fresh: Install, tmp_path: Path, run_cli: Any) -> None:
    resources = tmp_path / "resources"
    resources.mkdir()
    _asar(resources / "app.asar", {"index.js": b"//", "package.json": json.dumps(
        {"name": "CherryStudio", "version": "2.0.8", "cherryEdition": "cn"}).encode()})
    env = {"CHERRYCONF_CHERRY_RESOURCES": str(resources)}
    located = run_cli(*dd(fresh), "locate", env=env)
    assert "Cherry Studio 中国版 (links: cherrystudio-cn://)" in located.out
    profile = write(tmp_path, "version: 1\nproviders:\n  - id: apiyi\n    name: API易\n"
                              "    apiHost: https://vip.apiyi.com\n    apiKey: sk-123456789\n")
    linked = run_cli("link", "--sync-models", str(profile), env=env)
    assert linked.code == 0, linked.err
    url = linked.out.strip()
    assert url.startswith("cherrystudio-cn://providers/api-keys?v=1&data=")
    for rules in ("1.x", "2.x"):
        assert deeplink.decode(url, rules) == {"id": "apiyi", "baseUrl": "https://vip.apiyi.com",
                                              "apiKey": "sk-123456789", "name": "API易", "type": "openai",
                                              "autoSyncModels": True}
    assert run_cli("link", str(profile)).out.startswith("cherrystudio://")  # no app found: the global scheme
    # The China edition hides its OpenAI, Anthropic and Gemini presets: not a target there.
    hidden = write(tmp_path, "version: 1\nproviders:\n  - id: anthropic\n    type: anthropic\n"
                             "    apiHost: https://api.anthropic.com\n    apiKey: sk-ant-1\n", "hidden.yaml")
    refused = run_cli(*dd(fresh), "apply", str(hidden), "--dry-run", env=env)
    assert refused.code == 2 and "中国版" in refused.err


def test_doctor_fixes_a_default_model_on_a_disabled_provider(fresh: Install, run_cli: Any) -> None:
    conn = v2db.connect(fresh)
    conn.execute("UPDATE user_provider SET is_enabled = 0 WHERE provider_id = 'cherryai'")
    conn.close()
    found = run_cli(*dd(fresh), "doctor", "--json")
    findings = json.loads(found.out)["findings"]
    assert found.code == 5 and {f["code"] for f in findings} == {"model-setting-on-disabled-provider"}
    assert run_cli(*dd(fresh), "doctor", "--fix", "--yes").code == 0
    (row,) = [r for r in v2db.dump(fresh)["user_provider"] if r["provider_id"] == "cherryai"]
    assert row["is_enabled"] == 1


@pytest.mark.parametrize("pid", ["aihubmix", "perplexity", "github"])
def test_a_gateway_in_a_preset_the_app_routes_by_id_is_refused_with_the_moves_advice(
        pid: str, tmp_path: Path, run_cli: Any) -> None:
    data_dir = make_userdata(tmp_path / "v1", version="1.9.12")
    profile = write(tmp_path, f"version: 1\nproviders:\n  - id: {pid}\n    apiHost: https://vip.apiyi.com/v1\n"
                              "    apiKey: sk-123456789\n    models: [gpt-4.1]\n")
    refused = run_cli("--data-dir", str(data_dir), "apply", str(profile), "--dry-run")
    assert refused.code == 2 and "such as id 'apiyi'" in refused.err and "doctor --fix" in refused.err
