"""A gateway the store already holds under another id: same normalised host and type, and the same name or a key in
common.

A 1.x backup imported into a 2.x install (or a profile written elsewhere) names its gateway with an id of its own;
matching by id alone then adds a second provider of the same name beside the first (issue 24). `apply` and
`import` update the one the store holds instead, and say which one and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cherryconf.domain.endpoints import normalise_api_host
from cherryconf.errors import BadInput
from cherryconf.i18n import _


@dataclass(frozen=True)
class Twin:
    held_id: str  # the provider the store holds
    why: str  # for people: what they share (never the key itself)


def _host(api_host: Any) -> str | None:
    """The apiHost in one comparable form: normalised as cherryconf writes it, scheme and host lower-cased."""
    try:
        normal = normalise_api_host(str(api_host or ""))
    except BadInput:
        return None
    parts = urlsplit(normal)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def _keys(provider: dict[str, Any]) -> set[str]:
    return {k.strip() for k in str(provider.get("apiKey") or "").split(",") if k.strip()}


def _name(provider: dict[str, Any]) -> str:
    return str(provider.get("name") or "").strip().casefold()


def find(wanted: dict[str, Any], held: Iterable[dict[str, Any]], skip: set[str]) -> Twin | None:
    """The custom provider among `held` (ids in `skip` aside) that is `wanted`'s gateway under another id, when
    exactly one is; None when none is, or several are (then the id decides, as before)."""
    host = _host(wanted.get("apiHost"))
    if host is None:
        return None
    found: list[Twin] = []
    for p in held:
        pid = str(p.get("id"))
        if pid in skip or pid == wanted.get("id") or p.get("isSystem") or _host(p.get("apiHost")) != host:
            continue
        if str(p.get("type") or "openai") != str(wanted.get("type") or "openai"):
            continue  # one gateway set up twice on purpose: once per protocol (chat, responses, messages...)
        same_name = bool(_name(p)) and _name(p) == _name(wanted)
        same_key = bool(_keys(p) & _keys(wanted))
        if same_name and same_key:
            why = _("same host {host}, same name and same key").format(host=host)
        elif same_name:
            why = _("same host {host} and same name").format(host=host)
        elif same_key:
            why = _("same host {host} and same key").format(host=host)
        else:
            continue
        found.append(Twin(pid, why))
    return found[0] if len(found) == 1 else None
