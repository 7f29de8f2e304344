"""The names cherryconf works with: provider and model kinds, built-in provider ids, the app's default naming.

The formats themselves are the JSON Schemas in schemas/ (checked by cherryconf.formats.fastschema) and the pydantic
models in cherryconf.formats.models, which word the problems of a document the schemas refuse.
"""

from __future__ import annotations

from typing import Any, Literal

from cherryconf.i18n import _

ProviderType = Literal[
    "openai",
    "openai-response",
    "anthropic",
    "gemini",
    "azure-openai",
    "vertexai",
    "mistral",
    "aws-bedrock",
    "vertex-anthropic",
    "new-api",
    "gateway",
    "ollama",
    "qwenlm",
]
ModelType = Literal["text", "vision", "embedding", "reasoning", "function_calling", "web_search", "rerank"]
EndpointType = Literal["openai", "openai-response", "anthropic", "gemini", "image-generation", "jina-rerank"]

# Who manages a profile's providers (`it-dept`): a name people type, so letters, digits, `.`, `_` and `-`.
OWNER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


# The ids of the providers the app ships (2.x registry, a superset of 1.x's system providers): a custom
# provider must not take one, or it would overwrite (1.x) or be refused as (2.x) the app's own.
BUILT_IN_PROVIDER_IDS = frozenset({
    "cherryai", "cherryin", "silicon", "aihubmix", "ocoolai", "deepseek", "ppio", "alayanew", "qiniu", "dmxapi",
    "burncloud", "302ai", "lanyun", "ph8", "openrouter", "ollama", "ovms", "new-api", "lmstudio", "anthropic",
    "openai", "azure-openai", "gemini", "vertexai", "github", "copilot", "zhipu", "yi", "moonshot", "baichuan",
    "dashscope", "stepfun", "doubao", "infini", "minimax", "groq", "together", "fireworks", "nvidia", "grok",
    "hyperbolic", "mistral", "jina", "perplexity", "modelscope", "xirang", "hunyuan", "tencent-cloud-ti",
    "baidu-cloud", "gpustack", "voyageai", "aws-bedrock", "poe", "aionly", "longcat", "huggingface", "sophnet",
    "gateway", "cerebras", "mimo", "gitee-ai", "minimax-global", "zai", "opencode",
    # Registry providers newer than 2.0.8 (2.1.4, cherry-studio-format.md section 8): a later release's seeder
    # merges its preset into a user's provider of the same id.
    "radeon-cloud", "claude-code", "openai-codex", "grok-cli", "tokenhub", "tokendance",
})


# Provider ids the 2.x app retired: it hides such a provider from its lists and answers NOT_FOUND for it, and its
# models stay behind (src/main/data/retiredProviders.ts at ousugo/cherry-studio 564c9eac, RETIRED_PROVIDER_IDS;
# a row is retired by its id or its preset id).
RETIRED_PROVIDER_IDS = frozenset({"cephalon", "github", "tokenflux"})

# Providers the 2.x app runs in its own process: seeded enabled, with models, but with no host and no key
# (src/main/data/db/seeding/seeders/LocalModelSeeder.ts at ousugo/cherry-studio 564c9eac: `local-embedding`,
# endpoint_configs {}, no auth config).
IN_PROCESS_PROVIDER_IDS = frozenset({"local-embedding"})


def check_header_value(name: str, value: str) -> str | None:
    """Why a request header value cannot be sent, or None. HTTP carries header values as bytes: httpx (verify) and
    the app's own fetch refuse characters beyond ASCII, and a line break would split the header."""
    bad = list(dict.fromkeys(c for c in value if ord(c) > 0x7E or (ord(c) < 0x20 and c != "\t")))
    if not bad:
        return None
    shown = " ".join(repr(c) for c in bad[:5])
    return _("header {name}: its value holds {shown}, which an HTTP header cannot carry (only ASCII); "
             "percent-encode it or agree an ASCII value with the gateway").format(name=name, shown=shown)


# --- naming, the way the app derives it --------------------------------------------------------------

# Providers for which the app treats every one of / - _ : and space as a first-rule delimiter.
_ALL_DELIMITER_PROVIDERS = frozenset({"aihubmix", "silicon", "ocoolai", "o3", "dmxapi"})


def default_group(model_id: str, provider_id: str = "") -> str:
    """The group the app gives a model id when the user gives none (its getDefaultGroupName).

    Delimiters are tried in a fixed order: the first one present wins, not the first one in the string.
    """
    s = model_id.lower()
    first: tuple[str, ...] = ("/", " ", ":")
    second: tuple[str, ...] = ("-", "_")
    if provider_id.lower() in _ALL_DELIMITER_PROVIDERS:
        first, second = ("/", " ", "-", "_", ":"), ()
    for d in first:
        if d in s:
            return s.split(d)[0]
    for d in second:
        if d in s:
            parts = s.split(d)
            return f"{parts[0]}-{parts[1]}"
    return s


def model_from_id(model_id: str, provider_id: str) -> dict[str, Any]:
    """The Model the app's bulk add-model dialog stores for a bare id (name = id, group derived)."""
    return {
        "id": model_id,
        "provider": provider_id,
        "name": model_id,
        "group": default_group(model_id, provider_id),
        "supported_text_delta": True,
    }


def setting_name(key: str) -> str:
    """A model setting of the store (`defaultModel`, ...) by the name the app shows for it, in the user's language.

    English keeps the store's key, as the messages always said; the Chinese names are the app's own labels
    (Cherry Studio 1.7.x, src/renderer/src/i18n/locales/zh-cn.json @ e997d02: settings.models.*).
    """
    names = {
        # Translators: the app's label for this setting, then the store key (zh: 默认助手模型（defaultModel）).
        "defaultModel": _("defaultModel"),
        # Translators: the app labels the topic-naming model "quick model" (zh: 快速模型).
        "topicNamingModel": _("topicNamingModel"),
        # Translators: the quick assistant's model (zh: 快捷助手模型).
        "quickModel": _("quickModel"),
        # Translators: the translate model (zh: 翻译模型).
        "translateModel": _("translateModel"),
    }
    return names.get(key, key)
