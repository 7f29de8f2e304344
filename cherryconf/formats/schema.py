"""Load the JSON Schemas in schemas/ and validate documents against them with located errors."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from cherryconf.errors import BadInput
from cherryconf.i18n import _
from cherryconf.resources import data_dir

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

SchemaName = Literal["provider", "profile"]
_FILES: dict[SchemaName, str] = {
    "provider": "cherry-provider.schema.json",
    "profile": "profile.schema.json",
}


def schema_text(name: SchemaName) -> str:
    return (data_dir("schemas") / _FILES[name]).read_text(encoding="utf-8")


@cache
def _validator(name: SchemaName) -> Validator:
    # jsonschema is heavy to import; only commands that validate pay for it.
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    registry: Registry[Any] = Registry()
    for file in _FILES.values():
        doc = json.loads((data_dir("schemas") / file).read_text(encoding="utf-8"))
        registry = registry.with_resource(file, Resource.from_contents(doc))
        registry = registry.with_resource(doc["$id"], Resource.from_contents(doc))
    return Draft202012Validator(json.loads(schema_text(name)), registry=registry)


def format_location(parts: list[str | int]) -> str:
    """["providers", 0, "models", 2, "id"] -> "providers[0].models[2].id"."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def errors(name: SchemaName, document: Any) -> list[str]:
    """Every violation as `location: message`, in document order."""
    found = sorted(_validator(name).iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    out = []
    for e in found:
        path = list(e.absolute_path)
        message = e.message
        if e.validator == "required":
            # "'id' is a required property" -> "models[2].id: required", the form users act on fastest.
            path.append(message.split("'")[1])
            message = _("required")
        where = format_location(path) or _("(top level)")
        out.append(f"{where}: {message}")
    return out


def validate(name: SchemaName, document: Any, *, where: str = "") -> None:
    """BadInput with the first located violation (and how many more), if any."""
    found = errors(name, document)
    if found:
        more = " " + _("(and {n} more)").format(n=len(found) - 1) if len(found) > 1 else ""
        prefix = f"{where}: " if where else ""
        raise BadInput(f"{prefix}{found[0]}{more}")
