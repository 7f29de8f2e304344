"""The rows cherryconf writes into 2.x databases are the rows the app itself writes (issue 12), on databases of the
2.0.8 ("release"), 2.0.9 and 2.1.x ("later": 2.1 adds no provider or model column) shapes from tests/testing/v2db.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from testing import v2db
from testing.cli import RunCli

from cherryconf.domain import catalog, plan
from cherryconf.domain.endpoints import parse_version
from cherryconf.errors import BadInput
from cherryconf.formats import export, profile
from cherryconf.stores.install import Install
from cherryconf.stores.v2 import V2Store

RELEASES = [("release", "2.0.8"), ("later", "2.0.9"), ("later", "2.1.4")]
FOUR = {"gpt-4.1": "gpt-4-1", "claude-sonnet-4-20250514": "claude-sonnet-4", "gemini-2.5-pro": "gemini-2-5-pro",
        "deepseek-r1": "deepseek-r1"}
PROFILE: dict[str, Any] = {"version": 1, "providers": [{
    "id": "gw", "name": "Gateway", "apiHost": "https://gw.example", "apiKey": "sk-gw",
    "models": [*FOUR, {"id": "acme-private-7", "name": "Acme 7",
                       "capabilities": ["function_calling", "vision", "reasoning", "web_search"]}],
}]}


@pytest.fixture(params=RELEASES, ids=[v for _, v in RELEASES])
def install(request: pytest.FixtureRequest, tmp_path: Path) -> Install:
    shape, version = request.param
    built = v2db.build(tmp_path / "userData", shape)
    return Install(built.data_dir, "v2", version, "test")


def store_of(install: Install) -> V2Store:
    store = V2Store(install)
    store._models = catalog.shipped()  # not whatever Cherry Studio this machine may have installed
    return store


def loaded(install: Install, doc: dict[str, Any] = PROFILE) -> profile.LoadedProfile:
    return profile.parse(doc, "p.yaml", env={}, app_version=parse_version(install.app_version))


def apply(store: V2Store, lp: profile.LoadedProfile) -> plan.Plan:
    state = store.read()
    p = plan.make(state.providers, lp.providers, lp.default_model, state.default_model, state.model_refs,
                  base=store.catalog_capabilities)
    if p.changed:
        store.check(p)
        with store.exclusive():
            store.write(p)
    return p


def models(install: Install, provider_id: str) -> dict[str, dict[str, Any]]:
    conn = v2db.connect(install)
    try:
        return {r["model_id"]: dict(r) for r in conn.execute("SELECT * FROM user_model WHERE provider_id = ?",
                                                             (provider_id,))}
    finally:
        conn.close()


def healthy(install: Install) -> bool:
    conn = v2db.connect(install)
    try:
        return (conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                and conn.execute("PRAGMA foreign_key_check").fetchall() == [])
    finally:
        conn.close()


def test_catalog_models_are_preset_backed_and_a_private_one_is_custom(install: Install) -> None:
    store = store_of(install)
    lp = loaded(install)
    assert lp.notes and "web_search has no meaning in Cherry Studio 2.x" in lp.notes[0]
    p = apply(store, lp)
    rows = models(install, "gw")
    for model_id, preset in FOUR.items():
        row = rows[model_id]
        # What the app's add-model path stores for a catalog model: the catalog id, and NULL where the
        # catalog's values apply (capabilities and input modalities above all: tools, images, reasoning).
        assert (row["preset_model_id"], row["capabilities"], row["input_modalities"]) == (preset, None, None)
        assert (row["name"], row["group"], row["supports_streaming"]) == (None, None, None)
    private = rows["acme-private-7"]
    assert private["preset_model_id"] is None and private["name"] == "Acme 7"
    assert json.loads(private["capabilities"]) == ["function-call", "image-recognition", "reasoning"]
    assert json.loads(private["input_modalities"]) == ["text", "image"] and private["supports_streaming"] == 1
    assert healthy(install)
    assert store.read().providers == p.after
    assert not apply(store, loaded(install)).changed  # a second apply is a no-op


def test_a_profile_capability_on_a_catalog_model_adds_to_the_catalogs(install: Install) -> None:
    # 2.x uses a stored capability list instead of the catalog's (facts file section 9; ousugo/cherry-studio
    # 564c9eac): gpt-4.1 given only function_calling must keep the catalog's image-recognition, deepseek-r1 given
    # vision must keep its reasoning and function calling.
    doc = {"version": 1, "providers": [{**PROFILE["providers"][0], "models": [
        {"id": "gpt-4.1", "name": "GPT 4.1 (gateway)", "capabilities": ["function_calling"]},
        {"id": "deepseek-r1", "capabilities": ["vision"]}]}]}
    store = store_of(install)
    p = apply(store, loaded(install, doc))
    rows = models(install, "gw")
    gpt, r1 = rows["gpt-4.1"], rows["deepseek-r1"]
    assert (gpt["preset_model_id"], gpt["name"], gpt["capabilities"]) == ("gpt-4-1", "GPT 4.1 (gateway)", None)
    assert r1["preset_model_id"] == "deepseek-r1"
    assert json.loads(r1["capabilities"]) == ["function-call", "reasoning", "structured-output", "image-recognition"]
    assert p.offered == {("gw", "gpt-4.1"): (["function_calling", "vision"], []),
                         ("gw", "deepseek-r1"): (["function_calling", "reasoning"], ["vision"])}
    read = {m["id"]: m for m in store.read().providers[0]["models"]}
    assert [c["type"] for c in read["deepseek-r1"]["capabilities"]] == ["function_calling", "reasoning", "vision"]
    assert healthy(install)
    assert not apply(store, loaded(install, doc)).changed


OPTIONS = {"isNotSupportStreamOptions": True, "isSupportDeveloperRole": True}


def provider_row(install: Install, provider_id: str) -> dict[str, Any]:
    conn = v2db.connect(install)
    try:
        return dict(conn.execute("SELECT * FROM user_provider WHERE provider_id = ?", (provider_id,)).fetchone())
    finally:
        conn.close()


def test_api_options_round_trip_through_apply_and_export(install: Install, tmp_path: Path) -> None:
    doc = {"version": 1, "providers": [{**PROFILE["providers"][0], "apiOptions": OPTIONS}]}
    store = store_of(install)
    apply(store, loaded(install, doc))
    row = provider_row(install, "gw")
    configs = json.loads(row["endpoint_configs"])
    if "api_features" in row:  # 2.0.8 and earlier keep the 1.x flags in api_features
        assert json.loads(row["api_features"]) == {"streamOptions": False, "developerRole": True}
        assert "dialect" not in configs["openai-chat-completions"]
    else:  # 2.0.9 on: as the chat endpoint's dialect
        assert configs == {"openai-chat-completions": {"baseUrl": "https://gw.example",
                                                       "dialect": {"streamOptions": False, "developerRole": True}}}
    (gw,) = [p for p in store.read().providers if p["id"] == "gw"]
    assert gw["apiOptions"] == OPTIONS
    assert healthy(install)
    assert not apply(store, loaded(install, doc)).changed

    exported, _ = export.to_profile(store.read().providers, ["gw"], with_keys=True,
                                    version=parse_version(install.app_version))
    assert exported["providers"][0]["apiOptions"] == OPTIONS
    elsewhere = Install(v2db.build(tmp_path / "other", "later").data_dir, "v2", "2.1.4", "test")
    other = store_of(elsewhere)
    apply(other, loaded(elsewhere, exported))
    (copied,) = [p for p in other.read().providers if p["id"] == "gw"]
    assert copied == gw  # export -> apply elsewhere loses nothing
    assert not apply(other, loaded(elsewhere, exported)).changed


def test_a_flag_the_profile_drops_leaves_the_store(install: Install) -> None:
    store = store_of(install)
    apply(store, loaded(install, {"version": 1, "providers": [{**PROFILE["providers"][0], "apiOptions": OPTIONS}]}))
    kept = {"isSupportDeveloperRole": True}
    apply(store, loaded(install, {"version": 1, "providers": [{**PROFILE["providers"][0], "apiOptions": kept}]}))
    row = provider_row(install, "gw")
    configs = json.loads(row["endpoint_configs"])
    if "api_features" in row:
        assert json.loads(row["api_features"]) == {"developerRole": True}
    else:
        assert configs["openai-chat-completions"]["dialect"] == {"developerRole": True}
    (gw,) = [p for p in store.read().providers if p["id"] == "gw"]
    assert gw["apiOptions"] == kept


def test_a_flag_2_0_9_has_no_place_for_is_refused_in_one_sentence(install: Install) -> None:
    doc = {"version": 1, "providers": [{**PROFILE["providers"][0], "apiOptions": {"isNotSupportArrayContent": True}}]}
    store = store_of(install)
    if "api_features" in provider_row(install, "relay"):
        apply(store, loaded(install, doc))  # 2.0.8 still has api_features.arrayContent
        return
    with pytest.raises(BadInput, match=r"apiOptions \{'isNotSupportArrayContent': True\} cannot be stored in "
                                       r"Cherry Studio 2\.x as given"):
        apply(store, loaded(install, doc))


@pytest.mark.parametrize("newer", ["radeon-cloud", "claude-code", "openai-codex", "grok-cli", "tokenhub",
                                   "tokendance"])
def test_a_preset_id_newer_than_the_database_is_refused_as_a_custom_id(install: Install, newer: str) -> None:
    doc = {"version": 1, "providers": [{**PROFILE["providers"][0], "id": newer}]}
    before = v2db.dump(install)
    with pytest.raises(BadInput, match=rf"^provider id '{newer}' is the id of a provider Cherry Studio ships, which "
                                       r"a later release would merge into yours: choose another id for your own "
                                       r"provider$"):
        apply(store_of(install), loaded(install, doc))
    assert v2db.dump(install) == before


def test_the_installed_registrys_provider_ids_are_refused_too(install: Install, tmp_path: Path) -> None:
    registry = tmp_path / "resources" / "provider-registry"
    registry.mkdir(parents=True)
    (registry / "models.json").write_text(json.dumps({"models": [{"id": "gpt-4-1"}]}), encoding="utf-8")
    (registry / "providers.json").write_text(json.dumps({"providers": [{"id": "future-cloud"}]}), encoding="utf-8")
    store = V2Store(install)
    store._models = catalog.load([tmp_path / "resources"])
    doc = {"version": 1, "providers": [{**PROFILE["providers"][0], "id": "future-cloud"}]}
    with pytest.raises(BadInput, match="'future-cloud' is the id of a provider Cherry Studio ships"):
        apply(store, loaded(install, doc))
    assert store.models.find("gpt-4.1") == "gpt-4-1" and store.models.find("claude-sonnet-4") is None


def test_a_new_provider_is_written_as_the_apps_add_dialog_writes_it(install: Install) -> None:
    doc = {"version": 1, "providers": [{**PROFILE["providers"][0], "rateLimit": 5},
                                       {**PROFILE["providers"][0], "id": "spare", "enabled": False}]}
    store = store_of(install)
    apply(store, loaded(install, doc))
    gw, spare = provider_row(install, "gw"), provider_row(install, "spare")
    # The add-provider dialog sends {"type": "api-key"} (ProviderEditorDrawer), and a whole rate limit is a number.
    assert gw["auth_config"] == '{"type":"api-key"}'
    assert gw["provider_settings"] == '{"rateLimit":5}'
    conn = v2db.connect(install)
    try:
        order = [r[0] for r in conn.execute("SELECT provider_id FROM user_provider ORDER BY order_key")]
    finally:
        conn.close()
    # Enabled, it is at the top, where the app moves a provider it enables; disabled, at the end, where it
    # creates one.
    assert order[0] == "gw" and order[-1] == "spare" and spare["is_enabled"] == 0
    assert healthy(install)
    assert not apply(store, loaded(install, doc)).changed


@pytest.mark.parametrize("version_log", ["2.1.4|linux|prod|packaged|install|x\n", None])
def test_apply_says_what_it_leaves_out(run_cli: RunCli, tmp_path: Path, version_log: str | None) -> None:
    data_dir = v2db.build(tmp_path / "userData", "later").data_dir
    if version_log is not None:  # without one, the store's kind still says it is the 2.x line
        (data_dir / "version.log").write_text(version_log, encoding="utf-8")
    path = tmp_path / "p.yaml"
    path.write_text(json.dumps(PROFILE), encoding="utf-8")
    note = "providers[0].models[4].capabilities: web_search has no meaning in Cherry Studio 2.x"
    text = run_cli("--data-dir", str(data_dir), "apply", str(path), "--dry-run")
    assert text.code == 0 and note in text.err
    doc = run_cli("--data-dir", str(data_dir), "apply", str(path), "--yes", "--json")
    assert doc.code == 0, doc.err
    (said,) = json.loads(doc.out)["notes"]
    assert said.startswith(note) and note not in doc.err
