"""The app's own provider import link: cherrystudio://providers/api-keys?v=1&data=<base64 JSON>.

The app shows a confirmation dialog and creates (or, for a known id, adds the key to and re-points) the
provider. The link carries no model list; with `autoSyncModels: true` the app fetches the gateway's model list
after the user consents, and enables the provider once it has a model (PR #19206; facts file section 9). The China
edition registers the scheme `cherrystudio-cn` instead (electron-builder.cn.config.cjs at 22f67fd4).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from typing import Any, Literal
from urllib.parse import parse_qs, quote, urlsplit

from cherryconf.errors import BadInput, NotOpened
from cherryconf.i18n import _

PREFIX = "cherrystudio://providers/api-keys?v=1&data="
SCHEMES = ("cherrystudio", "cherrystudio-cn")
Rules = Literal["1.x", "2.x"]
MAX_DATA_BYTES = 64 * 1024  # 2.x refuses a larger data parameter
# Said wherever a link is shown: it is the one place cherryconf puts a key in plain text.
KEY_WARNING = _("The link carries the API key in plain text: do not share it or paste it anywhere public.")
# 1.x deletes these characters from the decoded text before parsing it, so no value may hold them.
_STRIPPED_BY_APP = ("'", "(", ")")


def payload(provider: dict[str, Any], sync_models: bool = False) -> dict[str, Any]:
    """The JSON the link carries: id, baseUrl, apiKey (required), name and type; `autoSyncModels: true` with
    `sync_models`."""
    data: dict[str, str] = {
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
    return {**data, "autoSyncModels": True} if sync_models else data


def build(provider: dict[str, Any], scheme: str = "cherrystudio", sync_models: bool = False) -> str:
    """The import link for one provider: standard base64 (the app maps `_`/`-` back), percent-encoded. It is
    decoded again with each line's rules before it is handed out: BadInput when either would read it otherwise."""
    carried = payload(provider, sync_models)
    raw = json.dumps(carried, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    encoded = base64.b64encode(raw).decode("ascii")
    data = quote(encoded, safe="")
    if len(data) > MAX_DATA_BYTES:
        raise BadInput(
            _("provider {id!r}: the import link data is {n} bytes, over the app's 64 KiB limit").format(
                id=provider['id'], n=len(data))
        )
    link = f"{scheme}://providers/api-keys?v=1&data={data}"
    for rules in ("1.x", "2.x"):
        try:
            read = decode(link, rules)
        except BadInput as e:
            read = {"": e.message}
        if read != carried:
            raise BadInput(_("provider {id!r}: Cherry Studio {rules} would not read its import link back as written; "
                             "use `cherryconf apply` instead").format(id=provider["id"], rules=rules))
    return link



def _stripped(text: str) -> str:
    for c in _STRIPPED_BY_APP:
        text = text.replace(c, "")
    return text


def decode(link: str, rules: Rules = "1.x") -> dict[str, Any]:
    """The provider an import link carries, read as the app reads it (facts section 5): `data` percent-decoded,
    `_`/`-` mapped back to `+`/`/`, base64-decoded, `'` `(` `)` deleted (2.x: only when the text is not JSON as it
    is), JSON with non-empty id, baseUrl, apiKey (2.x: an http(s) baseUrl, data of at most 64 KiB), and
    `autoSyncModels` when it is true. Either edition's scheme. BadInput when it is no such link."""
    bad = _("this is not a Cherry Studio provider import link (cherrystudio://providers/api-keys?v=1&data=...)")
    parts = urlsplit(link.strip())
    if parts.scheme not in SCHEMES or (parts.netloc, parts.path) != ("providers", "/api-keys"):
        raise BadInput(bad)
    query = parse_qs(parts.query)
    if query.get("v") != ["1"] or len(query.get("data", [])) != 1:
        raise BadInput(bad)
    if rules == "2.x" and len(query["data"][0]) > MAX_DATA_BYTES:
        raise BadInput(_("the import link's data is over Cherry Studio 2.x's 64 KiB limit"))
    data = query["data"][0].replace(" ", "+").replace("_", "+").replace("-", "/")
    try:
        text = base64.b64decode(data, validate=True).decode("utf-8")
        if rules == "2.x":
            try:
                value = json.loads(text)
            except ValueError:
                value = json.loads(_stripped(text))
        else:
            value = json.loads(_stripped(text))
    except ValueError:
        raise BadInput(_("the import link's data is damaged: it is not base64 of JSON")) from None
    if not isinstance(value, dict):
        raise BadInput(_("the import link's data is damaged: it is not base64 of JSON"))
    for field in ("id", "baseUrl", "apiKey"):
        if not isinstance(value.get(field), str) or not value[field].strip():
            raise BadInput(_("the import link has no {field}, which Cherry Studio requires").format(field=field))
    if rules == "2.x" and not value["baseUrl"].lower().startswith(("http://", "https://")):
        raise BadInput(_("Cherry Studio 2.x takes only an http(s) baseUrl from an import link"))
    out: dict[str, Any] = {k: str(value[k]) for k in ("id", "baseUrl", "apiKey", "name", "type")
                           if isinstance(value.get(k), str)}
    return out | ({"autoSyncModels": True} if value.get("autoSyncModels") is True else {})


def open_link(url: str, provider_id: str) -> None:
    """Hand the link to the operating system and wait until it has taken it; NotOpened when it could not (the link
    is printed before, so the user can still open it by hand)."""
    failed = _("the operating system could not open the import link of provider {provider_id!r}").format(
                 provider_id=provider_id)
    if sys.platform == "win32":
        import os

        try:
            os.startfile(url)
        except OSError as e:
            raise NotOpened(_("{failed} ({strerror}), so Cherry Studio may not be installed; open the link printed "
                              "above by hand").format(failed=failed, strerror=e.strerror)) from None
        return
    # Waited for, so links open one after the other (click.launch starts xdg-open and says 0 whatever happens).
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    try:
        done = subprocess.run([opener, url], capture_output=True, timeout=60, check=False)
    except FileNotFoundError:
        raise NotOpened(_("{failed}: there is no {opener}; open the link printed above by hand").format(
                            failed=failed, opener=opener)) from None
    except subprocess.TimeoutExpired:
        raise NotOpened(_("{failed}: {opener} gave no answer within 60 s; open the link printed above by hand").format(
            failed=failed, opener=opener)) from None
    if done.returncode != 0:
        raise NotOpened(_("{failed} ({opener} exited with {returncode}), so Cherry Studio may not be installed; open "
                          "the link printed above by hand").format(
                              failed=failed, opener=opener, returncode=done.returncode))
