"""export: what it writes for providers the app routes by id (facts file, section 8)."""

from __future__ import annotations

from typing import Any

from cherryconf.formats.export import to_profile


def built_in(pid: str, host: str, ptype: str = "openai") -> dict[str, Any]:
    return {"id": pid, "name": pid.title(), "type": ptype, "apiKey": "sk-0123456789abcdef", "apiHost": host,
            "isSystem": True, "enabled": True,
            "models": [{"id": "gpt-4.1", "provider": pid, "name": "gpt-4.1", "group": "gpt-4.1"}]}


def test_a_gateway_in_the_built_in_openai_is_exported_as_a_provider_of_its_own() -> None:
    document, notes = to_profile([built_in("openai", "https://vip.apiyi.com/v1")], version=(1, 9, 12))
    (entry,) = document["providers"]
    assert (entry["id"], entry["type"], entry["apiHost"]) == ("apiyi", "openai", "https://vip.apiyi.com")
    assert entry["apiKey"] == "${APIYI_API_KEY}" and entry["models"] == ["gpt-4.1"]
    assert any("provider of its own, 'apiyi'" in n for n in notes)
    assert any("APIYI_API_KEY" in n for n in notes)


def test_a_built_in_is_exported_with_the_type_the_app_uses_for_its_id() -> None:
    # Grok ships with type openai, yet its chats go to /v1/responses; a profile says what the app does.
    document, notes = to_profile([built_in("grok", "https://api.x.ai")], version=(1, 9, 12))
    assert document["providers"][0]["type"] == "openai-response"
    assert any("grok: exported with type openai-response" in n for n in notes)


def test_providers_of_their_own_are_exported_as_they_are() -> None:
    document, notes = to_profile([{**built_in("gw", "https://gw.example.com"), "isSystem": False}])
    assert document["providers"][0]["id"] == "gw" and document["providers"][0]["type"] == "openai"
    assert notes == ["keys are written as references: set GW_API_KEY where you apply it (or use --with-keys)"]
