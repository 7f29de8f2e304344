"""Cherry Studio 2.1's provider export, `{"version": 1, "providers": [...]}` (Cherry Studio 2.1,
src/main/features/apiGateway/routes/providerExport.ts at 4018d2cd; entities in packages/shared/data/types).

Each provider is the app's Provider entity (camelCase: `id`, `presetProviderId`, `name`, `endpointConfigs`,
`defaultChatEndpoint`, `apiKeys` (the enabled ones), `authConfig`, `settings`, `isEnabled`) with its enabled
models (`id` = "providerId::modelId", `name`, `group`, `capabilities`, `endpointTypes`, `supportsStreaming`,
`pricing`, ...): the same values the 2.x database's columns hold, so they are read the way the 2.x store reads
its rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cherryconf.errors import BadInput, CherryconfError
from cherryconf.formats.importers import Source
from cherryconf.i18n import _, ngettext
from cherryconf.stores import shape
from cherryconf.stores.v2.rows import provider_from_row

_SEPARATOR = "::"  # UNIQUE_MODEL_ID_SEPARATOR


def _model_row(model: Any, provider_id: str) -> dict[str, Any] | None:
    if not isinstance(model, dict) or not isinstance(model.get("id"), str):
        return None
    unique = model["id"]
    model_id = unique.split(_SEPARATOR, 1)[1] if _SEPARATOR in unique else unique
    return {"model_id": model_id, "provider_id": provider_id, "name": model.get("name"),
            "group": model.get("group"), "capabilities": model.get("capabilities"),
            "supports_streaming": model.get("supportsStreaming"), "description": model.get("description"),
            "endpoint_types": model.get("endpointTypes"), "pricing": model.get("pricing")}


def _base_urls(entry: dict[str, Any]) -> dict[str, Any]:
    configs = entry.get("endpointConfigs")
    if isinstance(configs, dict):
        return configs
    # Earlier 2.x entities name only the base URL of each endpoint.
    urls = entry.get("baseUrls")
    return {ep: {"baseUrl": url} for ep, url in urls.items()} if isinstance(urls, dict) else {}


def _provider(entry: dict[str, Any]) -> dict[str, Any]:
    pid = str(entry["id"])
    row = {"provider_id": pid, "name": str(entry.get("name") or pid),
           "preset_provider_id": entry.get("presetProviderId"), "endpoint_configs": _base_urls(entry),
           "default_chat_endpoint": entry.get("defaultChatEndpoint"),
           "api_keys": [k for k in entry.get("apiKeys") or [] if isinstance(k, dict)],
           "auth_config": entry.get("authConfig"), "provider_settings": entry.get("settings") or {},
           "is_enabled": entry.get("isEnabled", True)}
    models = [m for m in (_model_row(m, pid) for m in entry.get("models") or []) if m is not None]
    return provider_from_row(row, models)


def read(path: Path, document: dict[str, Any]) -> Source:
    entries = document.get("providers")
    if document.get("version") != 1 or not isinstance(entries, list):
        raise BadInput(_("{path} is no Cherry Studio provider export of a version cherryconf knows (version 1, "
                         "a list of providers)").format(path=path))
    try:
        providers = [_provider(e) for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)]
        providers = shape.check_providers(providers, str(path))
    except (CherryconfError, AttributeError, TypeError) as e:
        reason = e.message if isinstance(e, CherryconfError) else str(e)
        raise BadInput(_("{path} is a damaged Cherry Studio provider export ({reason})")
                       .format(path=path, reason=reason)) from None
    skipped = len(entries) - len(providers)
    notes = [ngettext("left out {n} entry without an id", "left out {n} entries without an id", skipped).format(
        n=skipped)] if skipped else []
    return Source(_("the Cherry Studio provider export {path}").format(path=path), providers, notes)
