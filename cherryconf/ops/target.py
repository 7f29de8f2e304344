"""Which one provider a command works on: one named in the store, or one from a profile."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cherryconf.domain.endpoints import AppVersion
from cherryconf.errors import BadInput, closest
from cherryconf.formats import profile
from cherryconf.i18n import _

if TYPE_CHECKING:
    from cherryconf.stores.install import Install


def find(providers: list[dict[str, Any]], wanted: str) -> dict[str, Any]:
    """The provider `wanted` names: its id, else its name, exactly, then ignoring case (the app gives providers
    made in its UI a UUID id nobody types, so the name has to do)."""
    def named(match: Callable[[str], bool]) -> list[dict[str, Any]]:
        return [p for p in providers if match(str(p.get("id", ""))) or match(str(p.get("name", "")))]

    exact_id = [p for p in providers if p.get("id") == wanted]
    found = exact_id or named(lambda v: v == wanted) or named(lambda v: v.casefold() == wanted.casefold())
    if not found:
        close = closest(wanted, [str(p.get(k, "")) for p in providers for k in ("id", "name")])
        if close is not None:
            raise BadInput(_("the store has no provider with the id or name {wanted!r}: did you mean {close!r}? "
                             "(`cherryconf providers` lists them)").format(wanted=wanted, close=close))
        raise BadInput(_("the store has no provider with the id or name {wanted!r}: `cherryconf providers` lists "
                         "them").format(wanted=wanted))
    if len(found) > 1:
        ids = ", ".join(repr(p.get("id")) for p in found)
        raise BadInput(_("several providers are called {wanted!r} ({ids}): give the id with --provider").format(
                           wanted=wanted, ids=ids))
    return found[0]


def checkable(provider: dict[str, Any]) -> bool:
    """Worth verifying unasked: enabled, with a key, models, and a gateway URL on the OpenAI-compatible rules."""
    host = str(provider.get("apiHost") or "").strip().lower()
    return (bool(provider.get("enabled")) and bool(str(provider.get("apiKey") or "").strip())
            and bool(provider.get("models")) and host.startswith(("http://", "https://"))
            and provider.get("type") in ("openai", "openai-response"))


def from_store(install: Install, wanted: str | None) -> list[dict[str, Any]]:
    """The provider named (by id or name), or every one worth verifying when none is named."""
    from cherryconf.stores import open_store

    providers = open_store(install).read().providers
    chosen = [find(providers, wanted)] if wanted is not None else [p for p in providers if checkable(p)]
    return [_unsealed(p, install.data_dir) for p in chosen]


def _unsealed(provider: dict[str, Any], data_dir: Path) -> dict[str, Any]:
    """The provider with the key Cherry Studio sealed read back; as it is when that cannot be done here (probe
    then refuses to send it, with the sentence that says how to give the key)."""
    from cherryconf.stores import sealed

    key = str(provider.get("apiKey") or "")
    if not sealed.is_sealed(key):
        return provider
    try:
        return {**provider, "apiKey": sealed.unseal(key, data_dir)}
    except sealed.SealedKey:
        return provider


def from_profile(path: Path, provider_id: str | None, app_version: AppVersion | None) -> dict[str, Any]:
    loaded = profile.load(path, app_version=app_version)
    patches = loaded.providers
    if provider_id is not None:
        patches = [p for p in patches if p.id == provider_id]
        if not patches:
            close = closest(provider_id, [p.id for p in loaded.providers])
            if close is not None:
                raise BadInput(_("{source}: no provider {provider_id!r} in this profile: did you mean "
                                 "{close!r}?").format(source=loaded.source, provider_id=provider_id, close=close))
            raise BadInput(_("{source}: no provider {provider_id!r} in this profile").format(
                               source=loaded.source, provider_id=provider_id))
    if len(patches) > 1:
        ids = ", ".join(p.id for p in patches)
        raise BadInput(_("{source} has several providers ({ids}): choose one with --provider ID").format(
                           source=loaded.source, ids=ids))
    return patches[0].new_provider
