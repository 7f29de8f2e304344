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
    from cherryconf.errors import StoreError
    from cherryconf.ops.result import Result
    from cherryconf.render import restore as view
    from cherryconf.stores import backup, record

    context = opts.context()
    found = backup.list_backups(context, opts.install() if opts.data_dir else None)

    def line(b: backup.Backup) -> str:
        try:
            return view.record_line(record.load(b))
        except StoreError:
            return _("(record damaged)")

    changed = {b.id: line(b) for b in found}
    items = [{
        "id": b.id, "time": b.manifest.created_at.isoformat(), "install": b.manifest.install,
        "store": b.manifest.store_kind, "reason": b.manifest.reason, "size": b.size,
        "providers": len(b.manifest.providers), "path": str(b.path), "changed": changed[b.id],
    } for b in found]
    rows = [[b.id, f"{b.manifest.created_at.astimezone():%Y-%m-%d %H:%M:%S}", b.manifest.install,
             b.manifest.reason, render.size(b.size), str(len(b.manifest.providers)), changed[b.id]] for b in found]
    emit(opts, Result({"backups_dir": str(context.backups_dir), "backups": items},
                      render.table([_("ID"), _("TIME"), _("INSTALL"), _("REASON"), _("SIZE"), _("PROVIDERS"),
                                    _("CHANGED AFTER")], rows)
                      or _("no backups in {dir}").format(dir=context.backups_dir)))
