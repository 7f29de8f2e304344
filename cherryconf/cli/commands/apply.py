"""`cherryconf apply`: make the store hold a profile's providers (one install, or every user's)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import click

from cherryconf.cli.base import Options, PathParam, command, confirm, emit, json_option, lang_option, say
from cherryconf.cli.commands import HELP
from cherryconf.cli.commands.link import link
from cherryconf.errors import BadInput, ExitCode, StoreError
from cherryconf.i18n import _, ngettext

if TYPE_CHECKING:
    from pathlib import Path

    from cherryconf.domain.endpoints import AppVersion
    from cherryconf.domain.plan import Plan
    from cherryconf.ops import allusers
    from cherryconf.ops.apply import Written


def _written_text(w: Written, with_changes: bool = True) -> str:
    from cherryconf import render

    if w.backup is None:
        return _("no changes: the store already holds this profile")
    lines = [render.plan_text(w.plan, w.install.version)] if with_changes else []
    n = len(w.plan.changed_ids)
    lines.append(ngettext("wrote {dir} ({n} provider changed)", "wrote {dir} ({n} providers changed)", n).format(
        dir=w.install.data_dir, n=n))
    lines.append(_("restart Cherry Studio to see the change"))
    lines.append(_("backup: {path}").format(path=w.backup.path))
    return "\n".join(lines)


def _preview_text(p: Plan, check: bool, version: AppVersion | None) -> str:
    from cherryconf import render

    if not p.changed:
        return (_("up to date: the store already holds this profile") if check
                else _("no changes: the store already holds this profile"))
    note = (_("(check: applying would change the store as above; nothing written)") if check
            else _("(dry run; nothing written)"))
    return f"{render.plan_text(p, version)}\n{note}"


@command(help=HELP["apply"])
@json_option
@lang_option
@click.argument("profile_path", metavar="PROFILE", type=PathParam())
@click.option("--dry-run", is_flag=True, help=_("Print the plan and the diff; write nothing."))
@click.option("--check", is_flag=True,
              help=_("Drift check: write nothing; exit 0 when the store holds the profile, 5 when it would change."))
@click.option("--owner", metavar="NAME",
              help=_("Apply as this owner: its providers become exactly the profile's (a profile's `owner` must "
                     "agree)."))
@click.option("--all-users", is_flag=True, help=_("Apply to every user's install here (as root or Administrator)."))
@click.option("--yes", "-y", is_flag=True, help=_("Do not ask for confirmation."))
@click.option("--via", type=click.Choice(["store", "link"]), default="store", show_default=True,
              help=_("Write the store, or print the app's import links instead."))
@click.option("--keep", type=click.IntRange(min=1), default=20, show_default=True, help=_("Backups to keep."))
@click.pass_context
def apply(ctx: click.Context, profile_path: Path, dry_run: bool, check: bool, owner: str | None, all_users: bool,
          yes: bool, via: str, keep: int) -> None:
    from cherryconf import render
    from cherryconf.formats import profile
    from cherryconf.ops import keys
    from cherryconf.ops.apply import prepare, turned_off, write
    from cherryconf.ops.result import Result, apply_json

    opts: Options = ctx.obj
    if via == "link":
        if check or all_users or owner:
            raise BadInput(_("--via link only prints import links: it cannot be combined with --check, --owner or "
                             "--all-users"))
        ctx.invoke(link, profile_path=profile_path, open_it=False)
        return
    document = profile.read(profile_path)  # parsed once: a profile of 1,000 providers is half a megabyte
    # a bad one is the first to report
    profile.with_owner(profile.load(profile_path, document=document, keep_unread_keys=check), owner)
    if all_users:
        _apply_all_users(opts, profile_path, owner, "check" if check else "dry-run" if dry_run else "apply", yes,
                         keep)
        return
    inst = opts.install()
    # Loaded again for the installed version: it decides the form of a `#` apiHost and the URLs shown.
    version = inst.version
    loaded = profile.with_owner(profile.load(profile_path, app_version=inst.line, document=document,
                                             keep_unread_keys=check), owner)
    loaded, key_notes = keys.settle_unread(opts.context(), inst, loaded)  # --check with the keychain locked
    all_notes = [*loaded.notes, *key_notes]
    for note in all_notes if not opts.json else ():
        say(note, err=True)
    notes = {"notes": all_notes} if all_notes else {}  # --json: what was left out or not checked, and why
    with contextlib.nullcontext() if dry_run or check else opts.writing(inst):
        prepared = prepare(inst, loaded, opts.context())
        p = prepared.plan
        off = turned_off(loaded, p)
        said_off = "".join("\n" + _off_text(pid) for pid in off)
        if check or dry_run:
            emit(opts, Result(apply_json(inst, p, None, loaded.owner, dry_run=dry_run, check=check)
                              | {"turned_off": off} | notes,
                              _preview_text(p, check, version) + said_off,
                              ExitCode.PROBLEMS_FOUND if check and p.changed else ExitCode.OK))
            return
        if p.changed:
            if not opts.json:
                say(render.plan_text(p, version))
            confirm(_("Write these changes to {dir}?").format(dir=inst.data_dir), yes)
        written = write(opts.context(), prepared, "apply", keep)
        keys.remember(opts.context(), inst, loaded)  # what --check compares when the keychain is locked
    # The JSON document only when it is printed: for a profile of 1,000 providers it takes a tenth of a second.
    emit(opts, Result(apply_json(inst, p, written.backup, loaded.owner) | {"turned_off": off} | notes
                      if opts.json else {}, _written_text(written, with_changes=False) + said_off))


def _off_text(pid: str) -> str:
    return _("{id}: as the profile says, but turned off in the app; add `enabled: true` to the profile to turn it "
             "on").format(id=pid)


def _apply_all_users(opts: Options, profile_path: Path, owner: str | None, mode: allusers.Mode, yes: bool,
                     keep: int) -> None:
    """--all-users: every user's install, one after the other; one user's failure does not stop the others."""
    from cherryconf import render
    from cherryconf.ops import allusers
    from cherryconf.ops.result import Result

    if opts.data_dir is not None:
        raise BadInput(_("--all-users finds every user's install itself: leave out --data-dir"))
    context = opts.context()
    allusers.ensure_admin(context.system)
    targets, problems = allusers.find(allusers.users(context), context.system)
    if not targets and not problems:
        raise StoreError(_("no Cherry Studio data found in any user's home on this machine"))
    if mode == "apply" and targets:
        if not opts.json:
            say("\n".join(f"{t.user.name}: {t.install.data_dir}" for t in targets))
        # Worded apart, not one message's plural forms: Chinese has one form, and "this one" takes no count.
        confirm((_("Apply {profile} to this install?") if len(targets) == 1 else
                 _("Apply {profile} to these {n} installs?")).format(profile=profile_path.name, n=len(targets)), yes)
    outcomes = problems + allusers.run(targets, profile_path, owner, mode, keep, context.system)
    emit(opts, Result(render.all_users_json(outcomes, mode), render.all_users_text(outcomes, mode),
                      allusers.exit_code(outcomes)))
