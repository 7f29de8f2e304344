"""`cherryconf restore`: undo what cherryconf changed since a backup, or put a backup back whole."""

from __future__ import annotations

import contextlib

import click

from cherryconf.cli.base import Options, command, confirm, emit, json_option, lang_option, pass_options, say
from cherryconf.cli.commands import HELP
from cherryconf.i18n import _


@command(help=HELP["restore"])
@json_option
@lang_option
@click.argument("backup_id", metavar="[ID]", required=False)
@click.option("--whole", "mode", flag_value="whole",
              help=_("Put the whole store back as it was (topics, settings and chats changed since are lost)."))
@click.option("--providers", "mode", flag_value="providers",
              help=_("Put back only the backup's providers, compared with the store's."))
@click.option("--dry-run", is_flag=True, help=_("Show what would change; write nothing."))
@click.option("--yes", "-y", is_flag=True, help=_("Do not ask for confirmation."))
@click.option("--force", is_flag=True, help=_("Also put back values changed in the app since, and restore a backup "
                                              "taken from another install."))
@click.option("--keep", type=click.IntRange(min=1), default=20, show_default=True, help=_("Backups to keep."))
@pass_options
def restore(opts: Options, backup_id: str | None, mode: str | None, dry_run: bool, yes: bool, force: bool,
            keep: int) -> None:
    from cherryconf import render
    from cherryconf.errors import ExitCode
    from cherryconf.ops.restore import execute, no_record_text, prepare
    from cherryconf.ops.result import Result
    from cherryconf.render import restore as view

    context = opts.context()
    inst = opts.install()
    with contextlib.nullcontext() if dry_run else opts.writing(inst):
        rp = prepare(context, inst, backup_id, force, mode or "undo")  # type: ignore[arg-type]
        changes = (render.plan_text(rp.write, rp.install.version) if rp.write is not None
                   else render.changes_text(rp.changes, rp.restored, rp.install.version))
        preview = view.preview(rp, changes.strip("\n"))
        document = view.document(rp, dry_run)
        if rp.warning and not opts.json:
            from cherryconf import console

            say(console.paint(_("warning: {warning}").format(warning=rp.warning), console.CHANGE), err=True)
        if rp.no_record is not None:
            emit(opts, Result(document, _("restoring {id} whole would change:").format(id=rp.backup.id)
                              + f"\n{preview}", ExitCode.BAD_INPUT, no_record_text(rp)))
            return
        if dry_run:
            emit(opts, Result(document, _("restoring {id} would change:").format(id=rp.backup.id)
                              + f"\n{preview}\n" + _("(dry run: nothing written)")))
            return
        if not rp.changed:
            emit(opts, Result(document, _("restoring {id}:").format(id=rp.backup.id) + f"\n{preview}\n"
                              + _("nothing to write")))
            return
        if not opts.json:
            say(_("restoring {id}:").format(id=rp.backup.id) + f"\n{preview}")
        question = (_("Replace the whole store in {dir} with backup {id}?") if rp.mode == "whole"
                    else _("Write these changes to {dir}?"))
        confirm(question.format(dir=rp.install.data_dir, id=rp.backup.id), yes)
        done = execute(context, rp, keep)
    assert done.pre_restore is not None
    document["pre_restore_backup"] = str(done.pre_restore.path)
    emit(opts, Result(document, _("restored {id}; restart Cherry Studio to see it").format(id=rp.backup.id) + "\n"
                      + _("the state from before is in backup: {path}").format(path=done.pre_restore.path)))
