"""`cherryconf export` and `cherryconf import`: a profile from the store, or from providers kept elsewhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from cherryconf.cli.base import Options, PathParam, command, emit, json_option, lang_option, pass_options
from cherryconf.cli.commands import HELP
from cherryconf.errors import BadInput, CherryconfError
from cherryconf.i18n import _

if TYPE_CHECKING:
    from pathlib import Path

    from cherryconf.domain.endpoints import AppVersion


@command(help=HELP["export"])
@json_option
@lang_option
@click.option("--provider", "provider_ids", multiple=True, metavar="ID",
              help=_("Export only this provider (repeatable)."))
@click.option("--with-keys", is_flag=True, help=_("Write the keys themselves instead of ${VAR} references."))
@click.option("-o", "--output", type=PathParam(dir_okay=False), help=_("Write to this file."))
@click.option("--format", "fmt", type=click.Choice(["profile", "cherry"]), default="profile", show_default=True,
              help=_("profile: cherryconf's profile; cherry: Cherry Studio 2.1's provider export (JSON)."))
@pass_options
def export(opts: Options, provider_ids: tuple[str, ...], with_keys: bool, output: Path | None, fmt: str) -> None:
    from cherryconf.formats import cherry_format
    from cherryconf.formats.export import to_profile
    from cherryconf.ops import keys
    from cherryconf.stores import open_store, sealed

    if with_keys and output is None:
        raise BadInput(_("--with-keys writes keys only into a private file, never to the screen: add -o FILE"))
    inst = opts.install()
    state = open_store(inst).read()
    # Keys Cherry Studio sealed are read back here, or left out: an export never holds ciphertext.
    providers, sealed_notes = sealed.opened(state.providers, inst.data_dir)
    if fmt == "cherry":
        document, notes = cherry_format.to_export(providers, list(provider_ids), with_keys, inst.version)
    else:
        refs = keys.refs_in_store(opts.context(), inst, providers)
        document, notes = to_profile(providers, list(provider_ids), with_keys, inst.version, refs)
    _write_profile(opts, document, sealed_notes + notes, with_keys, output, as_json=fmt == "cherry")


@command("import", help=HELP["import"])
@json_option
@lang_option
@click.argument("source", required=False)
@click.option("--from-data-dir", "from_data_dir", type=PathParam(file_okay=False),
              help=_("Import from this Cherry Studio data directory (another machine's or user's); read only."))
@click.option("--all", "take_all", is_flag=True, help=_("Take every provider, also built-in ones without a key."))
@click.option("--with-keys", is_flag=True, help=_("Write the keys themselves instead of ${VAR} references."))
@click.option("-o", "--output", type=PathParam(dir_okay=False), help=_("Write to this file."))
@pass_options
def import_(opts: Options, source: str | None, from_data_dir: Path | None, take_all: bool, with_keys: bool,
            output: Path | None) -> None:
    from cherryconf.formats import importers
    from cherryconf.formats.importers.build import to_profile

    if with_keys and output is None:
        raise BadInput(_("--with-keys writes keys only into a private file, never to the screen: add -o FILE"))
    found = importers.read(source, from_data_dir)
    version, held = _target(opts)
    document, notes = to_profile(found, take_all, with_keys, version, held)
    _write_profile(opts, document, notes, with_keys, output)


def _target(opts: Options) -> tuple[AppVersion | None, list[dict[str, Any]]]:
    """The version of the install here, if there is one, and its providers: a profile is made for the app that will
    apply it."""
    from cherryconf.stores import open_store
    from cherryconf.stores.install import resolve

    try:
        install = resolve(opts.context(), opts.data_dir)
    except CherryconfError:
        return None, []
    try:
        return install.version, open_store(install).read().providers
    except CherryconfError:
        return install.version, []


def _write_profile(opts: Options, document: dict[str, Any], notes: list[str], with_keys: bool,
                   output: Path | None, as_json: bool = False) -> None:
    import json

    import yaml

    from cherryconf.fsutil import atomic_write
    from cherryconf.ops.result import Result

    text = (json.dumps(document, ensure_ascii=False, indent=2) + "\n" if as_json
            else yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    if output is not None:
        atomic_write(output, text.encode("utf-8"))  # mode 0600: it may hold keys
        notes.append(_("profile written to {path}").format(path=output))
    if opts.json:
        emit(opts, Result({"profile": None if with_keys else document, "output": str(output) if output else None,
                           "notes": notes}))
    elif output is None:
        click.echo(text, nl=False)
    for note in notes if not opts.json else []:
        click.echo(note, err=True)
