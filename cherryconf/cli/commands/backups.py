"""`cherryconf backups`: list the backups."""

from __future__ import annotations

from cherryconf.cli.base import Options, command, emit, json_option, lang_option, pass_options
from cherryconf.cli.commands import HELP
from cherryconf.i18n import _


@command(help=HELP["backups"])
@json_option
@lang_option
@pass_options
def backups(opts: Options) -> None:
    from cherryconf import render
    from cherryconf.ops.result import Result
    from cherryconf.stores import backup

    context = opts.context()
    found = backup.list_backups(context, opts.install() if opts.data_dir else None)
    items = [{
        "id": b.id, "time": b.manifest.created_at.isoformat(), "install": b.manifest.install,
        "store": b.manifest.store_kind, "reason": b.manifest.reason, "size": b.size,
        "providers": len(b.manifest.providers), "path": str(b.path),
    } for b in found]
    rows = [[b.id, f"{b.manifest.created_at.astimezone():%Y-%m-%d %H:%M:%S}", b.manifest.install,
             b.manifest.reason, render.size(b.size), str(len(b.manifest.providers))] for b in found]
    emit(opts, Result({"backups_dir": str(context.backups_dir), "backups": items},
                      render.table([_("ID"), _("TIME"), _("INSTALL"), _("REASON"), _("SIZE"), _("PROVIDERS")], rows)
                      or _("no backups in {dir}").format(dir=context.backups_dir)))
