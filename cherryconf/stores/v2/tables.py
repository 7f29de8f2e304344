"""The 2.x database's tables as cherryconf reads them: the columns it needs, the schema variants it accepts, and
each row decoded and checked for the shapes the mapping relies on (pure but for the queries that fetch the rows).

Names with a leading underscore are private to the stores.v2 package.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cherryconf.errors import StoreError
from cherryconf.i18n import _
from cherryconf.stores.shape import RESTORE, kind

Row = dict[str, Any]
NOT_MIGRATED = (
    _("Cherry Studio has not finished upgrading its data to 2.x: start it once and let it finish, then retry")
)
_PROVIDER_JSON = frozenset({"endpoint_configs", "api_keys", "auth_config", "api_features", "provider_settings"})
_MODEL_JSON = frozenset({"capabilities", "input_modalities", "output_modalities", "endpoint_types", "reasoning",
                         "parameters", "pricing"})
_REQUIRED = {
    "user_provider": frozenset({"provider_id", "preset_provider_id", "name", "endpoint_configs",
                                "default_chat_endpoint", "api_keys", "auth_config", "provider_settings",
                                "is_enabled", "order_key", "created_at", "updated_at"}),
    "user_model": frozenset({"id", "provider_id", "model_id", "preset_model_id", "name", "description", "group",
                             "capabilities", "input_modalities", "endpoint_types", "supports_streaming", "pricing",
                             "order_key", "created_at", "updated_at"}),
    "app_state": frozenset({"key", "value"}),
}

# Columns cherryconf knows; an unknown NOT NULL column without a default would make its inserts fail.
_KNOWN = {
    "user_provider": _REQUIRED["user_provider"] | {"logo_key", "api_features"},
    "user_model": _REQUIRED["user_model"] | {
        "input_modalities_explicit", "output_modalities", "context_window", "max_input_tokens", "max_output_tokens",
        "reasoning", "parameters", "is_enabled", "is_hidden", "is_deprecated", "notes"},
    "app_state": _REQUIRED["app_state"] | {"description", "created_at", "updated_at"},
}
_MISSING = object()

# Reading decodes text with surrogateescape, so that bytes that are not UTF-8 (a damaged page) show up as these
# and are refused with the column named, instead of failing inside sqlite3 with the garbage quoted.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class _Schema:
    provider: frozenset[str]
    model: frozenset[str]


def _surrogate_text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _json(value: Any) -> str:
    # What JSON.stringify writes: compact, non-ASCII as is.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _columns(conn: sqlite3.Connection, table: str) -> dict[str, sqlite3.Row]:
    return {r["name"]: r for r in conn.execute(f'PRAGMA table_info("{table}")')}


def _check_schema(conn: sqlite3.Connection) -> _Schema:
    found: dict[str, frozenset[str]] = {}
    for table, required in _REQUIRED.items():
        cols = _columns(conn, table)
        damaged = next((name for name in cols if _NOT_UTF8.search(name)), None)
        if damaged is not None:
            # sqlite3 decodes a result's column names strictly: refused here, before a SELECT * would fail on it.
            raise StoreError(_("Cherry Studio's {table} table has a column name that is not UTF-8: the database is "
                               "damaged; {restore}").format(table=table, restore=RESTORE))
        if not cols:
            raise StoreError(_("Cherry Studio's database has no {table} table: not a 2.x layout cherryconf "
                               "knows").format(
                                 table=table))
        missing = sorted(required - cols.keys())
        if missing:
            raise StoreError(
                _("Cherry Studio's {table} table lacks {missing}: a layout cherryconf does not know, so it changes "
                  "nothing").format(table=table, missing=', '.join(missing))
            )
        unknown = sorted(name for name, c in cols.items()
                         if c["notnull"] and c["dflt_value"] is None and name not in _KNOWN[table])
        if unknown:
            raise StoreError(
                _("Cherry Studio's {table} table requires {unknown}, which cherryconf does not know how to fill, so "
                  "it changes nothing").format(table=table, unknown=', '.join(unknown))
            )
        found[table] = frozenset(cols)
    return _Schema(found["user_provider"], found["user_model"])


def _loads(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _check_migrated(conn: sqlite3.Connection) -> None:
    row = conn.execute("SELECT value FROM app_state WHERE key = 'migration_v2_status'").fetchone()
    status = _loads(row["value"]) if row else None
    if isinstance(status, dict):
        status = status.get("status")
    if status != "completed":
        raise StoreError(NOT_MIGRATED)


def _decode(row: sqlite3.Row, json_columns: frozenset[str], table: str) -> Row:
    out: Row = dict(row)
    for col, value in out.items():
        if isinstance(value, str) and _NOT_UTF8.search(value):
            raise StoreError(_("Cherry Studio's {table}.{col} holds text that is not UTF-8 ({row}): the database "
                               "is damaged; {restore}").format(
                                 table=table, col=col, row=_row_name(table, out), restore=RESTORE))
    for col in json_columns & out.keys():
        value = out[col]
        if isinstance(value, str):
            try:
                out[col] = json.loads(value)
            except ValueError:
                raise StoreError(_("Cherry Studio's {table}.{col} holds text that is not JSON ({row}); "
                                   "{restore}").format(
                                     table=table, col=col, row=_row_name(table, out), restore=RESTORE)) from None
            if _has_lone_surrogate(out[col]):
                raise StoreError(_("Cherry Studio's {table}.{col} holds JSON that is not valid Unicode ({row}); "
                                   "{restore}").format(
                                     table=table, col=col, row=_row_name(table, out), restore=RESTORE))
    for col, wanted, ok in _SHAPES[table]:
        if col in out and not ok(out[col]):
            raise StoreError(_("Cherry Studio's {table}.{col} holds {found}, not {wanted} ({row}); the database "
                               "is damaged; {restore}").format(table=table, col=col, found=kind(out[col]),
                                                               wanted=wanted, row=_row_name(table, out),
                                                               restore=RESTORE))
    return out


def _row_name(table: str, row: Row) -> str:
    if table == "user_model":
        return _("model {id!r}").format(id=row.get("id"))
    return _("provider {id!r}").format(id=row.get("provider_id"))


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _text_or_null(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _int_or_null(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _texts(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _object(value: Any) -> bool:
    return value is None or isinstance(value, dict)


def _api_keys_shape(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(
        isinstance(k, dict) and isinstance(k.get("key", ""), str) for k in value))


def _endpoint_configs_shape(value: Any) -> bool:
    return value is None or (isinstance(value, dict) and all(
        isinstance(c, dict) and _text_or_null(c.get("baseUrl")) for c in value.values()))


def _pricing_shape(value: Any) -> bool:
    return value is None or (isinstance(value, dict) and all(
        _object(value.get(side)) for side in ("input", "output")))


# Column -> (what it must hold, the check) for every column the mapping to the 1.x format reads: a value of
# another shape is a damaged database, refused here rather than failing somewhere further on.
_SHAPES: dict[str, list[tuple[str, str, Callable[[Any], bool]]]] = {
    "user_provider": [
        ("provider_id", _("text"), _text), ("name", _("text"), _text), ("preset_provider_id", _("text"), _text_or_null),
        ("default_chat_endpoint", _("text"), _text_or_null), ("is_enabled", _("a number"), _int_or_null),
        ("order_key", _("text"), _text), ("api_keys", _("a list of keys"), _api_keys_shape),
        ("endpoint_configs", _("an object of endpoint objects"), _endpoint_configs_shape),
        ("auth_config", _("an object"), _object), ("provider_settings", _("an object"), _object),
        ("api_features", _("an object"), _object),
    ],
    "user_model": [
        ("id", _("text"), _text), ("provider_id", _("text"), _text), ("model_id", _("text"), _text),
        ("name", _("text"), _text_or_null), ("group", _("text"), _text_or_null),
        ("description", _("text"), _text_or_null),
        ("order_key", _("text"), _text), ("capabilities", _("a list of names"), _texts),
        ("endpoint_types", _("a list of names"), _texts), ("pricing", _("an object"), _pricing_shape),
        ("supports_streaming", _("a number"), _int_or_null),
    ],
}


def _provider_rows(conn: sqlite3.Connection) -> list[Row]:
    rows = conn.execute("SELECT * FROM user_provider ORDER BY order_key, provider_id")
    return [_decode(r, _PROVIDER_JSON, "user_provider") for r in rows]


def _model_rows(conn: sqlite3.Connection) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for r in conn.execute("SELECT * FROM user_model ORDER BY provider_id, order_key, id"):
        out.setdefault(r["provider_id"], []).append(_decode(r, _MODEL_JSON, "user_model"))
    return out


def _preferences(conn: sqlite3.Connection, keys: list[str]) -> dict[str, Any]:
    cols = _columns(conn, "preference")
    if not {"key", "value"} <= cols.keys():
        return {}
    scoped = " AND scope = 'default'" if "scope" in cols else ""
    marks = ",".join("?" * len(keys))
    rows = conn.execute(f"SELECT key, value FROM preference WHERE key IN ({marks}){scoped}", keys)
    return {r["key"]: _loads(r["value"]) for r in rows}
