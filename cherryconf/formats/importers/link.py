"""The app's own provider import link, as `cherryconf link` and relays emit it (facts section 5)."""

from __future__ import annotations

from typing import Any

from cherryconf.formats import deeplink
from cherryconf.formats.importers import Source
from cherryconf.i18n import _, ngettext


def read(text: str) -> Source:
    """The providers of one link, or of a text holding one link a line (what `cherryconf link` prints)."""
    providers: list[dict[str, Any]] = []
    for line in (t.strip() for t in text.splitlines()):
        if not line:
            continue
        data = deeplink.decode(line)
        # What the app makes of a link to an id it does not know (facts section 5); a link carries no models.
        providers.append({"id": data["id"], "name": data.get("name") or data["id"],
                          "type": data.get("type") or "openai", "apiKey": data["apiKey"],
                          "apiHost": data["baseUrl"], "models": [], "isSystem": False})
    notes = [_("{id}: an import link carries no models; add them to the profile or in Cherry Studio")
             .format(id=p["id"]) for p in providers]
    what = ngettext("{n} Cherry Studio import link", "{n} Cherry Studio import links", len(providers))
    return Source(what.format(n=len(providers)), providers, notes)
