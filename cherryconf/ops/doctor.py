"""Find known problems in the providers a store already holds; every fixable one comes with its fix.

Checks work on the 1.x provider format, so they serve both stores. A fix is a change to one provider, or,
for a gateway in a built-in provider the app routes by id, a move of it to a provider of its own; all fixes
together form one plan, written like any other (backup first, read back after).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from cherryconf import render
from cherryconf.domain import plan, routing
from cherryconf.domain.endpoints import AppVersion, normalise_api_host
from cherryconf.domain.spec import BUILT_IN_PROVIDER_IDS
from cherryconf.errors import BadInput
from cherryconf.i18n import _, ngettext
from cherryconf.stores import StoreState

if TYPE_CHECKING:
    from cherryconf.paths import Context
    from cherryconf.stores import Store
    from cherryconf.stores.backup import Backup
    from cherryconf.stores.install import Install

# A note is worth knowing but needs nothing done: it does not make `doctor` exit 5.
Severity = Literal["error", "warning", "note"]
Fix = Callable[[dict[str, Any]], None]

# Built-in providers that work without a key (CherryAI signs its own requests; local servers need none).
_KEYLESS_BUILT_INS = frozenset({"cherryai", "ollama", "lmstudio", "gpustack"})
# The app adds a CherryAI provider at run time that is never stored (1.9.12, facts section 8); a fresh
# install's default, quick and translate models point at it.
_RUNTIME_PROVIDERS = frozenset({"cherryai"})
_NAME_LIMIT = 32  # the app's provider-name field takes at most 32 characters

# Hosts that really serve the Responses API; a responses-type provider elsewhere is almost always a gateway.
_RESPONSES_HOSTS = ("api.openai.com",)


@dataclass(frozen=True)
class Finding:
    provider_id: str
    provider_name: str
    code: str
    severity: Severity
    message: str
    fix: str | None  # what --fix does, or None when only the user can fix it


@dataclass(frozen=True)
class Diagnosis:
    findings: list[Finding]
    plan: plan.Plan  # applying it makes every fixable finding go away

    @property
    def fixable(self) -> list[Finding]:
        return [f for f in self.findings if f.fix]

    @property
    def problems(self) -> list[Finding]:
        """Findings that need something done (notes do not)."""
        return [f for f in self.findings if f.severity != "note"]


def _in_use(p: dict[str, Any]) -> bool:
    """Worth checking: enabled, or holding a key or models (the app lists ~60 disabled built-ins)."""
    return bool(p.get("enabled")) or bool(str(p.get("apiKey", "")).strip()) or bool(p.get("models"))


def _check(p: dict[str, Any], version: AppVersion | None) -> list[tuple[str, Severity, str, Fix | None, str | None]]:
    """(code, severity, message, fix function, fix description) for each problem of one provider."""
    out: list[tuple[str, Severity, str, Fix | None, str | None]] = []
    pid = str(p.get("id"))
    host = str(p.get("apiHost") or "")
    ptype = str(p.get("type") or "")

    gateway = routing.host_name(host)
    if ptype == "openai-response" and host and gateway not in _RESPONSES_HOSTS and not routing.route(p, version).by_id:
        def to_chat(q: dict[str, Any]) -> None:
            q["type"] = "openai"

        out.append(("responses-on-gateway", "error",
                    _("type openai-response sends chats to /responses, which gateways like {gateway} serve for few "
                      "models or none (\"model not found\")").format(gateway=gateway), to_chat,
                    _("set type to openai (chats go to /chat/completions)")))

    url = routing.chat_url(p, version)
    if url is not None:
        try:
            normal = normalise_api_host(host, version)
        except BadInput as e:
            out.append(("bad-api-host", "error", _("apiHost {host!r} is not usable: {message}").format(
                                                     host=host, message=e.message), None, None))
        else:
            wanted = routing.chat_url({**p, "apiHost": normal}, version)
            if url != wanted:
                def renormalise(q: dict[str, Any], normal: str = normal) -> None:
                    q["apiHost"] = normal

                out.append(("api-host-form", "error",
                            _("apiHost {host!r} makes this app version call {url}").format(host=host, url=url),
                            renormalise,
                            _("set apiHost to {normal!r} (calls {wanted})").format(normal=normal, wanted=wanted)))
    elif not host.strip() and p.get("models") and ptype in ("openai", "openai-response"):
        out.append(("no-api-host", "error", _("the provider has models but no apiHost"), None, None))

    if (p.get("enabled") and p.get("models") and not str(p.get("apiKey", "")).strip()
            and pid not in _KEYLESS_BUILT_INS):
        out.append(("no-api-key", "warning", _("the provider is enabled and has models but no API key"), None, None))

    models = [m for m in p.get("models", []) if isinstance(m, dict)]
    ids = [m.get("id") for m in models]
    if len(ids) != len(set(ids)):
        def dedupe(q: dict[str, Any]) -> None:
            first: dict[Any, dict[str, Any]] = {}
            for m in q["models"]:
                first.setdefault(m.get("id"), m)
            q["models"] = list(first.values())

        dups = sorted({str(i) for i in ids if ids.count(i) > 1})
        # The app's own seed lists some models twice in built-in providers nobody has set up: nothing calls them.
        seed = bool(p.get("isSystem")) and not str(p.get("apiKey", "")).strip()
        out.append(("duplicate-models", "note" if seed else "warning", _("models listed twice: {dups}").format(
                                                                           dups=', '.join(dups)),
                    None if seed else dedupe, None if seed else _("keep the first of each")))
    foreign = [str(m.get("id")) for m in models if m.get("provider") != pid]
    if foreign:
        def own(q: dict[str, Any]) -> None:
            for m in q["models"]:
                m["provider"] = q["id"]

        out.append(("model-provider-mismatch", "error",
                    _("models that name another provider, so the app cannot find their settings: {foreign}").format(
                        foreign=', '.join(foreign)), own, _("set their provider to {pid!r}").format(pid=pid)))
    return out


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
class _Move:
    finding: Finding
    own: dict[str, Any]  # the gateway's provider of its own
    left: dict[str, Any]  # the built-in provider, as it is left


def _move(p: dict[str, Any], taken: set[str], version: AppVersion | None) -> _Move:
    """Take a gateway out of a built-in provider the app routes by id, into a custom provider of its own."""
    pid, host = str(p["id"]), str(p.get("apiHost"))
    own_id = _own_id(host, taken)
    models: dict[Any, dict[str, Any]] = {}
    for m in p.get("models", []):
        if isinstance(m, dict):
            models.setdefault(m.get("id"), {**m, "provider": own_id})
    own: dict[str, Any] = {"id": own_id, "name": routing.host_name(host)[:_NAME_LIMIT], "type": "openai",
                           "apiKey": p.get("apiKey", ""), "apiHost": normalise_api_host(host, version),
                           "models": list(models.values()), "enabled": True, "isSystem": False}
    left = {**p, "apiKey": "", "models": [], "enabled": False}
    left["apiHost"], left["type"] = routing.BUILT_IN_DEFAULTS[pid]
    for carried in ("extra_headers", "apiOptions"):  # the gateway's, not the vendor's
        if carried in p:
            own[carried] = p[carried]
            del left[carried]
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
    return _Move(Finding(pid, str(p.get("name", "")), "gateway-in-built-in", "error", message, fix), own, left)


def needs_own_provider(p: dict[str, Any], version: AppVersion | None) -> bool:
    """A gateway in a built-in provider whose id sends chats where a provider of its own would not."""
    return routing.holds_gateway(p) and routing.chat_url(p, version) != routing.chat_url(
        {**p, "id": "-", "type": "openai"}, version)


def own_provider(p: dict[str, Any], taken: set[str], version: AppVersion | None) -> dict[str, Any]:
    """The provider of its own that the gateway in built-in provider `p` moves to (see needs_own_provider)."""
    return _move(p, taken | BUILT_IN_PROVIDER_IDS | _RUNTIME_PROVIDERS, version).own


def _repoint(model: dict[str, Any] | None, moved: dict[tuple[str, str], str]) -> dict[str, Any] | None:
    if model is None:
        return None
    target = moved.get((str(model.get("provider")), str(model.get("id"))))
    return model if target is None else {**model, "provider": target}


def diagnose(state: StoreState, version: AppVersion | None, moves_only: bool = False) -> Diagnosis:
    """Every finding, and the plan of the fixes (the store's state is not modified). `moves_only`: only the
    gateways in built-in providers the app routes by id, and their moves (what the wizard offers first)."""
    findings: list[Finding] = []
    after = copy.deepcopy(state.providers)
    added: list[dict[str, Any]] = []
    moved: dict[tuple[str, str], str] = {}
    taken = {str(p.get("id")) for p in state.providers} | BUILT_IN_PROVIDER_IDS | _RUNTIME_PROVIDERS
    for i, p in enumerate(after):
        if not _in_use(p):
            continue
        if needs_own_provider(p, version):
            move = _move(p, taken, version)
            findings.append(move.finding)
            taken.add(move.own["id"])
            added.append(move.own)
            after[i] = move.left
            moved.update({(str(p["id"]), str(m["id"])): move.own["id"] for m in p.get("models", [])
                          if isinstance(m, dict)})
            continue
        if moves_only:
            continue
        original = copy.deepcopy(p)
        for code, severity, message, fix, fix_text in _check(original, version):
            findings.append(Finding(str(p.get("id")), str(p.get("name", "")), code, severity, message, fix_text))
            if fix is not None:
                fix(p)
    after = added + after
    held = {(p.get("id"), m.get("id")) for p in state.providers for m in p.get("models", [])}
    for setting, model in {} if moves_only else state.model_refs.items():
        if model.get("provider") in _RUNTIME_PROVIDERS:
            continue
        if (model.get("provider"), model.get("id")) not in held:
            findings.append(Finding(str(model.get("provider")), "", "dangling-model-setting", "warning",
                                    _("Cherry Studio's {setting} is {provider}/{id}, which no provider holds").format(
                                        setting=render.setting_name(setting), provider=model.get("provider"),
                                        id=model.get("id")), None))
    changes = plan.diff(state.providers, after)
    default_after = _repoint(state.default_model, moved)
    return Diagnosis(findings, plan.Plan(state.providers, after, changes, state.default_model, default_after,
                                         moved))


@dataclass(frozen=True)
class Repaired:
    fixed: list[Finding]
    backup: Backup | None
    remaining: list[Finding]  # what only the user can fix


def repair(ctx: Context, install: Install, store: Store, found: Diagnosis, version: AppVersion | None,
           keep: int) -> Repaired:
    """Write the fixes like any change (backup, write, read back), then look again."""
    from cherryconf.ops import apply

    written = None
    if found.plan.changed:
        written = apply.write(ctx, apply.Prepared(install, store, found.plan), "doctor", keep)
    remaining = diagnose(store.read(), version).findings
    return Repaired(found.fixable if written else [], written.backup if written else None, remaining)
