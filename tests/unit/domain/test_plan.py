"""The merge rules of DESIGN.md, on plain provider lists (no store involved)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cherryconf.domain import plan
from cherryconf.errors import BadInput
from cherryconf.formats import profile


def load(data: dict[str, Any]) -> profile.LoadedProfile:
    return profile.parse(data, "p.yaml", env={})


def provider(pid: str, **extra: Any) -> dict[str, Any]:
    return {"id": pid, "type": "openai", "name": pid.upper(), "apiKey": "k", "apiHost": "https://h",
            "models": [], **extra}


PROFILE = {"version": 1, "providers": [{"id": "gw", "name": "Gateway", "apiHost": "https://gw.example/v1",
                                        "apiKey": "sk-1", "models": ["gpt-4.1", "deepseek-r1"]}]}


def test_new_provider_goes_to_the_top_and_others_stay() -> None:
    current = [provider("openai", type="openai-response", isSystem=True), provider("mine", custom={"x": 1})]
    p = plan.make(current, load(PROFILE).providers)
    assert [x["id"] for x in p.after] == ["gw", "openai", "mine"]
    assert p.after[1:] == current
    assert p.after[0]["apiHost"] == "https://gw.example"
    assert [m["id"] for m in p.after[0]["models"]] == ["gpt-4.1", "deepseek-r1"]
    assert p.changes[0].action == "add"
    assert p.changed


def test_update_sets_named_fields_keeps_the_rest_and_merges_models() -> None:
    existing = provider("gw", name="Mine", apiKey="old", type="openai-response", unknown="kept",
                        models=[{"id": "gpt-4.1", "provider": "gw", "name": "My GPT", "group": "g", "z": 1},
                                {"id": "other", "provider": "gw", "name": "O", "group": "o"}])
    p = plan.make([existing], load(PROFILE).providers)
    after = p.after[0]
    assert after["name"] == "Gateway" and after["apiKey"] == "sk-1"
    assert after["type"] == "openai-response"  # the profile does not name type: kept
    assert after["unknown"] == "kept"
    ids = [m["id"] for m in after["models"]]
    assert ids == ["gpt-4.1", "other", "deepseek-r1"]
    assert after["models"][0] == existing["models"][0]  # shorthand names only the id: the user's name stays
    change = p.changes[0]
    assert change.action == "update"
    assert {f.field for f in change.fields} == {"name", "apiKey", "apiHost"}
    assert change.models_added == ["deepseek-r1"]


def test_replace_models_drops_unlisted_models() -> None:
    data = copy.deepcopy(PROFILE)
    data["providers"][0]["replaceModels"] = True
    existing = provider("gw", models=[{"id": "old", "provider": "gw", "name": "O", "group": "o"}])
    p = plan.make([existing], load(data).providers)
    assert [m["id"] for m in p.after[0]["models"]] == ["gpt-4.1", "deepseek-r1"]
    assert p.changes[0].models_removed == ["old"]


def test_replace_models_refuses_to_drop_a_model_the_app_uses() -> None:
    data = copy.deepcopy(PROFILE)
    data["providers"][0]["replaceModels"] = True
    used = {"id": "old", "provider": "gw", "name": "O", "group": "o"}
    with pytest.raises(BadInput, match="quickModel"):
        plan.make([provider("gw", models=[used])], load(data).providers, model_refs={"quickModel": used})


def test_default_model_is_the_full_model_of_that_provider() -> None:
    data = copy.deepcopy(PROFILE)
    data["defaultModel"] = "gw/deepseek-r1"
    lp = load(data)
    p = plan.make([], lp.providers, lp.default_model, current_default={"id": "x"})
    assert p.default_model_after == p.after[0]["models"][1]
    assert p.default_model_before == {"id": "x"}


def test_applying_twice_changes_nothing_the_second_time() -> None:
    lp = load(PROFILE)
    first = plan.make([provider("a")], lp.providers, lp.default_model)
    second = plan.make(first.after, lp.providers, lp.default_model, first.default_model_after)
    assert not second.changed
    assert [c.action for c in second.changes] == ["unchanged"]


def test_diff_reports_adds_updates_and_removals() -> None:
    before = [provider("a"), provider("b")]
    after = [provider("a", apiKey="new"), provider("c")]
    changes = {c.id: c for c in plan.diff(before, after)}
    assert changes["a"].action == "update" and changes["a"].fields[0].field == "apiKey"
    assert changes["b"].action == "remove"
    assert changes["c"].action == "add"


def test_removal_drops_only_the_named_providers_and_reports_what_they_held() -> None:
    current = [provider("old", apiKey="sk-old-0123456789abcdef", models=[{"id": "m", "provider": "old",
                                                                          "name": "M", "group": "m"}]),
               provider("mine"), provider("gw")]
    p = plan.make(current, load(PROFILE).providers, remove={"old"})
    assert [x["id"] for x in p.after] == ["mine", "gw"]
    assert p.after[0] == current[1]
    removed = next(c for c in p.changes if c.action == "remove")
    assert (removed.id, removed.models_removed) == ("old", ["m"])
    assert {f.field: f.before for f in removed.fields}["apiKey"] == "sk-old-0123456789abcdef"
    assert all(f.after is None for f in removed.fields)
    assert "old" in p.changed_ids and p.changed


def test_removal_never_drops_a_provider_the_profile_lists() -> None:
    p = plan.make([provider("gw")], load(PROFILE).providers, remove={"gw"})
    assert [x["id"] for x in p.after] == ["gw"]
    assert [c.action for c in p.changes] == ["update"]


@pytest.mark.parametrize("setting", ["defaultModel", "quickModel", "translateModel", "topicNamingModel"])
def test_removal_refuses_to_drop_a_provider_whose_model_the_app_uses(setting: str) -> None:
    used = {"id": "m", "provider": "old", "name": "M", "group": "m"}
    with pytest.raises(BadInput, match=f"provider 'old' would be removed.*{setting}"):
        plan.make([provider("old", models=[used])], load(PROFILE).providers, remove={"old"},
                  model_refs={setting: used})


def test_removal_of_the_default_models_provider_is_fine_when_the_profile_sets_another_default() -> None:
    used = {"id": "m", "provider": "old", "name": "M", "group": "m"}
    data = copy.deepcopy(PROFILE) | {"defaultModel": "gw/gpt-4.1"}
    lp = load(data)
    p = plan.make([provider("old", models=[used])], lp.providers, lp.default_model, used, {"defaultModel": used},
                  remove={"old"})
    assert p.default_model_after == p.after[0]["models"][0]
    assert [x["id"] for x in p.after] == ["gw"]


def test_an_added_provider_reports_its_fields() -> None:
    p = plan.make([], load(PROFILE).providers)
    fields = {f.field: (f.before, f.after) for f in p.changes[0].fields}
    assert fields["apiHost"] == (None, "https://gw.example") and fields["apiKey"] == (None, "sk-1")
    assert "models" not in fields and "id" not in fields


# --- properties ------------------------------------------------------------------------------------

ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_./:", min_size=1, max_size=12).filter(
    lambda s: s.strip() == s
)
model_lists = st.lists(ids, max_size=5, unique=True)


@st.composite
def stores(draw: st.DrawFn) -> list[dict[str, Any]]:
    pids = draw(st.lists(st.sampled_from(["a", "b", "gw", "x", "openai"]), unique=True, max_size=4))
    return [provider(pid, apiKey=draw(st.sampled_from(["k", "sk-1"])), extra=draw(st.integers()),
                     models=[{"id": m, "provider": pid, "name": m, "group": "g"} for m in draw(model_lists)])
            for pid in pids]


@st.composite
def profiles(draw: st.DrawFn) -> dict[str, Any]:
    pids = draw(st.lists(st.sampled_from(["a", "gw", "new", "x"]), unique=True, min_size=1, max_size=3))
    return {"version": 1, "providers": [
        {"id": pid, "apiHost": "https://h.example/v1", "apiKey": draw(st.sampled_from(["k", "sk-2"])),
         "models": draw(model_lists), "replaceModels": draw(st.booleans())} for pid in pids]}


@settings(max_examples=200, deadline=None)
@given(current=stores(), data=profiles(), remove=st.sets(st.sampled_from(["a", "b", "gw", "x", "openai", "gone"])))
def test_merge_properties(current: list[dict[str, Any]], data: dict[str, Any], remove: set[str]) -> None:
    lp = load(data)
    snapshot = copy.deepcopy(current)
    p = plan.make(current, lp.providers, remove=remove)
    assert current == snapshot  # pure: the input is not modified
    wanted = {x.id for x in lp.providers}
    by_id = {x["id"]: x for x in p.after}
    # Removed: exactly the providers to remove that the profile does not list.
    assert {x["id"] for x in current} - {x["id"] for x in p.after} == {x["id"] for x in current} & remove - wanted
    assert {c.id for c in p.changes if c.action == "remove"} == {x["id"] for x in current} & remove - wanted
    # Providers the profile does not name and not removed are untouched and keep their relative order.
    untouched = [x for x in current if x["id"] not in wanted and x["id"] not in remove]
    assert [x for x in p.after if x["id"] not in wanted] == untouched
    # Existing providers keep their order; new ones come first.
    existing_ids = [x["id"] for x in current if x["id"] in by_id]
    assert [x["id"] for x in p.after if x["id"] in existing_ids] == existing_ids
    for patch in lp.providers:
        got = by_id[patch.id]
        got_models = [m["id"] for m in got["models"]]
        assert {m["id"] for m in patch.models} <= set(got_models)
        assert len(got_models) == len(set(got_models))
        assert got["apiKey"] == patch.fields["apiKey"]
        if patch.replace_models:
            assert set(got_models) == {m["id"] for m in patch.models}
    # Idempotent.
    assert not plan.make(p.after, lp.providers, remove=remove).changed
