"""profile.yaml: what loads and how it expands, and a corpus of malformed profiles run through the real CLI."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testing import REPO, jsonschema_check
from testing.cli import CliResult, RunCli, cli, fingerprint, isolated_environ
from testing.plyvel_view import plyvel_items
from testing.v1state import make_userdata, read_llm

from cherryconf.errors import BadInput
from cherryconf.formats import profile
from cherryconf.formats.models import Provider

REPO_ROOT = REPO

# --- a valid profile, and ways to break it ---------------------------------------------------------------

BASE: dict[str, Any] = {
    "version": 1,
    "providers": [
        {
            "id": "gw",
            "name": "Gateway",
            "apiHost": "https://gw.example.com",
            "apiKey": "sk-test-0123456789abcdef",
            "models": ["gpt-4.1", "deepseek-r1", {"id": "claude-sonnet-4-20250514", "name": "Claude Sonnet 4"}],
        }
    ],
}
DELETE = object()  # marks a key to remove


def doc(top: dict[str, Any] | None = None, **provider: Any) -> str:
    """BASE as YAML, with top-level keys and keys of providers[0] replaced (or removed with DELETE)."""
    d = copy.deepcopy(BASE)
    for target, changes in ((d, top or {}), (d["providers"][0], provider)):
        for k, v in changes.items():
            if v is DELETE:
                target.pop(k, None)
            else:
                target[k] = v
    return yaml.safe_dump(d, allow_unicode=True, sort_keys=False)


def models(*extra: Any) -> str:
    """BASE with a third model entry replaced, so a problem sits at providers[0].models[2]."""
    return doc(models=["gpt-4.1", "deepseek-r1", *extra])


def with_second_provider(**second: Any) -> str:
    d = copy.deepcopy(BASE)
    d["providers"].append({"id": "gw2", "apiHost": "https://two.example.com", "apiKey": "k2", **second})
    return yaml.safe_dump(d, sort_keys=False)


NOT_A_MODEL = "providers[0].models[2]: a model is a model id or a mapping with an id"
UNSET = "CHERRYCONF_TEST_UNSET_VAR"
EMPTY = "CHERRYCONF_TEST_EMPTY_VAR"

BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
)


def _directory(p: Path) -> Path:
    p.mkdir()
    return p


def _missing(p: Path) -> Path:
    return p


def _ten_megabytes(p: Path) -> Path:
    p.write_text(doc() + "# " + "x" * (10 * 1024 * 1024) + "\n", encoding="utf-8")
    return p


@dataclass(frozen=True)
class Bad:
    """A malformed profile: file content (or a function making the path), the text its one error line must hold.

    Every entry goes through `profile.load`; those with `cli` also through `cherryconf link` in a subprocess,
    which must exit 2 with that one located line on stderr. The CLI path is the same for every pydantic error, so
    finer variants of one kind of mistake (`variant`) stay in-process and keep the run short."""

    name: str
    content: str | bytes | Callable[[Path], Path]
    expect: str
    env: dict[str, str | None] = field(default_factory=dict)
    cli: bool = True  # also run through the command line (about 0.2 s of CPU each)


def variant(name: str, content: str | bytes, expect: str, env: dict[str, str | None] | None = None) -> Bad:
    """A finer variant of a problem the CLI table already covers: checked through `profile.load` only."""
    return Bad(name, content, expect, env or {}, cli=False)


CORPUS: list[Bad] = [
    # -- not YAML, not a file, not text --
    Bad("unclosed_flow", "version: 1\nproviders: [\n", "line 3, column 1:"),
    Bad("tab_indent", "version: 1\nproviders:\n\t- id: gw\n", "line 3, column 1: a tab character"),
    variant("mapping_in_scalar", "version: 1\nproviders: a: b\n", "line 2"),
    Bad("unclosed_quote", 'version: 1\nproviders:\n  - id: "gw\n', "line 4"),
    variant("duplicate_yaml_key", doc() + "version: 1\n", "duplicate key 'version'"),
    Bad("duplicate_yaml_key_nested",
        "version: 1\nproviders:\n  - id: gw\n    apiHost: https://h\n    apiKey: a\n    apiKey: b\n",
        "line 6, column 5: duplicate key 'apiKey'"),
    Bad("two_documents", doc() + "---\n" + doc(), "expected a single document"),
    Bad("python_tag", "!!python/object/apply:os.system ['true']\n", "line 1"),
    Bad("nested_too_deep", "[" * 2000 + "]" * 2000, "nested too deeply"),
    Bad("alias_bomb", BILLION_LAUGHS, "YAML aliases"),
    Bad("empty_file", "", "not an empty file"),
    variant("only_a_comment", "# just a comment\n", "not an empty file"),
    Bad("top_level_list", "- version: 1\n", "not a list"),
    variant("top_level_string", "hello\n", "not a string"),
    variant("top_level_number", "42\n", "not a number"),
    Bad("not_utf8", b"version: 1\nproviders:\n  - id: \xff\xfe\n", "not UTF-8"),
    variant("utf16", doc().encode("utf-16"), "not UTF-8"),
    Bad("directory", _directory, "is a directory"),
    Bad("missing_file", _missing, "no such file"),
    Bad("ten_megabytes", _ten_megabytes, "too large for a profile"),
    # -- refused on the YAML node graph, before any object is built (issue 13) --
    Bad("alias_cycle", "version: 1\nproviders: &p [*p]\n", "a YAML alias refers to a value that contains it"),
    variant("many_aliases", "version: 1\nm: &m x\nproviders: [" + ", ".join(["*m"] * 101) + "]\n",
            "more than 100 YAML aliases"),
    Bad("huge_integer", doc(rateLimit=7).replace("rateLimit: 7", "rateLimit: " + "9" * 5000),
        "a number of more than 20 digits"),
    variant("integer_beyond_2_53", doc(rateLimit=2**60), "providers[0].rateLimit: 1152921504606846976 is too large"),
    variant("infinity", "version: 1\nproviders: [{id: gw, rateLimit: .inf}]\n",
            "providers[0].rateLimit: input should be a finite number"),
    Bad("long_string", doc(notes="n" * 70_000), "a value of 70000 characters is too long for a profile"),
    Bad("control_character", "version: 1\nproviders:\n  - id: g\x07w\n", "line 3: a character that YAML does not"),
    variant("list_as_key", "version: 1\n? [a]\n: 1\n", "a list or mapping as a key"),
    variant("nested_33_deep", "version: 1\nx: " + "[" * 33 + "]" * 33 + "\n", "nested too deeply"),
    # -- the top level --
    Bad("no_version", doc({"version": DELETE}), "version: required"),
    Bad("version_2", doc({"version": 2}), "version: must be 1"),
    variant("version_string", doc({"version": "1"}), "version: must be 1"),
    variant("version_true", doc({"version": True}), "version: must be 1"),
    Bad("no_providers", doc({"providers": DELETE}), "providers: required"),
    Bad("empty_providers", doc({"providers": []}), "providers: must not be empty"),
    variant("providers_mapping", doc({"providers": {"id": "gw"}}), "providers: input should be a valid list"),
    Bad("provider_string", doc({"providers": ["gw"]}), "providers[0]: must be a mapping of fields"),
    variant("provider_null", doc({"providers": [None]}), "providers[0]: must be a mapping of fields"),
    Bad("unknown_top_field", doc({"extra": 1}), "extra: unknown field"),
    Bad("default_model_no_slash", doc({"defaultModel": "gpt-4.1"}), "defaultModel: must be <provider id>/<model id>"),
    variant("default_model_number", doc({"defaultModel": 4}), "defaultModel: input should be a valid string"),
    Bad("default_model_missing_provider", doc({"defaultModel": "other/gpt-4.1"}),
        "defaultModel: no provider 'other' in this profile"),
    Bad("default_model_missing_model", doc({"defaultModel": "gw/gpt-5"}),
        "defaultModel: provider 'gw' lists no model 'gpt-5'"),
    # -- provider fields --
    Bad("id_missing", doc(id=DELETE), "providers[0].id: required"),
    variant("id_empty", doc(id=""), "providers[0].id: must not be empty"),
    Bad("id_with_space", doc(id="my gw"), "providers[0].id: must not contain spaces"),
    variant("id_number", doc(id=42), "providers[0].id: input should be a valid string"),
    Bad("duplicate_provider_ids", with_second_provider(id="gw"),
        "providers[1].id: 'gw' is used by an earlier provider too"),
    Bad("name_over_32", doc(name="N" * 33), "providers[0].name: string should have at most 32 characters"),
    variant("name_empty", doc(name=""), "providers[0].name: must not be empty"),
    variant("name_list", doc(name=["a"]), "providers[0].name: input should be a valid string"),
    Bad("name_null", doc(name=None), "providers[0].name: has no value"),
    Bad("type_unknown", doc(type="responses"), "providers[0].type: input should be 'openai'"),
    variant("type_number", doc(type=1), "providers[0].type: input should be 'openai'"),
    Bad("api_host_missing", doc(apiHost=DELETE), "providers[0].apiHost: required"),
    Bad("api_host_empty", doc(apiHost=""), "providers[0].apiHost: must not be empty"),
    variant("api_host_number", doc(apiHost=8080), "providers[0].apiHost: input should be a valid string"),
    variant("api_host_no_scheme", doc(apiHost="gw.example.com/v1"), "providers[0].apiHost: the base URL"),
    Bad("api_host_ftp", doc(apiHost="ftp://gw.example.com"), "must start with http:// or https://"),
    Bad("api_host_javascript", doc(apiHost="javascript:alert(1)"), "must start with http:// or https://"),
    variant("api_host_file", doc(apiHost="file:///etc/passwd"), "must start with http:// or https://"),
    Bad("api_host_query", doc(apiHost="https://gw.example.com/v1?key=x"), "must not contain a query string"),
    variant("api_host_fragment", doc(apiHost="https://gw.example.com/#top"), "must not contain anything after it"),
    Bad("api_host_space", doc(apiHost="https://gw.example.com/my api"), "contains spaces or control characters"),
    variant("api_host_newline", doc(apiHost="https://gw.example.com\n/v1"), "contains spaces or control characters"),
    Bad("api_host_no_host", doc(apiHost="https://"), "has no host name"),
    variant("api_host_bad_port", doc(apiHost="https://gw.example.com:99999"), "has an invalid port"),
    variant("api_host_bad_ipv6", doc(apiHost="http://[::1"), "is not a valid URL"),
    Bad("second_provider_bad_url", with_second_provider(apiHost="ftp://two"), "providers[1].apiHost: the base URL"),
    Bad("api_key_missing", doc(apiKey=DELETE), "providers[0].apiKey: required"),
    Bad("api_key_empty", doc(apiKey=""), "providers[0].apiKey: must not be empty"),
    Bad("api_key_blank", doc(apiKey="   "), "providers[0].apiKey: must not be empty"),
    variant("api_key_number", doc(apiKey=12345), "providers[0].apiKey: input should be a valid string"),
    Bad("api_key_line_break", doc(apiKey="sk-abc\ndef"), "providers[0].apiKey: contains a line break"),
    Bad("api_key_unset_env", doc(apiKey="${" + UNSET + "}"),
        f"providers[0].apiKey: environment variable {UNSET} is not set", {UNSET: None}),
    Bad("api_key_empty_env", doc(apiKey="${" + EMPTY + "}"),
        f"providers[0].apiKey: environment variable {EMPTY} is empty", {EMPTY: ""}),
    variant("api_host_unset_env", doc(apiHost="https://${" + UNSET + "}/v1"),
        f"providers[0].apiHost: environment variable {UNSET} is not set", {UNSET: None}),
    Bad("unknown_provider_field", doc(baseUrl="https://gw.example.com"), "providers[0].baseUrl: unknown field"),
    Bad("enabled_string", doc(enabled="yes"), "providers[0].enabled: input should be a valid boolean"),
    variant("rate_limit_string", doc(rateLimit="fast"), "providers[0].rateLimit: input should be a valid number"),
    Bad("rate_limit_infinite", doc(rateLimit=float("inf")), "providers[0].rateLimit: input should be a finite"),
    variant("replace_models_string", doc(replaceModels="no"), "providers[0].replaceModels: input should be a valid"),
    variant("extra_header_number", doc(extra_headers={"X-Team": 7}),
        "providers[0].extra_headers.X-Team: input should be a valid string"),
    Bad("api_option_string", doc(apiOptions={"isNotSupportStreamOptions": "yes"}),
        "providers[0].apiOptions.isNotSupportStreamOptions: input should be a valid boolean"),
    variant("unknown_api_option_not_bool", doc(apiOptions={"isSomethingNew": "on"}),
        "providers[0].apiOptions.isSomethingNew: input should be a valid boolean"),
    # -- models --
    Bad("models_string", doc(models="gpt-4.1"), "providers[0].models: input should be a valid list"),
    variant("models_mapping", doc(models={"id": "gpt-4.1"}), "providers[0].models: input should be a valid list"),
    Bad("model_without_id", models({"name": "Nameless"}), "providers[0].models[2].id: required"),
    Bad("model_empty_id", models({"id": ""}), "providers[0].models[2].id: must not be empty"),
    variant("model_id_number", models({"id": 42}), "providers[0].models[2].id: input should be a valid string"),
    variant("model_empty_shorthand", models(""), "providers[0].models[2]: must not be empty"),
    Bad("model_blank_shorthand", models("   "), "providers[0].models[2].id:"),
    Bad("model_number", models(42), NOT_A_MODEL),
    variant("model_null", models(None), NOT_A_MODEL),
    variant("model_nested_list", models(["gpt-4.1"]), NOT_A_MODEL),
    Bad("model_unknown_field", models({"id": "x", "colour": "red"}), "providers[0].models[2].colour: unknown field"),
    variant("model_name_empty", models({"id": "x", "name": ""}), "providers[0].models[2].name: must not be empty"),
    Bad("model_capability_unknown", models({"id": "x", "capabilities": ["telepathy"]}),
        "providers[0].models[2].capabilities[0]: input should be 'text'"),
    variant("model_capabilities_string", models({"id": "x", "capabilities": "vision"}),
        "providers[0].models[2].capabilities: input should be a valid list"),
    Bad("model_pricing_incomplete", models({"id": "x", "pricing": {"input_per_million_tokens": 1}}),
        "providers[0].models[2].pricing.output_per_million_tokens: required"),
    variant("model_endpoint_type_unknown", models({"id": "x", "endpoint_type": "responses"}),
        "providers[0].models[2].endpoint_type: input should be 'openai'"),
    Bad("duplicate_model_ids", models("gpt-4.1"), "providers[0].models[2].id: model 'gpt-4.1' is listed twice"),
    variant("duplicate_model_explicit", models({"id": "deepseek-r1", "name": "R1"}),
        "providers[0].models[2].id: model 'deepseek-r1' is listed twice (also models[1])"),
    # The app routes these ids past their type (facts section 8): the type would be ignored.
    Bad("reserved_id_default_type", doc(id="openai"),
        "providers[0].id: Cherry Studio sends chats of the provider id 'openai' to /responses whatever its type"),
    Bad("reserved_id_ignored_type", doc(id="deepseek", type="openai-response"),
        "providers[0].type: Cherry Studio sends chats of the provider id 'deepseek' to /chat/completions"),
    variant("reserved_sdk_id", doc(id="claude"), "providers[0].id: Cherry Studio sends chats of the provider id "
            "'claude' to its own client whatever its type"),
]


def make(bad: Bad, tmp_path: Path) -> Path:
    path = tmp_path / f"{bad.name}.yaml"
    if callable(bad.content):
        return bad.content(path)
    if isinstance(bad.content, bytes):
        path.write_bytes(bad.content)
    else:
        path.write_text(bad.content, encoding="utf-8")
    return path


CLI_CORPUS = [b for b in CORPUS if b.cli]


def test_corpus_is_large_and_names_are_unique() -> None:
    assert len(CLI_CORPUS) >= 40
    assert len({b.name for b in CORPUS}) == len(CORPUS)


def test_base_document_is_valid(tmp_path: Path) -> None:
    """Every corpus entry breaks exactly one thing of this document, so it must itself load."""
    path = tmp_path / "base.yaml"
    path.write_text(doc(), encoding="utf-8")
    loaded = profile.load(path, env={})
    assert [m["id"] for m in loaded.providers[0].models] == ["gpt-4.1", "deepseek-r1", "claude-sonnet-4-20250514"]


@pytest.fixture(scope="module")
def cli_outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, CliResult]]:
    """`cherryconf link` on every corpus file, a few at a time (one process each: about 0.3 s of start-up)."""
    root = tmp_path_factory.mktemp("corpus")
    base_env = isolated_environ(root, os.environ)

    def run(bad: Bad) -> tuple[Path, CliResult]:
        path = make(bad, root)
        return path, cli("link", str(path), env=bad.env, cwd=root, base_env=base_env)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip((b.name for b in CLI_CORPUS), pool.map(run, CLI_CORPUS), strict=True))


@pytest.mark.parametrize("bad", CLI_CORPUS, ids=lambda b: b.name)
def test_malformed_profile_via_cli(bad: Bad, cli_outcomes: dict[str, tuple[Path, CliResult]]) -> None:
    path, (code, out, err) = cli_outcomes[bad.name]
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    (line,) = lines
    assert line.startswith("cherryconf: ")
    assert path.name in line
    assert bad.expect.lower() in line.lower(), line
    with pytest.raises(BadInput) as caught:  # the very sentence profile.load gives, nothing added or lost
        profile.load(path, env={k: v for k, v in bad.env.items() if v is not None})
    assert line == f"cherryconf: {caught.value.message}"


@pytest.mark.parametrize("bad", CORPUS, ids=lambda b: b.name)
def test_malformed_profile_via_load(bad: Bad, tmp_path: Path) -> None:
    path = make(bad, tmp_path)
    env = {k: v for k, v in bad.env.items() if v is not None}
    with pytest.raises(BadInput) as caught:
        profile.load(path, env=env)
    message = caught.value.message
    assert "\n" not in message
    assert path.name in message
    assert bad.expect.lower() in message.lower()


# --- exact messages ---------------------------------------------------------------------------------------


def load_text(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> profile.LoadedProfile:
    path = tmp_path / "profile.yaml"
    path.write_text(text, encoding="utf-8")
    return profile.load(path, env=env or {})


def error_of(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(BadInput) as caught:
        load_text(tmp_path, text, env)
    return caught.value.message


def test_model_without_id_message(tmp_path: Path) -> None:
    assert error_of(tmp_path, models({"name": "X"})) == "profile.yaml: providers[0].models[2].id: required"


def test_missing_env_message_names_the_variable(tmp_path: Path) -> None:
    assert error_of(tmp_path, doc(apiKey="${NOPE_KEY}")) == (
        "profile.yaml: providers[0].apiKey: environment variable NOPE_KEY is not set"
    )


def test_duplicate_provider_message(tmp_path: Path) -> None:
    assert error_of(tmp_path, with_second_provider(id="gw")) == (
        "profile.yaml: providers[1].id: 'gw' is used by an earlier provider too"
    )


def test_javascript_url_message(tmp_path: Path) -> None:
    assert error_of(tmp_path, doc(apiHost="javascript:alert(1)")) == (
        "profile.yaml: providers[0].apiHost: the base URL 'javascript:alert(1)' must start with http:// or https://"
    )


def test_unknown_type_message_lists_the_choices(tmp_path: Path) -> None:
    message = error_of(tmp_path, doc(type="chat"))
    assert message.startswith("profile.yaml: providers[0].type: input should be 'openai', 'openai-response'")


def test_every_problem_is_listed(tmp_path: Path) -> None:
    assert error_of(tmp_path, doc(apiKey=DELETE, apiHost=DELETE)) == (
        "profile.yaml: providers[0].apiHost: required; providers[0].apiKey: required")


def test_problems_of_every_kind_and_provider_are_listed_together(tmp_path: Path) -> None:
    text = with_second_provider(apiHost="ftp://two", apiKey="${NOPE_KEY}", models=["m", "m"])
    assert error_of(tmp_path, text) == "profile.yaml: providers[1].apiKey: environment variable NOPE_KEY is not set"
    assert error_of(tmp_path, text.replace("${NOPE_KEY}", "k2")) == (
        "profile.yaml: providers[1].apiHost: the base URL 'ftp://two' must start with http:// or https://; "
        "providers[1].models[1].id: model 'm' is listed twice (also models[0])")
    assert error_of(tmp_path, doc(apiKey="${NOPE_KEY}", apiHots="x")) == (
        "profile.yaml: providers[0].apiKey: environment variable NOPE_KEY is not set; "
        "providers[0].apiHots: unknown field (did you mean apiHost?)")


def test_more_than_ten_problems_are_counted(tmp_path: Path) -> None:
    message = error_of(tmp_path, doc(**{f"field{i}": i for i in range(13)}))
    assert message.count("unknown field") == 10 and message.endswith("; and 3 more")


@pytest.mark.parametrize(("typed", "where", "meant"), [
    ("apiHots", "providers[0]", "apiHost"), ("apikey", "providers[0]", "apiKey"),
    ("replace_models", "providers[0]", "replaceModels"), ("nmae", "providers[0].models[2]", "name"),
    ("defaultmodel", "", "defaultModel"), ("provders", "", "providers"),
])
def test_an_unknown_field_names_the_nearest_known_one(tmp_path: Path, typed: str, where: str, meant: str) -> None:
    if where.endswith("models[2]"):
        text = models({"id": "x", typed: "y"})
    elif where:
        text = doc(**{typed: "y"})
    else:
        text = doc({typed: "y"})
    loc = f"{where}.{typed}" if where else typed
    assert f"{loc}: unknown field (did you mean {meant}?)" in error_of(tmp_path, text)


def test_an_unknown_field_like_no_known_one_gets_no_guess(tmp_path: Path) -> None:
    assert error_of(tmp_path, doc(colour="red")) == "profile.yaml: providers[0].colour: unknown field"


@pytest.mark.parametrize("written", ["$GW_KEY", " $GW_KEY ", "${GW_KEY}"])
def test_a_value_that_is_exactly_a_dollar_name_is_a_variable(tmp_path: Path, written: str) -> None:
    (p,) = load_text(tmp_path, doc(apiKey=written, apiHost="$GW_HOST"),
                     {"GW_KEY": "sk-from-env", "GW_HOST": "https://gw.example.com/v1"}).providers
    assert p.new_provider["apiKey"] == "sk-from-env"
    assert p.new_provider["apiHost"] == "https://gw.example.com"


def test_a_dollar_inside_a_value_is_literal_text(tmp_path: Path) -> None:
    (p,) = load_text(tmp_path, doc(apiKey="sk-$abc", notes="costs $5, or $HOME and more"), {"abc": "x"}).providers
    assert p.new_provider["apiKey"] == "sk-$abc" and p.new_provider["notes"] == "costs $5, or $HOME and more"
    assert error_of(tmp_path, doc(apiKey="$NOPE_KEY")) == (
        "profile.yaml: providers[0].apiKey: environment variable NOPE_KEY is not set")


def test_yaml_error_is_located_by_line_and_column(tmp_path: Path) -> None:
    assert error_of(tmp_path, "version: 1\nproviders:\n  - id: gw\n   apiKey: x\n").startswith(
        "profile.yaml: line 4, column"
    )


# --- what valid profiles turn into -----------------------------------------------------------------------


@pytest.mark.parametrize(("pid", "ptype"), [("openai", "openai-response"), ("deepseek", "openai"),
                                            ("grok", "openai-response")])
def test_a_built_in_provider_configured_as_the_app_routes_it_loads(tmp_path: Path, pid: str, ptype: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(doc(id=pid, type=ptype), encoding="utf-8")
    assert profile.load(path).providers[0].new_provider["type"] == ptype


def test_shorthand_expands_to_the_model_the_app_stores(tmp_path: Path) -> None:
    loaded = load_text(tmp_path, doc(id="apiyi", models=["gpt-4.1", "claude-sonnet-4-20250514", "Qwen/Qwen3-32B"]))
    (p,) = loaded.providers
    assert p.models == [
        {"id": "gpt-4.1", "provider": "apiyi", "name": "gpt-4.1", "group": "gpt-4.1", "supported_text_delta": True},
        {"id": "claude-sonnet-4-20250514", "provider": "apiyi", "name": "claude-sonnet-4-20250514",
         "group": "claude-sonnet", "supported_text_delta": True},
        {"id": "Qwen/Qwen3-32B", "provider": "apiyi", "name": "Qwen/Qwen3-32B", "group": "qwen",
         "supported_text_delta": True},
    ]
    assert p.model_updates == [{"id": "gpt-4.1"}, {"id": "claude-sonnet-4-20250514"}, {"id": "Qwen/Qwen3-32B"}]


def test_shorthand_is_trimmed(tmp_path: Path) -> None:
    (p,) = load_text(tmp_path, doc(models=["  gpt-4.1 "])).providers
    assert p.models[0]["id"] == "gpt-4.1"


def test_group_follows_the_provider_rules(tmp_path: Path) -> None:
    """For `silicon` and friends every delimiter is a first-rule delimiter (facts file, section 3)."""
    (p,) = load_text(tmp_path, doc(id="silicon", models=["deepseek-r1", "gpt-3.5-turbo"])).providers
    assert [m["group"] for m in p.models] == ["deepseek", "gpt"]
    (q,) = load_text(tmp_path, doc(id="gw", models=["deepseek-r1", "gpt-3.5-turbo"])).providers
    assert [m["group"] for m in q.models] == ["deepseek-r1", "gpt-3.5"]


def test_explicit_model_keeps_what_it_names(tmp_path: Path) -> None:
    text = doc(models=[
        {"id": "claude-sonnet-4-20250514", "name": "Claude Sonnet 4", "capabilities": ["vision", "function_calling"]},
        {"id": "gemini-2.5-pro", "group": "Gemini", "description": "long context",
         "pricing": {"input_per_million_tokens": 1.25, "output_per_million_tokens": 10}},
    ])
    (p,) = load_text(tmp_path, text).providers
    sonnet, gemini = p.models
    assert sonnet["name"] == "Claude Sonnet 4"
    assert sonnet["group"] == "claude-sonnet"
    assert sonnet["provider"] == "gw"
    assert sonnet["capabilities"] == [
        {"type": "vision", "isUserSelected": True}, {"type": "function_calling", "isUserSelected": True},
    ]
    assert gemini["name"] == "gemini-2.5-pro"
    assert gemini["group"] == "Gemini"
    assert gemini["description"] == "long context"
    assert gemini["pricing"] == {"input_per_million_tokens": 1.25, "output_per_million_tokens": 10}
    # Updates carry only what the profile names, so re-applying never overwrites what the user set in the app.
    assert p.model_updates[0] == {
        "id": "claude-sonnet-4-20250514", "name": "Claude Sonnet 4", "capabilities": sonnet["capabilities"],
    }
    assert set(p.model_updates[1]) == {"id", "group", "description", "pricing"}


def test_env_references_expand_everywhere(tmp_path: Path) -> None:
    env = {"GW_KEY": "sk-from-env", "GW_HOST": "gw.internal:8443", "TEAM": "ml"}
    text = doc(apiKey="${GW_KEY}", apiHost="https://${GW_HOST}/v1/", notes="team ${TEAM}",
               extra_headers={"X-Team": "${TEAM}"})
    (p,) = load_text(tmp_path, text, env).providers
    assert p.new_provider["apiKey"] == "sk-from-env"
    assert p.new_provider["apiHost"] == "https://gw.internal:8443"
    assert p.new_provider["notes"] == "team ml"
    assert p.new_provider["extra_headers"] == {"X-Team": "ml"}


def test_literal_key_is_trimmed(tmp_path: Path) -> None:
    (p,) = load_text(tmp_path, doc(apiKey="  sk-literal  ")).providers
    assert p.fields["apiKey"] == "sk-literal"
    assert p.new_provider["apiKey"] == "sk-literal"


def test_env_is_read_from_the_process_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHERRYCONF_TEST_KEY", "sk-process")
    path = tmp_path / "p.yaml"
    path.write_text(doc(apiKey="${CHERRYCONF_TEST_KEY}"), encoding="utf-8")
    assert profile.load(path).providers[0].new_provider["apiKey"] == "sk-process"


@pytest.mark.parametrize("pasted", [
    "https://gw.example.com", "https://gw.example.com/", "https://gw.example.com/v1", "https://gw.example.com/v1/",
    "https://gw.example.com/v1/chat/completions", "https://gw.example.com/v1/chat/completions#",
    "https://gw.example.com/v1#", " https://gw.example.com/v1/ ",
])
def test_api_host_is_normalised_to_the_portable_form(tmp_path: Path, pasted: str) -> None:
    (p,) = load_text(tmp_path, doc(apiHost=pasted)).providers
    assert p.new_provider["apiHost"] == "https://gw.example.com"
    assert p.fields["apiHost"] == "https://gw.example.com"


def test_new_provider_is_a_valid_cherry_provider(tmp_path: Path) -> None:
    text = doc(enabled=False, rateLimit=10, apiOptions={"isNotSupportStreamOptions": True})
    (p,) = load_text(tmp_path, text).providers
    assert jsonschema_check.errors("provider", p.new_provider) == []
    Provider.model_validate(p.new_provider)
    assert p.new_provider["enabled"] is False
    assert p.new_provider["isSystem"] is False
    assert p.new_provider["type"] == "openai"
    assert p.new_provider["name"] == "Gateway"


def test_defaults_for_what_the_profile_leaves_out(tmp_path: Path) -> None:
    (p,) = load_text(tmp_path, doc(name=DELETE, models=DELETE)).providers
    assert p.new_provider["name"] == "gw"
    assert p.new_provider["type"] == "openai"
    assert p.new_provider["enabled"] is True
    assert p.new_provider["models"] == []
    assert p.replace_models is False
    assert set(p.fields) == {"apiHost", "apiKey"}  # only what the profile names is set on an existing provider


def test_fields_hold_only_what_the_profile_names(tmp_path: Path) -> None:
    (p,) = load_text(tmp_path, doc(type="openai", notes="n", replaceModels=True)).providers
    assert set(p.fields) == {"name", "type", "apiHost", "apiKey", "notes"}
    assert p.replace_models is True


def test_default_model(tmp_path: Path) -> None:
    loaded = load_text(tmp_path, doc({"defaultModel": "gw/claude-sonnet-4-20250514"}))
    assert loaded.default_model == ("gw", "claude-sonnet-4-20250514")
    assert load_text(tmp_path, doc()).default_model is None


def test_default_model_with_a_slash_in_the_model_id(tmp_path: Path) -> None:
    loaded = load_text(tmp_path, doc({"defaultModel": "gw/openai/gpt-4.1"}, models=["openai/gpt-4.1"]))
    assert loaded.default_model == ("gw", "openai/gpt-4.1")


def test_several_providers_keep_their_order(tmp_path: Path) -> None:
    loaded = load_text(tmp_path, with_second_provider())
    assert [p.id for p in loaded.providers] == ["gw", "gw2"]
    assert loaded.providers[1].new_provider["apiHost"] == "https://two.example.com"


def test_utf8_bom_and_cjk_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + doc(name="API易").encode("utf-8"))
    assert profile.load(path, env={}).providers[0].new_provider["name"] == "API易"


def test_name_of_32_characters_is_accepted(tmp_path: Path) -> None:
    (p,) = load_text(tmp_path, doc(name="易" * 32)).providers
    assert p.new_provider["name"] == "易" * 32


def test_anchors_that_stay_small_are_fine(tmp_path: Path) -> None:
    text = (
        "version: 1\nproviders:\n"
        "  - {id: a, apiHost: 'https://a.example.com', apiKey: k, models: &m [gpt-4.1, deepseek-r1]}\n"
        "  - {id: b, apiHost: 'https://b.example.com', apiKey: k, models: *m}\n"
    )
    loaded = load_text(tmp_path, text)
    assert [len(p.models) for p in loaded.providers] == [2, 2]
    assert loaded.providers[1].models[0]["provider"] == "b"


def test_parse_takes_data_without_a_file() -> None:
    loaded = profile.parse(yaml.safe_load(doc()), "wizard", env={})
    assert loaded.source == "wizard"
    with pytest.raises(BadInput, match=r"^wizard: providers\[0\]\.apiKey: required$"):
        profile.parse(yaml.safe_load(doc(apiKey=DELETE)), "wizard", env={})


# --- the shipped templates --------------------------------------------------------------------------------

TEMPLATES = sorted((REPO_ROOT / "templates").glob("*.yaml"))
# Provider ids Cherry Studio ships itself (its SYSTEM_PROVIDERS_CONFIG, and 2.x preset rows): a template must not
# take one, or applying it would rewrite the built-in provider instead of adding the user's own.
PRESET_IDS = {
    "openai", "anthropic", "gemini", "azure-openai", "vertexai", "aws-bedrock", "ollama", "lmstudio", "new-api",
    "openrouter", "deepseek", "silicon", "aihubmix", "ocoolai", "dmxapi", "o3", "zhipu", "moonshot", "dashscope",
    "ppio", "302ai", "tokenflux", "github", "copilot", "doubao", "grok", "groq", "mistral", "together", "gateway",
}


def template_env(path: Path) -> dict[str, str]:
    return {name: f"sk-test-{name.lower()}" for name in re.findall(r"\$\{([A-Z0-9_]+)\}", path.read_text("utf-8"))}


def test_the_expected_templates_exist() -> None:
    assert {t.stem for t in TEMPLATES} >= {"apiyi", "openrouter", "deepseek", "siliconflow", "newapi", "custom"}


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_template_is_a_valid_profile(path: Path) -> None:
    env = template_env(path)
    assert len(env) == 1, "each template reads its key from exactly one environment variable"
    (var,) = env
    first, *rest = path.read_text("utf-8").splitlines()
    assert re.fullmatch(r"# [^:]+: \S.*", first), "first line: '# <display name>: <one-line description>'"
    assert any(var in line for line in rest if line.startswith("#")), "a comment names the key's variable"
    loaded = profile.load(path, env=env)
    for p in loaded.providers:
        assert p.id not in PRESET_IDS
        assert p.new_provider["apiKey"] == env[var]
        assert p.new_provider["type"] == "openai"
        assert p.models, "a template lists the models to add"
        assert jsonschema_check.errors("provider", p.new_provider) == []


@pytest.mark.parametrize(("stem", "host", "model_ids"), [
    ("apiyi", "https://vip.apiyi.com", {"gpt-4.1", "claude-sonnet-4-20250514", "claude-opus-4-20250514",
                                        "gemini-2.5-pro", "deepseek-r1"}),
    ("openrouter", "https://openrouter.ai/api", {"openai/gpt-4.1", "anthropic/claude-sonnet-4",
                                                 "anthropic/claude-opus-4", "google/gemini-2.5-pro",
                                                 "deepseek/deepseek-r1"}),
    ("deepseek", "https://api.deepseek.com", {"deepseek-v4-flash", "deepseek-v4-pro"}),
    ("siliconflow", "https://api.siliconflow.cn", {"deepseek-ai/DeepSeek-R1", "deepseek-ai/DeepSeek-V3"}),
    ("newapi", "http://localhost:3000", {"gpt-4.1", "claude-sonnet-4-20250514", "claude-opus-4-20250514",
                                         "gemini-2.5-pro", "deepseek-r1"}),
])
def test_template_gateway_and_models(stem: str, host: str, model_ids: set[str]) -> None:
    path = REPO_ROOT / "templates" / f"{stem}.yaml"
    (p,) = profile.load(path, env=template_env(path)).providers
    assert p.new_provider["apiHost"] == host
    assert {m["id"] for m in p.models} == model_ids


# --- through `cherryconf apply` on a real store ----------------------------------------------------------------


def test_apply_lists_the_typos_and_writes_nothing(run_cli: RunCli, tmp_path: Path) -> None:
    ud = make_userdata(tmp_path)
    before = fingerprint(ud)
    path = tmp_path / "ccr.yaml"
    path.write_text(doc(apiHost=DELETE, apiHots="https://gw.example.com", modles=["gpt-4.1"]), encoding="utf-8")
    code, out, err = run_cli("--data-dir", str(ud), "apply", str(path), "--yes")
    assert (code, out) == (2, "")
    assert err == ("cherryconf: ccr.yaml: providers[0].apiHost: required; providers[0].apiHots: unknown field "
                   "(did you mean apiHost?); providers[0].modles: unknown field (did you mean models?)\n")
    assert fingerprint(ud) == before


def test_apply_reads_a_dollar_name_key_from_the_environment(run_cli: RunCli, tmp_path: Path) -> None:
    ud = make_userdata(tmp_path)
    path = tmp_path / "ccr.yaml"
    path.write_text(doc(apiKey="$GW_KEY"), encoding="utf-8")
    code, _, err = run_cli("--data-dir", str(ud), "apply", str(path), "--yes", env={"GW_KEY": "sk-from-env-0001"})
    assert code == 0, err
    stored = read_llm(plyvel_items(ud / "Local Storage" / "leveldb"))["providers"][0]
    assert (stored["id"], stored["apiKey"]) == ("gw", "sk-from-env-0001")
    code, _, err = run_cli("--data-dir", str(ud), "apply", str(path), "--yes", env={"GW_KEY": None})
    assert code == 2 and "environment variable GW_KEY is not set" in err


def test_an_alias_bomb_is_refused_before_it_is_built() -> None:
    """Twelve levels of ten aliases each would be 10**12 values: refused at once, from the node graph."""
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 12))
    started = time.monotonic()
    with pytest.raises(BadInput, match="YAML aliases"):
        profile.parse_yaml(bomb, "bomb.yaml")
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(("version", "kept"), [((2, 0, 7), False), ((2, 1, 4), False), ((1, 9, 12), True)])
def test_web_search_is_left_out_for_2x_with_a_note(version: tuple[int, int, int], kept: bool) -> None:
    # The 2.x line has no model capability for web search (the app's own migration drops it).
    data = {"version": 1, "providers": [{"id": "gw", "apiHost": "https://h", "apiKey": "k", "models": [
        "gpt-4.1", {"id": "m", "capabilities": ["vision", "web_search", "function_calling"]}]}]}
    loaded = profile.parse(data, "p.yaml", env={}, app_version=version)
    (p,) = loaded.providers
    want = ["vision", "web_search", "function_calling"] if kept else ["vision", "function_calling"]
    assert [c["type"] for c in p.models[1]["capabilities"]] == want
    assert [c["type"] for c in p.model_updates[1]["capabilities"]] == want
    assert "capabilities" not in p.models[0]
    if kept:
        assert loaded.notes == ()
    else:
        (note,) = loaded.notes
        assert note.startswith("providers[0].models[1].capabilities: web_search has no meaning in Cherry Studio 2.x")


FULL_PROVIDER = {
    "type": "new-api", "enabled": False, "notes": "n", "apiVersion": "v", "extra_headers": {"X-A": "1"},
    "apiOptions": {"isFuture": True, "isNotSupportStreamOptions": True}, "rateLimit": 5, "replaceModels": True,
    "models": ["m1", {"id": "m2", "group": "g", "capabilities": ["vision"], "description": "d", "owned_by": "o",
                      "endpoint_type": "openai", "supported_endpoint_types": ["openai"],
                      "pricing": {"zz": 1, "output_per_million_tokens": 2, "input_per_million_tokens": 1}}],
}


def test_a_valid_profile_loads_without_pydantic_or_jsonschema(tmp_path: Path) -> None:
    # Every field set, so that no shape takes a slower path; pydantic and jsonschema only word a refusal.
    path = tmp_path / "profile.yaml"
    path.write_text(doc({"defaultModel": "gw/m2", "owner": "it"}, **FULL_PROVIDER), encoding="utf-8")
    code = ("import sys\nfrom pathlib import Path\nfrom cherryconf.formats import profile\n"
            f"profile.load(Path({str(path)!r}), env={{}})\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'jsonschema', 'psutil')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert out.stdout.strip() == "[]", out.stderr


def test_values_take_the_form_the_models_give_them(tmp_path: Path) -> None:
    # Numbers of a `number` field are floats and declared fields come first, as pydantic dumped them, so that
    # what reaches the store is what it was.
    (p,) = load_text(tmp_path, doc(**FULL_PROVIDER)).providers
    assert p.fields["rateLimit"] == 5.0 and isinstance(p.fields["rateLimit"], float)
    assert list(p.fields["apiOptions"]) == ["isNotSupportStreamOptions", "isFuture"]
    pricing = p.models[1]["pricing"]
    assert list(pricing) == ["input_per_million_tokens", "output_per_million_tokens", "zz"]
    assert all(isinstance(pricing[k], float) for k in list(pricing)[:2]) and pricing["zz"] == 1
    assert p.replace_models is True and p.new_provider["enabled"] is False
    assert Provider.model_validate(p.new_provider).model_dump(exclude_none=True) | {"models": p.models} == \
        p.new_provider | {"rateLimit": 5.0}


def test_yaml_aliases_do_not_share_objects_between_providers(tmp_path: Path) -> None:
    text = ("version: 1\nproviders:\n  - {id: b, apiHost: 'https://b', apiKey: k, extra_headers: &h {X: y}}\n"
            "  - {id: c, apiHost: 'https://c', apiKey: k, extra_headers: *h}\n")
    b, c = load_text(tmp_path, text).providers
    assert b.fields["extra_headers"] == c.fields["extra_headers"]
    assert b.fields["extra_headers"] is not c.fields["extra_headers"]


# --- libyaml's loader against the pure one -------------------------------------------------------------------

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2**60, 2**60), st.floats(allow_nan=False),
    st.text(max_size=12), st.sampled_from(["yes", "No", "on", "~", "0x1F", "0o17", "1_000", "1e3", ".inf", "2026-12-02",
                                           "12:30:00", "'", '"', "#", ": ", "- ", "&a", "*a", "!!str", "\t", "é😀"]),
)
_documents = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=8), st.integers(0, 9)), inner, max_size=4)),
    max_leaves=12)
# Pieces of YAML syntax, for texts no dumper writes: flow and block collections, anchors, tags, comments, tabs.
_pieces = st.lists(st.sampled_from([
    "a", "b: ", "- ", "? ", ": ", "{", "}", "[", "]", ", ", "'x'", '"y\\n"', "&k ", "*k", "!!int ", "!!str ", "# c",
    "\n", "\n  ", "\n    ", "\t", "|\n  t\n", ">-\n  f\n", "---\n", "...\n", "%YAML 1.1\n", "1", "0x1", "~", "é", "😀",
    "\r\n", "\ufeff", "@", "`", "\x85",
]), max_size=24).map("".join)


def _outcome(parse: Callable[[], Any]) -> tuple[str, str]:
    try:
        return ("ok", repr(parse()))
    except BadInput as e:
        return ("refused", e.message)


@pytest.mark.skipif(profile._FastUniqueKeyLoader is None, reason="PyYAML without libyaml")
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    _documents.map(lambda d: yaml.safe_dump(d, allow_unicode=True)),
    _documents.map(lambda d: yaml.safe_dump(d, default_flow_style=True)),
    _documents.map(lambda d: yaml.safe_dump(d, default_style='"')),
    _pieces,
))
def test_the_libyaml_loader_gives_what_the_pure_one_does(text: str) -> None:
    # Results, and the words of a refusal (the pure loader words every one), are the pure loader's exactly.
    assert _outcome(lambda: profile.parse_yaml(text, "p.yaml")) == \
        _outcome(lambda: profile._parse_with(profile._UniqueKeyLoader, text, "p.yaml"))


def test_a_profile_is_parsed_by_libyaml_when_there_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    if profile._FastUniqueKeyLoader is None:
        pytest.skip("PyYAML without libyaml")
    used: list[type] = []
    real = profile._parse_with
    monkeypatch.setattr(profile, "_parse_with", lambda cls, text, where: used.append(cls) or real(cls, text, where))
    assert profile.parse_yaml("version: 1\n", "p.yaml") == {"version": 1}
    assert used == [profile._FastUniqueKeyLoader]


@pytest.mark.parametrize("text", ["version: !!int\n", "version: !!int one\n", "version: !!float x\n",
                                  "version: !!timestamp 2026-13-45\n"])
def test_a_value_its_tag_does_not_fit_is_refused_in_one_sentence(text: str) -> None:
    with pytest.raises(BadInput, match=r"^p.yaml: a value does not read as the type its YAML tag"):
        profile.parse_yaml(text, "p.yaml")
