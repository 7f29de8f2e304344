"""A fast yes/no check of a document against the JSON Schemas in schemas/, compiled from the files themselves.

jsonschema (and pydantic) cost a tenth of a second to import, more than the rest of `apply`; the schemas use a
small part of JSON Schema, which compiles here into nested plain-Python checks. Only the keywords below are
understood, and a schema using any other is refused when compiled, so the check cannot silently mean less than the
file says. tests/unit/formats/test_schema.py holds it to jsonschema's verdict on every case and on generated documents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from cherryconf.resources import data_dir

Check = Callable[[Any], bool]

_FILES = {"provider": "cherry-provider.schema.json", "profile": "profile.schema.json"}
# Annotations: they say nothing about validity.
_IGNORED = frozenset({"$schema", "$id", "title", "description", "default", "$defs"})
_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


def _equal(a: Any, b: Any) -> bool:
    """JSON equality, as JSON Schema's const and enum compare: true is not 1, 1.0 is 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    numbers = isinstance(a, int | float) and isinstance(b, int | float)
    return (numbers or type(a) is type(b)) and a == b


class _Compiler:
    def __init__(self) -> None:
        self._docs = {name: json.loads((data_dir("schemas") / name).read_text(encoding="utf-8"))
                      for name in _FILES.values()}
        self._refs: dict[str, Check] = {}

    def ref(self, base: str, ref: str) -> Check:
        file, _, pointer = ref.partition("#")
        file = file or base
        key = f"{file}#{pointer}"
        if key not in self._refs:
            node: Any = self._docs[file]
            for part in filter(None, pointer.split("/")):
                node = node[part]
            # A placeholder first, so that a schema may refer to itself (none does yet, but nothing breaks).
            self._refs[key] = lambda v: compiled(v)
            compiled = self.compile(file, node)
            self._refs[key] = compiled
        return self._refs[key]

    def compile(self, base: str, schema: dict[str, Any]) -> Check:
        unknown = schema.keys() - _IGNORED - _KEYWORDS.keys()
        if unknown:
            raise ValueError(f"{base}: JSON Schema keywords fastschema does not implement: {sorted(unknown)}")
        if "properties" in schema or "additionalProperties" in schema:
            # One pass over an object's members for both keywords (the hot path: every provider and model).
            schema = {k: v for k, v in schema.items() if k != "additionalProperties"} | {"properties": schema}
        checks = [_KEYWORDS[k](self, base, schema) for k in schema if k in _KEYWORDS]
        return _all(checks)


def _all(checks: list[Check]) -> Check:
    # Plain closures rather than all() over a generator: a 1,000-provider profile makes ~10^5 checks.
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]
    first, rest = checks[0], _all(checks[1:])
    return lambda v: first(v) and rest(v)


def _type(c: _Compiler, base: str, s: dict[str, Any]) -> Check:
    names = s["type"] if isinstance(s["type"], list) else [s["type"]]
    tests = [_TYPES[n] for n in names]
    if len(tests) == 1:
        return tests[0]
    return lambda v: any(t(v) for t in tests)


def _const(c: _Compiler, base: str, s: dict[str, Any]) -> Check:
    const = s["const"]
    return lambda v: _equal(v, const)


def _enum(c: _Compiler, base: str, s: dict[str, Any]) -> Check:
    values = s["enum"]
    if all(isinstance(x, str) for x in values):
        allowed = frozenset(values)
        return lambda v: isinstance(v, str) and v in allowed
    return lambda v: any(_equal(v, x) for x in values)


def _ref(c: _Compiler, base: str, s: dict[str, Any]) -> Check:
    target = s["$ref"]
    resolved: list[Check] = []  # looked up on first use: the target may not be compiled yet

    def check(v: Any) -> bool:
        if not resolved:
            resolved.append(c.ref(base, target))
        return resolved[0](v)

    return check


def _properties(c: _Compiler, base: str, s: dict[str, Any]) -> Check:
    """`properties` and `additionalProperties` of the schema `s["properties"]` (see _Compiler.compile)."""
    schema = s["properties"]
    props = {k: c.compile(base, sub) for k, sub in schema.get("properties", {}).items()}
    extra = schema.get("additionalProperties", True)
    other: Check | None = None if extra is True else (lambda v: False) if extra is False else c.compile(base, extra)

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for k, x in v.items():
            member = props.get(k, other)
            if member is not None and not member(x):
                return False
        return True

    return check


def _required(c: _Compiler, base: str, s: dict[str, Any]) -> Check:
    names = frozenset(s["required"])
    return lambda v: not isinstance(v, dict) or names <= v.keys()


def _items(c: _Compiler, base: str, s: dict[str, Any]) -> Check:
    item = c.compile(base, s["items"])

    def check(v: Any) -> bool:
        if isinstance(v, list):
            for x in v:
                if not item(x):
                    return False
        return True

    return check


def _min_items(c: _Compiler, base: str, s: dict[str, Any]) -> Check:
    n = s["minItems"]
    return lambda v: not isinstance(v, list) or len(v) >= n


def _min_length(c: _Compiler, base: str, s: dict[str, Any]) -> Check:
    n = s["minLength"]
    return lambda v: not isinstance(v, str) or len(v) >= n


def _max_length(c: _Compiler, base: str, s: dict[str, Any]) -> Check:
    n = s["maxLength"]
    return lambda v: not isinstance(v, str) or len(v) <= n


def _pattern(c: _Compiler, base: str, s: dict[str, Any]) -> Check:
    # Python's re with search(), as jsonschema runs a pattern.
    search = re.compile(s["pattern"]).search
    return lambda v: not isinstance(v, str) or search(v) is not None


def _one_of(c: _Compiler, base: str, s: dict[str, Any]) -> Check:
    branches = [c.compile(base, sub) for sub in s["oneOf"]]
    return lambda v: sum(1 for b in branches if b(v)) == 1


_KEYWORDS: dict[str, Callable[[_Compiler, str, dict[str, Any]], Check]] = {
    "type": _type, "const": _const, "enum": _enum, "$ref": _ref, "properties": _properties,
    "additionalProperties": _properties, "required": _required, "items": _items, "minItems": _min_items,
    "minLength": _min_length, "maxLength": _max_length, "pattern": _pattern, "oneOf": _one_of,
}


@cache
def _check(name: str) -> Check:
    compiler = _Compiler()
    return compiler.ref(_FILES[name], "")


def accepts(name: str, document: Any) -> bool:
    """Whether `document` is valid against schemas/ `name` ("provider" or "profile"), as jsonschema would say."""
    return _check(name)(document)
