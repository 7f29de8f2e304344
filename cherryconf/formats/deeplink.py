"""The app's own provider import link: cherrystudio://providers/api-keys?v=1&data=<base64 JSON>.

The app shows a confirmation dialog and creates (or, for a known id, adds the key to and re-points) the
provider. The link carries no model list.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from cherryconf.errors import BadInput, CherryconfError
from cherryconf.i18n import _

PREFIX = "cherrystudio://providers/api-keys?v=1&data="
MAX_DATA_BYTES = 64 * 1024  # 2.x refuses a larger data parameter
# Said wherever a link is shown: it is the one place cherryconf puts a key in plain text.
KEY_WARNING = _("The link carries the API key in plain text: do not share it or paste it anywhere public.")
# 1.x deletes these characters from the decoded text before parsing it, so no value may hold them.
_STRIPPED_BY_APP = ("'", "(", ")")


def payload(provider: dict[str, Any]) -> dict[str, str]:
    """The JSON the link carries: id, baseUrl, apiKey (required), name and type."""
    data = {
        "id": provider["id"],
        "baseUrl": provider["apiHost"],
        "apiKey": provider["apiKey"],
        "name": provider.get("name") or provider["id"],
        "type": provider.get("type") or "openai",
    }
    for field, value in data.items():
        if not value:
            raise BadInput(_("provider {id!r}: the import link needs a non-empty {field}").format(
                               id=provider['id'], field=field))
        bad = sorted({c for c in value if c in _STRIPPED_BY_APP})
        if bad:
            shown = " ".join(bad)
            raise BadInput(
                _("provider {id!r}: {field} contains {shown}, which Cherry Studio deletes from import links before "
                  "reading them; use `cherryconf apply` instead").format(
                    id=provider['id'], field=field, shown=shown)
            )
    if not data["baseUrl"].lower().startswith(("http://", "https://")):
        raise BadInput(_("provider {id!r}: the import link needs an http(s) base URL").format(id=provider['id']))
    return data


def build(provider: dict[str, Any]) -> str:
    """The import link for one provider: standard base64 (the app maps `_`/`-` back), percent-encoded."""
    raw = json.dumps(payload(provider), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    encoded = base64.b64encode(raw).decode("ascii")
    data = quote(encoded, safe="")
    if len(data) > MAX_DATA_BYTES:
        raise BadInput(
            _("provider {id!r}: the import link data is {n} bytes, over the app's 64 KiB limit").format(
                id=provider['id'], n=len(data))
        )
    return PREFIX + data



def decode(link: str) -> dict[str, str]:
    """The provider an import link carries, read as the app reads it (facts section 5): `data` percent-decoded,
    `_`/`-` mapped back to `+`/`/`, base64-decoded, `'` `(` `)` deleted, JSON with non-empty id, baseUrl, apiKey.
    BadInput when it is no such link."""
    bad = _("this is not a Cherry Studio provider import link (cherrystudio://providers/api-keys?v=1&data=...)")
    parts = urlsplit(link.strip())
    if (parts.scheme, parts.netloc, parts.path) != ("cherrystudio", "providers", "/api-keys"):
        raise BadInput(bad)
    query = parse_qs(parts.query)
    if query.get("v") != ["1"] or len(query.get("data", [])) != 1:
        raise BadInput(bad)
    data = query["data"][0].replace(" ", "+").replace("_", "+").replace("-", "/")
    try:
        text = base64.b64decode(data, validate=True).decode("utf-8")
        for c in _STRIPPED_BY_APP:
            text = text.replace(c, "")
        value = json.loads(text)
    except ValueError:
        raise BadInput(_("the import link's data is damaged: it is not base64 of JSON")) from None
    if not isinstance(value, dict):
        raise BadInput(_("the import link's data is damaged: it is not base64 of JSON"))
    for field in ("id", "baseUrl", "apiKey"):
        if not isinstance(value.get(field), str) or not value[field].strip():
            raise BadInput(_("the import link has no {field}, which Cherry Studio requires").format(field=field))
    return {k: str(value[k]) for k in ("id", "baseUrl", "apiKey", "name", "type") if isinstance(value.get(k), str)}


def open_link(url: str, provider_id: str) -> None:
    """Hand the link to the operating system and wait until it has taken it; CherryconfError when it could not."""
    failed = _("the operating system could not open the import link of provider {provider_id!r}").format(
                 provider_id=provider_id)
    if sys.platform == "win32":
        import os

        try:
            os.startfile(url)
        except OSError as e:
            raise CherryconfError(_("{failed} ({strerror}): is Cherry Studio installed?").format(
                                      failed=failed, strerror=e.strerror)) from None
        return
    # Waited for, so links open one after the other (click.launch starts xdg-open and says 0 whatever happens).
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    try:
        done = subprocess.run([opener, url], capture_output=True, timeout=60, check=False)
    except FileNotFoundError:
        raise CherryconfError(_("{failed}: there is no {opener}; open the link printed above by hand").format(
                                  failed=failed, opener=opener)) from None
    except subprocess.TimeoutExpired:
        raise CherryconfError(_("{failed}: {opener} gave no answer within 60 s").format(
            failed=failed, opener=opener)) from None
    if done.returncode != 0:
        raise CherryconfError(_("{failed} ({opener} exited with {returncode}): is Cherry Studio installed?").format(
                                  failed=failed, opener=opener, returncode=done.returncode))
