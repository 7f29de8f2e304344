"""Shape checks on what a store holds, in the 1.x Provider/Model format every store maps to.

A store is written by the app (or damaged by a disk, or by hand): a value of the wrong type (`models` that is
not a list, a name that is a number) is refused as a damaged store naming the provider and the field, before
any other code meets it and fails with an exception. Only the fields cherryconf reads are checked; unknown
fields round-trip untouched. Missing optional fields are fine; `null` is accepted where the app tolerates it.
"""

from __future__ import annotations

from typing import Any

from cherryconf.errors import StoreError
from cherryconf.i18n import _

__all__ = ["check_model_ref", "check_providers", "kind"]

RESTORE = _("`cherryconf restore` can put an earlier backup back, or fix it in Cherry Studio")
# Provider fields that must be text when present (null allowed: the app treats it as empty).
_PROVIDER_TEXT = ("name", "type", "apiKey", "apiHost", "anthropicApiHost", "apiVersion", "notes")
_PROVIDER_MAPS = ("apiOptions", "extra_headers")
_MODEL_TEXT = ("name", "group", "provider", "description", "owned_by", "endpoint_type")
_MODEL_LISTS = ("capabilities", "type", "supported_endpoint_types")
_MODEL_MAPS = ("pricing",)
_KINDS = {dict: _("an object"), list: _("a list"), str: _("text"), bool: _("a boolean"), int: _("a number"),
          float: _("a number"),
          type(None): _("null")}


def kind(value: Any) -> str:
    """What a JSON value is, in words."""
    return _KINDS.get(type(value), type(value).__name__)


def _refuse(where: str, what: str, field: str, value: Any, wanted: str) -> StoreError:
    return StoreError(_("{where} is damaged: {what} has {field} as {found}, not {wanted}; {restore}").format(
                          where=where, what=what, field=field, found=kind(value), wanted=wanted, restore=RESTORE))


def _fields(where: str, what: str, item: dict[str, Any], text: tuple[str, ...], lists: tuple[str, ...],
            maps: tuple[str, ...]) -> None:
    for field in text:
        value = item.get(field)
        if value is not None and not isinstance(value, str):
            raise _refuse(where, what, field, value, _("text"))
    for field in lists:
        value = item.get(field)
        if value is not None and not isinstance(value, list):
            raise _refuse(where, what, field, value, _("a list"))
    for field in maps:
        value = item.get(field)
        if value is not None and not isinstance(value, dict):
            raise _refuse(where, what, field, value, _("an object"))


def _id(where: str, what: str, item: dict[str, Any]) -> str:
    value = item.get("id")
    if not isinstance(value, str) or not value:
        raise _refuse(where, what, "id", value, _("non-empty text"))
    return value


def check_providers(providers: Any, where: str) -> list[dict[str, Any]]:
    """`providers` if it is a list of providers of the right shape; StoreError naming the first wrong field.

    `where` names the store for the message ("Cherry Studio's saved llm settings").
    """
    if not isinstance(providers, list):
        raise StoreError(_("{where} is damaged: its providers are {providers}, not a list; {restore}").format(
                             where=where, providers=kind(providers), restore=RESTORE))
    for i, p in enumerate(providers):
        if not isinstance(p, dict):
            raise StoreError(_("{where} is damaged: provider #{number} is {found}, not an object; {restore}").format(
                                 where=where, number=i + 1, found=kind(p), restore=RESTORE))
        pid = _id(where, _("provider #{number}").format(number=i + 1), p)
        what = _("provider {id!r}").format(id=pid)
        _fields(where, what, p, _PROVIDER_TEXT, (), _PROVIDER_MAPS)
        models = p.get("models", [])
        if not isinstance(models, list):
            raise _refuse(where, what, "models", models, _("a list"))
        for j, m in enumerate(models):
            if not isinstance(m, dict):
                raise StoreError(_("{where} is damaged: {what} has model #{number} as {found}, not an object; "
                                   "{restore}").format(
                                     where=where, what=what, number=j + 1, found=kind(m), restore=RESTORE))
            mid = _id(where, _("{what}, model #{number}").format(what=what, number=j + 1), m)
            model_what = _("{what}, model {id!r}").format(what=what, id=mid)
            _fields(where, model_what, m, _MODEL_TEXT, _MODEL_LISTS, _MODEL_MAPS)
    return providers


def check_model_ref(ref: Any, name: str, where: str) -> dict[str, Any] | None:
    """A setting that embeds a whole Model (defaultModel...): the Model, or None when it holds none."""
    if not isinstance(ref, dict):
        return None  # unset, or a value the app itself ignores
    for field in ("id", "provider"):
        value = ref.get(field)
        if value is not None and not isinstance(value, str):
            raise _refuse(where, name, field, value, _("text"))
    return ref
