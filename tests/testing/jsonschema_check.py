"""jsonschema's verdict on a document, with located errors: what fastschema is held to (a test dependency only)."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from cherryconf.formats.schema import FILES, SchemaName, format_location, schema_text
from cherryconf.i18n import _
from cherryconf.resources import data_dir

if TYPE_CHECKING:
    from jsonschema.protocols import Validator


@cache
def _validator(name: SchemaName) -> Validator:
    # Built once per schema: the registry resolves the profile schema's reference to the provider schema.
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    registry: Registry[Any] = Registry()
    for file in FILES.values():
        doc = json.loads((data_dir("schemas") / file).read_text(encoding="utf-8"))
        registry = registry.with_resource(file, Resource.from_contents(doc))
        registry = registry.with_resource(doc["$id"], Resource.from_contents(doc))
    return Draft202012Validator(json.loads(schema_text(name)), registry=registry)


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
