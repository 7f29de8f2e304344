"""Find known problems in the providers a store already holds; every fixable one comes with its fix.

Checks work on the 1.x provider format, so they serve both stores. A fix is a change to one provider, or,
for a gateway in a built-in provider the app routes by id, a move of it to a provider of its own; all fixes
together form one plan, written like any other (backup first, read back after).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cherryconf.domain import plan, routing
from cherryconf.domain.endpoints import AppVersion, normalise_api_host
from cherryconf.domain.moves import (
    RUNTIME_PROVIDERS,
    Finding,
    Move,
    Severity,
    move_out,
    needs_own_provider,
    retire_out,
)
from cherryconf.domain.spec import (
    BUILT_IN_PROVIDER_IDS,
    IN_PROCESS_PROVIDER_IDS,
    RETIRED_PROVIDER_IDS,
    check_header_value,
    setting_name,
)
from cherryconf.errors import BadInput
from cherryconf.i18n import _
from cherryconf.redact import mask_url
from cherryconf.stores import StoreState

if TYPE_CHECKING:
    from cherryconf.paths import Context
    from cherryconf.stores import Store
    from cherryconf.stores.backup import Backup
    from cherryconf.stores.install import Install

Fix = Callable[[dict[str, Any]], None]

# Built-in providers that work without a key (CherryAI signs its own requests; local servers and the 2.x app's
# in-process embedding provider need none).
_KEYLESS_BUILT_INS = frozenset({"cherryai", "ollama", "lmstudio", "gpustack"}) | IN_PROCESS_PROVIDER_IDS
# The endpoints a pasted apiHost may end with; the app appends its own again (app issue #18608).
_ENDPOINT_PATHS = ("/chat/completions", "/responses", "/completions", "/messages")

# Hosts that really serve the Responses API; a responses-type provider elsewhere is almost always a gateway.
_RESPONSES_HOSTS = ("api.openai.com",)


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


@dataclass(frozen=True)
class _Found:
    severity: Severity
    message: str
    fix: Fix | None = None  # what --fix does to the provider
    fix_text: str | None = None  # that, said to the user


def _responses_on_gateway(p: dict[str, Any], version: AppVersion | None) -> _Found | None:
    host, gateway = str(p.get("apiHost") or ""), routing.host_name(str(p.get("apiHost") or ""))
    if p.get("type") != "openai-response" or not host or gateway in _RESPONSES_HOSTS or routing.route(p, version).by_id:
        return None

    def to_chat(q: dict[str, Any]) -> None:
        q["type"] = "openai"

    return _Found("error", _("type openai-response sends chats to /responses, which gateways like {gateway} serve for "
                             "few models or none (\"model not found\")").format(gateway=gateway), to_chat,
                  _("set type to openai (chats go to /chat/completions)"))


def _bad_api_host(p: dict[str, Any], version: AppVersion | None) -> _Found | None:
    host = str(p.get("apiHost") or "")
    if routing.chat_url(p, version) is None:
        return None
    try:
        normalise_api_host(host, version)
    except BadInput as e:
        return _Found("error", _("apiHost {host!r} is not usable: {message}").format(host=mask_url(host),
                                                                                      message=e.message))
    return None


def _renormalised(p: dict[str, Any], version: AppVersion | None) -> tuple[str, str | None, str | None] | None:
    """(normal apiHost, the URL the app calls now, the URL it would call with the normal one), or None when the
    apiHost is unusable or cherryconf cannot say where chats go."""
    host, url = str(p.get("apiHost") or ""), routing.chat_url(p, version)
    if url is None:
        return None
    try:
        normal = normalise_api_host(host, version)
    except BadInput:
        return None  # bad-api-host says so
    return normal, url, routing.chat_url({**p, "apiHost": normal}, version)


def _full_endpoint_url(p: dict[str, Any], version: AppVersion | None) -> _Found | None:
    """A whole endpoint URL pasted as the base: the app appends the endpoint again (Cherry Studio issue #18608,
    `.../v1/chat/completions` in a custom provider; facts file section 9)."""
    host = str(p.get("apiHost") or "").strip()
    found = _renormalised(p, version)
    if found is None or not host.rstrip("/").lower().endswith(_ENDPOINT_PATHS):
        return None
    normal, url, wanted = found
    if url == wanted:
        return None

    def to_base(q: dict[str, Any]) -> None:
        q["apiHost"] = normal

    return _Found("error", _("apiHost {host!r} is a whole endpoint URL: Cherry Studio appends the endpoint again and "
                             "calls {url} (app issue #18608)").format(host=host, url=url),
                  to_base, _("set apiHost to its base {normal!r} (calls {wanted})").format(normal=normal,
                                                                                         wanted=wanted))


def _api_host_form(p: dict[str, Any], version: AppVersion | None) -> _Found | None:
    host, url = str(p.get("apiHost") or ""), routing.chat_url(p, version)
    if url is None or _full_endpoint_url(p, version) is not None:
        return None
    try:
        normal = normalise_api_host(host, version)
    except BadInput:
        return None  # bad-api-host says so
    wanted = routing.chat_url({**p, "apiHost": normal}, version)
    if url == wanted:
        return None

    def renormalise(q: dict[str, Any]) -> None:
        q["apiHost"] = normal

    return _Found("error", _("apiHost {host!r} makes this app version call {url}").format(
                      host=mask_url(host), url=mask_url(url)),
                  renormalise, _("set apiHost to {normal!r} (calls {wanted})").format(
                      normal=mask_url(normal), wanted=mask_url(wanted or "")))


def _no_api_host(p: dict[str, Any], version: AppVersion | None) -> _Found | None:
    if str(p.get("id")) in IN_PROCESS_PROVIDER_IDS:
        return None
    if (routing.chat_url(p, version) is None and not str(p.get("apiHost") or "").strip() and p.get("models")
            and p.get("type") in ("openai", "openai-response")):
        return _Found("error", _("the provider has models but no apiHost"))
    return None


def _no_api_key(p: dict[str, Any], version: AppVersion | None) -> _Found | None:
    if (p.get("enabled") and p.get("models") and not str(p.get("apiKey", "")).strip()
            and str(p.get("id")) not in _KEYLESS_BUILT_INS):
        return _Found("warning", _("the provider is enabled and has models but no API key"))
    return None


def _duplicate_models(p: dict[str, Any], version: AppVersion | None) -> _Found | None:
    ids = [m.get("id") for m in p.get("models", []) if isinstance(m, dict)]
    if len(ids) == len(set(ids)):
        return None

    def dedupe(q: dict[str, Any]) -> None:
        first: dict[Any, dict[str, Any]] = {}
        for m in q["models"]:
            first.setdefault(m.get("id"), m)
        q["models"] = list(first.values())

    dups = sorted({str(i) for i in ids if ids.count(i) > 1})
    message = _("models listed twice: {dups}").format(dups=", ".join(dups))
    # The app's own seed lists some models twice in built-in providers nobody has set up: nothing calls them.
    if p.get("isSystem") and not str(p.get("apiKey", "")).strip():
        return _Found("note", message)
    return _Found("warning", message, dedupe, _("keep the first of each"))


def _model_provider_mismatch(p: dict[str, Any], version: AppVersion | None) -> _Found | None:
    pid = str(p.get("id"))
    foreign = [str(m.get("id")) for m in p.get("models", []) if isinstance(m, dict) and m.get("provider") != pid]
    if not foreign:
        return None

    def own(q: dict[str, Any]) -> None:
        for m in q["models"]:
            m["provider"] = q["id"]

    return _Found("error", _("models that name another provider, so the app cannot find their settings: "
                             "{foreign}").format(foreign=", ".join(foreign)),
                  own, _("set their provider to {pid!r}").format(pid=pid))


def _header_value(p: dict[str, Any], version: AppVersion | None) -> _Found | None:
    headers = p.get("extra_headers")
    if not isinstance(headers, dict):
        return None
    why = [w for name, value in headers.items() if isinstance(value, str) and (w := check_header_value(name, value))]
    if not why:
        return None
    return _Found("error", _("{why}: neither Cherry Studio nor `cherryconf verify` can send this provider's "
                             "requests").format(why="; ".join(why)))


# The checks of one provider, one per finding code, in the order their findings are listed. Adding a check is
# adding a line here. (gateway-in-built-in and dangling-model-setting look beyond one provider: see diagnose.)
CHECKS: dict[str, Callable[[dict[str, Any], AppVersion | None], _Found | None]] = {
    "responses-on-gateway": _responses_on_gateway,
    "bad-api-host": _bad_api_host,
    "full-endpoint-url": _full_endpoint_url,
    "api-host-form": _api_host_form,
    "no-api-host": _no_api_host,
    "no-api-key": _no_api_key,
    "duplicate-models": _duplicate_models,
    "model-provider-mismatch": _model_provider_mismatch,
    "header-value": _header_value,
}


def _repoint(model: dict[str, Any] | None, moved: dict[tuple[str, str], str]) -> dict[str, Any] | None:
    if model is None:
        return None
    target = moved.get((str(model.get("provider")), str(model.get("id"))))
    return model if target is None else {**model, "provider": target}


def _retired(p: dict[str, Any], line: AppVersion | None) -> bool:
    return line is not None and line >= (2,) and str(p.get("id")) in RETIRED_PROVIDER_IDS


def _on_disabled(state: StoreState, after: list[dict[str, Any]]) -> list[Finding]:
    """Model settings (default, quick, translate...) naming a model of a disabled provider: the app then fails with
    an opaque 404 (Cherry Studio issues #20547, #20548; facts file section 9). The fix enables the provider when it
    has somewhere to send chats."""
    by_id = {str(p.get("id")): p for p in state.providers}
    findings: list[Finding] = []
    enable: set[str] = set()
    for setting, model in state.model_refs.items():
        pid = str(model.get("provider"))
        p = by_id.get(pid)
        if p is None or p.get("enabled"):  # a provider the store does not hold: dangling-model-setting's case
            continue
        usable = bool(str(p.get("apiHost") or "").strip()) or pid in IN_PROCESS_PROVIDER_IDS
        if usable:
            enable.add(pid)
        findings.append(Finding(pid, str(p.get("name", "")), "model-setting-on-disabled-provider", "error",
                                _("Cherry Studio's {setting} is {provider}/{id}, but that provider is disabled, so "
                                  "the app fails (\"404\") where it uses that model").format(
                                    setting=setting_name(setting), provider=pid, id=model.get("id")),
                                _("enable provider {pid!r}").format(pid=pid) if usable else None))
    for p in after:
        if str(p.get("id")) in enable:
            p["enabled"] = True
    return findings


def diagnose(state: StoreState, version: AppVersion | None, moves_only: bool = False,
             line: AppVersion | None = None) -> Diagnosis:
    """Every finding, and the plan of the fixes (the store's state is not modified). `moves_only`: only the
    gateways in built-in providers the app routes by id, and their moves (what the wizard offers first). `line`:
    the app's line when its exact version is unknown (a 2.x store says 2.x), for what depends on the line only."""
    line = version or line
    findings: list[Finding] = []
    after = copy.deepcopy(state.providers)
    added: list[dict[str, Any]] = []
    moved: dict[tuple[str, str], str] = {}
    taken = ({str(p.get("id")) for p in state.providers} | BUILT_IN_PROVIDER_IDS | RUNTIME_PROVIDERS
             | RETIRED_PROVIDER_IDS | IN_PROCESS_PROVIDER_IDS)
    for i, p in enumerate(after):
        if not _in_use(p):
            continue
        move: Move | None = None
        if _retired(p, line):
            move = retire_out(p, taken, version)
        elif needs_own_provider(p, version):
            move = move_out(p, taken, version)
        if move is not None:
            findings.append(move.finding)
            taken.add(move.own["id"])
            added.append(move.own)
            after[i] = move.left
            moved.update({(str(p["id"]), str(m["id"])): move.own["id"] for m in move.own["models"]})
            continue
        if moves_only:
            continue
        original = copy.deepcopy(p)
        for code, check in CHECKS.items():
            found = check(original, version)
            if found is None:
                continue
            findings.append(Finding(str(p.get("id")), str(p.get("name", "")), code, found.severity, found.message,
                                    found.fix_text))
            if found.fix is not None:
                found.fix(p)
    after = added + after
    if not moves_only:
        findings += _on_disabled(state, after)
    held = {(p.get("id"), m.get("id")) for p in state.providers for m in p.get("models", [])}
    for setting, model in {} if moves_only else state.model_refs.items():
        if model.get("provider") in RUNTIME_PROVIDERS:
            continue
        if (model.get("provider"), model.get("id")) not in held:
            findings.append(Finding(str(model.get("provider")), "", "dangling-model-setting", "warning",
                                    _("Cherry Studio's {setting} is {provider}/{id}, which no provider holds").format(
                                        setting=setting_name(setting), provider=model.get("provider"),
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
           keep: int, line: AppVersion | None = None) -> Repaired:
    """Write the fixes like any change (backup, write, read back), then look again."""
    from cherryconf.ops import apply

    written = None
    if found.plan.changed:
        written = apply.write(ctx, apply.Prepared(install, store, found.plan), "doctor", keep)
    remaining = diagnose(store.read(), version, line=line).findings
    return Repaired(found.fixable if written else [], written.backup if written else None, remaining)
