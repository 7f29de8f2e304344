"""The app's model-id normalisation and catalog lookup (cherryconf/domain/catalog.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from testing import REPO

from cherryconf.domain import catalog

REPO_ROOT = REPO

# Cases from the app's own tests of normalizeModelId and its steps (packages/provider-registry/src/__tests__/
# normalize.test.ts at d1662071), limited to the rules of normalize.ts at 90b01d33.
APP_CASES = [
    ("glm-4-5-fp8", "glm-4-5"),
    ("glm-4_5", "glm-4-5"),
    ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
    ("gpt-4o-2024-08-06", "gpt-4o"),
    ("kimi-k2-250905", "kimi-k2"),
    ("deepseek-v3-0324", "deepseek-v3"),
    ("qwen3-a22b-instruct-2507", "qwen3-a22b-instruct"),
    ("gemini-2-0-flash@001", "gemini-2-0-flash"),
    ("glm-4-9b", "glm-4"),  # a size is stripped by normalizeModelId (not by the date step alone)
    ("gpt-4-0125", "gpt-4"),
    ("volcano-free", "volcano"),
    ("qwen-no-think", "qwen"),
    ("claude-3.5-sonnet", "claude-3-5-sonnet"),
    ("deepseek-v3_1", "deepseek-v3-1"),
    ("us.anthropic.claude-sonnet-4-5-v1:0", "claude-sonnet-4-5"),
    ("anthropic.claude-3-5-haiku-20241022:0", "claude-3-5-haiku"),
    ("meta-llama-3-70b", "llama-3"),
    ("mm-m2-1", "minimax-m2-1"),
    ("netease-youdao/bce-embedding-base_v1", "bce-embedding-base-v1"),
    ("maidalun1020/bce-reranker-base_v1", "bce-reranker-base-v1"),
    ("llama-3-3-instruct-fp8", "llama-3-3-instruct"),
    ("llama-3_3-instruct", "llama-3-3-instruct"),
    ("hunyuan-turbos-20250716", "hunyuan-turbos"),
    ("gpt-oss-maas", "gpt-oss-maas"),
]


@pytest.mark.parametrize(("model_id", "canonical"), APP_CASES)
def test_normalisation_matches_the_apps_own_cases(model_id: str, canonical: str) -> None:
    assert catalog.normalise(model_id) == canonical


# Every model the templates name -> the catalog id 2.x backs it with (None: the app stores a custom row).
TEMPLATE_MODELS = {
    "gpt-4.1": "gpt-4-1",
    "openai/gpt-4.1": "gpt-4-1",
    "claude-sonnet-4-20250514": "claude-sonnet-4",
    "anthropic/claude-sonnet-4": "claude-sonnet-4",
    "claude-opus-4-20250514": "claude-opus-4",
    "anthropic/claude-opus-4": "claude-opus-4",
    "gemini-2.5-pro": "gemini-2-5-pro",
    "google/gemini-2.5-pro": "gemini-2-5-pro",
    "deepseek-r1": "deepseek-r1",
    "deepseek/deepseek-r1": "deepseek-r1",
    "deepseek-ai/DeepSeek-R1": "deepseek-r1",
    "deepseek-ai/DeepSeek-V3": "deepseek-v3",
    "deepseek-v4-flash": "deepseek-v4-flash",
    "deepseek-v4-pro": "deepseek-v4-pro",
    "model-id-1": None,  # custom.yaml's placeholders
    "model-id-2": None,
}


def template_model_ids() -> set[str]:
    ids = set()
    for path in (REPO_ROOT / "templates").glob("*.yaml"):
        for provider in yaml.safe_load(path.read_text(encoding="utf-8"))["providers"]:
            ids |= {m if isinstance(m, str) else m["id"] for m in provider.get("models") or []}
    return ids


def test_every_template_model_resolves_as_the_app_resolves_it() -> None:
    assert template_model_ids() == set(TEMPLATE_MODELS)  # a new template model needs its expected catalog id
    shipped = catalog.shipped()
    assert {m: shipped.find(m) for m in TEMPLATE_MODELS} == TEMPLATE_MODELS


def test_the_four_models_of_the_issue_are_catalog_models() -> None:
    found = {m: catalog.shipped().find(m) for m in ("gpt-4.1", "claude-sonnet-4-20250514", "gemini-2.5-pro",
                                                    "deepseek-r1")}
    assert found == {"gpt-4.1": "gpt-4-1", "claude-sonnet-4-20250514": "claude-sonnet-4",
                     "gemini-2.5-pro": "gemini-2-5-pro", "deepseek-r1": "deepseek-r1"}


def test_an_exact_catalog_id_wins_over_a_normalised_one() -> None:
    # `claude-opus-4-6-v1` is a catalog id of its own in the app's registry; the exact match is taken first.
    c = catalog.Catalog(("claude-opus-4-6", "claude-opus-4-6-v1"), "test")
    assert c.find("claude-opus-4-6-v1") == "claude-opus-4-6-v1"
    assert c.find("Claude-Opus-4.6") == "claude-opus-4-6"
    assert c.find("my-own-model") is None


def test_the_installed_apps_registry_is_preferred(tmp_path: Path) -> None:
    resources = tmp_path / "resources"
    (resources / "provider-registry").mkdir(parents=True)
    (resources / "provider-registry" / "models.json").write_text(
        json.dumps({"version": "1", "models": [{"id": "house-model-7", "name": "House 7"}]}), encoding="utf-8")
    found = catalog.load([tmp_path / "missing", resources])
    assert found.source == str(resources / "provider-registry" / "models.json")
    assert found.find("house-model-7") == "house-model-7" and found.find("gpt-4.1") is None


def test_a_missing_or_unreadable_registry_falls_back_to_the_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "provider-registry").mkdir()
    (tmp_path / "provider-registry" / "models.json").write_text("{not json", encoding="utf-8")
    found = catalog.load([tmp_path, tmp_path / "missing"])
    assert found.source.startswith("cherryconf's catalog") and found.find("gpt-4.1") == "gpt-4-1"


def test_resource_dirs_name_the_installers_locations() -> None:
    env = {catalog.RESOURCES_ENV: "/x/res", "LOCALAPPDATA": "C:/Users/u/AppData/Local"}
    assert catalog.resource_dirs(env, "linux") == [Path("/x/res"), Path("/opt/Cherry Studio/resources")]
    assert catalog.resource_dirs({}, "darwin")[0] == Path("/Applications/Cherry Studio.app/Contents/Resources")
    assert catalog.resource_dirs(env, "win32")[1] == Path("C:/Users/u/AppData/Local/Programs/Cherry Studio/resources")


@given(st.text(alphabet="abcdefgk0123456789-._/:@ ", max_size=30))
def test_normalising_gives_a_lower_case_dash_form(model_id: str) -> None:
    once = catalog.normalise(model_id)
    assert once == once.lower() and "/" not in once and "_" not in once
    assert catalog.normalise(model_id.upper()) == once


def test_the_default_catalog_is_read_once_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # `apply --all-users` reads it as root, then runs as users who may not read cherryconf's own files.
    monkeypatch.setattr(catalog, "_default", None)
    first = catalog.load()

    def unreadable() -> catalog.Catalog:
        raise PermissionError("cherryconf's files are not readable by this user")

    monkeypatch.setattr(catalog, "shipped", unreadable)
    monkeypatch.setattr(catalog, "resource_dirs", list)
    assert catalog.load() is first
