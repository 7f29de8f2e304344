"""The move rule: a gateway in a built-in provider the app routes by id belongs in a provider of its own.

A pure rule on the 1.x provider format: `doctor` reports and fixes it, `export` applies it to what it writes, the
wizard offers it first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from cherryconf.domain import routing
from cherryconf.domain.endpoints import AppVersion, normalise_api_host
from cherryconf.domain.spec import BUILT_IN_PROVIDER_IDS
from cherryconf.i18n import _, ngettext

# A note is worth knowing but needs nothing done: it does not make `doctor` exit 5.
Severity = Literal["error", "warning", "note"]

# The app adds a CherryAI provider at run time that is never stored (1.9.12, facts section 8); a fresh
# install's default, quick and translate models point at it.
RUNTIME_PROVIDERS = frozenset({"cherryai"})
_NAME_LIMIT = 32  # the app's provider-name field takes at most 32 characters

# The models the 1.x app seeds into each built-in provider a gateway may sit in (SYSTEM_MODELS in
# src/renderer/src/config/models/default.ts, ousugo/cherry-studio branch v1 at e30ca204, the 1.9 line; cherryin
# ships none). A move says which of the models it takes were these.
STOCK_MODELS: dict[str, frozenset[str]] = {
    "openai": frozenset({"gpt-5.4", "gpt-5.4-pro", "gpt-5.2", "gpt-5.2-pro", "gpt-5.1", "gpt-5", "gpt-5-pro",
                         "gpt-5-chat", "gpt-image-1"}),
    "aihubmix": frozenset({"gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-5-chat-latest", "o3", "o4-mini", "gpt-4.1",
                           "gpt-4o", "gpt-image-1", "gpt-image-2", "DeepSeek-V3", "DeepSeek-R1",
                           "claude-sonnet-4-20250514", "gemini-2.5-pro", "gemini-2.5-flash-nothink",
                           "gemini-2.5-flash", "Qwen3-235B-A22B-Instruct-2507", "kimi-k2-0711-preview",
                           "Llama-4-Scout-17B-16E-Instruct", "Llama-4-Maverick-17B-128E-Instruct-FP8"}),
    "perplexity": frozenset({"sonar-reasoning-pro", "sonar-reasoning", "sonar-pro", "sonar", "sonar-deep-research"}),
    "github": frozenset({"gpt-4o"}),
    "grok": frozenset({"grok-4.3", "grok-4", "grok-3", "grok-3-fast", "grok-3-mini", "grok-3-mini-fast"}),
    "cherryin": frozenset(),
}
# Stock models that are not chat models: the app sends them to its image endpoint (`gpt-image-1` goes to
# /v1/images/generations, facts file section 9), so a gateway's chat provider is no place for them.
_NOT_CHAT = frozenset({"gpt-image-1", "gpt-image-2"})


@dataclass(frozen=True)
class Finding:
    provider_id: str
    provider_name: str
    code: str
    severity: Severity
    message: str
    fix: str | None  # what --fix does, or None when only the user can fix it


def _own_id(host: str, taken: set[str]) -> str:
    """An id for a gateway's own provider from its host: `vip.apiyi.com` -> `apiyi`, made unique."""
    labels = [x for x in routing.host_name(host).split(".") if x]
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in ("com", "net", "org", "co", "ac", "gov", "edu"):
        labels = labels[:-1]  # a country's second level, as in example.com.cn
    stem = labels[-2] if len(labels) >= 2 and not labels[-1].isdigit() else "my-gateway"
    stem = "".join(c for c in stem if c.isalnum() or c == "-").strip("-") or "my-gateway"
    candidate, n = stem, 2
    while candidate in taken:
        candidate, n = f"{stem}-{n}", n + 1
    return candidate


@dataclass(frozen=True)
class Move:
    finding: Finding
    own: dict[str, Any]  # the gateway's provider of its own
    left: dict[str, Any]  # the built-in provider, as it is left


def _split(p: dict[str, Any], taken: set[str], version: AppVersion | None, name: str, ptype: str,
           stay: frozenset[str] = frozenset()) -> tuple[dict[str, Any], dict[str, Any]]:
    """The provider of its own that takes `p`'s gateway (key, models, headers, options), and `p` as it is left:
    disabled, with no key, and with only the models in `stay`."""
    host = str(p.get("apiHost"))
    own_id = _own_id(host, taken)
    models: dict[Any, dict[str, Any]] = {}
    kept: dict[Any, dict[str, Any]] = {}
    for m in p.get("models", []):
        if isinstance(m, dict):
            if m.get("id") in stay:
                kept.setdefault(m.get("id"), m)
            else:
                models.setdefault(m.get("id"), {**m, "provider": own_id})
    own: dict[str, Any] = {"id": own_id, "name": name[:_NAME_LIMIT], "type": ptype,
                           "apiKey": p.get("apiKey", ""), "apiHost": normalise_api_host(host, version),
                           "models": list(models.values()), "enabled": True, "isSystem": False}
    left = {**p, "apiKey": "", "models": list(kept.values()), "enabled": False}
    for carried in ("extra_headers", "apiOptions"):  # the gateway's, not the vendor's
        if carried in p:
            own[carried] = p[carried]
            del left[carried]
    return own, left


def retire_out(p: dict[str, Any], taken: set[str], version: AppVersion | None) -> Move:
    """Take a provider under an id the 2.x app retired (spec.RETIRED_PROVIDER_IDS) into one of its own: the app
    hides the retired one and answers NOT_FOUND for it, so its models cannot be used."""
    pid = str(p["id"])
    name = str(p.get("name") or "") if not p.get("isSystem") else routing.host_name(str(p.get("apiHost")))
    own, left = _split(p, taken, version, name or routing.host_name(str(p.get("apiHost"))) or pid,
                       str(p.get("type") or "openai"))
    n = len(own["models"])
    message = _("Cherry Studio 2.x retired the provider id {pid!r}: it hides this provider and answers \"not found\" "
                "for it, so its models cannot be used").format(pid=pid)
    fix = ngettext("move its host, key and {n} model to a provider of its own, {own_id!r}, re-point the settings "
                   "and assistants that use that model, and leave {pid!r} disabled with no key or models",
                   "move its host, key and {n} models to a provider of its own, {own_id!r}, re-point the settings "
                   "and assistants that use those models, and leave {pid!r} disabled with no key or models",
                   n).format(n=n, own_id=own["id"], pid=pid)
    return Move(Finding(pid, str(p.get("name", "")), "retired-provider-id", "error", message, fix), own, left)


def move_out(p: dict[str, Any], taken: set[str], version: AppVersion | None) -> Move:
    """Take a gateway out of a built-in provider the app routes by id, into a custom provider of its own."""
    pid, host = str(p["id"]), str(p.get("apiHost"))
    stock = STOCK_MODELS.get(pid, frozenset())
    own, left = _split(p, taken, version, routing.host_name(host), "openai", stock & _NOT_CHAT)
    own_id = own["id"]
    left["apiHost"], left["type"] = routing.BUILT_IN_DEFAULTS[pid]
    now, then = routing.chat_url(p, version), routing.chat_url(own, version)
    why = (_("whatever its default endpoint (its models keep the responses endpoint)") if version and version >= (2,)
           else _("whatever its type (it routes by provider id)"))
    message = _("Cherry Studio sends the chats of its built-in provider {pid!r} to {now} {why}, which gateways such "
                "as {host} serve for few models or none (\"model not found\")").format(
        pid=pid, now=now, why=why, host=routing.host_name(host))
    n = len(own["models"])
    fix = ngettext(
        "move the gateway, its key and {n} model to a provider of its own, {own_id!r} (chats to {then}), re-point "
        "the settings and assistants that use that model, and leave {pid!r} disabled, with the app's own host "
        "{host} and no key or models (that id cannot serve a gateway: the app routes it by id)",
        "move the gateway, its key and {n} models to a provider of its own, {own_id!r} (chats to {then}), re-point "
        "the settings and assistants that use those models, and leave {pid!r} disabled, with the app's own host "
        "{host} and no key or models (that id cannot serve a gateway: the app routes it by id)", n).format(
        n=n, own_id=own_id, then=then, pid=pid, host=left["apiHost"])
    taken_stock = sorted(str(m["id"]) for m in own["models"] if m["id"] in stock)
    if taken_stock:
        fix += "; " + _("of its models, {ids} are the app's stock models for {pid!r}, not the gateway's: remove "
                        "them there if the gateway does not serve them").format(ids=", ".join(taken_stock), pid=pid)
    if left["models"]:
        fix += "; " + _("the app's stock models that are not chat models ({ids}) stay with {pid!r}").format(
            ids=", ".join(str(m["id"]) for m in left["models"]), pid=pid)
    return Move(Finding(pid, str(p.get("name", "")), "gateway-in-built-in", "error", message, fix), own, left)


def needs_own_provider(p: dict[str, Any], version: AppVersion | None) -> bool:
    """A gateway in a built-in provider whose id sends chats where a provider of its own would not."""
    return routing.holds_gateway(p) and routing.chat_url(p, version) != routing.chat_url(
        {**p, "id": "-", "type": "openai"}, version)


def own_provider(p: dict[str, Any], taken: set[str], version: AppVersion | None) -> dict[str, Any]:
    """The provider of its own that the gateway in built-in provider `p` moves to (see needs_own_provider)."""
    return move_out(p, taken | BUILT_IN_PROVIDER_IDS | RUNTIME_PROVIDERS, version).own
