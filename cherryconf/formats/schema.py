"""The JSON Schemas in schemas/: their text, and the located form of a place in a document.

Validation at run time is fastschema's; jsonschema, which it agrees with, is a test dependency (tests/testing/)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from cherryconf.resources import data_dir

if TYPE_CHECKING:
    pass

SchemaName = Literal["provider", "profile"]
FILES: dict[SchemaName, str] = {
    "provider": "cherry-provider.schema.json",
    "profile": "profile.schema.json",
}


def schema_text(name: SchemaName) -> str:
    return (data_dir("schemas") / FILES[name]).read_text(encoding="utf-8")


def format_location(parts: list[str | int]) -> str:
    """["providers", 0, "models", 2, "id"] -> "providers[0].models[2].id"."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


