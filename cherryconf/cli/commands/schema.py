"""`cherryconf schema`: print a JSON Schema the package ships."""

from __future__ import annotations

import click

from cherryconf.cli.base import command, json_option, lang_option
from cherryconf.cli.commands import HELP


@command(help=HELP["schema"])
@json_option
@lang_option
@click.argument("which", type=click.Choice(["provider", "profile"]), default="profile")
def schema(which: str) -> None:
    from cherryconf.formats.schema import schema_text

    click.echo(schema_text("provider" if which == "provider" else "profile"), nl=False)
