"""The record of a write and the three-way undo (domain/undo.py), and the record's published JSON Schema."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from cherryconf.domain import plan, undo
from cherryconf.domain.patch import ProviderPatch
from cherryconf.render.restore import record_line

SCHEMA = json.loads((Path(__file__).parents[3] / "schemas" / "write-record.schema.json").read_text())


def provider(pid: str, **fields: Any) -> dict[str, Any]:
    return {"id": pid, "name": pid.title(), "type": "openai", "apiKey": f"sk-{pid}", "apiHost": f"https://{pid}.example",
            "models": [{"id": f"{pid}-m", "provider": pid, "name": "M"}], **fields}


BEFORE = [provider("silicon"), provider("relay", enabled=False), provider("old")]
AFTER = [provider("apiyi"), provider("silicon", apiKey="sk-new", models=[
    {"id": "silicon-m", "provider": "silicon", "name": "M"}, {"id": "x", "provider": "silicon", "name": "X"}]),
    provider("relay", enabled=False)]
DEFAULT = {"id": "silicon-m", "provider": "silicon", "name": "M"}
NEW_DEFAULT = {"id": "apiyi-m", "provider": "apiyi", "name": "M"}


def a_write() -> tuple[plan.Plan, undo.Record]:
    p = plan.Plan(BEFORE, AFTER, plan.diff(BEFORE, AFTER), DEFAULT, NEW_DEFAULT)
    return p, undo.record_of(p, "apply", {"ops": undo.Change(undo.ABSENT, {"added": ["apiyi"], "adopted": []})})


def test_the_record_round_trips_and_meets_its_schema() -> None:
    _p, record = a_write()
    doc = json.loads(record.to_json())
    assert list(Draft202012Validator(SCHEMA).iter_errors(doc)) == []
    assert undo.Record.from_json(record.to_json()) == record
    assert record_line(dataclasses.replace(record, state="written")) == (
        "apply: +apiyi, ~silicon, -old, default model, owners")  # what `backups` shows: no value, so no key
    assert record_line(record).endswith("(interrupted: may not have been written)")
    assert doc["providers"][1]["fields"] == {"apiKey": {"before": "sk-silicon", "after": "sk-new"}}
    assert doc["providers"][1]["models"] == {"x": {"after": {"id": "x", "provider": "silicon", "name": "X"}}}


def test_a_record_of_another_format_or_shape_is_refused() -> None:
    _p, record = a_write()
    doc = json.loads(record.to_json())
    for bad in ({**doc, "format": 2}, {**doc, "state": "done"}, {**doc, "providers": [{"id": "x", "action": "add"}]},
                {**doc, "moved": "x"}):
        assert undo.Record.from_json(json.dumps(bad)) is None
    assert undo.Record.from_json(b"\xff") is None


def test_undo_puts_everything_back_where_nothing_changed_since() -> None:
    p, record = a_write()
    u = undo.undo([record], p.after, p.default_model_after, {"ops": {"added": ["apiyi"], "adopted": []}})
    assert sorted(u.providers, key=repr) == sorted(BEFORE, key=repr) and u.kept == []
    assert u.default_model == DEFAULT and u.owners == {"ops": undo.ABSENT}


def test_a_write_that_never_landed_undoes_to_nothing() -> None:
    p, record = a_write()
    u = undo.undo([record], p.before, p.default_model_before, {})
    assert u.providers == BEFORE and u.kept == [] and not u.plan(BEFORE, DEFAULT).changed


def test_what_the_user_changed_is_kept_and_reported_and_force_overrides() -> None:
    p, record = a_write()
    now = copy.deepcopy(p.after)
    now[1]["apiKey"] = "sk-users-own"  # silicon: the user's key, after cherryconf's
    now[0]["name"] = "My APIYI"  # the added provider, renamed in the app
    now.append(provider("mine"))  # a provider the user added
    u = undo.undo([record], now, p.default_model_after, {})
    assert u.kept == [undo.Kept("apiyi", "name"), undo.Kept("silicon", "apiKey")]
    by_id = {x["id"]: x for x in u.providers}
    assert by_id["silicon"]["apiKey"] == "sk-users-own" and by_id["apiyi"]["name"] == "My APIYI"
    assert "mine" in by_id and "old" in by_id and [m["id"] for m in by_id["silicon"]["models"]] == ["silicon-m"]
    forced = undo.undo([record], now, p.default_model_after, {}, force=True)
    assert forced.kept == [] and {x["id"] for x in forced.providers} == {"silicon", "relay", "old", "mine"}
    assert next(x for x in forced.providers if x["id"] == "silicon")["apiKey"] == "sk-silicon"


def test_a_move_is_undone_with_its_references() -> None:
    gateway = provider("openai", apiHost="https://vip.apiyi.com/v1/")
    own = {**provider("apiyi"), "models": [{**gateway["models"][0], "provider": "apiyi"}]}
    left = {**gateway, "apiKey": "", "models": [], "enabled": False}
    moved = {("openai", "openai-m"): "apiyi"}
    p = plan.Plan([gateway], [own, left], plan.diff([gateway], [own, left]), gateway["models"][0],
                  own["models"][0], moved)
    record = undo.record_of(p, "doctor")
    u = undo.undo([record], [own, left], own["models"][0], {})
    assert u.providers == [gateway] and u.moved == {("apiyi", "openai-m"): "openai"}
    assert u.default_model == gateway["models"][0]


names = st.sampled_from(["a", "b", "c", "d"])
values = st.one_of(st.none(), st.integers(0, 3), st.text(max_size=3))
providers = st.lists(st.builds(lambda pid, v, w: {"id": pid, "name": v, "x": w, "models": []}, names, values, values),
                     unique_by=lambda p: p["id"], max_size=4)
patches = st.lists(st.builds(lambda pid, v: ProviderPatch(id=pid, fields={"x": v}, models=[], model_updates=[],
                                                          replace_models=False,
                                                          new_provider={"id": pid, "x": v, "models": []}),
                             names, values), unique_by=lambda p: p.id, max_size=3)


@settings(max_examples=200, deadline=None)
@given(providers, patches, st.lists(names, max_size=2))
def test_undoing_any_write_gives_back_what_was_there(current: list[dict[str, Any]], wanted: list[ProviderPatch],
                                                     remove: list[str]) -> None:
    p = plan.make(current, wanted, remove=remove)
    record = undo.Record.from_json(undo.record_of(p, "apply").to_json())
    assert record is not None
    u = undo.undo([record], p.after, None, {})
    assert sorted(u.providers, key=repr) == sorted(current, key=repr) and u.kept == []
    # Undone twice (a second restore finds nothing left of it) and never landed: nothing to do.
    assert undo.undo([record], u.providers, None, {}).providers == u.providers
    assert undo.undo([record], current, None, {}).providers == current
