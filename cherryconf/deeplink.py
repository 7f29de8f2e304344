"""The app's own provider import link: cherrystudio://providers/api-keys?v=1&data=<base64 JSON>.

The app shows a confirmation dialog and creates (or, for a known id, adds the key to and re-points) the
provider. The link carries no model list.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

from cherryconf.errors import BadInput

PREFIX = "cherrystudio://providers/api-keys?v=1&data="
MAX_DATA_BYTES = 64 * 1024  # 2.x refuses a larger data parameter
# Said wherever a link is shown: it is the one place cherryconf puts a key in plain text.
KEY_WARNING = "The link carries the API key in plain text: do not share it or paste it anywhere public."
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
            raise BadInput(f"provider {provider['id']!r}: the import link needs a non-empty {field}")
        bad = sorted({c for c in value if c in _STRIPPED_BY_APP})
        if bad:
            shown = " ".join(bad)
            raise BadInput(
                f"provider {provider['id']!r}: {field} contains {shown}, which Cherry Studio deletes from "
                "import links before reading them; use `cherryconf apply` instead"
            )
    if not data["baseUrl"].lower().startswith(("http://", "https://")):
        raise BadInput(f"provider {provider['id']!r}: the import link needs an http(s) base URL")
    return data


def build(provider: dict[str, Any]) -> str:
    """The import link for one provider: standard base64 (the app maps `_`/`-` back), percent-encoded."""
    raw = json.dumps(payload(provider), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    encoded = base64.b64encode(raw).decode("ascii")
    data = quote(encoded, safe="")
    if len(data) > MAX_DATA_BYTES:
        raise BadInput(
            f"provider {provider['id']!r}: the import link data is {len(data)} bytes, over the app's 64 KiB limit"
        )
    return PREFIX + data

