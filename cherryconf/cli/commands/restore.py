"""`cherryconf restore`: put a backup back."""

from __future__ import annotations

import contextlib
from typing import Any

import click

from cherryconf.cli.base import Options, command, confirm, emit, json_option, lang_option, pass_options
from cherryconf.cli.commands import HELP
from cherryconf.i18n import _


@command(help=HELP["restore"])
@json_option
@lang_option
@click.argument("backup_id", metavar="[ID]", required=False)
@click.option("--dry-run", is_flag=True, help=_("Show what would change; write nothing."))
@click.option("--yes", "-y", is_flag=True, help=_("Do not ask for confirmation."))
@click.option("--force", is_flag=True, help=_("Restore a backup taken from another install."))
@click.option("--keep", type=click.IntRange(min=1), default=20, show_default=True, help=_("Backups to keep."))
@pass_options
def restore(opts: Options, backup_id: str | None, dry_run: bool, yes: bool, force: bool, keep: int) -> None:
    from cherryconf import render
    from cherryconf.ops.restore import execute, prepare
    from cherryconf.ops.result import Result, change_json

    context = opts.context()
    inst = opts.install()
    with contextlib.nullcontext() if dry_run else opts.writing(inst):
        rp = prepare(context, inst, backup_id, force)
        preview = (render.changes_text(rp.changes, rp.restored, rp.install.version)
                   or _("providers: no differences (other settings may differ)"))
        if not rp.current_readable:
            preview = _("the current store cannot be read; restoring replaces it whole") + "\n" + preview
        document: dict[str, Any] = {
            "backup": rp.backup.id, "install": str(rp.install.data_dir), "dry_run": dry_run,
            "changes": [change_json(c) for c in rp.changes], "warning": rp.warning, "pre_restore_backup": None,
        }
        if rp.warning and not opts.json:
            click.echo(_("warning: {warning}").format(warning=rp.warning), err=True)
        if dry_run:
            emit(opts, Result(document, _("restoring {id} would change:").format(id=rp.backup.id)
                              + f"\n{preview}\n" + _("(dry run: nothing written)")))
            return
        if not opts.json:
            click.echo(_("restoring {id}:").format(id=rp.backup.id) + f"\n{preview}")
        confirm(_("Replace the store in {dir} with backup {id}?").format(dir=rp.install.data_dir, id=rp.backup.id),
                yes)
        done = execute(context, rp, keep)
    document["pre_restore_backup"] = str(done.pre_restore.path)
    emit(opts, Result(document, _("restored {id}; restart Cherry Studio to see it").format(id=rp.backup.id) + "\n"
                      + _("the state from before is in backup: {path}").format(path=done.pre_restore.path)))
