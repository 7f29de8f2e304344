"""What a write changed (its record), and the change that undoes it on the store as it is now.

A record keeps, per provider, what cherryconf added (the whole provider as written), removed (the whole provider as
it was) or updated (each field and each model row before and after); the default model before and after; the
models it moved from one provider to another (every setting and assistant that named such a model was re-pointed
with it); and the owners' entries it changed. `schemas/write-record.schema.json` is the published contract.

Undoing is a three-way rule per field, per model row, per reference: the value now equals what cherryconf wrote ->
put back what was there before; it equals what was there before -> nothing to do; anything else was changed in the
app since -> kept, and reported (`force` puts cherryconf's "before" back anyway). Several records are undone newest
first, each on what the previous one left. Pure: no store, no file.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from cherryconf.domain.plan import Plan, diff

FORMAT = 1
State = Literal["pending", "written"]


class _Absent:
    """A value that is not there (a missing key), told apart from a field the app holds as null."""

    def __repr__(self) -> str:
        return "ABSENT"

    def __copy__(self) -> _Absent:
        return self

    def __deepcopy__(self, memo: Any) -> _Absent:
        return self


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Change:
    """One value before and after; ABSENT (a missing key in JSON) where it was not there."""

    before: Any = ABSENT
    after: Any = ABSENT

    def to_doc(self) -> dict[str, Any]:
        return {k: v for k, v in (("before", self.before), ("after", self.after)) if v is not ABSENT}

    @classmethod
    def of(cls, doc: Any) -> Change:
        if not isinstance(doc, dict):
            raise ValueError("a change is an object")
        return cls(doc.get("before", ABSENT), doc.get("after", ABSENT))


@dataclass(frozen=True)
class ProviderRecord:
    id: str
    action: Literal["add", "remove", "update"]
    provider: dict[str, Any] | None = None  # add: the provider as written; remove: as it was
    fields: dict[str, Change] = field(default_factory=dict)  # update only
    models: dict[str, Change] = field(default_factory=dict)  # update only: whole model rows, by model id


@dataclass(frozen=True)
class Record:
    reason: str
    state: State
    providers: list[ProviderRecord] = field(default_factory=list)
    default_model: Change | None = None
    moved: list[tuple[str, str, str]] = field(default_factory=list)  # (from provider, model id, to provider)
    owners: dict[str, Change] = field(default_factory=dict)  # owner -> its entry ({added, adopted}) before/after
    whole: bool = False  # a whole-store restore: the store was replaced, nothing field by field to undo

    def to_json(self) -> str:
        doc: dict[str, Any] = {"format": FORMAT, "reason": self.reason, "state": self.state, "whole": self.whole,
                               "providers": [_provider_doc(p) for p in self.providers],
                               "moved": [{"from": a, "model": m, "to": b} for a, m, b in self.moved],
                               "owners": {k: c.to_doc() for k, c in self.owners.items()}}
        if self.default_model is not None:
            doc["default_model"] = self.default_model.to_doc()
        return json.dumps(doc, indent=1, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: bytes | str) -> Record | None:
        """The record in `data`, or None when it is not one (damaged, or of a format this version cannot read)."""
        try:
            doc = json.loads(data)
            if doc["format"] != FORMAT or doc["state"] not in ("pending", "written"):
                return None
            providers = []
            for p in doc["providers"]:
                action = p["action"]
                if action not in ("add", "remove", "update") or not isinstance(p["id"], str):
                    return None
                provider = p.get("provider")
                if action != "update" and not isinstance(provider, dict):
                    return None
                providers.append(ProviderRecord(
                    p["id"], action, provider, {str(k): Change.of(v) for k, v in p.get("fields", {}).items()},
                    {str(k): Change.of(v) for k, v in p.get("models", {}).items()}))
            moved = [(str(m["from"]), str(m["model"]), str(m["to"])) for m in doc["moved"]]
            default = Change.of(doc["default_model"]) if "default_model" in doc else None
            return cls(str(doc["reason"]), doc["state"], providers, default, moved,
                       {str(k): Change.of(v) for k, v in doc["owners"].items()}, doc["whole"] is True)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

def _provider_doc(p: ProviderRecord) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": p.id, "action": p.action}
    if p.provider is not None:
        doc["provider"] = p.provider
    if p.action == "update":
        doc["fields"] = {k: c.to_doc() for k, c in p.fields.items()}
        doc["models"] = {k: c.to_doc() for k, c in p.models.items()}
    return doc


def record_of(plan: Plan, reason: str, owners: dict[str, Change] | None = None) -> Record:
    """What writing `plan` changes (pending: written before the store is)."""
    before = {p.get("id"): p for p in plan.before}
    after = {p.get("id"): p for p in plan.after}
    providers = []
    for pid in plan.changed_ids:
        old, new = before.get(pid), after.get(pid)
        if old is None and new is not None:
            providers.append(ProviderRecord(pid, "add", copy.deepcopy(new)))
        elif new is None and old is not None:
            providers.append(ProviderRecord(pid, "remove", copy.deepcopy(old)))
        elif old is not None and new is not None:
            fields = {k: Change(copy.deepcopy(old.get(k, ABSENT)), copy.deepcopy(new.get(k, ABSENT)))
                      for k in dict.fromkeys([*old, *new])
                      if k != "models" and old.get(k, ABSENT) != new.get(k, ABSENT)}
            old_m = {str(m.get("id")): m for m in old.get("models", [])}
            new_m = {str(m.get("id")): m for m in new.get("models", [])}
            models = {k: Change(copy.deepcopy(old_m.get(k, ABSENT)), copy.deepcopy(new_m.get(k, ABSENT)))
                      for k in dict.fromkeys([*old_m, *new_m]) if old_m.get(k) != new_m.get(k)}
            providers.append(ProviderRecord(pid, "update", None, fields, models))
    default = None
    if plan.default_model_after is not None and _ref(plan.default_model_after) != _ref(plan.default_model_before):
        default = Change(copy.deepcopy(plan.default_model_before), copy.deepcopy(plan.default_model_after))
    moved = [(a, m, b) for (a, m), b in plan.moved.items()]
    return Record(reason, "pending", providers, default, moved, dict(owners or {}))


def _ref(model: Any) -> tuple[Any, Any] | None:
    # 2.x keeps only "provider::model" for a model setting: which model it names is what is compared.
    return (model.get("provider"), model.get("id")) if isinstance(model, dict) else None


@dataclass(frozen=True)
class Kept:
    """A value changed in the app since cherryconf wrote it, and left as it is now."""

    provider: str  # a provider id, "" for the default model and the owners
    what: str  # a field name, "model <id>", "provider", "default model", "owner <name>"


@dataclass(frozen=True)
class Undo:
    providers: list[dict[str, Any]]
    default_model: dict[str, Any] | None
    moved: dict[tuple[str, str], str]  # the moves back: every reference follows its model home
    owners: dict[str, Any]  # owner -> its entry after the undo (ABSENT: no entry)
    kept: list[Kept]

    def plan(self, current: list[dict[str, Any]], current_default: dict[str, Any] | None) -> Plan:
        return Plan(current, self.providers, diff(current, self.providers), current_default,
                    self.default_model if _ref(self.default_model) != _ref(current_default) else current_default,
                    self.moved)


def undo(records: list[Record], providers: list[dict[str, Any]], default: dict[str, Any] | None,
         owners: dict[str, Any], *, force: bool = False) -> Undo:
    """Undo `records` (newest first) on the store as it is now: its providers, default model and owners' entries."""
    state = list(providers)
    owners = dict(owners)
    kept: list[Kept] = []
    moves: dict[tuple[str, str], str] = {}

    def three_way(now: Any, c: Change, where: Kept) -> tuple[bool, Any]:
        """(whether to set, the value): cherryconf's "before" where the value is still its "after"."""
        if now == c.after or (force and now != c.before):
            return now != c.before, c.before
        if now != c.before:
            kept.append(where)
        return False, None

    for rec in records:
        for pr in rec.providers:
            index = next((i for i, p in enumerate(state) if p.get("id") == pr.id), None)
            now = state[index] if index is not None else None
            if pr.action == "add":
                if index is not None and (now == pr.provider or force):
                    del state[index]
                elif now is not None:
                    kept += [Kept(pr.id, k) for k in _differing(now, pr.provider or {})]
            elif pr.action == "remove":
                if index is None:
                    state.insert(0, copy.deepcopy(pr.provider or {}))
                elif now != pr.provider:
                    if force:
                        state[index] = copy.deepcopy(pr.provider or {})
                    else:
                        kept.append(Kept(pr.id, "provider"))
            elif index is None:
                kept.append(Kept(pr.id, "provider"))  # removed in the app since: nothing left to put back
            else:
                state[index] = _undo_update(state[index], pr, three_way)
        if rec.default_model is not None:
            c = rec.default_model
            if _ref(default) == _ref(c.after) or (force and c.before is not None):
                if c.before is not None:
                    default = copy.deepcopy(c.before)
            elif _ref(default) != _ref(c.before):
                kept.append(Kept("", "default model"))
        for name, c in rec.owners.items():
            change, value = three_way(owners.get(name, ABSENT), c, Kept("", f"owner {name}"))
            if change:
                owners[name] = value
        for old, mid, new in rec.moved:
            moves[(new, mid)] = old
    held = {(p.get("id"), m.get("id")) for p in state for m in p.get("models", []) if isinstance(m, dict)}
    # A move is undone where its model is home again and gone from where it went: every setting, assistant (and on
    # 2.x every message) naming it follows it back, so none is left naming a model that is no longer there.
    back = {k: old for k, old in moves.items() if (old, k[1]) in held and k not in held}
    return Undo(state, default, back, owners, kept)


def _differing(now: dict[str, Any], written: dict[str, Any]) -> list[str]:
    return [k for k in dict.fromkeys([*written, *now]) if now.get(k, ABSENT) != written.get(k, ABSENT)]


def _undo_update(now: dict[str, Any], pr: ProviderRecord, three_way: Any) -> dict[str, Any]:
    new = dict(now)
    for name, c in pr.fields.items():
        change, value = three_way(now.get(name, ABSENT), c, Kept(pr.id, name))
        if change:
            if value is ABSENT:
                new.pop(name, None)
            else:
                new[name] = copy.deepcopy(value)
    if pr.models:
        models = [m for m in now.get("models", []) if isinstance(m, dict)]
        by_id = {str(m.get("id")): m for m in models}
        for mid, c in pr.models.items():
            change, value = three_way(by_id.get(mid, ABSENT), c, Kept(pr.id, f"model {mid}"))
            if not change:
                continue
            if value is ABSENT:
                models = [m for m in models if str(m.get("id")) != mid]
            elif mid in by_id:
                models = [copy.deepcopy(value) if str(m.get("id")) == mid else m for m in models]
            else:
                models.append(copy.deepcopy(value))
        new["models"] = models
    return new
