"""`cherryconf doctor`: find broken providers and, with --fix, repair them."""

from __future__ import annotations

import contextlib
from typing import Any

import click

from cherryconf.cli.base import Options, command, confirm, emit, json_option, lang_option, pass_options, say
from cherryconf.cli.commands import HELP
from cherryconf.errors import ExitCode
from cherryconf.i18n import _, ngettext


@command(help=HELP["doctor"])
@json_option
@lang_option
@click.option("--fix", is_flag=True, help=_("Repair what can be repaired (backs up first)."))
@click.option("--yes", "-y", is_flag=True, help=_("Do not ask for confirmation."))
@click.option("--keep", type=click.IntRange(min=1), default=20, show_default=True, help=_("Backups to keep."))
@pass_options
def doctor(opts: Options, fix: bool, yes: bool, keep: int) -> None:
    from cherryconf import render
    from cherryconf.ops.doctor import diagnose, repair
    from cherryconf.ops.result import Result
    from cherryconf.stores import open_store

    inst = opts.install()
    # --fix writes what it diagnosed: no other cherryconf may write in between.
    with opts.writing(inst) if fix else contextlib.nullcontext():
        store = open_store(inst)
        version = inst.version
        found = diagnose(store.read(), version, line=inst.line)
        document: dict[str, Any] = {"install": str(inst.data_dir), "findings": [render.finding_json(f) for f in
                                                                                found.findings],
                                    "fixed": [], "backup": None}
        text = render.findings_text(found.findings)
        if not found.problems:
            emit(opts, Result(document, "\n".join(t for t in (text, _("no problems found")) if t)))
            return
        if not fix:
            hint = "\n" + _("run `cherryconf doctor --fix` to repair them") if found.fixable else ""
            emit(opts, Result(document, text + hint, ExitCode.PROBLEMS_FOUND))
        if found.plan.changed:
            if not opts.json:
                say(text + "\n\n" + _("The fix changes:") + "\n" + render.plan_text(found.plan, version))
            n = len(found.fixable)
            confirm(ngettext("Repair {n} problem in {dir}?", "Repair {n} problems in {dir}?", n).format(
                n=n, dir=inst.data_dir), yes)
        done = repair(opts.context(), inst, store, found, version, keep, line=inst.line)
        remaining = [f for f in done.remaining if f.severity != "note"]
        document["fixed"] = [render.finding_json(f) for f in done.fixed]
        document["backup"] = str(done.backup.path) if done.backup else None
        document["remaining"] = [render.finding_json(f) for f in remaining]
        lines = [ngettext("repaired {n} problem; backup: {backup}", "repaired {n} problems; backup: {backup}",
                          len(done.fixed)).format(n=len(done.fixed), backup=document["backup"])] if done.fixed else []
        if done.fixed:
            lines.append(_("restart Cherry Studio to see the change"))
        if remaining:
            lines.append(_("still to fix by hand:") + "\n" + render.findings_text(remaining))
        emit(opts, Result(document, "\n".join(lines), ExitCode.PROBLEMS_FOUND if remaining else ExitCode.OK))
