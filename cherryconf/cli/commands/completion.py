"""`cherryconf completion SHELL`: print the script that makes the shell complete cherryconf's commands and options.

click's own completion: the script runs cherryconf with base.COMPLETE_VAR set when the user presses Tab, and
main() answers with the candidates instead of running a command."""

from __future__ import annotations

import click

from cherryconf.cli.base import COMPLETE_VAR, command, lang_option
from cherryconf.cli.commands import HELP
from cherryconf.i18n import _

# The lines to type stay whole (click's \b: no re-wrapping), whatever the terminal's width.
_LINES = ("\b\n"
          '  eval "$(cherryconf completion bash)"\n'
          '  eval "$(cherryconf completion zsh)"\n'
          "  cherryconf completion fish > ~/.config/fish/completions/cherryconf.fish")


@command(help=HELP["completion"] + "\n\n" + _(
    "To enable it, add the line for your shell to its start-up file (bash: ~/.bashrc; zsh: ~/.zshrc, after "
    "compinit) and open a new terminal; for fish, run its line once:") + "\n\n" + _LINES)
@lang_option
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    from click.shell_completion import get_completion_class

    from cherryconf.cli import cli

    completer = get_completion_class(shell)
    assert completer is not None  # bash, zsh and fish: the completions click ships
    click.echo(completer(cli, {}, "cherryconf", COMPLETE_VAR).source())
