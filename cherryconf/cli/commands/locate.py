"""`cherryconf locate`: the Cherry Studio installs found, and what each holds."""

from __future__ import annotations

from cherryconf.cli.base import Options, command, emit, json_option, lang_option, pass_options
from cherryconf.cli.commands import HELP
from cherryconf.i18n import _


@command(help=HELP["locate"])
@json_option
@lang_option
@pass_options
def locate(opts: Options) -> None:
    from cherryconf.ops.result import Result
    from cherryconf.stores import edition
    from cherryconf.stores.install import find_installs, inspect, resolve, running_reason

    context = opts.context()
    app = edition.detect()
    found = [inspect(opts.data_dir, "--data-dir")] if opts.data_dir is not None else find_installs(context)
    rows = []
    for inst in found:
        rows.append({
            "data_dir": str(inst.data_dir), "store": inst.kind, "app_version": inst.app_version,
            "found_by": inst.found_by, "running": running_reason(inst),
            "edition": app.edition if app else None,
        })
    # Both editions keep their data in the same folder: the edition is the installed app's.
    shown = (_("{product} (links: {scheme}://)").format(product=edition.PRODUCT[app.edition],
                                                         scheme=edition.SCHEME[app.edition]) if app
             else _("unknown (no installed app found; links use cherrystudio://)"))
    lines = [
        _("{data_dir}\n  store: {store}, app version: {version}, found by: {found_by}, running: {running}").format(
            data_dir=r["data_dir"], store=r["store"], version=r["app_version"] or _("unknown"),
            found_by=r["found_by"], running=r["running"] or _("no")) + "\n  " + _("edition: {edition}").format(
            edition=shown)
        for r in rows
    ]
    if not rows:
        resolve(context, None)  # raises the error that says where cherryconf looked
    emit(opts, Result({"installs": rows}, "\n".join(lines)))
