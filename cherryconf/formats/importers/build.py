"""The profile an imported source becomes: `export`'s profile of the chosen providers, and what was left out."""

from __future__ import annotations

from typing import Any

from cherryconf.domain import twins
from cherryconf.domain.endpoints import AppVersion, normalise_api_host
from cherryconf.errors import BadInput
from cherryconf.formats import export
from cherryconf.formats.importers import Source
from cherryconf.i18n import _, ngettext
from cherryconf.stores import sealed


def to_profile(source: Source, take_all: bool = False, with_keys: bool = False,
               version: AppVersion | None = None, held: list[dict[str, Any]] | None = None
               ) -> tuple[dict[str, Any], list[str]]:
    """(profile document, notes): by default the custom providers and the built-in ones holding a key;
    `take_all`: every provider that has a base URL. `held`: the providers of the install the profile is for; a
    gateway it holds under another id keeps that id (twins.find), so applying updates it instead of adding a twin."""
    # Keys Cherry Studio sealed that no reader could open (a backup, a bare database) are left out, never imported.
    opened, sealed_notes = sealed.opened(source.providers, None)
    providers, notes = _unique(opened)
    hostless = [p for p in providers if not str(p.get("apiHost") or "").strip()]
    # A built-in provider nobody set up: 2.x stores no base URL for it (the app takes it from its own list) and
    # no key. Nothing is wrong with it; there is just nothing to import yet.
    unset = [p for p in hostless if _keyless_built_in(p)]
    hostless = [p for p in hostless if not _keyless_built_in(p)]
    with_host = [p for p in providers if str(p.get("apiHost") or "").strip()]
    chosen = with_host if take_all else [p for p in with_host if export.exportable(p)]
    skipped = [] if take_all else [p for p in with_host if not export.exportable(p)]  # keyless built-ins too
    notes = [_("read {what}").format(what=source.what), *source.notes, *sealed_notes, *notes]
    chosen, unusable = _with_base_urls(chosen, version)
    notes += unusable
    chosen, matched = _as_held(chosen, held or [])
    notes += matched
    if not chosen and (unset or skipped) and not (hostless or unusable):
        # A fresh install: every provider is a built-in one still waiting for its key.
        n = len(unset) + len(skipped)
        raise BadInput(ngettext(
            "{what} holds no provider to import: its {n} built-in provider has no key yet (set it up in Cherry "
            "Studio first, or write the profile yourself with its base URL and key)",
            "{what} holds no provider to import: its {n} built-in providers have no key yet (set one up in Cherry "
            "Studio first, or write the profile yourself with its base URL and key)", n).format(
                what=source.what, n=n))
    if not chosen:
        raise BadInput(_("{what} holds no provider to import").format(what=source.what))
    document, export_notes = export.to_profile(chosen, [str(p.get("id")) for p in chosen], with_keys, version)
    n = len(document["providers"])
    notes.append(ngettext("took {n} provider: {ids}", "took {n} providers: {ids}", n).format(
        n=n, ids=", ".join(str(p["id"]) for p in document["providers"])))
    if skipped:
        notes.append(ngettext("left out {n} built-in provider without a key (--all takes it): {ids}",
                              "left out {n} built-in providers without a key (--all takes them): {ids}",
                              len(skipped)).format(n=len(skipped), ids=", ".join(str(p.get("id")) for p in skipped)))
    if unset:
        notes.append(ngettext(
            "left out {n} built-in provider that has no key yet: {ids} (set it up in Cherry Studio first, or add it "
            "to the profile with its base URL and key)",
            "left out {n} built-in providers that have no key yet: {ids} (set one up in Cherry Studio first, or add "
            "it to the profile with its base URL and key)", len(unset)).format(
                n=len(unset), ids=", ".join(str(p.get("id")) for p in unset)))
    if hostless:
        notes.append(ngettext("left out {n} provider without a base URL, which Cherry Studio cannot call: {ids}",
                              "left out {n} providers without a base URL, which Cherry Studio cannot call: {ids}",
                              len(hostless)).format(n=len(hostless), ids=", ".join(str(p.get("id")) for p in hostless)))
    return document, notes + export_notes


def _keyless_built_in(p: dict[str, Any]) -> bool:
    return bool(p.get("isSystem")) and not str(p.get("apiKey") or "").strip()


def _with_base_urls(providers: list[dict[str, Any]], version: AppVersion | None
                    ) -> tuple[list[dict[str, Any]], list[str]]:
    """The providers with their URLs as base URLs (a full `.../v1/chat/completions` pasted into another tool
    becomes what Cherry Studio appends its endpoints to), and a note for each whose URL is not usable."""
    usable, notes = [], []
    for p in providers:
        try:
            usable.append({**p, "apiHost": normalise_api_host(str(p["apiHost"]), version)})
        except BadInput as e:
            notes.append(_("left out {id}: its base URL is not usable ({reason})").format(id=p.get("id"),
                                                                                         reason=e.message))
    return usable, notes


def _as_held(providers: list[dict[str, Any]], held: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The providers, each gateway the install already holds under another id taken under that id; a note each."""
    out, notes = [], []
    taken = {str(p.get("id")) for p in providers}
    for p in providers:
        twin = twins.find(p, held, taken - {str(p.get("id"))})
        if twin is None or twin.held_id in taken:
            out.append(p)
            continue
        taken.add(twin.held_id)
        models = [{**m, "provider": twin.held_id} if isinstance(m, dict) else m for m in p.get("models") or []]
        out.append({**p, "id": twin.held_id, "models": models})
        notes.append(_("{id}: the install here already holds this gateway as {held} ({why}), so the profile updates "
                       "{held} instead of adding a second one").format(id=p.get("id"), held=twin.held_id,
                                                                       why=twin.why))
    return out, notes


def _unique(providers: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """One provider per id, the last one given (as applying them one after the other would leave it)."""
    last = {str(p.get("id")): p for p in providers}
    kept = [p for p in providers if last[str(p.get("id"))] is p]
    dropped = sorted({str(p.get("id")) for p in providers if last[str(p.get("id"))] is not p})
    return kept, [_("{id}: given more than once; the last one is taken").format(id=i) for i in dropped]
