"""Providers as Cherry Studio 2.1's own provider export, `{"version": 1, "providers": [...]}`: the file format the
app's ecosystem knows (Cherry Studio 2.1, src/main/features/apiGateway/routes/providerExport.ts at 4018d2cd).

Each provider is written as the 2.x store would write it (the same rows, in the entities' camelCase names).
"""

from __future__ import annotations

import time
from typing import Any

from cherryconf.domain.endpoints import AppVersion
from cherryconf.formats import export
from cherryconf.i18n import _
from cherryconf.stores.v2.rows import rows_from_provider

# The settings the app's export carries (ProviderExportSettings).
_SETTINGS = ("streamOptions", "apiVersion", "cacheControl", "keepAliveTime", "rateLimit", "timeout", "extraHeaders")


def _model(row: dict[str, Any]) -> dict[str, Any]:
    out = {"id": row["id"], "providerId": row["provider_id"], "apiModelId": row["model_id"],
           "name": row["name"] if row["name"] is not None else row["model_id"], "group": row["group"],
           "description": row["description"], "capabilities": row["capabilities"] or [],
           "inputModalities": row["input_modalities"], "endpointTypes": row["endpoint_types"],
           "supportsStreaming": bool(row["supports_streaming"]), "pricing": row["pricing"],
           "isEnabled": True, "isHidden": False}
    return {k: v for k, v in out.items() if v is not None}


def _provider(p: dict[str, Any], with_keys: bool, now: int) -> dict[str, Any]:
    row, models = rows_from_provider(p, now)
    settings = row.get("provider_settings") or {}
    # The entities' optional fields are absent, not null (a strict reader of the format refuses null).
    out = {
        "id": row["provider_id"], "presetProviderId": p["id"] if p.get("isSystem") else None, "name": row["name"],
        "endpointConfigs": row["endpoint_configs"] or {}, "defaultChatEndpoint": row["default_chat_endpoint"],
        "apiKeys": [{**k, "createdAt": now} for k in row["api_keys"]] if with_keys else [],
        "authConfig": row["auth_config"], "authType": (row["auth_config"] or {}).get("type", "api-key"),
        "settings": {k: settings[k] for k in _SETTINGS if k in settings},
        "isEnabled": bool(row["is_enabled"]), "models": [_model(m) for m in models],
    }
    return {k: v for k, v in out.items() if v is not None}


def to_export(providers: list[dict[str, Any]], ids: list[str] | None = None, with_keys: bool = False,
              version: AppVersion | None = None) -> tuple[dict[str, Any], list[str]]:
    """(the provider export document, notes) for the chosen providers (default: every configured one)."""
    notes: list[str] = []
    now = int(time.time() * 1000)
    out = [_provider(p, with_keys, now) for p in export.select(providers, ids, version, notes)]
    if not with_keys:
        notes.append(_("the keys are left out: a Cherry Studio provider export holds keys themselves, so only "
                       "--with-keys -o FILE writes them"))
    return {"version": 1, "providers": out}, notes
