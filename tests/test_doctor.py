"""doctor's checks on plain provider lists: what it finds, what its fixes change, and what it leaves alone."""

from __future__ import annotations

from typing import Any

import pytest

from cherryconf.doctor import diagnose
from cherryconf.stores import StoreState


def provider(**fields: Any) -> dict[str, Any]:
    pid = fields.get("id", "gw")
    base: dict[str, Any] = {"id": pid, "name": "GW", "type": "openai", "apiKey": "sk-1",
                            "apiHost": "https://gw.example.com", "enabled": True,
                            "models": [{"id": "gpt-4.1", "provider": pid, "name": "gpt-4.1", "group": "gpt-4.1"}]}
    return base | fields


def codes(state: StoreState, version: tuple[int, ...] | None = (1, 6, 5)) -> set[str]:
    return {f.code for f in diagnose(state, version).findings}


def test_a_healthy_store_has_no_findings_and_no_fix() -> None:
    found = diagnose(StoreState([provider()], None), (1, 6, 5))
    assert found.findings == [] and not found.plan.changed


def test_responses_type_on_a_gateway_is_fixed_to_openai_but_not_on_openai_itself() -> None:
    gateway = provider(type="openai-response")
    openai = provider(id="openai", type="openai-response", apiHost="https://api.openai.com")
    found = diagnose(StoreState([gateway, openai], None), (1, 6, 5))
    assert [(f.provider_id, f.code) for f in found.findings] == [("gw", "responses-on-gateway")]
    assert found.plan.after[0]["type"] == "openai" and found.plan.after[1] == openai


@pytest.mark.parametrize(("host", "version", "fixed"), [
    ("https://gw.example.com/v1", (1, 5, 0), "https://gw.example.com"),  # old apps build /v1/v1/
    ("https://gw.example.com/v1/chat/completions", (1, 6, 5), "https://gw.example.com"),
    ("  https://gw.example.com/v1/chat/completions  ", None, "https://gw.example.com"),
])
def test_an_api_host_the_app_misreads_is_normalised(host: str, version: tuple[int, ...] | None, fixed: str) -> None:
    found = diagnose(StoreState([provider(apiHost=host)], None), version)
    assert [f.code for f in found.findings] == ["api-host-form"]
    assert found.plan.after[0]["apiHost"] == fixed


@pytest.mark.parametrize("host", ["https://gw.example.com", "https://gw.example.com/v1/",
                                  "https://gw.example.com/v1/chat/completions#"])
def test_api_hosts_that_reach_chat_completions_are_left_alone(host: str) -> None:
    assert codes(StoreState([provider(apiHost=host)], None), (1, 7, 0)) == set()


def test_duplicate_and_orphaned_models_are_fixed() -> None:
    models = [{"id": "a", "provider": "gw", "name": "A", "group": "a"},
              {"id": "a", "provider": "gw", "name": "A again", "group": "a"},
              {"id": "b", "provider": "elsewhere", "name": "B", "group": "b"}]
    found = diagnose(StoreState([provider(models=models)], None), (1, 6, 5))
    assert {f.code for f in found.findings} == {"duplicate-models", "model-provider-mismatch"}
    after = found.plan.after[0]["models"]
    assert [(m["id"], m["name"], m["provider"]) for m in after] == [("a", "A", "gw"), ("b", "B", "gw")]


def test_problems_only_the_user_can_fix_have_no_fix() -> None:
    state = StoreState([provider(apiKey=""), provider(id="bad", apiHost="ftp://x", apiKey="k")], None,
                       {"quickModel": {"id": "gone", "provider": "gw"}})
    found = diagnose(state, (1, 6, 5))
    assert {(f.code, f.fix) for f in found.findings} == {
        ("no-api-key", None), ("bad-api-host", None), ("dangling-model-setting", None)}
    assert not found.plan.changed


def test_unconfigured_built_ins_and_keyless_local_providers_are_not_reported() -> None:
    idle = provider(id="anthropic", type="openai-response", enabled=False, apiKey="", models=[])
    ollama = provider(id="ollama", type="ollama", apiKey="", apiHost="http://localhost:11434")
    assert codes(StoreState([idle, ollama], None)) == set()
