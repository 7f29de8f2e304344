"""doctor's checks on plain provider lists: what it finds, what its fixes change, and what it leaves alone."""

from __future__ import annotations

from typing import Any

import pytest

from cherryconf.ops.doctor import diagnose
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


@pytest.mark.parametrize(("host", "version", "code", "fixed"), [
    ("https://gw.example.com/v1", (1, 5, 0), "api-host-form", "https://gw.example.com"),  # old apps build /v1/v1/
    # A whole endpoint URL: the app appends the endpoint again (app issue #18608), on 1.x and 2.x alike.
    ("https://gw.example.com/v1/chat/completions", (1, 6, 5), "full-endpoint-url", "https://gw.example.com"),
    ("  https://gw.example.com/v1/chat/completions  ", None, "full-endpoint-url", "https://gw.example.com"),
    ("https://gw.example.com/v1/chat/completions", (2, 0, 8), "full-endpoint-url", "https://gw.example.com"),
])
def test_an_api_host_the_app_misreads_is_normalised(host: str, version: tuple[int, ...] | None, code: str,
                                                     fixed: str) -> None:
    found = diagnose(StoreState([provider(apiHost=host)], None), version)
    assert [f.code for f in found.findings] == [code]
    assert found.plan.after[0]["apiHost"] == fixed
    if code == "full-endpoint-url":
        message = found.findings[0].message
        assert "#18608" in message and "/chat/completions/chat/completions" in message


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


# --- a gateway in a built-in provider the app routes by id (the seed's case) -------------------------------------

GATEWAY_KEY = "sk-apiyi-0123456789abcdef"


def seed_case(ptype: str = "openai") -> StoreState:
    """A gateway pasted into the built-in OpenAI provider (a doctor of old even set its type to openai)."""
    models = [{"id": m, "provider": "openai", "name": m, "group": m.split("-")[0]}
              for m in ("gpt-4.1", "claude-sonnet-4-20250514", "gemini-2.5-pro")]
    built_in = {"id": "openai", "name": "OpenAI", "type": ptype, "apiKey": GATEWAY_KEY,
                "apiHost": "https://vip.apiyi.com/v1/", "models": models, "isSystem": True, "enabled": True,
                "extra_headers": {"X-Team": "a"}}
    refs = {"defaultModel": models[0], "quickModel": models[1],
            "translateModel": {"id": "qwen", "provider": "cherryai"}}
    return StoreState([built_in, provider(id="other")], models[0], refs)


@pytest.mark.parametrize("ptype", ["openai", "openai-response"])
def test_a_gateway_in_the_built_in_openai_moves_to_a_provider_of_its_own(ptype: str) -> None:
    state = seed_case(ptype)
    found = diagnose(state, (1, 9, 12))
    assert [(f.provider_id, f.code) for f in found.findings] == [("openai", "gateway-in-built-in")]
    assert "/v1/responses" in found.findings[0].message and "'apiyi'" in found.findings[0].fix  # type: ignore[operator]
    own, left, other = found.plan.after
    assert own == {"id": "apiyi", "name": "vip.apiyi.com", "type": "openai", "apiKey": GATEWAY_KEY,
                   "apiHost": "https://vip.apiyi.com", "enabled": True, "isSystem": False,
                   "extra_headers": {"X-Team": "a"},
                   "models": [{**m, "provider": "apiyi"} for m in state.providers[0]["models"]]}
    assert left == {"id": "openai", "name": "OpenAI", "type": "openai-response", "apiKey": "",
                    "apiHost": "https://api.openai.com", "models": [], "isSystem": True, "enabled": False}
    assert other == state.providers[1]
    assert found.plan.moved == {("openai", m["id"]): "apiyi" for m in state.providers[0]["models"]}
    assert found.plan.default_model_after == {**state.providers[0]["models"][0], "provider": "apiyi"}
    assert found.plan.changed


def test_after_the_move_doctor_finds_nothing() -> None:
    found = diagnose(seed_case(), (1, 9, 12))
    moved = found.plan.moved

    def repointed(m: dict[str, Any]) -> dict[str, Any]:
        return {**m, "provider": moved.get((m["provider"], m["id"]), m["provider"])}

    refs = {k: repointed(v) for k, v in seed_case().model_refs.items()}
    assert diagnose(StoreState(found.plan.after, found.plan.default_model_after, refs), (1, 9, 12)).findings == []


@pytest.mark.parametrize(("host", "taken", "expected"), [
    ("https://vip.apiyi.com", set(), "apiyi"),
    ("https://vip.apiyi.com", {"apiyi", "apiyi-2"}, "apiyi-3"),
    ("https://openrouter.ai/api/v1", set(), "openrouter-2"),  # the built-in id is never taken over
    ("https://api.example.com.cn", set(), "example"),
    ("http://127.0.0.1:3000", set(), "my-gateway"),  # "gateway" is a built-in id
    ("http://localhost:3000", set(), "my-gateway"),
])
def test_the_new_provider_gets_an_id_from_the_gateway_host(host: str, taken: set[str], expected: str) -> None:
    state = seed_case()
    state.providers[0]["apiHost"] = host
    others = [provider(id=t) for t in taken]
    found = diagnose(StoreState([*state.providers, *others], None), (1, 9, 12))
    assert found.plan.after[0]["id"] == expected


def test_the_vendor_itself_in_its_built_in_provider_is_left_alone() -> None:
    real = provider(id="openai", type="openai-response", apiHost="https://api.openai.com", isSystem=True)
    assert codes(StoreState([real], None), (1, 9, 12)) == set()


def test_settings_naming_the_runtime_cherryai_provider_are_fine() -> None:
    refs = {name: {"id": "Qwen/Qwen3-8B", "provider": "cherryai"} for name in ("defaultModel", "quickModel")}
    assert diagnose(StoreState([provider()], refs["defaultModel"], refs), (1, 9, 12)).findings == []


def test_duplicate_models_in_an_unconfigured_built_in_are_a_note_not_a_problem() -> None:
    models = [{"id": "a", "provider": "ppio", "name": "A", "group": "a"}] * 2
    seed = provider(id="ppio", apiKey="", isSystem=True, enabled=False, models=models)
    found = diagnose(StoreState([seed], None), (1, 9, 12))
    assert [(f.code, f.severity, f.fix) for f in found.findings] == [("duplicate-models", "note", None)]
    assert found.problems == [] and not found.plan.changed


def test_the_1_9_endpoint_hash_form_is_flagged_and_fixed() -> None:
    found = diagnose(StoreState([provider(apiHost="https://gw.example.com/v1/chat/completions#")], None), (1, 9, 12))
    assert [f.code for f in found.findings] == ["api-host-form"]
    assert "chat/completions/chat/completions" in found.findings[0].message
    assert found.plan.after[0]["apiHost"] == "https://gw.example.com"


def test_the_move_names_the_apps_stock_models_and_leaves_its_image_model() -> None:
    # The 1.x app seeds the built-in openai provider with 9 models, gpt-image-1 among them (not a chat model).
    stock = [{"id": m, "provider": "openai", "name": m, "group": m} for m in ("gpt-5", "gpt-image-1")]
    mine = {"id": "deepseek-r1", "provider": "openai", "name": "deepseek-r1", "group": "deepseek-r1"}
    gateway = provider(id="openai", type="openai-response", apiHost="https://vip.apiyi.com", models=[*stock, mine],
                       isSystem=True)
    found = diagnose(StoreState([gateway], None), (1, 9, 12))
    (finding,) = found.findings
    assert finding.code == "gateway-in-built-in" and finding.fix is not None
    assert "gpt-5 are the app's stock models for 'openai'" in finding.fix
    assert "(gpt-image-1) stay with 'openai'" in finding.fix
    own, left = found.plan.after[0], found.plan.after[1]
    assert [m["id"] for m in own["models"]] == ["gpt-5", "deepseek-r1"]
    assert [m["id"] for m in left["models"]] == ["gpt-image-1"] and left["enabled"] is False
    assert set(found.plan.moved) == {("openai", "gpt-5"), ("openai", "deepseek-r1")}
