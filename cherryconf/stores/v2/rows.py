"""1.x Provider/Model <-> 2.x `user_provider`/`user_model` rows, pure: the mapping of the app's own 1.x -> 2.x
migration (`ProviderModelMappings.ts`), and the round trip that refuses what 2.x cannot hold.

Names with a leading underscore are private to the stores.v2 package.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from cherryconf.domain.catalog import Catalog
from cherryconf.domain.spec import default_group
from cherryconf.errors import BadInput
from cherryconf.i18n import _
from cherryconf.stores.v2.tables import _MISSING, Row

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

# A preset's row holds only what the user changed: the app takes its default endpoint (and adapter family) from its
# provider registry at read time, `row.defaultChatEndpoint ?? presetMetadata.defaultChatEndpoint` (Cherry Studio
# 2.x, src/main/data/services/ProviderService.ts at ousugo/cherry-studio 564c9eac; presetProviderSeeder.ts stores no
# endpoint). The presets whose registry default is not chat/completions, and the relays told apart by their adapter
# family, from packages/provider-registry/data/providers.json at 564c9eac. Ollama names no default there; its own
# API is the endpoint the 1.x -> 2.x migration gives type ollama.
_PRESET_ENDPOINT = {
    **dict.fromkeys(("anthropic", "claude-code", "aws-bedrock"), ANTHROPIC),
    **dict.fromkeys(("openai", "openai-codex", "grok-cli", "grok", "fireworks", "huggingface"), RESPONSES),
    **dict.fromkeys(("gemini", "vertexai"), "google-generate-content"),
    "ollama": "ollama-chat",
    "new-api": CHAT,
    "gateway": CHAT,
}
_PRESET_ADAPTER = {"new-api": "newapi", "gateway": "gateway"}

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
_MODEL_ENDPOINT = {
    "openai": CHAT,
    "openai-response": RESPONSES,
    "anthropic": ANTHROPIC,
    "gemini": "google-generate-content",
    "image-generation": "openai-image-generation",
    "jina-rerank": "jina-rerank",
}

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
_CAPABILITY_V1 = {v2: v1 for v1, v2 in _CAPABILITY.items()}
_MODEL_ENDPOINT_V1 = {v2: v1 for v1, v2 in _MODEL_ENDPOINT.items()}


def _preset_of(row: Row) -> str | None:
    """The registry entry a preset row stands for (its own id, else the preset it derives from); None if custom."""
    if row.get("preset_provider_id") is None:
        return None
    pid, preset = str(row.get("provider_id")), str(row.get("preset_provider_id"))
    return pid if pid in _PRESET_ENDPOINT else preset


def _endpoint_of(row: Row) -> str | None:
    if row.get("default_chat_endpoint"):
        return str(row["default_chat_endpoint"])
    preset = _preset_of(row)
    if preset in _PRESET_ENDPOINT:
        return _PRESET_ENDPOINT[preset]
    configs = row.get("endpoint_configs") or {}
    return next((e for e in _ENDPOINT_FALLBACK if e in configs), next(iter(configs), None))


def _type_of(row: Row, endpoint: str | None) -> str:
    """The 1.x type (the vocabulary profiles and 1.x stores use) of the endpoint the app calls for this row."""
    auth = row.get("auth_config")
    if isinstance(auth, dict) and auth.get("type") in _TYPE_OF_AUTH:
        return _TYPE_OF_AUTH[auth["type"]]
    if endpoint == CHAT:
        family = ((row.get("endpoint_configs") or {}).get(CHAT) or {}).get("adapterFamily")
        family = family or _PRESET_ADAPTER.get(str(_preset_of(row)))
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


def _catalog_caps(row: Row | None, models: Catalog | None) -> tuple[str, ...] | None:
    """The catalog's capabilities for a preset-backed row, when the catalog knows them."""
    if row is None or models is None or row.get("preset_model_id") is None:
        return None
    return models.capabilities(str(row["preset_model_id"]))


def v1_capabilities(caps: Any) -> list[str]:
    """The 1.x names of a 2.x capability list (those 1.x has a name for), in its order."""
    return list(dict.fromkeys(_CAPABILITY_V1[c] for c in caps or [] if c in _CAPABILITY_V1))


def _model_v1(row: Row, models: Catalog | None = None) -> dict[str, Any]:
    """A model in the 1.x format. Its capabilities are those the app offers: the row's list when it has one, else
    (a preset-backed row, NULL) the catalog's, which the app then inherits (facts file section 9)."""
    mid, pid = row["model_id"], row["provider_id"]
    m: dict[str, Any] = {
        "id": mid,
        "provider": pid,
        # A preset-backed row leaves name and group to the registry (NULL); show what the app would derive.
        "name": row["name"] if row["name"] is not None else mid,
        "group": row["group"] if row["group"] is not None else default_group(mid, pid),
    }
    stored = row.get("capabilities")
    types = v1_capabilities(stored if stored is not None else _catalog_caps(row, models))
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
               models: Catalog, carried: Row | None = None) -> Row:
    """The row for model `want`; `carried`: the row it moves from (under another provider), whose catalog model
    it keeps rather than being looked up again."""
    mid = want.get("id")
    preset = old["preset_model_id"] if old is not None else (
        carried["preset_model_id"] if carried is not None else models.find(str(mid)))
    row: Row = dict(old) if old else {
        "id": f"{provider_id}::{mid}", "provider_id": provider_id, "model_id": mid, "preset_model_id": preset,
        "name": None, "description": None, "group": None, "capabilities": [], "input_modalities": None,
        "input_modalities_explicit": 1, "output_modalities": None, "endpoint_types": None,
        "supports_streaming": 1, "pricing": None, "is_enabled": 1, "is_hidden": 0, "is_deprecated": 0,
        "order_key": order_key, "notes": None, "created_at": now, "updated_at": now,
    }
    cur = _model_v1(old, models) if old else {}

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
        base = models.capabilities(preset) if preset else None
        if base is not None:
            # The app uses a stored list instead of the catalog's: store nothing (inherit) unless the profile adds
            # to the catalog's, and then the catalog's with the additions (Cherry Studio 2.x, facts section 9).
            added = [c for c in names if c not in base]
            row["capabilities"] = [*base, *added] if added else None
        else:
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
        seeing = "image-recognition" in (row["capabilities"] or [])
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


def _check_round_trip(want: dict[str, Any], row: Row, models: list[Row], catalog: Catalog | None = None) -> None:
    """BadInput unless the rows read back as exactly the wanted provider."""
    got = _provider_v1(row, [_model_v1(m, catalog) for m in models])
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
