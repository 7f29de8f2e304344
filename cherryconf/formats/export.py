"""Write the providers a store holds as a profile, so the same set-up can be applied elsewhere.

Keys become `${<NAME>_API_KEY}` references (env_names) unless asked for; models are written in the shortest form that
loads back to the same Model (a bare id when name and group are what the app would derive).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cherryconf.domain import routing
from cherryconf.domain.endpoints import AppVersion
from cherryconf.domain.spec import check_header_value, default_group
from cherryconf.errors import BadInput, closest
from cherryconf.formats.profile import key_env_name
from cherryconf.i18n import _
from cherryconf.redact import secret_header

_PROFILE_FIELDS = ("enabled", "notes", "apiVersion", "extra_headers", "apiOptions", "rateLimit")
_MODEL_FIELDS = ("description", "owned_by", "endpoint_type", "supported_endpoint_types", "pricing")
# A key that is already a reference (another tool's `$VAR` config, imported) stays the reference it is.
_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")


# An id nobody reads: a UUID or another long run of hex (the 1.x app gives a provider added by hand a UUID).
_OPAQUE_ID = re.compile(r"[0-9A-Fa-f]{8,}(?:-[0-9A-Fa-f]+)*")


def _env_stem(text: str) -> str:
    """`My Relay (EU)` -> `MY_RELAY_EU`: ASCII letters and digits upper-cased, every other run one `_`."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()


def env_names(providers: list[dict[str, Any]]) -> dict[str, str]:
    """Provider id -> the variable an export names for its key: after its id when that reads as a name (`apiyi` ->
    `APIYI_API_KEY`), else after its name (`My Relay` -> `MY_RELAY_API_KEY`), else (a name with no ASCII letter or
    digit, `我的网关`) a short form of its id (`PROVIDER_8C2A0E5E_API_KEY`); a second provider that comes out the
    same gets `_2`, `_3`... after its stem."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for p in providers:
        pid = str(p.get("id"))
        stem = "" if _OPAQUE_ID.fullmatch(pid) else _env_stem(pid)
        stem = stem or _env_stem(str(p.get("name") or ""))
        stem = stem or "PROVIDER_" + (_env_stem(pid).replace("_", "")[:8] or "KEY")
        if stem[0].isdigit():
            stem = "P_" + stem
        unique, n = stem, 1
        while unique in taken:
            n += 1
            unique = f"{stem}_{n}"
        taken.add(unique)
        names[pid] = f"{unique}_API_KEY"
    return names


def _model(m: dict[str, Any], provider_id: str) -> str | dict[str, Any]:
    mid = str(m.get("id"))
    out: dict[str, Any] = {"id": mid}
    if m.get("name") and m.get("name") != mid:
        out["name"] = m["name"]
    if m.get("group") and m.get("group") != default_group(mid, provider_id):
        out["group"] = m["group"]
    caps = [c.get("type") for c in m.get("capabilities") or [] if isinstance(c, dict) and c.get("type")]
    if caps:
        out["capabilities"] = caps
    out.update({k: m[k] for k in _MODEL_FIELDS if m.get(k) is not None})
    return mid if len(out) == 1 else out


def exportable(p: dict[str, Any]) -> bool:
    # The app ships dozens of built-in providers with default models that nobody configured: a built-in one
    # counts once it has a key; a custom one once it has a host.
    if not str(p.get("apiHost") or "").strip():
        return False
    return bool(str(p.get("apiKey") or "").strip()) or not p.get("isSystem")


def _as_routed(p: dict[str, Any], taken: set[str], version: AppVersion | None, notes: list[str]) -> dict[str, Any]:
    """The provider as a profile should name it: a gateway in a built-in provider the app routes by id becomes a
    provider of its own (as `doctor --fix` does), and a built-in's type is the one the app honours for its id."""
    from cherryconf.domain import moves

    pid = str(p.get("id"))
    if moves.needs_own_provider(p, version):
        own = moves.own_provider(p, taken, version)
        taken.add(own["id"])
        notes.append(_("{pid}: holds the gateway {host}, which Cherry Studio cannot use under that id; exported "
                       "as a provider of its own, {id!r}").format(
            pid=pid, host=routing.host_name(str(p.get("apiHost"))), id=own["id"]))
        return own
    honoured = routing.honoured_types(pid)
    if honoured is not None and p.get("type") not in honoured:
        notes.append(_("{pid}: exported with type {used}, what Cherry Studio uses for that id whatever the stored "
                       "type ({stored})").format(pid=pid, used=sorted(honoured)[0], stored=p.get("type")))
        return {**p, "type": sorted(honoured)[0]}
    return p


def select(providers: list[dict[str, Any]], ids: list[str] | None, version: AppVersion | None,
           notes: list[str]) -> list[dict[str, Any]]:
    """The chosen providers (default: every configured one) as a profile should name them; notes joins `notes`."""
    if ids:
        known = {str(p.get("id")) for p in providers}
        missing = [i for i in ids if i not in known]
        if missing:
            close = closest(missing[0], known)
            if close is not None:
                raise BadInput(_("the store has no provider {id!r}: did you mean {close!r}? (`cherryconf providers` "
                                 "lists them)").format(id=missing[0], close=close))
            raise BadInput(_("the store has no provider {id!r}; `cherryconf providers` lists them").format(
                id=missing[0]))
        chosen = [p for p in providers if str(p.get("id")) in ids]
    else:
        chosen = [p for p in providers if exportable(p)]
    if not chosen:
        raise BadInput(_("the store holds no configured provider to export"))
    taken = {str(p.get("id")) for p in providers}
    return [_as_routed(p, taken, version, notes) for p in chosen]


def to_profile(providers: list[dict[str, Any]], ids: list[str] | None = None, with_keys: bool = False,
               version: AppVersion | None = None, key_refs: Mapping[str, str] | None = None
               ) -> tuple[dict[str, Any], list[str]]:
    """(profile document, notes for the user) for the chosen providers (default: every configured one); `key_refs`:
    provider id -> the keychain reference its key came from, written instead of the key (ops.keys)."""
    notes: list[str] = []
    out = []
    referenced: list[str] = []
    chosen = select(providers, ids, version, notes)
    variables = env_names(chosen)
    for p in chosen:
        pid = str(p.get("id"))
        var = variables[pid]
        key = str(p.get("apiKey") or "")
        entry: dict[str, Any] = {"id": pid}
        name = str(p.get("name") or pid)
        if len(name) > 32:
            notes.append(_("{pid}: name shortened to 32 characters (the app's limit for names it is given)").format(
                             pid=pid))
            name = name[:32]
        entry["name"] = name
        entry["type"] = p.get("type", "openai")
        entry["apiHost"] = p.get("apiHost")
        if _REFERENCE.fullmatch(key):
            entry["apiKey"] = key
            referenced.append(key[2:-1])
        elif key_refs and pid in key_refs and not with_keys:
            entry["apiKey"] = key_refs[pid]
        else:
            entry["apiKey"] = key if with_keys and key else "${" + var + "}"
            if key and not with_keys:
                referenced.append(var)
        if not with_keys and isinstance(entry["apiHost"], str):
            entry["apiHost"] = _host_reference(var, entry["apiHost"], referenced)
        if not key:
            notes.append(_("{pid}: no key in the store; set {var} before applying").format(pid=pid, var=var))
        entry["models"] = [_model(m, pid) for m in p.get("models", []) if isinstance(m, dict) and m.get("id")]
        entry.update({k: p[k] for k in _PROFILE_FIELDS if p.get(k) is not None})
        _sendable_headers(entry, notes)
        if not with_keys and isinstance(entry.get("extra_headers"), dict):
            entry["extra_headers"] = _header_references(var, entry["extra_headers"], key, referenced)
        out.append(entry)
    if not with_keys:
        refs = ", ".join(referenced)
        if refs:
            notes.append(_("keys are written as references: set {refs} where you apply it (or use --with-keys)").format(
                             refs=refs))
    document = {"version": 1, "providers": out}
    _check_loads(document)
    return document, notes


def _header_references(var: str, headers: dict[str, Any], key: str, referenced: list[str]) -> dict[str, Any]:
    """The headers with every credential made a reference (joining `referenced`): the key inside a value (`Bearer
    sk-...`) becomes the key's own reference `var`, any other credential-like header (Authorization, api-key,
    cookie...) a reference of its own, `${<STEM>_HEADER_<NAME>}`."""
    keys = [] if _REFERENCE.fullmatch(key) else [k.strip() for k in key.split(",") if len(k.strip()) >= 6]
    out: dict[str, Any] = {}
    for name, value in headers.items():
        text = str(value)
        held = [k for k in keys if k in text]
        if _REFERENCE.fullmatch(text):
            out[name] = text
        elif held:
            for k in held:
                text = text.replace(k, "${" + var + "}")
            out[name] = text
            if var not in referenced:
                referenced.append(var)
        elif secret_header(str(name), text, []):
            header_var = var.removesuffix("_API_KEY") + "_HEADER_" + (_env_stem(str(name)) or "VALUE")
            out[name] = "${" + header_var + "}"
            referenced.append(header_var)
        else:
            out[name] = value
    return out


def _sendable_headers(entry: dict[str, Any], notes: list[str]) -> None:
    """Leave out the header values no request can carry (a profile refuses them), with a note each."""
    headers = entry.get("extra_headers")
    if not isinstance(headers, dict):
        return
    kept = {k: v for k, v in headers.items() if not (isinstance(v, str) and check_header_value(str(k), v))}
    for name in headers.keys() - kept.keys():
        notes.append(_("{pid}: header {name} left out: its value holds characters no HTTP request can carry "
                       "(`cherryconf doctor` says which)").format(pid=entry["id"], name=name))
    if kept:
        entry["extra_headers"] = kept
    else:
        del entry["extra_headers"]


def _host_reference(var: str, host: str, referenced: list[str]) -> str:
    """`host` with the user-info it carries (`https://user:password@gw/v1`, a password as good as a key) made a
    reference of its own, `${<STEM>_URL_CREDENTIALS}` (joining `referenced`)."""
    found = _URL_CREDENTIALS.search(host)
    if not found or _REFERENCE.fullmatch(found.group(1)):
        return host
    url_var = var.removesuffix("_API_KEY") + "_URL_CREDENTIALS"
    referenced.append(url_var)
    return host[:found.start(1)] + "${" + url_var + "}" + host[found.end(1):]


_URL_CREDENTIALS = re.compile(r"(?<=://)([^/?#\s@]+)@")


def _check_loads(document: dict[str, Any]) -> None:
    """An export that `apply` would refuse is no export: load it as apply would, with every reference set."""
    from cherryconf.formats import profile

    refs = {key_env_name(str(p["id"])): "placeholder" for p in document["providers"]}
    refs.update({str(p["apiKey"])[2:-1]: "placeholder" for p in document["providers"]
                 if _REFERENCE.fullmatch(str(p["apiKey"]))})
    refs.update({m[2:-1]: "placeholder" for p in document["providers"]
                 for v in (p.get("extra_headers") or {}).values() for m in _REFERENCE.findall(str(v))})
    refs.update({m[2:-1]: "placeholder" for p in document["providers"]
                 for m in _REFERENCE.findall(str(p.get("apiHost") or ""))})
    try:
        profile.parse(document, "export", env=refs)
    except BadInput as e:
        raise BadInput(_("cannot export this store as a profile: {reason}").format(
            reason=e.message.removeprefix("export: "))) from None
