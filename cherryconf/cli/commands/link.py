"""`cherryconf link`: the app's own import link for each provider of a profile."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from cherryconf.cli.base import Options, PathParam, command, emit, json_option, lang_option, pass_options, say
from cherryconf.cli.commands import HELP
from cherryconf.i18n import _

if TYPE_CHECKING:
    from pathlib import Path



@command(help=HELP["link"])
@json_option
@lang_option
@click.argument("profile_path", metavar="PROFILE", type=PathParam())
@click.option("--open", "open_it", is_flag=True,
              help=_("Hand each link to the operating system (opens the app), one at a time."))
@click.option("--sync-models", is_flag=True,
              help=_("Ask the app to fetch the gateway's model list once the import is accepted (Cherry Studio 2.x)."))
@pass_options
def link(opts: Options, profile_path: Path, open_it: bool, sync_models: bool = False) -> None:
    from cherryconf.domain import routing
    from cherryconf.formats import deeplink, profile
    from cherryconf.ops.result import Result
    from cherryconf.redact import mask_url
    from cherryconf.stores import edition

    loaded = profile.load(profile_path)
    # The installed app's edition decides the scheme the OS hands to it (the China edition's is its own).
    found = edition.detect()
    scheme = edition.SCHEME[found.edition if found else "global"]
    links = [(p.id, deeplink.build(p.new_provider, scheme, sync_models)) for p in loaded.providers]
    # No install is read: the URL is the one the newest 1.x app calls for a provider of that id and type.
    urls = {p.id: routing.chat_url(p.new_provider) for p in loaded.providers}
    note = _("Import links carry no models: after importing, add the models in the app, "
             "or use `cherryconf apply` to write them too.")
    emit(opts, Result({"links": [{"id": i, "link": u, "chat_url": urls[i]} for i, u in links], "note": note,
                       "warning": deeplink.KEY_WARNING, "edition": found.edition if found else None},
                      "\n".join(u for _pid, u in links)))
    say(deeplink.KEY_WARNING, err=True)
    if not opts.json:
        for pid, url in urls.items():
            say(_("{id}: chats will go to {url} once imported").format(
                id=pid, url=mask_url(url) if url else _("(a URL cherryconf cannot tell)")), err=True)
        say(note, err=True)
    for n, (pid, url) in enumerate(links if open_it else []):
        if n and sys.stdin.isatty():
            # The app shows one confirmation at a time: the next link waits until this one is answered.
            click.pause(_("Press any key once Cherry Studio has asked about {asked!r}, to open {next!r}...").format(
                asked=links[n - 1][0], next=pid), err=True)
        deeplink.open_link(url, pid)
