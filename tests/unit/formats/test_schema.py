"""The pydantic models, the fast validator and the JSON Schemas in schemas/ say the same thing, and `cherryconf schema`
prints them."""

from __future__ import annotations

import copy
import json
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError
from testing import REPO, jsonschema_check
from testing.cli import RunCli

from cherryconf.domain import spec
from cherryconf.formats import fastschema, models, schema

SCHEMAS = REPO / "schemas"
DELETE = object()

MODEL: dict[str, Any] = {"id": "gpt-4.1", "provider": "gw", "name": "GPT-4.1", "group": "gpt-4.1"}
PROVIDER: dict[str, Any] = {
    "id": "gw", "type": "openai", "name": "Gateway", "apiKey": "sk-x", "apiHost": "https://h", "models": [MODEL],
}
PROFILE: dict[str, Any] = {
    "version": 1,
    "providers": [{"id": "gw", "apiHost": "https://h", "apiKey": "sk-x", "models": ["gpt-4.1", {"id": "o3"}]}],
}


def edit(base: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A deep copy of base with the value at path replaced (or removed with DELETE)."""
    doc = copy.deepcopy(base)
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


def prov(*path: str | int, value: Any) -> dict[str, Any]:
    return edit(PROVIDER, path, value)


def prof(*path: str | int, value: Any) -> dict[str, Any]:
    return edit(PROFILE, path, value)


def p0(*path: str | int, value: Any) -> dict[str, Any]:
    return edit(PROFILE, ("providers", 0, *path), value)


PROVIDER_DOCS: list[tuple[str, Any, bool]] = [
    ("minimal", PROVIDER, True),
    ("no models", prov("models", value=[]), True),
    ("empty name and key, as the UI creates them", prov("name", value="") | {"apiKey": ""}, True),
    ("unknown fields survive", prov("somethingNew", value={"x": [1, None]}), True),
    ("every optional field", PROVIDER | {
        "enabled": True, "isSystem": False, "isAuthed": False, "rateLimit": 5, "apiVersion": "2024-02-01",
        "anthropicApiHost": "https://h/anthropic", "notes": "n", "extra_headers": {"X-A": "1"},
        "serviceTier": "auto", "verbosity": "low", "authType": "oauth", "isVertex": False,
        "apiOptions": {"isNotSupportStreamOptions": True, "isNotSupportArrayContent": False, "isFuture": True},
    }, True),
    ("rate limit as a float", prov("rateLimit", value=2.5), True),
    ("full model", prov("models", 0, value=MODEL | {
        "owned_by": "openai", "description": "d", "capabilities": [{"type": "vision"}, {"type": "reasoning",
                                                                                      "isUserSelected": True}],
        "type": ["text"], "pricing": {"input_per_million_tokens": 2, "output_per_million_tokens": 8.5,
                                      "currencySymbol": "$"},
        "endpoint_type": "openai", "supported_endpoint_types": ["openai", "openai-response"],
        "supported_text_delta": True, "futureField": 1,
    }), True),
    *[(f"no {f}", prov(f, value=DELETE), False) for f in ("id", "type", "name", "apiKey", "apiHost", "models")],
    *[(f"model without {f}", prov("models", 0, f, value=DELETE), False) for f in ("id", "provider", "name", "group")],
    ("empty id", prov("id", value=""), False),
    ("unknown type", prov("type", value="openai-responses"), False),
    ("type null", prov("type", value=None), False),
    ("name a number", prov("name", value=7), False),
    ("key null", prov("apiKey", value=None), False),
    ("models an object", prov("models", value={"gpt-4.1": MODEL}), False),
    ("model a string", prov("models", 0, value="gpt-4.1"), False),
    ("model empty id", prov("models", 0, "id", value=""), False),
    ("model empty provider", prov("models", 0, "provider", value=""), False),
    ("capability without type", prov("models", 0, "capabilities", value=[{"isUserSelected": True}]), False),
    ("capability unknown", prov("models", 0, "capabilities", value=[{"type": "telepathy"}]), False),
    ("capability flag a string", prov("models", 0, "capabilities", value=[{"type": "vision", "isUserSelected": "y"}]),
     False),
    ("pricing half", prov("models", 0, "pricing", value={"input_per_million_tokens": 1}), False),
    ("pricing as text", prov("models", 0, "pricing", value={"input_per_million_tokens": "1",
                                                            "output_per_million_tokens": 2}), False),
    ("endpoint type unknown", prov("models", 0, "endpoint_type", value="chat"), False),
    ("endpoint types not a list", prov("models", 0, "supported_endpoint_types", value="openai"), False),
    ("model type list of junk", prov("models", 0, "type", value=["text", "sound"]), False),
    ("enabled as text", prov("enabled", value="true"), False),
    ("enabled as 1", prov("enabled", value=1), False),
    ("rate limit as text", prov("rateLimit", value="5"), False),
    ("rate limit as boolean", prov("rateLimit", value=True), False),
    ("header value a number", prov("extra_headers", value={"X-A": 1}), False),
    ("auth type unknown", prov("authType", value="token"), False),
    ("api option not boolean", prov("apiOptions", value={"isNotSupportStreamOptions": "yes"}), False),
    ("unknown api option not boolean", prov("apiOptions", value={"isFuture": 1}), False),
    ("optional field null", prov("notes", value=None), False),
    ("a list", [PROVIDER], False),
    ("a string", "gw", False),
    ("null", None, False),
]

PROFILE_DOCS: list[tuple[str, Any, bool]] = [
    ("minimal", PROFILE, True),
    ("only the three required provider fields", prof("providers", 0, value={"id": "a", "apiHost": "h", "apiKey": "k"}),
     True),
    ("version as 1.0", prof("version", value=1.0), True),
    ("every provider field", p0("models", value=[]) | {"providers": [PROFILE["providers"][0] | {
        "name": "N" * 32, "type": "new-api", "replaceModels": True, "enabled": False, "notes": "", "apiVersion": "v",
        "extra_headers": {"X": "y"}, "apiOptions": {"isSupportDeveloperRole": True, "isFuture": False},
        "rateLimit": 0,
    }]}, True),
    ("full explicit model", p0("models", value=[{
        "id": "m", "name": "M", "group": "g", "capabilities": ["vision", "web_search"], "description": "",
        "owned_by": "o", "endpoint_type": "gemini", "supported_endpoint_types": ["jina-rerank"],
        "pricing": {"input_per_million_tokens": 0, "output_per_million_tokens": 0, "currencySymbol": "¥",
                    "futureField": True},
    }]), True),
    ("default model", prof("defaultModel", value="gw/openai/gpt-4.1"), True),
    ("CJK name of 32", p0("name", value="易" * 32), True),
    ("env reference as text", p0("apiKey", value="${KEY}"), True),
    ("owner", prof("owner", value="it-dept"), True),
    ("owner with dots and underscores", prof("owner", value="IT.desk_2"), True),
    ("owner of 64", prof("owner", value="o" * 64), True),
    ("owner of 65", prof("owner", value="o" * 65), False),
    ("owner empty", prof("owner", value=""), False),
    ("owner with a space", prof("owner", value="it dept"), False),
    ("owner starting with a dash", prof("owner", value="-it"), False),
    ("owner with a slash", prof("owner", value="it/dept"), False),
    ("owner CJK", prof("owner", value="信息部"), False),
    ("owner a number", prof("owner", value=7), False),
    ("owner null", prof("owner", value=None), False),
    ("no version", prof("version", value=DELETE), False),
    ("version 2", prof("version", value=2), False),
    ("version as text", prof("version", value="1"), False),
    ("version as true", prof("version", value=True), False),
    ("no providers", prof("providers", value=DELETE), False),
    ("empty providers", prof("providers", value=[]), False),
    ("unknown top field", prof("extra", value=1), False),
    ("default model without slash", prof("defaultModel", value="gpt-4.1"), False),
    ("default model with space in provider", prof("defaultModel", value="my gw/gpt"), False),
    ("default model null", prof("defaultModel", value=None), False),
    *[(f"no {f}", p0(f, value=DELETE), False) for f in ("id", "apiHost", "apiKey")],
    ("empty id", p0("id", value=""), False),
    ("id with a space", p0("id", value="a b"), False),
    ("id with a tab", p0("id", value="a\tb"), False),
    ("id with a trailing line break", p0("id", value="gw\n"), True),  # `$` in both: before a final "\n"
    ("id with a unit separator", p0("id", value="g\x1fw"), False),  # Python's \s takes \x1f
    ("id of 201", p0("id", value="i" * 201), False),
    ("id of 200", p0("id", value="i" * 200), True),
    ("name of 33", p0("name", value="N" * 33), False),
    ("name empty", p0("name", value=""), False),
    ("name null", p0("name", value=None), False),
    ("unknown type", p0("type", value="chat"), False),
    ("empty key", p0("apiKey", value=""), False),
    ("empty host", p0("apiHost", value=""), False),
    ("unknown provider field", p0("baseUrl", value="https://h"), False),
    ("enabled as text", p0("enabled", value="false"), False),
    ("replaceModels as 0", p0("replaceModels", value=0), False),
    ("rate limit as text", p0("rateLimit", value="1"), False),
    ("api option not boolean", p0("apiOptions", value={"isFuture": "no"}), False),
    ("header value a list", p0("extra_headers", value={"X": ["y"]}), False),
    ("models a string", p0("models", value="gpt-4.1"), False),
    ("model empty string", p0("models", value=[""]), False),
    ("model a number", p0("models", value=[4]), False),
    ("model null", p0("models", value=[None]), False),
    ("model without id", p0("models", value=[{"name": "x"}]), False),
    ("model unknown field", p0("models", value=[{"id": "x", "provider": "gw"}]), False),
    ("model empty name", p0("models", value=[{"id": "x", "name": ""}]), False),
    ("model capabilities as objects", p0("models", value=[{"id": "x", "capabilities": [{"type": "vision"}]}]), False),
    ("model capability unknown", p0("models", value=[{"id": "x", "capabilities": ["psychic"]}]), False),
    ("model pricing half", p0("models", value=[{"id": "x", "pricing": {"output_per_million_tokens": 1}}]), False),
    ("a list", [PROFILE], False),
    ("null", None, False),
]


def pydantic_accepts(model: type[BaseModel], doc: Any) -> bool:
    try:
        model.model_validate(doc)
    except ValidationError:
        return False
    return True


def schema_accepts(name: schema.SchemaName, doc: Any) -> bool:
    return not jsonschema_check.errors(name, doc)


@pytest.mark.parametrize(("case", "doc", "valid"), PROVIDER_DOCS, ids=[c for c, _, _ in PROVIDER_DOCS])
def test_provider_model_and_schema_agree(case: str, doc: Any, valid: bool) -> None:
    assert pydantic_accepts(models.Provider, doc) is valid
    assert schema_accepts("provider", doc) is valid
    assert fastschema.accepts("provider", doc) is valid


@pytest.mark.parametrize(("case", "doc", "valid"), PROFILE_DOCS, ids=[c for c, _, _ in PROFILE_DOCS])
def test_profile_model_and_schema_agree(case: str, doc: Any, valid: bool) -> None:
    assert pydantic_accepts(models.Profile, doc) is valid
    assert schema_accepts("profile", doc) is valid
    assert fastschema.accepts("profile", doc) is valid


# Values of every JSON kind, including the edge cases each side could read differently.
_json_value = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-3, 300), st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(["", " ", "x", "gw/m", "a b", "1", "true", "openai", "vision", "new-api", "N" * 33,
                         "gw\n", "${KEY}", "https://h", "it-dept", "-x", "o" * 65]),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(
        st.sampled_from(["id", "type", "name", "x", "isFuture", "input_per_million_tokens",
                         "output_per_million_tokens"]), inner, max_size=3)),
    max_leaves=6,
)

PROVIDER_PATHS = [
    ("id",), ("type",), ("name",), ("apiKey",), ("apiHost",), ("models",), ("enabled",), ("rateLimit",),
    ("extra_headers",), ("authType",), ("apiOptions",), ("apiOptions", "isFuture"), ("notes",), ("models", 0),
    ("models", 0, "id"), ("models", 0, "provider"), ("models", 0, "group"), ("models", 0, "capabilities"),
    ("models", 0, "pricing"), ("models", 0, "endpoint_type"), ("models", 0, "supported_text_delta"), ("unknown",),
]
PROFILE_PATHS = [
    ("version",), ("providers",), ("defaultModel",), ("owner",), ("extra",), ("providers", 0), ("providers", 0, "id"),
    ("providers", 0, "name"), ("providers", 0, "type"), ("providers", 0, "apiHost"), ("providers", 0, "apiKey"),
    ("providers", 0, "models"), ("providers", 0, "models", 0), ("providers", 0, "models", 1),
    ("providers", 0, "models", 1, "id"), ("providers", 0, "models", 1, "capabilities"),
    ("providers", 0, "models", 1, "pricing"), ("providers", 0, "enabled"), ("providers", 0, "rateLimit"),
    ("providers", 0, "apiOptions"), ("providers", 0, "extra_headers"), ("providers", 0, "replaceModels"),
]


@settings(max_examples=300)
@given(st.lists(st.tuples(st.sampled_from(PROVIDER_PATHS), st.one_of(st.just(DELETE), _json_value)), max_size=3))
def test_provider_agreement_on_mutated_documents(edits: list[tuple[tuple[str | int, ...], Any]]) -> None:
    doc = mutate(PROVIDER, edits)
    verdict = schema_accepts("provider", doc)
    assert pydantic_accepts(models.Provider, doc) == verdict, doc
    assert fastschema.accepts("provider", doc) == verdict, doc


@settings(max_examples=300)
@given(st.lists(st.tuples(st.sampled_from(PROFILE_PATHS), st.one_of(st.just(DELETE), _json_value)), max_size=3))
def test_profile_agreement_on_mutated_documents(edits: list[tuple[tuple[str | int, ...], Any]]) -> None:
    doc = mutate(PROFILE, edits)
    verdict = schema_accepts("profile", doc)
    assert pydantic_accepts(models.Profile, doc) == verdict, doc
    assert fastschema.accepts("profile", doc) == verdict, doc


def mutate(base: dict[str, Any], edits: list[tuple[tuple[str | int, ...], Any]]) -> Any:
    doc: Any = copy.deepcopy(base)
    for path, value in edits:
        target = doc
        try:
            for key in path[:-1]:
                target = target[key]
            if value is DELETE:
                del target[path[-1]]
            else:
                target[path[-1]] = copy.deepcopy(value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced the parent: this edit does not apply
    return doc


# --- enumerations and the files themselves -------------------------------------------------------------------


def load(file: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / file).read_text(encoding="utf-8"))


@pytest.mark.parametrize(("definition", "literal"), [
    ("ProviderType", spec.ProviderType), ("ModelType", spec.ModelType), ("EndpointType", spec.EndpointType),
])
def test_enumerations_match(definition: str, literal: Any) -> None:
    assert load("cherry-provider.schema.json")["$defs"][definition]["enum"] == list(get_args(literal))


@pytest.mark.parametrize("file", ["cherry-provider.schema.json", "profile.schema.json"])
def test_schema_files_are_valid_draft_2020_12(file: str) -> None:
    doc = load(file)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(doc)


@pytest.mark.parametrize(("which", "file"), [
    ("provider", "cherry-provider.schema.json"), ("profile", "profile.schema.json"),
])
def test_schema_command_prints_the_file(which: str, file: str, run_cli: RunCli) -> None:
    code, out, err = run_cli("schema", which)
    assert (code, err) == (0, "")
    assert out == (SCHEMAS / file).read_text(encoding="utf-8")
    assert json.loads(out) == load(file)


def test_schema_command_defaults_to_the_profile(run_cli: RunCli) -> None:
    code, out, _ = run_cli("schema")
    assert code == 0
    assert json.loads(out)["title"] == "cherryconf profile"


def test_schema_command_refuses_an_unknown_schema(run_cli: RunCli) -> None:
    code, out, err = run_cli("schema", "model")
    assert code == 2
    assert out == ""
    assert "model" in err
    assert "Traceback" not in err


def test_fast_validator_refuses_a_keyword_it_does_not_implement() -> None:
    # A schema edit using more of JSON Schema must fail loudly here, not be checked as if the keyword were absent.
    with pytest.raises(ValueError, match="uniqueItems"):
        fastschema._Compiler().compile("x.json", {"type": "array", "uniqueItems": True})
