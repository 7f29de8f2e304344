"""`cherryconf providers`: the store's providers, one line each, keys masked."""

from __future__ import annotations

from typing import Any

import click

from cherryconf.cli.base import Options, command, emit, json_option, lang_option, pass_options
from cherryconf.cli.commands import HELP
from cherryconf.i18n import _, ngettext


@command(help=HELP["providers"])
@click.option("--all", "show_all", is_flag=True,
              help=_("Also list the built-in providers nobody set up (turned off, no key, no models)."))
@json_option
@lang_option
@pass_options
def providers(opts: Options, show_all: bool) -> None:
    from cherryconf import render
    from cherryconf.domain import routing
    from cherryconf.ops.result import Result
    from cherryconf.redact import mask, mask_url
    from cherryconf.stores import open_store, owners

    inst = opts.install()
    state = open_store(inst).read()
    record = owners.load(opts.context(), inst)
    version = inst.version
    items: list[dict[str, Any]] = []
    rows: list[list[str]] = []
    unused = 0  # 2.x lists each of its 60-odd presets: a table of them hides the few the user set up
    for p in state.providers:
        urls = routing.provider_urls(p, version)
        models = [str(m.get("id")) for m in p.get("models", [])]
        key = mask(str(p.get("apiKey") or "")) or None  # no key: null in --json
        owner = record.owner_of(str(p.get("id")))
        on = p.get("enabled") is True  # the app lists a provider whose `enabled` is missing as off
        items.append({"id": p.get("id"), "name": p.get("name"), "type": p.get("type"),
                      "url": mask_url(urls.main) if urls.main else None,
                      "urls_by_model": {m: mask_url(u) if u else u for m, u in urls.by_model.items()},
                      "routed_by_id": urls.by_id, "models": models, "apiKey": key,
                      "enabled": on, "owner": owner})
        if not (show_all or on or key or models):
            unused += 1
            continue
        shown_key = key or _("(none)")
        rows.append([str(p.get("id")), str(p.get("name", "")), str(p.get("type", "")), _("yes") if on else _("no"),
                     render.urls_text(urls), str(len(models)), shown_key, owner or "-"])
    emit(opts, Result({"install": str(inst.data_dir), "store": inst.kind, "providers": items},
                      render.table([_("ID"), _("NAME"), _("TYPE"), _("ENABLED"), _("CHAT URL"), _("MODELS"), _("KEY"),
                                    _("OWNER")], rows, shrink=(1, 4))  # the name and the URL
                      + ("\n" + ngettext("(and {n} provider nobody set up: turned off, no key, no models; --all "
                                          "lists it)",
                                          "(and {n} providers nobody set up: turned off, no key, no models; --all "
                                          "lists them)", unused).format(n=unused) if unused else "")))
