"""Where the app really sends a chat: by provider id first, then by type (facts file, section 8).

Cherry Studio 1.x since its AI-SDK core (1.6) resolves a provider's SDK from its **id** before its type
(`getAiSdkProviderId` in src/renderer/src/aiCore/provider/factory.ts, read at the 1.9 line; the routes below
are those Cherry Studio 1.9.12 was seen to call, built from its source and run on stores cherryconf wrote).
So the built-in `openai` provider calls `/v1/responses` whatever its type says, and only a provider with an
id of its own follows its type. Every URL cherryconf shows or probes comes from `route()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from cherryconf.domain.endpoints import AppVersion, base_url, check_url
from cherryconf.errors import BadInput
from cherryconf.i18n import _

# What a chat goes to: an OpenAI-compatible endpoint, or the vendor protocol the app switches to.
ChatEndpoint = Literal["chat/completions", "responses", "messages", "generateContent"]

# Ids whose chats go to /responses whatever the type (1.9.12: openai, grok, cherryin). `openai-response`,
# `xai` and `xai-responses` name the same SDKs (factory.ts maps openai-response -> openai, grok -> xai).
_RESPONSES_IDS = frozenset({"openai", "grok", "cherryin", "openai-response", "xai", "xai-responses"})
# Ids with an SDK of their own that calls `<base>/chat/completions` like a plain `openai` provider (1.9.12:
# deepseek, openrouter, new-api, groq, mistral, together), so their type is ignored but harmless.
_CHAT_IDS = frozenset({"deepseek", "openrouter", "new-api", "newapi", "groq", "mistral", "together", "togetherai"})
# Ids whose apiHost gets no `/v1` (formatProviderApiHost formats them with appendApiVersion false; 1.9.12 called
# `<apiHost>/chat/completions` for perplexity and github). Only perplexity is also routed by its id.
_NO_V1_IDS = frozenset({"perplexity", "github"})
# Routed by id to the AiHubMix rules: per model, Claude -> Anthropic messages, Gemini -> Google's API, OpenAI
# models -> responses (src/renderer/src/aiCore/provider/config/aihubmix.ts; 1.9.12 called these three).
_AIHUBMIX = "aihubmix"
# The other ids 1.9.12 maps to an SDK of their own, with the 1.x types that mean that SDK. The app ignores any
# other type for them; which URL they call was not observed, so cherryconf claims none.
_OTHER_SDK_IDS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("anthropic", "claude", "azure-anthropic"), frozenset({"anthropic"})),
    **dict.fromkeys(("google-vertex-anthropic", "vertexai-anthropic"), frozenset({"vertex-anthropic"})),
    **dict.fromkeys(("google", "gemini", "google-ai", "google-gemini"), frozenset({"gemini"})),
    **dict.fromkeys(("google-vertex", "vertexai"), frozenset({"vertexai"})),
    **dict.fromkeys(("azure", "azure-openai", "azure-responses"), frozenset({"azure-openai"})),
    **dict.fromkeys(("bedrock", "aws-bedrock"), frozenset({"aws-bedrock"})),
    "ollama": frozenset({"ollama"}),
    **dict.fromkeys(("gateway", "ai-gateway"), frozenset({"gateway"})),
    **dict.fromkeys(("openai-chat", "openai-compatible", "github-copilot-openai-compatible", "copilot",
                     "github-copilot", "huggingface", "hf", "hugging-face", "cerebras", "voyage", "voyageai",
                     "cherryin-chat"), frozenset({"openai"})),
}

# Built-in providers whose id sends chats somewhere a custom `openai` provider with the same host would not
# (responses, per-model protocols, no /v1), with the app's own host and type for that id (1.x
# SYSTEM_PROVIDERS: src/renderer/src/config/providers.ts). A gateway there is fixed by a provider of its own.
BUILT_IN_DEFAULTS: dict[str, tuple[str, str]] = {
    "openai": ("https://api.openai.com", "openai-response"),
    "grok": ("https://api.x.ai", "openai"),
    "cherryin": ("https://open.cherryin.net", "openai"),
    "aihubmix": ("https://aihubmix.com", "openai"),
    "perplexity": ("https://api.perplexity.ai/", "openai"),
    "github": ("https://models.inference.ai.azure.com/", "openai"),
}
# The vendors' own domains for those ids: a host under one of them is the vendor itself, not a gateway.
_VENDOR_DOMAINS: dict[str, tuple[str, ...]] = {
    "openai": ("openai.com",),
    "grok": ("x.ai",),
    "cherryin": ("cherryin.net", "cherryin.ai"),
    "aihubmix": ("aihubmix.com",),
    "perplexity": ("perplexity.ai",),
    "github": ("azure.com", "github.ai", "githubcopilot.com"),
}


@dataclass(frozen=True)
class Route:
    """What the app does with a chat for one provider (and model)."""

    endpoint: ChatEndpoint | None  # None: cherryconf cannot say
    url: str | None  # the exact URL requested, when cherryconf can say
    by_id: bool  # the provider's id decided, not its type
    why: str = ""  # when there is no URL: why not, for people


def _id_routing(version: AppVersion | None) -> bool:
    # Before the AI-SDK core (1.6) the app chose its client by type; 2.x routes by the row's endpoints (but for
    # the OpenAI preset, see route()).
    return version is None or (1, 6) <= version < (2,)


def _plain(host: str, endpoint: Literal["chat/completions", "responses"], version: AppVersion | None,
           by_id: bool = False) -> Route:
    return Route(endpoint, f"{base_url(host, version)}/{endpoint}", by_id)


def _no_v1(host: str) -> str:
    host = host.strip().rstrip("#")
    return host[:-1] if host.endswith("/") else host


def _aihubmix(host: str, model_id: str | None, version: AppVersion | None) -> Route:
    model = (model_id or "").lower()
    if model.startswith("claude"):
        return Route("messages", f"{base_url(host, version)}/messages", True)
    if (model.startswith(("gemini", "imagen")) and not model.endswith(("-nothink", "-search"))
            and "embedding" not in model):
        return Route("generateContent",
                     f"{_no_v1(host)}/gemini/v1beta/models/{model_id}:streamGenerateContent?alt=sse", True)
    if model_id is None or model.startswith(("gpt", "o1", "o3", "o4", "chatgpt")):
        return _plain(host, "responses", version, by_id=True)
    return Route(None, None, True, _("the AiHubMix provider picks the protocol per model"))


def route(provider: Mapping[str, Any], app_version: AppVersion | None = None, model_id: str | None = None) -> Route:
    """Where a chat with this stored provider (and model: it matters for `aihubmix`) goes."""
    pid = str(provider.get("id", ""))
    ptype = str(provider.get("type", ""))
    host = provider.get("apiHost")
    if not isinstance(host, str) or not host.strip():
        return Route(None, None, False, _("no apiHost"))
    if _id_routing(app_version):
        if pid in _RESPONSES_IDS:
            return _plain(host, "responses", app_version, by_id=True)
        if pid in _CHAT_IDS:
            return _plain(host, "chat/completions", app_version, by_id=True)
        if pid == _AIHUBMIX:
            return _aihubmix(host, model_id, app_version)
        if pid in _NO_V1_IDS and (pid == "perplexity" or ptype == "openai"):
            return Route("chat/completions", f"{openai_base(provider, app_version)}/chat/completions", True)
        if pid in _OTHER_SDK_IDS:
            return Route(None, None, True, _("Cherry Studio uses its own client for the id {pid!r}").format(pid=pid))
    if app_version is not None and app_version >= (2,) and pid == "openai":
        # 2.x through 2.1.4: the OpenAI preset's models take the registry's first endpoint, responses, whatever
        # the provider's default chat endpoint says (app issue 19688, reported on 2.0.8; facts file section 8).
        return _plain(host, "responses", app_version, by_id=True)
    if ptype == "openai":
        return _plain(host, "chat/completions", app_version)
    if ptype == "openai-response":
        return _plain(host, "responses", app_version)
    return Route(None, None, False, _("type {ptype!r} does not use the OpenAI-compatible endpoints").format(
                                        ptype=ptype))


def openai_base(provider: Mapping[str, Any], app_version: AppVersion | None = None) -> str:
    """The base URL the app puts OpenAI-compatible endpoints (`/models`, `/chat/completions`) after."""
    host = str(provider.get("apiHost") or "")
    if _id_routing(app_version) and str(provider.get("id")) in _NO_V1_IDS:
        return _no_v1(host)
    return base_url(host, app_version)


def chat_url(provider: Mapping[str, Any], app_version: AppVersion | None = None,
             model_id: str | None = None) -> str | None:
    """The URL a chat with this provider goes to, or None when cherryconf cannot say."""
    return route(provider, app_version, model_id).url


def honoured_types(provider_id: str) -> frozenset[str] | None:
    """The 1.x types the app honours for this id, or None when the id does not override the type."""
    if provider_id in _RESPONSES_IDS:
        return frozenset({"openai-response"})
    if provider_id in ("new-api", "newapi"):
        return frozenset({"openai", "new-api"})
    if provider_id in _CHAT_IDS or provider_id in (_AIHUBMIX, "perplexity"):
        return frozenset({"openai"})
    return _OTHER_SDK_IDS.get(provider_id)


def check_type_honoured(provider_id: str, provider_type: str) -> None:
    """BadInput when the app would ignore this type for this id (it routes the id to an SDK of its own)."""
    honoured = honoured_types(provider_id)
    if honoured is None or provider_type in honoured:
        return
    calls = route({"id": provider_id, "type": provider_type, "apiHost": "https://gateway.example"}).endpoint
    where = f"/{calls}" if calls in ("responses", "chat/completions") else _("its own client")
    raise BadInput(
        _("Cherry Studio sends chats of the provider id {provider_id!r} to {where} whatever its type, so type "
          "{provider_type!r} would be ignored; give your provider an id of its own (such as 'my-gateway'), or use "
          "type {honoured!r} to configure the app's own {provider_id!r} provider").format(
            provider_id=provider_id, where=where, provider_type=provider_type, honoured=sorted(honoured)[0])
    )


def host_name(api_host: str) -> str:
    """The lower-cased host name of an apiHost, or "" when it has none."""
    try:
        return (urlsplit(api_host.strip()).hostname or "").lower()
    except ValueError:
        return ""


def holds_gateway(provider: Mapping[str, Any]) -> bool:
    """A built-in provider of BUILT_IN_DEFAULTS whose apiHost is not its vendor's own: someone's gateway."""
    pid = str(provider.get("id", ""))
    domains = _VENDOR_DOMAINS.get(pid)
    host = host_name(str(provider.get("apiHost") or ""))
    if domains is None or not host:
        return False
    try:
        check_url(str(provider.get("apiHost")))
    except BadInput:
        return False
    return not any(host == d or host.endswith("." + d) for d in domains)


@dataclass(frozen=True)
class ProviderUrls:
    """Where one provider's chats go: the URL most of its models use, and the models that go elsewhere."""

    main: str | None
    by_model: dict[str, str | None]  # only models whose URL differs from `main`
    by_id: bool
    why: str  # why there is no main URL


def provider_urls(provider: Mapping[str, Any], app_version: AppVersion | None = None) -> ProviderUrls:
    main = route(provider, app_version)
    others: dict[str, str | None] = {}
    for m in provider.get("models") or []:
        if isinstance(m, dict) and isinstance(m.get("id"), str):
            url = route(provider, app_version, m["id"]).url
            if url != main.url:
                others[m["id"]] = url
    return ProviderUrls(main.url, others, main.by_id, main.why)
