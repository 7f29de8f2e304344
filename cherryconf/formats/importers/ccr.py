"""claude-code-router's `config.json` (musistudio/claude-code-router, commit 0408cefd, src/utils/index.ts).

CCR reads the file as JSON5 and replaces `$VAR` and `${VAR}` in every value with the environment variable. Each
of `Providers[]` has `name`, `api_base_url` (the full endpoint URL, e.g. `.../v1/chat/completions`), `api_key`,
`models` (model ids) and an optional `transformer` whose `use` names the protocol adapters CCR applies.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cherryconf.errors import BadInput
from cherryconf.formats.importers import Source, provider_id
from cherryconf.i18n import _

_ENV_REFERENCE = re.compile(r"\$\{([^}]+)\}|\$([A-Z_][A-Z0-9_]*)")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def key_reference(raw: str) -> str:
    """A key that is one `$VAR`/`${VAR}` reference becomes the profile's `${VAR}` (set where it is applied)."""
    whole = _ENV_REFERENCE.fullmatch(raw.strip())
    if whole:
        name = whole[1] or whole[2]
        if _ENV_NAME.fullmatch(name):
            return "${" + name + "}"
    return raw.strip()


def _uses(provider: dict[str, Any]) -> list[str]:
    transformer = provider.get("transformer")
    uses = transformer.get("use") if isinstance(transformer, dict) else None
    # An entry is a transformer's name or [name, options].
    return [u if isinstance(u, str) else str(u[0]) for u in uses or []
            if isinstance(u, str) or (isinstance(u, list) and u)]


def _type(url: str, uses: list[str]) -> str:
    if "anthropic" in uses or url.rstrip("/").lower().endswith("/messages"):
        return "anthropic"
    if "gemini" in uses:
        return "gemini"
    return "openai"


def _host(url: str, ptype: str) -> str:
    # CCR's Gemini transformer is given `<host>/v1beta/models/`; Cherry Studio's gemini provider takes the host.
    if ptype == "gemini":
        cut = url.lower().find("/v1beta")
        return url[:cut] if cut > 0 else url
    return url


def read(path: Path, document: dict[str, Any]) -> Source:
    entries = document.get("Providers")
    if not isinstance(entries, list):
        raise BadInput(_("{path}: Providers is not a list, so this is no claude-code-router config it can read")
                       .format(path=path))
    providers: list[dict[str, Any]] = []
    notes: list[str] = []
    taken: set[str] = set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(f), str) and entry[f].strip()
                                                  for f in ("name", "api_base_url")):
            notes.append(_("left out Providers[{i}]: it has no name or api_base_url").format(i=i))
            continue
        name, url = entry["name"].strip(), entry["api_base_url"].strip()
        uses = _uses(entry)
        ptype = _type(url, uses)
        pid = provider_id(name, taken, "ccr")
        models = [{"id": m, "provider": pid, "name": m} for m in entry.get("models") or [] if isinstance(m, str) and m]
        providers.append({"id": pid, "name": name, "type": ptype, "apiHost": _host(url, ptype),
                          "apiKey": key_reference(str(entry.get("api_key") or "")), "models": models,
                          "isSystem": False})
        dropped = sorted(set(uses) - {"anthropic", "gemini", "openai"})
        if dropped:
            notes.append(_("{id}: CCR's transformers {names} have no counterpart in Cherry Studio and are not taken")
                         .format(id=pid, names=", ".join(dropped)))
    return Source(_("the claude-code-router config {path}").format(path=path), providers, notes)
