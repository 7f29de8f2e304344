"""The app's own provider import link, as `cherryconf link` and relays emit it (facts section 5)."""

from __future__ import annotations

from cherryconf import deeplink
from cherryconf.i18n import _
from cherryconf.importers import Source


def read(text: str) -> Source:
    data = deeplink.decode(text)
    # The app makes exactly this provider of a link to an id it does not know (facts section 5); the link
    # carries no models, so the profile has none either.
    provider = {"id": data["id"], "name": data.get("name") or data["id"], "type": data.get("type") or "openai",
                "apiKey": data["apiKey"], "apiHost": data["baseUrl"], "models": [], "isSystem": False}
    notes = [_("{id}: an import link carries no models; add them to the profile or in Cherry Studio")
             .format(id=data["id"])]
    return Source(_("a Cherry Studio import link"), [provider], notes)
