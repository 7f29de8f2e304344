"""Cherry Studio's 1.x Provider and Model, and the profile users write, as pydantic models.

`Provider` and `Model` are the app's 1.x formats (every store maps to and from them); unknown fields are allowed
so whatever the app stored round-trips. `Profile*` are what users write: unknown fields are refused. They say what
schemas/ says (tests/unit/formats/test_schema.py); a valid document never needs them (cherryconf.formats.fastschema
checks it without importing pydantic), so they serve to word what is wrong with one the schemas refuse.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from cherryconf.domain.spec import OWNER_PATTERN, EndpointType, ModelType, ProviderType
from cherryconf.i18n import _

NonEmpty = Annotated[str, StringConstraints(min_length=1)]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\s]+$")]
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
