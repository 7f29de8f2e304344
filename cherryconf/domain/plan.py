"""Pure merge: what the store holds + what a profile wants -> the providers after, and what changed.

Rules (DESIGN.md): a provider is matched by id; fields the profile names are set, others kept; models merge
by id (unless replaceModels); new providers go to the top, as the app's own "add provider" puts them; the
order of existing providers and everything else stays as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Literal

from cherryconf.domain import twins
from cherryconf.domain.patch import ProviderPatch
from cherryconf.domain.spec import setting_name
from cherryconf.errors import BadInput
from cherryconf.i18n import _

Action = Literal["add", "update", "remove", "unchanged"]
# (provider id, model id) -> the 1.x capabilities the app gives that model of its own accord, or None (see
# Store.catalog_capabilities): a profile's capabilities add to those.
BaseCapabilities = Callable[[str, str], "list[str] | None"]


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class ProviderChange:
    id: str
    name: str
    action: Action
    fields: list[FieldChange] = field(default_factory=list)
    models_added: list[str] = field(default_factory=list)
    models_removed: list[str] = field(default_factory=list)
    models_changed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    before: list[dict[str, Any]]
    after: list[dict[str, Any]]
    changes: list[ProviderChange]
    default_model_before: dict[str, Any] | None = None
    default_model_after: dict[str, Any] | None = None
    # Models that move to another provider: (old provider id, model id) -> new provider id. The store re-points
    # every setting that names such a model (default, quick, translate, topic-naming model; assistants' models)
    # in the same write, since the app finds a model's provider through the id the reference carries.
    moved: dict[tuple[str, str], str] = field(default_factory=dict)
    # Models whose profile named capabilities where the app has its own (2.x catalog models): (provider id, model
    # id) -> (the catalog's, those the profile adds). What the app will offer is both.
    offered: dict[tuple[str, str], tuple[list[str], list[str]]] = field(default_factory=dict)
    # Providers of the profile matched to a gateway the store holds under another id: store id -> (the profile's
    # id, why they are the same gateway). The store's provider is updated; no twin is added.
    matched: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(c.action != "unchanged" for c in self.changes) or (
            self.default_model_after != self.default_model_before
        ) or bool(self.moved)

    @property
    def changed_ids(self) -> list[str]:
        return [c.id for c in self.changes if c.action != "unchanged"]


def _with_base(pid: str, model: dict[str, Any], base: BaseCapabilities | None,
               offered: dict[tuple[str, str], tuple[list[str], list[str]]], new: bool) -> dict[str, Any]:
    """The model with the capabilities the app will offer: its own (the catalog's) and then the profile's.

    Cherry Studio 2.x uses a catalog model's stored capability list instead of the catalog's, so a profile's list
    is taken as an addition (facts file section 9, read at ousugo/cherry-studio 564c9eac). `new`: a model the store
    does not hold yet, which gets the catalog's even when the profile names none.
    """
    own = base(pid, str(model.get("id"))) if base is not None else None
    if own is None or not (new or "capabilities" in model):
        return model
    given = [c["type"] for c in model.get("capabilities") or [] if isinstance(c, dict)]
    added = [c for c in dict.fromkeys(given) if c not in own]
    if "capabilities" in model:
        offered[(pid, str(model.get("id")))] = (list(own), added)
    caps = [*own, *added]
    out = {k: v for k, v in model.items() if k != "capabilities"}
    return out | ({"capabilities": [{"type": c, "isUserSelected": True} for c in caps]} if caps else {})


def _merge_models(existing: list[dict[str, Any]], patch: ProviderPatch, base: BaseCapabilities | None = None,
                  offered: dict[tuple[str, str], tuple[list[str], list[str]]] | None = None) -> list[dict[str, Any]]:
    offered = {} if offered is None else offered
    by_id = {m.get("id"): m for m in existing}
    wanted = {full["id"]: (_with_base(patch.id, full, base, offered, True),
                           _with_base(patch.id, upd, base, offered, False) if full["id"] in by_id else upd)
              for full, upd in zip(patch.models, patch.model_updates, strict=True)}
    merged: list[dict[str, Any]] = []
    for m in existing:
        mid = m.get("id")
        if mid in wanted:
            merged.append({**m, **wanted[mid][1]})
        elif not patch.replace_models:
            merged.append(m)
    merged += [copy.deepcopy(full) for mid, (full, _rest) in wanted.items() if mid not in by_id]
    return merged


def _compare(before: dict[str, Any], after: dict[str, Any]) -> ProviderChange:
    fields = [
        FieldChange(k, before.get(k), after.get(k))
        for k in dict.fromkeys([*before, *after])
        if k != "models" and before.get(k) != after.get(k)
    ]
    old = {m.get("id"): m for m in before.get("models", [])}
    new = {m.get("id"): m for m in after.get("models", [])}
    added = [str(i) for i in new if i not in old]
    removed = [str(i) for i in old if i not in new]
    changed = [str(i) for i in new if i in old and new[i] != old[i]]
    action: Action = "update" if fields or added or removed or changed else "unchanged"
    return ProviderChange(str(after["id"]), str(after.get("name", "")), action, fields, added, removed, changed)


def _held(providers: list[dict[str, Any]]) -> set[tuple[Any, Any]]:
    return {(p.get("id"), m.get("id")) for p in providers for m in p.get("models", [])}


def _added(provider: dict[str, Any]) -> ProviderChange:
    # The fields come along (before: none) so that a diff can show what the new provider holds.
    fields = [FieldChange(k, None, v) for k, v in provider.items() if k not in ("id", "models")]
    return ProviderChange(str(provider.get("id")), str(provider.get("name", "")), "add", fields,
                          models_added=[str(m.get("id")) for m in provider.get("models", [])])


def _removed(provider: dict[str, Any]) -> ProviderChange:
    fields = [FieldChange(k, v, None) for k, v in provider.items() if k not in ("id", "models")]
    return ProviderChange(str(provider.get("id")), str(provider.get("name", "")), "remove", fields,
                          models_removed=[str(m.get("id")) for m in provider.get("models", [])])


def _check_refs(
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    refs: dict[str, dict[str, Any]],
    new_default: tuple[str, str] | None,
) -> None:
    dropped = _held(before) - _held(after)
    remaining = {p.get("id") for p in after}
    for setting, model in refs.items():
        if setting == "defaultModel" and new_default is not None:
            continue
        key = (model.get("provider"), model.get("id"))
        if key not in dropped:
            continue
        if key[0] not in remaining:
            raise BadInput(
                _("provider {provider!r} would be removed (its owner's profile no longer lists it), but Cherry "
                  "Studio's "
                  "{setting} uses its model {model!r}; choose another model in the app first, or keep the provider "
                  "in the profile").format(provider=key[0], setting=setting_name(setting), model=key[1])
            )
        raise BadInput(
            _("replaceModels would remove model {model!r} of provider {provider!r}, which Cherry Studio's {setting} "
              "uses; keep it in the profile's models or choose another model in the app first").format(
                model=key[1], provider=key[0], setting=setting_name(setting))
        )


def diff(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[ProviderChange]:
    """Provider-level differences between two provider lists (for restore previews)."""
    old = {p.get("id"): p for p in before}
    new = {p.get("id"): p for p in after}
    out = []
    for pid, p in new.items():
        if pid not in old:
            out.append(_added(p))
        else:
            change = _compare(old[pid], p)
            if change.action != "unchanged":
                out.append(change)
    out += [_removed(p) for pid, p in old.items() if pid not in new]
    return out


def _retarget(patch: ProviderPatch, pid: str) -> ProviderPatch:
    """The patch for the provider `pid` instead of its own id (its models name their provider)."""
    def owned(models: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**m, "provider": pid} if "provider" in m else m for m in models]

    return ProviderPatch(pid, patch.fields, owned(patch.models), owned(patch.model_updates), patch.replace_models,
                         {**patch.new_provider, "id": pid, "models": owned(patch.new_provider.get("models", []))})


def _twins(current: list[dict[str, Any]], patches: list[ProviderPatch], keep_apart: set[str]
           ) -> dict[str, twins.Twin]:
    """The profile's new providers that are gateways the store holds under another id: profile id -> twin."""
    held_ids = {str(p.get("id")) for p in current}
    skip = {patch.id for patch in patches} | keep_apart
    found: dict[str, twins.Twin] = {}
    for patch in patches:
        if patch.id in held_ids:
            continue
        twin = twins.find(patch.new_provider, current, skip | {t.held_id for t in found.values()})
        if twin is not None:
            found[patch.id] = twin
    return found


def make(
    current: list[dict[str, Any]],
    patches: list[ProviderPatch],
    default_model: tuple[str, str] | None = None,
    current_default: dict[str, Any] | None = None,
    model_refs: dict[str, dict[str, Any]] | None = None,
    remove: Collection[str] = (),
    base: BaseCapabilities | None = None,
    match_twins: bool = False,
    keep_apart: Collection[str] = (),
) -> Plan:
    """The plan that makes `current` hold every patch, without the providers in `remove`; `current` is not
    modified.

    `model_refs` are the app settings that embed a whole Model (default, quick, translate model): a
    `replaceModels` or a removal that would drop one of those models is refused rather than leave the app
    pointing at nothing. `base` names the capabilities the app gives a model of its own accord, to which a
    profile's add. `match_twins`: a new provider of the profile that is a gateway the store already holds under
    another id (twins.find) updates that one instead of being added beside it; not one in `keep_apart`.
    """
    matched: dict[str, tuple[str, str]] = {}
    if match_twins:
        found = _twins(current, patches, set(keep_apart))
        matched = {t.held_id: (pid, t.why) for pid, t in found.items()}
        patches = [_retarget(p, found[p.id].held_id) if p.id in found else p for p in patches]
        if default_model is not None and default_model[0] in found:
            default_model = (found[default_model[0]].held_id, default_model[1])
    # Providers the profile leaves alone are shared with `current`, not copied (a store may hold a thousand, of
    # twenty models each): nothing here changes a provider in place, a changed one is a new dict.
    after = list(current)
    index = {p.get("id"): i for i, p in enumerate(after)}
    added: list[dict[str, Any]] = []
    changes: list[ProviderChange] = []
    offered: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for patch in patches:
        if patch.id in index:
            old = after[index[patch.id]]
            new = {**old, **copy.deepcopy(patch.fields)}
            new["models"] = _merge_models(old.get("models", []), patch, base, offered)
            after[index[patch.id]] = new
            changes.append(_compare(old, new))
        else:
            provider = copy.deepcopy(patch.new_provider)
            provider["models"] = [_with_base(patch.id, m, base, offered, True) for m in provider.get("models", [])]
            added.append(provider)
            changes.append(_added(provider))
    after = added + after
    wanted = {patch.id for patch in patches}
    changes += [_removed(p) for p in after if p.get("id") in remove and p.get("id") not in wanted]
    after = [p for p in after if p.get("id") not in remove or p.get("id") in wanted]
    _check_refs(current, after, model_refs or {}, default_model)

    default_after = current_default
    if default_model is not None:
        provider_id, model_id = default_model
        provider = next(p for p in after if p.get("id") == provider_id)
        default_after = copy.deepcopy(next(m for m in provider["models"] if m.get("id") == model_id))
    return Plan(current, after, changes, current_default, default_after, offered=offered, matched=matched)
