"""export: what it writes for providers the app routes by id (facts file, section 8)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cherryconf.formats.export import env_names, to_profile


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


def test_credentials_in_the_base_url_become_a_reference_like_the_key() -> None:
    gw = {**built_in("gw", "https://team:pa55w0rd@gw.example.com/v1"), "isSystem": False}
    document, notes = to_profile([gw])
    assert document["providers"][0]["apiHost"] == "https://${GW_URL_CREDENTIALS}@gw.example.com/v1"
    assert "pa55w0rd" not in str(document) and any("GW_URL_CREDENTIALS" in n for n in notes)
    kept, _notes = to_profile([gw], with_keys=True)  # --with-keys: the file holds every secret, as asked
    assert kept["providers"][0]["apiHost"] == "https://team:pa55w0rd@gw.example.com/v1"


def test_key_variables_are_named_after_the_provider_not_its_uuid() -> None:
    relay = "3f9a2c1e-1111-4a42-9a8e-0c2b8f1f6a01"
    named = env_names([{"id": "apiyi", "name": "API易"}, {"id": relay, "name": "My Relay (EU)"},
                       {"id": "8c2a0e5e-4d7b-4f3c-9a1e-5b6c7d8e9f00", "name": "我的网关 🚀"},
                       {"id": "6f1c9a52-3f55-4a42-9a8e-0c2b8f1f6a01", "name": "my relay eu"},
                       {"id": "302ai", "name": "302.AI"}])
    assert list(named.values()) == ["APIYI_API_KEY", "MY_RELAY_EU_API_KEY", "PROVIDER_8C2A0E5E_API_KEY",
                                    "MY_RELAY_EU_2_API_KEY", "P_302AI_API_KEY"]
    document, notes = to_profile([{**built_in("gw", "https://gw.example"), "id": relay, "name": "My Relay (EU)",
                                   "isSystem": False}])
    assert document["providers"][0]["apiKey"] == "${MY_RELAY_EU_API_KEY}"
    assert any("set MY_RELAY_EU_API_KEY where you apply it" in n for n in notes)


ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
ids = st.one_of(st.uuids().map(str), st.text(min_size=1, max_size=12),
                st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True))


@given(st.lists(st.tuples(ids, st.text(max_size=12)), max_size=12, unique_by=lambda t: t[0]))
def test_key_variables_are_valid_and_unique_whatever_the_ids_and_names(providers: list[tuple[str, str]]) -> None:
    named = env_names([{"id": pid, "name": name} for pid, name in providers])
    assert list(named) == [pid for pid, _name in providers]
    assert all(ENV_NAME.fullmatch(v) and v.endswith("_API_KEY") for v in named.values())
    assert len(set(named.values())) == len(named)
    for pid, _name in providers:
        try:
            uuid.UUID(pid)
        except ValueError:
            continue
        assert pid.split("-")[1].upper() not in named[pid]  # never the UUID spelled out
