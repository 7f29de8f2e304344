"""Where Cherry Studio really sends a chat: by provider id before type (facts file, section 8), row by row."""

from __future__ import annotations

from typing import Any

import pytest

from cherryconf.domain import routing
from cherryconf.errors import BadInput

GW = "https://gw.example.com"
V1_9: tuple[int, ...] = (1, 9, 12)
MODELS = ("gpt-4.1", "claude-sonnet-4-20250514", "gemini-2.5-pro")


def provider(pid: str, ptype: str = "openai", host: str = GW) -> dict[str, Any]:
    return {"id": pid, "type": ptype, "apiHost": host, "models": [{"id": m} for m in MODELS]}


# The table of section 8 as Cherry Studio 1.9.12 was seen to call it, with type openai and apiHost <gw>:
# provider id -> the path requested for gpt-4.1, claude-sonnet-4-20250514, gemini-2.5-pro.
SEEN_1_9_12: dict[str, tuple[str, str, str]] = {
    **dict.fromkeys(("openai", "grok", "cherryin"), ("/v1/responses",) * 3),
    "aihubmix": ("/v1/responses", "/v1/messages",
                 "/gemini/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"),
    **dict.fromkeys(("perplexity", "github"), ("/chat/completions",) * 3),
    **dict.fromkeys(("deepseek", "openrouter", "new-api", "silicon", "groq", "mistral", "tokenflux", "together"),
                    ("/v1/chat/completions",) * 3),
}


@pytest.mark.parametrize(("pid", "model", "path"),
                         [(pid, m, paths[i]) for pid, paths in SEEN_1_9_12.items() for i, m in enumerate(MODELS)])
def test_every_row_seen_on_1_9_12(pid: str, model: str, path: str) -> None:
    assert routing.route(provider(pid), V1_9, model).url == GW + path


@pytest.mark.parametrize("pid", ["openai", "grok", "cherryin"])
def test_the_type_does_not_stop_responses_for_ids_the_app_routes(pid: str) -> None:
    for ptype in ("openai", "openai-response"):
        r = routing.route(provider(pid, ptype), V1_9)
        assert (r.endpoint, r.by_id) == ("responses", True)


def test_a_provider_of_its_own_follows_its_type() -> None:
    assert routing.chat_url(provider("apiyi"), V1_9) == GW + "/v1/chat/completions"
    assert routing.chat_url(provider("apiyi", "openai-response"), V1_9) == GW + "/v1/responses"
    assert not routing.route(provider("apiyi"), V1_9).by_id
    assert routing.chat_url(provider("claude-proxy", "anthropic"), V1_9) is None


@pytest.mark.parametrize("version", [(1, 5, 9), (2, 0, 8), (2, 1, 4)])
def test_apps_without_id_routing_follow_the_type(version: tuple[int, ...]) -> None:
    # Before the AI-SDK core (1.6) the client came from the type; 2.x routes by the row's endpoints.
    for pid in ("grok", "cherryin", "deepseek", "apiyi"):
        assert routing.route(provider(pid), version).endpoint == "chat/completions"
        assert routing.route(provider(pid, "openai-response"), version).endpoint == "responses"
    assert routing.route(provider("openai"), (1, 5, 9)).endpoint == "chat/completions"


@pytest.mark.parametrize("version", [(2, 0, 8), (2, 1, 4)])
def test_the_2x_openai_preset_keeps_the_responses_endpoint(version: tuple[int, ...]) -> None:
    # Its preset models take the registry's first endpoint whatever the provider's default (app issue 19688).
    r = routing.route(provider("openai"), version)
    assert (r.url, r.by_id) == (GW + "/v1/responses", True)


def test_other_sdk_ids_claim_no_url_and_aihubmix_claims_none_for_unknown_models() -> None:
    r = routing.route(provider("anthropic", "anthropic"), V1_9)
    assert (r.url, r.by_id) == (None, True) and "own client" in r.why
    assert routing.route(provider("aihubmix"), V1_9, "deepseek-r1").url is None
    for model in ("gemini-2.5-pro-nothink", "gemini-embedding-001"):
        assert routing.route(provider("aihubmix"), V1_9, model).endpoint != "generateContent"


def test_provider_urls_names_the_models_that_go_elsewhere() -> None:
    urls = routing.provider_urls(provider("aihubmix"), V1_9)
    assert urls.main == GW + "/v1/responses" and urls.by_id
    assert set(urls.by_model) == {"claude-sonnet-4-20250514", "gemini-2.5-pro"}
    plain = routing.provider_urls(provider("apiyi"), V1_9)
    assert (plain.by_model, plain.by_id) == ({}, False)


@pytest.mark.parametrize(("pid", "ptype"), [
    ("openai", "openai"), ("grok", "openai"), ("cherryin", "openai"), ("deepseek", "openai-response"),
    ("aihubmix", "openai-response"), ("anthropic", "openai"), ("gemini", "openai"), ("claude", "openai"),
])
def test_a_type_the_app_ignores_for_its_id_is_refused(pid: str, ptype: str) -> None:
    with pytest.raises(BadInput, match="an id of its own"):
        routing.check_type_honoured(pid, ptype)


@pytest.mark.parametrize(("pid", "ptype"), [
    ("openai", "openai-response"), ("deepseek", "openai"), ("anthropic", "anthropic"), ("new-api", "new-api"),
    ("apiyi", "openai"), ("apiyi", "openai-response"), ("github", "openai-response"), ("silicon", "anthropic"),
])
def test_the_type_the_app_honours_and_ids_of_ones_own_pass(pid: str, ptype: str) -> None:
    routing.check_type_honoured(pid, ptype)


@pytest.mark.parametrize(("pid", "host", "gateway"), [
    ("openai", "https://vip.apiyi.com", True),
    ("openai", "https://api.openai.com", False),
    ("openai", "https://eu.api.openai.com/v1", False),
    ("grok", "https://api.x.ai", False),
    ("github", "https://models.github.ai/inference", False),
    ("openai", "not a url", False),
    ("deepseek", "https://vip.apiyi.com", False),  # not an id whose route a gateway cannot use
    ("apiyi", "https://vip.apiyi.com", False),
])
def test_holds_gateway(pid: str, host: str, gateway: bool) -> None:
    assert routing.holds_gateway(provider(pid, host=host)) is gateway
