"""Cherry Studio 2.x: providers as rows of `user_provider` and `user_model` in `<userData>/Data/cherrystudio.sqlite`.

Every row maps to and from the 1.x Provider/Model format the way the app's own 1.x -> 2.x migration maps it
(`ProviderModelMappings.ts`). Writing touches only the rows of the providers a plan changed, and within those
only the columns whose 1.x field changed: the app keeps registry-owned and user-owned details in the same JSON
columns, and they must survive. Before anything is written, each changed provider is mapped to rows and back;
a field the 2.x database cannot hold as given (a capability 2.x has no name for, `owned_by`...) is refused
with BadInput instead of being lost or read back differently.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fractional_indexing

from cherryconf import faults
from cherryconf.domain.catalog import Catalog
from cherryconf.domain.spec import BUILT_IN_PROVIDER_IDS, default_group
from cherryconf.errors import AppRunning, BadInput, ReadBackFailed, StoreError
from cherryconf.fsutil import copy_file, create_private, fsync_dir, fsync_file, rename
from cherryconf.i18n import _
from cherryconf.stores import StoreState
from cherryconf.stores.shape import RESTORE, kind

if TYPE_CHECKING:
    from cherryconf.domain.plan import Plan
    from cherryconf.stores.install import Install

Row = dict[str, Any]

DB_NAME = "cherrystudio.sqlite"
NEW_SUFFIX = ".cherryconf-new"
BUSY_TIMEOUT_S = 5.0
NOT_MIGRATED = (
    _("Cherry Studio has not finished upgrading its data to 2.x: start it once and let it finish, then retry")
)

CHAT = "openai-chat-completions"
RESPONSES = "openai-responses"
ANTHROPIC = "anthropic-messages"

# 1.x provider type -> the endpoint the migration makes its default (ENDPOINT_MAP). Types whose 2.x form needs
# credentials or settings cherryconf does not handle (azure-openai, vertexai, aws-bedrock...) are left out.
_ENDPOINT_OF_TYPE = {
    "openai": CHAT,
    "openai-response": RESPONSES,
    "anthropic": ANTHROPIC,
    "gemini": "google-generate-content",
    "ollama": "ollama-chat",
    "new-api": CHAT,
    "gateway": CHAT,
}
# Relay types share the chat endpoint and are told apart by the adapter family the migration records.
_ADAPTER_OF_TYPE = {"new-api": "newapi", "gateway": "gateway"}
_TYPE_OF_ADAPTER = {family: ptype for ptype, family in _ADAPTER_OF_TYPE.items()}
_TYPE_OF_ENDPOINT = {endpoint: ptype for ptype, endpoint in _ENDPOINT_OF_TYPE.items() if endpoint != CHAT}
# Azure, Vertex and Bedrock reuse other vendors' endpoints; only their auth config tells them apart.
_TYPE_OF_AUTH = {"iam-azure": "azure-openai", "iam-gcp": "vertexai", "iam-aws": "aws-bedrock",
                 "api-key-aws": "aws-bedrock"}
# Where to look when a row names no default endpoint (a preset row left at its registry default).
_ENDPOINT_FALLBACK = (CHAT, RESPONSES, ANTHROPIC, "google-generate-content", "ollama-chat")

# 1.x capability -> the app's MODEL_CAPABILITY value, as its migration maps them (Cherry Studio 2.x,
# src/main/data/migration/v2/migrators/mappings/ProviderModelMappings.ts CAPABILITY_MAP at 1220ce3f). `text` and
# `web_search` have no 2.x value: the profile loader leaves web_search out with a note.
_CAPABILITY = {
    "function_calling": "function-call",
    "vision": "image-recognition",
    "reasoning": "reasoning",
    "embedding": "embedding",
    "rerank": "rerank",
}
_CAPABILITY_V1 = {v2: v1 for v1, v2 in _CAPABILITY.items()}
_MODEL_ENDPOINT = {
    "openai": CHAT,
    "openai-response": RESPONSES,
    "anthropic": ANTHROPIC,
    "gemini": "google-generate-content",
    "image-generation": "openai-image-generation",
    "jina-rerank": "jina-rerank",
}
_MODEL_ENDPOINT_V1 = {v2: v1 for v1, v2 in _MODEL_ENDPOINT.items()}
# 1.x apiOptions flag -> (2.x api_features key, whether the meaning is inverted).
_API_OPTIONS = {
    "isNotSupportArrayContent": ("arrayContent", True),
    "isNotSupportStreamOptions": ("streamOptions", True),
    "isSupportDeveloperRole": ("developerRole", False),
    "isSupportServiceTier": ("serviceTier", False),
    "isNotSupportVerbosity": ("verbosity", True),
}
# From 2.0.9 (no api_features column) the flags a host deviates by live per endpoint, as that endpoint's
# `dialect`; only these two have a dialect field (Cherry Studio 2.x, src/shared/data/types/provider.ts
# EndpointDialectSchema: streamOptions, developerRole, reasoningSummary).
_DIALECT = {
    "isNotSupportStreamOptions": ("streamOptions", True),
    "isSupportDeveloperRole": ("developerRole", False),
}
# 1.x provider field -> its key in provider_settings.
_SETTINGS = {"notes": "notes", "rateLimit": "rateLimit", "extra_headers": "extraHeaders",
             "serviceTier": "serviceTier", "verbosity": "verbosity"}
# The 1.x llm settings that embed a Model -> the preference holding that model's "provider::model" id.
_MODEL_PREFERENCES = {
    "defaultModel": "chat.default_model_id",
    "topicNamingModel": "topic.naming.model_id",
    "quickModel": "feature.quick_assistant.model_id",
    "translateModel": "feature.translate.model_id",
}
# Ids the migration treats as built-in providers (SYSTEM_PROVIDER_IDS) plus the seeded CherryAI: a custom
# provider must never take one, even where this database has no row for it yet.

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


def _now_ms() -> int:
    return int(time.time() * 1000)


def _json(value: Any) -> str:
    # What JSON.stringify writes: compact, non-ASCII as is.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _columns(conn: sqlite3.Connection, table: str) -> dict[str, sqlite3.Row]:
    return {r["name"]: r for r in conn.execute(f'PRAGMA table_info("{table}")')}


def _check_schema(conn: sqlite3.Connection) -> _Schema:
    found: dict[str, frozenset[str]] = {}
    for table, required in _REQUIRED.items():
        cols = _columns(conn, table)
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


# --- rows -> the 1.x format -----------------------------------------------------------------------------------


def _endpoint_of(row: Row) -> str | None:
    if row.get("default_chat_endpoint"):
        return str(row["default_chat_endpoint"])
    configs = row.get("endpoint_configs") or {}
    return next((e for e in _ENDPOINT_FALLBACK if e in configs), next(iter(configs), None))


def _type_of(row: Row, endpoint: str | None) -> str:
    auth = row.get("auth_config")
    if isinstance(auth, dict) and auth.get("type") in _TYPE_OF_AUTH:
        return _TYPE_OF_AUTH[auth["type"]]
    if endpoint == CHAT:
        family = ((row.get("endpoint_configs") or {}).get(CHAT) or {}).get("adapterFamily")
        return _TYPE_OF_ADAPTER.get(str(family), "openai")
    return _TYPE_OF_ENDPOINT.get(endpoint or "", "openai")


def _provider_v1(row: Row, models: list[dict[str, Any]]) -> dict[str, Any]:
    endpoint = _endpoint_of(row)
    configs = row.get("endpoint_configs") or {}
    ptype = _type_of(row, endpoint)
    keys = row.get("api_keys") or []
    p: dict[str, Any] = {
        "id": row["provider_id"],
        "name": row["name"],
        "type": ptype,
        "apiKey": ",".join(str(k.get("key", "")) for k in keys if k.get("isEnabled", True)),
        "apiHost": str((configs.get(endpoint) or {}).get("baseUrl", "")) if endpoint else "",
        "models": models,
        "enabled": bool(row["is_enabled"]),
        "isSystem": row["preset_provider_id"] is not None,
    }
    anthropic_host = (configs.get(ANTHROPIC) or {}).get("baseUrl")
    if anthropic_host and endpoint != ANTHROPIC:
        p["anthropicApiHost"] = anthropic_host
    settings = row.get("provider_settings") or {}
    p.update({v1: settings[v2] for v1, v2 in _SETTINGS.items() if settings.get(v2) is not None})
    options = _flags(row.get("api_features"), _API_OPTIONS)
    options |= _flags((configs.get(endpoint) or {}).get("dialect") if endpoint else None, _DIALECT)
    if options:
        p["apiOptions"] = options
    auth = row.get("auth_config")
    if ptype == "azure-openai" and isinstance(auth, dict) and "apiVersion" in auth:
        p["apiVersion"] = auth["apiVersion"]
    return p


def _flags(stored: Any, names: dict[str, tuple[str, bool]]) -> dict[str, bool]:
    """The 1.x apiOptions flags a stored api_features or dialect object says."""
    if not isinstance(stored, dict):
        return {}
    return {opt: (not stored[key]) if inverted else stored[key]
            for opt, (key, inverted) in names.items() if isinstance(stored.get(key), bool)}


def _set_flags(stored: Any, options: dict[str, Any], names: dict[str, tuple[str, bool]]) -> dict[str, Any] | None:
    """`stored` (api_features or a dialect) holding the flags of `options`; keys of other meanings are kept."""
    out = dict(stored or {})
    for opt, (key, inverted) in names.items():
        if opt in options:
            out[key] = (not options[opt]) if inverted else options[opt]
        else:
            out.pop(key, None)
    return out or None


def _whole(value: Any) -> Any:
    # The profile reads numbers as floats; the app's number inputs store a whole rate limit as an integer (5,
    # not 5.0), and JSON keeps the difference.
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _pricing_v1(pricing: Any) -> dict[str, Any] | None:
    try:
        currency = pricing["input"]["currency"]
        out = {"input_per_million_tokens": pricing["input"]["perMillionTokens"],
               "output_per_million_tokens": pricing["output"]["perMillionTokens"]}
    except (KeyError, TypeError):
        return None
    if currency != pricing["output"].get("currency") or currency not in ("USD", "CNY"):
        return None
    if currency == "CNY":
        out["currencySymbol"] = "¥"
    return out


def _model_v1(row: Row) -> dict[str, Any]:
    mid, pid = row["model_id"], row["provider_id"]
    m: dict[str, Any] = {
        "id": mid,
        "provider": pid,
        # A preset-backed row leaves name and group to the registry (NULL); show what the app would derive.
        "name": row["name"] if row["name"] is not None else mid,
        "group": row["group"] if row["group"] is not None else default_group(mid, pid),
    }
    types = list(dict.fromkeys(_CAPABILITY_V1[c] for c in row.get("capabilities") or [] if c in _CAPABILITY_V1))
    if types:
        m["capabilities"] = [{"type": t, "isUserSelected": True} for t in types]
    if row.get("supports_streaming") is not None:
        m["supported_text_delta"] = bool(row["supports_streaming"])
    elif row.get("preset_model_id") is not None:
        m["supported_text_delta"] = True  # the catalog's models stream (ProviderRegistryService mergePresetModel)
    if row.get("description") is not None:
        m["description"] = row["description"]
    endpoints = [_MODEL_ENDPOINT_V1[e] for e in row.get("endpoint_types") or [] if e in _MODEL_ENDPOINT_V1]
    if len(endpoints) == 1:
        m["endpoint_type"] = endpoints[0]
    elif endpoints:
        m["supported_endpoint_types"] = endpoints
    pricing = _pricing_v1(row.get("pricing"))
    if pricing is not None:
        m["pricing"] = pricing
    return m



def provider_from_row(row: Row, model_rows: list[Row]) -> dict[str, Any]:
    """A provider in the 1.x format from a `user_provider` row and its `user_model` rows, both decoded (their
    JSON columns as values): also what turns the app's own provider export into providers."""
    return _provider_v1(row, [_model_v1(m) for m in model_rows])

# --- the 1.x format -> rows -----------------------------------------------------------------------------------


def _api_keys(existing: list[dict[str, Any]], wanted: str) -> list[dict[str, Any]]:
    """Enabled entries for the wanted keys, reusing an entry (its id, its label) when the key is unchanged."""
    keys = list(dict.fromkeys(k.strip() for k in wanted.split(",") if k.strip()))
    by_key = {e.get("key"): e for e in existing}
    out = [{**by_key[k], "isEnabled": True} if k in by_key else {"id": str(uuid.uuid4()), "key": k, "isEnabled": True}
           for k in keys]
    # Keys the user switched off in the app are not part of apiKey; keep them switched off.
    return out + [e for e in existing if e.get("key") not in keys and not e.get("isEnabled", True)]


def _pricing_v2(pricing: Any) -> dict[str, Any] | None:
    if not isinstance(pricing, dict):
        return None
    currency = "CNY" if pricing.get("currencySymbol") in ("¥", "￥") else "USD"
    return {"input": {"perMillionTokens": pricing.get("input_per_million_tokens"), "currency": currency},
            "output": {"perMillionTokens": pricing.get("output_per_million_tokens"), "currency": currency}}


def _provider_row(old: Row | None, want: dict[str, Any], order_key: str | None, now: int,
                  dialects: bool = False) -> Row:
    """The row for `want`; `dialects` for a database whose apiOptions live as endpoint dialects (2.0.9+)."""
    row: Row = dict(old) if old else {
        "provider_id": want.get("id"), "preset_provider_id": None, "name": "", "logo_key": None,
        "endpoint_configs": None, "default_chat_endpoint": None, "api_keys": [],
        "auth_config": {"type": "api-key"}, "api_features": None, "provider_settings": None, "is_enabled": 1,
        "order_key": order_key, "created_at": now, "updated_at": now,
    }
    cur = _provider_v1(old, []) if old else {}

    def differs(*fields: str) -> bool:
        return old is None or any(cur.get(f, _MISSING) != want.get(f, _MISSING) for f in fields)

    if differs("name"):
        row["name"] = want.get("name")
    if differs("enabled"):
        row["is_enabled"] = 1 if want.get("enabled", True) else 0
    if differs("apiKey"):
        row["api_keys"] = _api_keys(row.get("api_keys") or [], str(want.get("apiKey", "")))
    configs = copy.deepcopy(row.get("endpoint_configs") or {})
    if differs("type", "apiHost", "anthropicApiHost"):
        row["endpoint_configs"] = configs
    if differs("type", "apiHost"):
        ptype = want.get("type", "openai")
        endpoint = _endpoint_of(row) if not differs("type") else None
        if endpoint is None:
            if ptype not in _ENDPOINT_OF_TYPE:
                raise BadInput(
                    _("provider {id!r}: cherryconf cannot set type {ptype!r} in Cherry Studio 2.x (it can set "
                      "{endpoint_of_type}); configure that provider in the app instead").format(
                        id=want.get('id'), ptype=ptype, endpoint_of_type=', '.join(_ENDPOINT_OF_TYPE))
                )
            endpoint = _ENDPOINT_OF_TYPE[ptype]
            row["default_chat_endpoint"] = endpoint
        entry = {**(configs.get(endpoint) or {}), "baseUrl": want.get("apiHost", "")}
        if endpoint == CHAT and entry.get("adapterFamily") in _TYPE_OF_ADAPTER:
            del entry["adapterFamily"]  # a relay hint left from an earlier type
        if endpoint == CHAT and ptype in _ADAPTER_OF_TYPE:
            entry["adapterFamily"] = _ADAPTER_OF_TYPE[ptype]
        configs[endpoint] = entry
    if differs("anthropicApiHost") and "anthropicApiHost" in want:
        configs[ANTHROPIC] = {**(configs.get(ANTHROPIC) or {}), "baseUrl": want["anthropicApiHost"]}
    if differs(*_SETTINGS):
        settings = dict(row.get("provider_settings") or {})
        for v1, v2 in _SETTINGS.items():
            if v1 in want:
                settings[v2] = _whole(want[v1])
            elif settings.get(v2) is not None:
                del settings[v2]
        row["provider_settings"] = settings or None
    if differs("apiOptions"):
        options = want.get("apiOptions") or {}
        endpoint = _endpoint_of(row)
        if not dialects:
            row["api_features"] = _set_flags(row.get("api_features"), options, _API_OPTIONS)
        elif endpoint is not None:
            configs = copy.deepcopy(row.get("endpoint_configs") or {})
            entry = {k: v for k, v in (configs.get(endpoint) or {}).items() if k != "dialect"}
            dialect = _set_flags((configs.get(endpoint) or {}).get("dialect"), options, _DIALECT)
            if dialect is not None:
                entry["dialect"] = dialect
            if entry or endpoint in configs:
                configs[endpoint] = entry
            row["endpoint_configs"] = configs or None
    auth = row.get("auth_config")
    if differs("apiVersion") and "apiVersion" in want and isinstance(auth, dict) and auth.get("type") == "iam-azure":
        row["auth_config"] = {**auth, "apiVersion": want["apiVersion"]}
    return row


def _model_row(old: Row | None, want: dict[str, Any], provider_id: str, order_key: str | None, now: int,
               models: Catalog) -> Row:
    mid = want.get("id")
    preset = models.find(str(mid)) if old is None else old["preset_model_id"]
    row: Row = dict(old) if old else {
        "id": f"{provider_id}::{mid}", "provider_id": provider_id, "model_id": mid, "preset_model_id": preset,
        "name": None, "description": None, "group": None, "capabilities": [], "input_modalities": None,
        "input_modalities_explicit": 1, "output_modalities": None, "endpoint_types": None,
        "supports_streaming": 1, "pricing": None, "is_enabled": 1, "is_hidden": 0, "is_deprecated": 0,
        "order_key": order_key, "notes": None, "created_at": now, "updated_at": now,
    }
    cur = _model_v1(old) if old else {}

    def differs(*fields: str) -> bool:
        return old is None or any(cur.get(f, _MISSING) != want.get(f, _MISSING) for f in fields)

    # A preset-backed row holds only what differs from the catalog model; NULL inherits the catalog's (Cherry
    # Studio 2.x, ModelService.ts presetDeltaToNewUserModel at 021e3ccd). What the profile leaves at the 1.x
    # defaults (name = id, the derived group, streaming on, no capabilities) is not a difference.
    defaults = {"name": mid, "group": default_group(str(mid), provider_id)} if preset else {}
    for field in ("name", "group", "description"):
        if differs(field):
            value = want.get(field)
            row[field] = None if field in defaults and value == defaults[field] else value
    if differs("capabilities"):
        names = list(dict.fromkeys(_CAPABILITY[c["type"]] for c in want.get("capabilities") or []
                                   if isinstance(c, dict) and c.get("type") in _CAPABILITY))
        # Capabilities 1.x has no name for (image-generation...) are not cherryconf's to drop.
        names += [c for c in row.get("capabilities") or [] if c not in _CAPABILITY_V1]
        row["capabilities"] = names if names or not preset else None
    if differs("supported_text_delta"):
        streams = want.get("supported_text_delta", True)
        row["supports_streaming"] = None if preset and streams else int(bool(streams))
    if differs("endpoint_type", "supported_endpoint_types"):
        given = want.get("supported_endpoint_types") or ([want["endpoint_type"]] if want.get("endpoint_type") else [])
        row["endpoint_types"] = list(dict.fromkeys(_MODEL_ENDPOINT[e] for e in given if e in _MODEL_ENDPOINT)) or None
    if differs("pricing"):
        row["pricing"] = _pricing_v2(want.get("pricing"))
    if old is None and preset:
        row["input_modalities_explicit"] = 0  # the catalog's input modalities apply
    elif old is None:
        # The app's add-model form stores ["text"]; a model marked as seeing images gets "image" too, so that
        # its capabilities and its input modalities agree.
        seeing = "image-recognition" in row["capabilities"]
        row["input_modalities"] = ["text", "image"] if seeing else ["text"]
    return row


def rows_from_provider(provider: dict[str, Any], now: int) -> tuple[Row, list[Row]]:
    """The `user_provider` row and `user_model` rows (JSON columns as values) a new 1.x-format provider becomes,
    as the store writes them: also what the app's own provider export is built from. The export carries each
    model whole (the app exports models merged with their catalog entry), so none is written as catalog-backed."""
    pid = str(provider.get("id"))
    models = [m for m in provider.get("models") or [] if isinstance(m, dict) and m.get("id")]
    whole = Catalog((), "none: every model whole")
    return _provider_row(None, provider, None, now), [_model_row(None, m, pid, None, now, whole) for m in models]


def _describe(path: str, value: Any) -> str:
    if value is _MISSING:
        return "nothing"
    return "(hidden)" if path.split(".")[0] in ("apiKey", "extra_headers") else repr(value)


def _difference(want: Any, got: Any, path: str) -> tuple[str, Any, Any] | None:
    if isinstance(want, dict) and isinstance(got, dict):
        for key in dict.fromkeys([*want, *got]):
            found = _difference(want.get(key, _MISSING), got.get(key, _MISSING), f"{path}.{key}" if path else key)
            if found:
                return found
        return None
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        for i, (w, g) in enumerate(zip(want, got, strict=True)):
            found = _difference(w, g, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if want == got else (path, want, got)


def _check_round_trip(want: dict[str, Any], row: Row, models: list[Row]) -> None:
    """BadInput unless the rows read back as exactly the wanted provider."""
    got = _provider_v1(row, [_model_v1(m) for m in models])
    pid = want.get("id")
    where = _("provider {id!r}").format(id=pid)
    found = _difference({**want, "models": None}, {**got, "models": None}, "")
    for w, g in zip(want.get("models") or [], got["models"], strict=True):
        if found:
            break
        found = _difference(w, g, "")
        where = _("provider {pid!r}, model {id!r}").format(pid=pid, id=w.get('id'))
    if found:
        path, w, g = found
        raise BadInput(
            _("{where}: {path} {given} cannot be stored in Cherry Studio 2.x as given (it would read back as "
              "{stored}); change or remove it in the profile").format(
                where=where, path=path, given=_describe(path, w), stored=_describe(path, g))
        )


def _keys_between(low: str | None, high: str | None, n: int) -> list[str]:
    try:
        return list(fractional_indexing.generate_n_keys_between(low, high, n))
    except (fractional_indexing.FIError, IndexError):
        raise StoreError(
            _("Cherry Studio's database holds an order key cherryconf cannot place a row beside ({low!r}, "
              "{high!r})").format(
                low=low, high=high)
        ) from None


def _encode(value: Any, is_json: bool) -> Any:
    if is_json and value is not None:
        return _json(value)
    return int(value) if isinstance(value, bool) else value


def _insert(conn: sqlite3.Connection, table: str, row: Row, json_columns: frozenset[str]) -> None:
    names = ",".join(f'"{c}"' for c in row)
    marks = ",".join("?" * len(row))
    conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})",
                 [_encode(v, c in json_columns) for c, v in row.items()])


def _update(conn: sqlite3.Connection, table: str, key: str, old: Row, new: Row, json_columns: frozenset[str],
            now: int) -> None:
    changed = [c for c in new if new[c] != old.get(c)]
    if not changed:
        return
    values = {c: new[c] for c in changed} | {"updated_at": now}
    sets = ",".join(f'"{c}" = ?' for c in values)
    conn.execute(f'UPDATE {table} SET {sets} WHERE "{key}" = ?',
                 [*(_encode(v, c in json_columns) for c, v in values.items()), old[key]])


def _delete_model(conn: sqlite3.Connection, uid: str) -> None:
    conn.execute("DELETE FROM user_model WHERE id = ?", (uid,))


def _move_references(conn: sqlite3.Connection, moves: dict[str, str], now: int) -> None:
    """Re-point everything that names a moved model (`old uid -> new uid`) before the old row goes.

    Every column with a foreign key to `user_model` (an assistant's `model_id`, and whatever a later release
    adds: the keys would otherwise set it NULL or cascade on delete), the preferences whose value is the model's
    id (default, topic-naming, quick-assistant and translate models), and the pins that name it (no foreign key).
    """
    def stamped(table: str) -> tuple[str, list[int]]:
        return (', "updated_at" = ?', [now]) if "updated_at" in _columns(conn, table) else ("", [])

    # The statements, read off the schema once: (sql, extra parameters, whether the ids are JSON text).
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    statements: list[tuple[str, list[int], bool]] = []
    for table in tables:
        for fk in conn.execute(f'PRAGMA foreign_key_list("{table}")').fetchall():
            if fk["table"] == "user_model":
                stamp, extra = stamped(table)
                column = str(fk["from"])
                statements.append((f'UPDATE "{table}" SET "{column}" = ?{stamp} WHERE "{column}" = ?', extra, False))
    if {"key", "value"} <= _columns(conn, "preference").keys():
        stamp, extra = stamped("preference")
        statements.append((f"UPDATE preference SET value = ?{stamp} WHERE value = ?", extra, True))
    if {"entity_type", "entity_id"} <= _columns(conn, "pin").keys():
        statements.append(("UPDATE pin SET entity_id = ? WHERE entity_type = 'model' AND entity_id = ?", [], False))
    for old, new in moves.items():
        for sql, extra, as_json in statements:
            conn.execute(sql, [_json(new) if as_json else new, *extra, _json(old) if as_json else old])


def _delete_provider(conn: sqlite3.Connection, provider_id: str, model_uids: list[str]) -> None:
    """Remove a provider the way the app's own ProviderService.delete does (src/main/data/services/, read on the
    2.x line after 2.1.4; PinService.ts at 6105bb3c).

    Its models and logo reference go with it (foreign keys ON DELETE CASCADE, on in every write transaction);
    a pin names a model without a foreign key, so the app deletes those itself, and so does this. Databases
    without a `pin` table (the 2.0 releases) have nothing to clean.
    """
    if model_uids and {"entity_type", "entity_id"} <= _columns(conn, "pin").keys():
        marks = ",".join("?" * len(model_uids))
        conn.execute(f"DELETE FROM pin WHERE entity_type = 'model' AND entity_id IN ({marks})", model_uids)
    conn.execute("DELETE FROM user_provider WHERE provider_id = ?", (provider_id,))


def _check_integrity(conn: sqlite3.Connection) -> None:
    """Refuse to write a database SQLite itself finds damaged: a write could only spread the damage."""
    found = conn.execute("PRAGMA integrity_check(1)").fetchone()[0]
    if found != "ok":
        raise StoreError(_("SQLite finds Cherry Studio's database damaged ({found}), so cherryconf changes nothing; "
                           "{restore}").format(found=found, restore=RESTORE))


def _tables(conn: sqlite3.Connection) -> list[str]:
    """The database's own tables: not SQLite's, and not virtual ones (their module may not be loadable here)."""
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
                        "ESCAPE '\\'")
    return [r["name"] for r in rows if not str(r["sql"] or "").upper().startswith("CREATE VIRTUAL")]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _digest(conn: sqlite3.Connection, table: str) -> tuple[int, int]:
    """Row count and an order-free digest of every row of `table`: the sum of the rows' hashes.

    Python's own hash is seeded per process, which is fine for comparing two reads of one run, and is several
    times faster than a cryptographic one over the app's messages: fetching the rows is then most of the cost.
    """
    cur = conn.cursor()
    cur.row_factory = None
    total = count = 0
    for row in cur.execute(f"SELECT * FROM {_quoted(table)}"):
        total += hash(row)
        count += 1
    return count, total & ((1 << 64) - 1)


def _rows_of(conn: sqlite3.Connection, table: str, providers: set[str]) -> list[tuple[Any, ...]]:
    """Every row of `table` (user_provider or user_model) of a provider not in `providers`, as stored."""
    cur = conn.cursor()
    cur.row_factory = None
    key = "provider_id" if table == "user_provider" else "id"
    rows = cur.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()
    column = [d[0] for d in cur.description].index("provider_id")
    return [r for r in rows if r[column] not in providers]


class _ReadBack:
    """After a write, read the database again from disk: every table must hold what it held, except the tables the
    write touched, which must hold what the write transaction left; rows of the providers the plan did not change
    must be byte for byte as before.

    Which tables the write touched, cascades included, is recorded by temporary triggers on the write's own
    connection, so that an untouched table (the app's topics and messages) is read twice, not three times.
    """

    def __init__(self, conn: sqlite3.Connection, changed: set[str]) -> None:
        self._changed = changed
        self._tables = _tables(conn)
        self._before = {t: _digest(conn, t) for t in self._tables}
        self._kept = {t: _rows_of(conn, t, changed) for t in ("user_provider", "user_model")}
        conn.execute("CREATE TEMP TABLE cherryconf_touched (name TEXT)")
        self._watched: set[str] = set()
        for table in self._tables:
            try:
                for event in ("INSERT", "UPDATE", "DELETE"):
                    conn.execute(f"CREATE TEMP TRIGGER {_quoted(f'cherryconf_{event}_{table}')} AFTER {event} "
                                 f"ON main.{_quoted(table)} BEGIN INSERT INTO cherryconf_touched VALUES "
                                 f"({_literal(table)}); END")
                self._watched.add(table)
            except sqlite3.OperationalError:
                pass  # a table that takes no trigger counts as touched: it is compared with the transaction's view
        self._after: dict[str, tuple[int, int]] = {}

    def written(self, conn: sqlite3.Connection) -> None:
        """Called in the write transaction once every change is made: note what the touched tables now hold."""
        touched = {r["name"] for r in conn.execute("SELECT DISTINCT name FROM cherryconf_touched")}
        touched |= set(self._tables) - self._watched
        self._after = {t: self._before[t] for t in self._tables} | {t: _digest(conn, t) for t in touched}
        for table in self._watched:
            for event in ("INSERT", "UPDATE", "DELETE"):
                conn.execute(f"DROP TRIGGER temp.{_quoted(f'cherryconf_{event}_{table}')}")
        conn.execute("DROP TABLE temp.cherryconf_touched")

    def check(self, conn: sqlite3.Connection, db: Path) -> None:
        """ReadBackFailed unless a fresh read of the committed database is what the write meant it to be."""
        tables = _tables(conn)
        wrong = sorted(set(tables) ^ set(self._tables))
        wrong += [t for t in tables if t in self._after and _digest(conn, t) != self._after[t]]
        wrong += [t for t, rows in self._kept.items() if _rows_of(conn, t, self._changed) != rows]
        if wrong:
            raise ReadBackFailed(_("after writing {db}, its table {table} does not read back as written").format(
                                     db=db, table=wrong[0]))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# One row change, run inside the write transaction.
Operation = Callable[[sqlite3.Connection], Any]


class V2Store:
    def __init__(self, install: Install, root: Path | None = None) -> None:
        self.install = install
        self._root = root or install.sqlite_path.parent
        # A snapshot elsewhere is read as an immutable file: opening it must not create -wal/-shm beside it.
        self._live = self._root.resolve() == install.sqlite_path.parent.resolve()
        self._models: Catalog | None = None

    @property
    def models(self) -> Catalog:
        """The app's model catalog, which decides which new models are preset-backed rows."""
        if self._models is None:
            from cherryconf.domain import catalog

            self._models = catalog.load()
        return self._models

    @property
    def root(self) -> Path:
        return self._root

    @property
    def _db(self) -> Path:
        return self._root / DB_NAME

    @property
    def _new(self) -> Path:
        return self._root / (DB_NAME + NEW_SUFFIX)

    def _connect(self) -> sqlite3.Connection:
        if not self._db.is_file():
            raise StoreError(_("{db} does not exist: there is no Cherry Studio 2.x database to work on").format(
                                 db=self._db))
        mode = "mode=rw" if self._live else "mode=ro&immutable=1"
        try:
            conn = sqlite3.connect(f"{self._db.absolute().as_uri()}?{mode}", uri=True, isolation_level=None,
                                   timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error as e:
            raise StoreError(_("cannot open {db} ({e})").format(db=self._db, e=e)) from None
        conn.row_factory = sqlite3.Row
        conn.text_factory = _surrogate_text
        return conn

    @contextlib.contextmanager
    def _transaction(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            if write:
                conn.execute("PRAGMA foreign_keys = ON")  # has no effect once a transaction is open
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.OperationalError as e:
                if "locked" in str(e) or "busy" in str(e):
                    raise AppRunning(_("{db} is locked by another program (is Cherry Studio running?); quit it, "
                                       "including from the tray icon, then run this again").format(
                        db=self._db)) from None
                raise
            try:
                yield conn
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as e:
            raise StoreError(_("Cherry Studio's database {db} failed ({e}); nothing was changed").format(
                                 db=self._db, e=e)) from None
        finally:
            conn.close()

    # --- reading ----------------------------------------------------------------------------------------------

    def read(self) -> StoreState:
        with self._transaction() as conn:
            _check_schema(conn)
            _check_migrated(conn)
            rows = _provider_rows(conn)
            models = _model_rows(conn)
            prefs = _preferences(conn, list(_MODEL_PREFERENCES.values()))
        providers = [_provider_v1(r, [_model_v1(m) for m in models.get(r["provider_id"], [])]) for r in rows]
        by_uid = {f"{m['provider']}::{m['id']}": m for p in providers for m in p["models"]}
        refs = {name: copy.deepcopy(by_uid[prefs[key]]) for name, key in _MODEL_PREFERENCES.items()
                if isinstance(prefs.get(key), str) and prefs[key] in by_uid}
        return StoreState(providers, copy.deepcopy(refs.get("defaultModel")), refs)

    # --- writing ----------------------------------------------------------------------------------------------

    def exclusive(self) -> AbstractContextManager[None]:
        return self._exclusive()

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        # 2.x holds no lock on its idle database; a write lock we can take and give back says nobody is writing.
        with self._transaction(write=True):
            pass
        yield

    def check(self, plan: Plan) -> None:
        """Refuse, before any backup or write, a plan this database cannot hold exactly (BadInput)."""
        with self._transaction() as conn:
            self._operations(conn, plan, _now_ms())

    def write(self, plan: Plan) -> None:
        now = _now_ms()
        with self._transaction(write=True) as conn:
            _check_integrity(conn)
            guard = _ReadBack(conn, set(plan.changed_ids))
            for operation in self._operations(conn, plan, now):
                operation(conn)
            default = plan.default_model_after
            if default is not None and default != plan.default_model_before:
                self._write_default(conn, f"{default.get('provider')}::{default.get('id')}", now)
            guard.written(conn)
        with self._transaction() as conn:
            guard.check(conn, self._db)

    def _operations(self, conn: sqlite3.Connection, plan: Plan, now: int) -> list[Operation]:
        """Every row change the plan needs, checked (presets, round trip) but not yet executed."""
        after = {p["id"]: p for p in plan.after}
        planned = {p.get("id") for p in plan.before}
        schema = _check_schema(conn)
        _check_migrated(conn)
        rows = {r["provider_id"]: r for r in _provider_rows(conn)}
        models = _model_rows(conn)
        held = {r["preset_provider_id"] for r in rows.values() if r["preset_provider_id"]}
        for pid in plan.changed_ids:
            if pid not in planned and pid in held:
                raise BadInput(_("provider id {pid!r} is Cherry Studio's built-in provider of that name; choose "
                                 "another id for your own provider").format(pid=pid))
            if pid not in planned and pid in BUILT_IN_PROVIDER_IDS | self.models.provider_ids:
                raise BadInput(_("provider id {id!r} is the id of a provider Cherry Studio ships, which a later "
                                 "release would merge into yours: choose another id for your own provider").format(
                                     id=pid))
            if (pid in planned) != (pid in rows):
                raise StoreError(_("the store changed while cherryconf was planning; run the command again"))
        added = [p for p in plan.after if p["id"] not in rows and p["id"] in plan.changed_ids]
        on = [p["id"] for p in added if p.get("enabled", True)]
        off = [p["id"] for p in added if not p.get("enabled", True)]
        first = min((r["order_key"] for r in rows.values()), default=None)
        last = max((r["order_key"] for r in rows.values()), default=None)
        # New providers keep the plan's order. The app creates a provider disabled at the end of the list and
        # moves it to the top once it is enabled (Cherry Studio 2.x, ProviderService.ts create/update at
        # 046ee505; orderKey.ts insertWithOrderKey defaults to 'last').
        on_keys = _keys_between(None, first, len(on))
        after_all = last if last is not None else (on_keys[-1] if on_keys else None)
        off_keys = _keys_between(after_all, None, len(off))
        new_keys = dict(zip(on, on_keys, strict=True)) | dict(zip(off, off_keys, strict=True))
        operations: list[Operation] = []
        for pid in plan.changed_ids:
            if pid not in after:  # removed from the store: only ever a provider cherryconf added (owners)
                if rows[pid]["preset_provider_id"] is not None:
                    raise BadInput(_("provider {pid!r} is one of Cherry Studio's built-in providers, which the app "
                                     "itself never deletes, so cherryconf leaves it").format(pid=pid))
                operations.append(partial(_delete_provider, provider_id=pid,
                                          model_uids=[m["id"] for m in models.get(pid, [])]))
                continue
            operations += self._provider_operations(schema, rows.get(pid), models.get(pid, []), after[pid],
                                                    new_keys.get(pid), now)
        if not plan.moved:
            return operations
        # A move (doctor's gateway out of a built-in provider) inserts the models under their new provider, then
        # re-points every reference, and only then deletes the old rows, which would otherwise null them.
        moves = {f"{old}::{mid}": f"{new}::{mid}" for (old, mid), new in plan.moved.items()}
        deletes = [op for op in operations if isinstance(op, partial) and op.func in (_delete_model, _delete_provider)]
        return ([op for op in operations if op not in deletes]
                + [partial(_move_references, moves=moves, now=now)] + deletes)

    def _provider_operations(self, schema: _Schema, old: Row | None, old_models: list[Row],
                             want: dict[str, Any], order_key: str | None, now: int) -> list[Operation]:
        pid = str(want["id"])
        dialects = "api_features" not in schema.provider
        new = {c: v for c, v in _provider_row(old, want, order_key, now, dialects).items() if c in schema.provider}
        by_id = {m["model_id"]: m for m in old_models}
        wanted = want.get("models") or []
        wanted_ids = {w.get("id") for w in wanted}
        kept = [m for m in old_models if m["model_id"] in wanted_ids]
        fresh = [w for w in wanted if w.get("id") not in by_id]
        # New models go after the ones kept, in the plan's order, as the app appends a model it adds.
        keys = iter(_keys_between(kept[-1]["order_key"] if kept else None, None, len(fresh)))
        pairs: list[tuple[Row | None, Row]] = []
        for w in wanted:
            old_model = by_id.get(w.get("id"))
            row = _model_row(old_model, w, pid, None if old_model else next(keys), now, self.models)
            pairs.append((old_model, {c: v for c, v in row.items() if c in schema.model}))
        _check_round_trip(want, new, [row for _want, row in pairs])
        ops: list[Operation] = []
        if old is None:
            ops.append(partial(_insert, table="user_provider", row=new, json_columns=_PROVIDER_JSON))
        else:
            ops.append(partial(_update, table="user_provider", key="provider_id", old=old, new=new,
                               json_columns=_PROVIDER_JSON, now=now))
        for m in old_models:
            if m["model_id"] not in wanted_ids:  # replaceModels dropped it
                ops.append(partial(_delete_model, uid=m["id"]))
        for old_model, row in pairs:
            if old_model is None:
                ops.append(partial(_insert, table="user_model", row=row, json_columns=_MODEL_JSON))
            else:
                ops.append(partial(_update, table="user_model", key="id", old=old_model, new=row,
                                   json_columns=_MODEL_JSON, now=now))
        return ops

    def _write_default(self, conn: sqlite3.Connection, uid: str, now: int) -> None:
        if conn.execute("SELECT 1 FROM user_model WHERE id = ?", (uid,)).fetchone() is None:
            raise BadInput(_("the default model {uid!r} is not among the models cherryconf wrote").format(uid=uid))
        cols = _columns(conn, "preference")
        if not {"key", "value"} <= cols.keys():
            raise StoreError(_("Cherry Studio's database has no preference table to hold the default model"))
        scope = {"scope": "default"} if "scope" in cols else {}
        where = " AND ".join(f'"{c}" = ?' for c in ["key", *scope])
        values = {"value": _json(uid)} | ({"updated_at": now} if "updated_at" in cols else {})
        sets = ",".join(f'"{c}" = ?' for c in values)
        cur = conn.execute(f"UPDATE preference SET {sets} WHERE {where}",
                           [*values.values(), "chat.default_model_id", *scope.values()])
        if cur.rowcount == 0:
            stamps: Row = {c: now for c in ("created_at", "updated_at") if c in cols}
            _insert(conn, "preference", {"key": "chat.default_model_id", **scope, **values, **stamps}, frozenset())

    # --- backup and restore -----------------------------------------------------------------------------------

    def snapshot(self, dest: Path) -> None:
        target = dest / DB_NAME
        try:
            source = self._connect()
        except StoreError:
            self._raw_copy(dest)
            return
        try:
            create_private(target)
            copy_to = sqlite3.connect(target)
            try:
                # The backup API copies a consistent state, WAL content included, while the app may read on.
                source.backup(copy_to)
            finally:
                copy_to.close()
        except sqlite3.OperationalError as e:
            raise StoreError(_("could not copy {db} ({e})").format(db=self._db, e=e)) from None
        except sqlite3.DatabaseError:
            # A damaged database cannot be read page by page; keep its files exactly as they are instead,
            # so restoring a good backup over it still leaves a copy of what was there.
            target.unlink(missing_ok=True)
            self._raw_copy(dest)
            return
        finally:
            source.close()
        fsync_file(target)

    def _raw_copy(self, dest: Path) -> None:
        for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm"):
            if (self._root / name).is_file():
                copy_file(self._root / name, dest / name)

    def replace_with(self, source: Path) -> None:
        new = self._new
        new.unlink(missing_ok=True)
        try:
            # A failed copy (a full disk) must not leave a half file for the next run to find.
            copy_file(source / DB_NAME, new)
            fsync_dir(self._root)
            faults.step("new database copied")
            self._retire_wal()
            rename(new, self._db)
        except BaseException:
            new.unlink(missing_ok=True)
            raise
        fsync_dir(self._root)
        faults.step("new database in place")

    def _retire_wal(self) -> None:
        """Fold the live WAL into the old file and remove it, so no old WAL can ever meet the new file."""
        if self._db.exists():
            conn = self._connect()
            try:
                busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            except sqlite3.OperationalError as e:
                raise StoreError(_("cannot fold the log into {db} ({e}); nothing was replaced").format(
                                     db=self._db, e=e)) from None
            except sqlite3.DatabaseError:
                # Damaged: nothing to fold in. Its files are in the pre-restore backup, byte for byte.
                busy = None
            finally:
                conn.close()
            if busy is None:
                self._drop_wal()
                return
            if busy:
                raise AppRunning(_("{db} is in use by another program (is Cherry Studio running?); quit it, "
                                   "including from the tray icon, then run this again").format(db=self._db))
        faults.step("old database checkpointed")
        wal = self._db.with_name(DB_NAME + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise AppRunning(_("another program wrote to {db} while cherryconf was replacing it; quit Cherry Studio, "
                               "including from the tray icon, then run this again").format(db=self._db))
        self._drop_wal()

    def _drop_wal(self) -> None:
        for suffix in ("-wal", "-shm"):
            self._db.with_name(DB_NAME + suffix).unlink(missing_ok=True)
        fsync_dir(self._root)
        faults.step("old WAL removed")

    def interrupted(self) -> bool:
        return self._new.exists()

    def recover(self) -> str | None:
        if not self._new.exists():
            return None
        # The copy is only renamed into place whole: while it is still here, the database was not replaced.
        self._new.unlink()
        fsync_dir(self._root)
        return _("removed {name}, left by an interrupted restore; {db} was not replaced").format(
                   name=self._new.name, db=self._db)
