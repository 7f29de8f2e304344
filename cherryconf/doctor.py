"""Find known problems in the providers a store already holds; every fixable one comes with its fix.

Checks work on the 1.x provider format, so they serve both stores. A fix is a change to one provider;
all fixes together form one plan, written like any other (backup first, read back after).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from cherryconf import plan
from cherryconf.endpoints import AppVersion, normalise_api_host, provider_chat_url
from cherryconf.errors import BadInput
from cherryconf.stores import StoreState

if TYPE_CHECKING:
    from cherryconf.backup import Backup
    from cherryconf.install import Install
    from cherryconf.paths import Context
    from cherryconf.stores import Store

Severity = Literal["error", "warning"]
Fix = Callable[[dict[str, Any]], None]

# Built-in providers that work without a key (CherryAI signs its own requests; local servers need none).
_KEYLESS_BUILT_INS = frozenset({"cherryai", "ollama", "lmstudio", "gpustack"})

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


def _host(api_host: str) -> str:
    return (urlsplit(api_host.strip()).hostname or "").lower()


def _in_use(p: dict[str, Any]) -> bool:
    """Worth checking: enabled, or holding a key or models (the app lists ~60 disabled built-ins)."""
    return bool(p.get("enabled")) or bool(str(p.get("apiKey", "")).strip()) or bool(p.get("models"))


def _check(p: dict[str, Any], version: AppVersion | None) -> list[tuple[str, Severity, str, Fix | None, str | None]]:
    """(code, severity, message, fix function, fix description) for each problem of one provider."""
    out: list[tuple[str, Severity, str, Fix | None, str | None]] = []
    pid = str(p.get("id"))
    host = str(p.get("apiHost") or "")
    ptype = str(p.get("type") or "")

    if ptype == "openai-response" and host and _host(host) not in _RESPONSES_HOSTS:
        def to_chat(q: dict[str, Any]) -> None:
            q["type"] = "openai"

        out.append(("responses-on-gateway", "error",
                    f"type openai-response sends chats to /responses, which gateways like {_host(host)} serve "
                    "for few models or none (\"model not found\")", to_chat,
                    "set type to openai (chats go to /chat/completions)"))

    url = provider_chat_url(p, version)
    if url is not None:
        try:
            normal = normalise_api_host(host, version)
        except BadInput as e:
            out.append(("bad-api-host", "error", f"apiHost {host!r} is not usable: {e.message}", None, None))
        else:
            wanted = provider_chat_url({**p, "apiHost": normal}, version)
            if url != wanted:
                def renormalise(q: dict[str, Any], normal: str = normal) -> None:
                    q["apiHost"] = normal

                out.append(("api-host-form", "error",
                            f"apiHost {host!r} makes this app version call {url}", renormalise,
                            f"set apiHost to {normal!r} (calls {wanted})"))
    elif not host.strip() and p.get("models") and ptype in ("openai", "openai-response"):
        out.append(("no-api-host", "error", "the provider has models but no apiHost", None, None))

    if (p.get("enabled") and p.get("models") and not str(p.get("apiKey", "")).strip()
            and pid not in _KEYLESS_BUILT_INS):
        out.append(("no-api-key", "warning", "the provider is enabled and has models but no API key", None, None))

    models = [m for m in p.get("models", []) if isinstance(m, dict)]
    ids = [m.get("id") for m in models]
    if len(ids) != len(set(ids)):
        def dedupe(q: dict[str, Any]) -> None:
            first: dict[Any, dict[str, Any]] = {}
            for m in q["models"]:
                first.setdefault(m.get("id"), m)
            q["models"] = list(first.values())

        dups = sorted({str(i) for i in ids if ids.count(i) > 1})
        out.append(("duplicate-models", "warning", f"models listed twice: {', '.join(dups)}", dedupe,
                    "keep the first of each"))
    foreign = [str(m.get("id")) for m in models if m.get("provider") != pid]
    if foreign:
        def own(q: dict[str, Any]) -> None:
            for m in q["models"]:
                m["provider"] = q["id"]

        out.append(("model-provider-mismatch", "error",
                    f"models that name another provider, so the app cannot find their settings: "
                    f"{', '.join(foreign)}", own, f"set their provider to {pid!r}"))
    return out


def diagnose(state: StoreState, version: AppVersion | None) -> Diagnosis:
    """Every finding, and the plan of the fixes (the store's state is not modified)."""
    findings: list[Finding] = []
    after = copy.deepcopy(state.providers)
    for p in after:
        if not _in_use(p):
            continue
        original = copy.deepcopy(p)
        for code, severity, message, fix, fix_text in _check(original, version):
            findings.append(Finding(str(p.get("id")), str(p.get("name", "")), code, severity, message, fix_text))
            if fix is not None:
                fix(p)
    held = {(p.get("id"), m.get("id")) for p in state.providers for m in p.get("models", [])}
    for setting, model in state.model_refs.items():
        if (model.get("provider"), model.get("id")) not in held:
            findings.append(Finding(str(model.get("provider")), "", "dangling-model-setting", "warning",
                                    f"Cherry Studio's {setting} is {model.get('provider')}/{model.get('id')}, "
                                    "which no provider holds", None))
    changes = plan.diff(state.providers, after)
    return Diagnosis(findings, plan.Plan(state.providers, after, changes, state.default_model,
                                         state.default_model))


@dataclass(frozen=True)
class Repaired:
    fixed: list[Finding]
    backup: Backup | None
    remaining: list[Finding]  # what only the user can fix


def repair(ctx: Context, install: Install, store: Store, found: Diagnosis, version: AppVersion | None,
           keep: int) -> Repaired:
    """Write the fixes like any change (backup, write, read back), then look again."""
    from cherryconf import apply

    written = None
    if found.plan.changed:
        written = apply.write(ctx, apply.Prepared(install, store, found.plan), "doctor", keep)
    remaining = diagnose(store.read(), version).findings
    return Repaired(found.fixable if written else [], written.backup if written else None, remaining)
