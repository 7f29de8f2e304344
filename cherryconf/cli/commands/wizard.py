"""`cherryconf wizard`: the interactive set-up (the wizard/ package does the asking)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from cherryconf.cli.base import Options, PathParam, command, lang_option, pass_options, say
from cherryconf.cli.commands import HELP
from cherryconf.errors import BadInput
from cherryconf.i18n import _

if TYPE_CHECKING:
    from pathlib import Path



@command(help=HELP["wizard"])
@lang_option
@click.option("--preset",
              help=_("The gateway to set up: apiyi (API易), openrouter, deepseek, siliconflow, newapi (New API / "
                     "One API) or custom (any other)."))
@click.option("--name", help=_("Provider name shown in Cherry Studio."))
@click.option("--id", "provider_id", help=_("Provider id (default: the preset's, or derived from the name)."))
@click.option("--base-url", help=_("The gateway's base URL, in any pasted form."))
@click.option("--api-key-env", metavar="VAR", help=_("Read the API key from this environment variable."))
@click.option("--model", "models", multiple=True, metavar="ID", help=_("A model id to add (repeatable)."))
@click.option("--default-model", metavar="ID", help=_("Also make this model Cherry Studio's default."))
@click.option("--check/--no-check", default=None, help=_("Test the chosen models on chat/completions first."))
@click.option("--save-profile", type=PathParam(dir_okay=False),
              help=_("Also save the set-up as a profile to apply elsewhere."))
@click.option("--yes", "-y", is_flag=True,
              help=_("Take the default of every question that has one, and write without asking for confirmation."))
@pass_options
def wizard(opts: Options, preset: str | None = None, name: str | None = None, provider_id: str | None = None,
           base_url: str | None = None, api_key_env: str | None = None, models: tuple[str, ...] = (),
           default_model: str | None = None, check: bool | None = None, save_profile: Path | None = None,
           yes: bool = False) -> None:
    import os

    from cherryconf.wizard import terminal
    from cherryconf.wizard.flow import Wizard
    from cherryconf.wizard.questions import Flags

    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    flags = Flags(preset, name, provider_id, base_url, api_key_env, models, default_model, check,
                  save_profile, yes)
    if not interactive and flags == Flags():
        # Nothing to go on and nobody to ask: one sentence, before the wizard looks for installs or says anything.
        raise BadInput(_("not a terminal, so the wizard cannot ask its questions: use `cherryconf apply PROFILE` "
                         "(or give every answer by flag, see `cherryconf wizard --help`)"))
    w = Wizard(opts.context(), terminal.questionary_ask, say, interactive, terminal.gateway_models,
               terminal.gateway_check, spinner=terminal.terminal_spinner if interactive else terminal.no_spinner,
               env=dict(os.environ))
    w.run(opts.data_dir, flags)
