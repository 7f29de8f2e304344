"""The data cherryconf works with, described once.

`Provider` and `Model` are Cherry Studio's 1.x formats (every store maps to and from them); unknown fields are
allowed so whatever the app stored round-trips. `Profile*` are what users write: unknown fields are refused.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

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

NonEmpty = Annotated[str, StringConstraints(min_length=1)]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\s]+$")]
# Who manages a profile's providers (`it-dept`): a name people type, so letters, digits, `.`, `_` and `-`.
OWNER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
OwnerName = Annotated[str, StringConstraints(pattern=OWNER_PATTERN)]


class _Strict(BaseModel):
    """Validates what the JSON Schemas say: no coercion ("true" is not a boolean), a field that is present
    holds a value (the schemas have no null: an optional field is left out), and numbers are finite."""

    # JSON has no inf or NaN; patterns run on Python's re, as jsonschema runs them (Rust's regex reads `$` and `\s`
    # differently), so a pattern means the same thing here and in schemas/.
    model_config = ConfigDict(strict=True, allow_inf_nan=False, regex_engine="python-re")

    @field_validator("*", mode="before")
    @classmethod
    def _present_means_set(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError("null", _("has no value: give it one or leave the field out"))
        return value


def _not_bool(value: Any) -> Any:
    # Literal[1] would take True (True == 1 in Python); the schema's const 1 does not.
    if isinstance(value, bool):
        raise PydanticCustomError("literal_error", _("Input should be 1"))
    return value


class ModelCapability(_Strict):
    model_config = ConfigDict(extra="allow")
    type: ModelType
    isUserSelected: bool | None = None


class ModelPricing(_Strict):
    model_config = ConfigDict(extra="allow")
    input_per_million_tokens: float
    output_per_million_tokens: float
    currencySymbol: str | None = None


class Model(_Strict):
    """A 1.x Model exactly as the app stores it inside a provider."""

    model_config = ConfigDict(extra="allow")
    id: NonEmpty
    provider: NonEmpty
    name: str
    group: str
    owned_by: str | None = None
    description: str | None = None
    capabilities: list[ModelCapability] | None = None
    type: list[ModelType] | None = None
    pricing: ModelPricing | None = None
    endpoint_type: EndpointType | None = None
    supported_endpoint_types: list[EndpointType] | None = None
    supported_text_delta: bool | None = None


class ApiOptions(_Strict):
    model_config = ConfigDict(extra="allow")
    isNotSupportArrayContent: bool | None = None
    isNotSupportStreamOptions: bool | None = None
    isSupportDeveloperRole: bool | None = None
    isSupportServiceTier: bool | None = None
    isNotSupportEnableThinking: bool | None = None
    isNotSupportAPIVersion: bool | None = None
    isNotSupportVerbosity: bool | None = None
    __pydantic_extra__: dict[str, bool] = Field(init=False)  # the schema: every other option is a boolean too


class Provider(_Strict):
    """A 1.x Provider exactly as the app stores it in `llm.providers`."""

    model_config = ConfigDict(extra="allow")
    id: NonEmpty
    type: ProviderType
    name: str
    apiKey: str
    apiHost: str
    models: list[Model]
    enabled: bool | None = None
    isSystem: bool | None = None
    isAuthed: bool | None = None
    rateLimit: float | None = None
    apiVersion: str | None = None
    anthropicApiHost: str | None = None
    notes: str | None = None
    extra_headers: dict[str, str] | None = None
    serviceTier: str | None = None
    verbosity: str | None = None
    authType: Literal["apiKey", "oauth"] | None = None
    isVertex: bool | None = None
    apiOptions: ApiOptions | None = None


# --- the profile: what users write -------------------------------------------------------------------


class ProfileModel(_Strict):
    model_config = ConfigDict(extra="forbid")
    id: NonEmpty
    name: NonEmpty | None = None
    group: NonEmpty | None = None
    capabilities: list[ModelType] | None = None
    description: str | None = None
    owned_by: str | None = None
    endpoint_type: EndpointType | None = None
    supported_endpoint_types: list[EndpointType] | None = None
    pricing: ModelPricing | None = None


class ProfileProvider(_Strict):
    model_config = ConfigDict(extra="forbid")
    id: Identifier
    name: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    type: ProviderType = "openai"
    apiHost: NonEmpty
    apiKey: NonEmpty
    models: list[NonEmpty | ProfileModel] = Field(default_factory=list)
    replaceModels: bool = False
    enabled: bool | None = None
    notes: str | None = None
    apiVersion: str | None = None
    extra_headers: dict[str, str] | None = None
    apiOptions: ApiOptions | None = None
    rateLimit: float | None = None


class Profile(_Strict):
    model_config = ConfigDict(extra="forbid")
    version: Annotated[Literal[1], BeforeValidator(_not_bool)]
    providers: Annotated[list[ProfileProvider], Field(min_length=1)]
    defaultModel: Annotated[str, StringConstraints(pattern=r"^[^/\s]+/.+$")] | None = None
    owner: OwnerName | None = None


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
